import { defineConfig } from 'tsup';

/** The package's entries (its exports map), each named by its path in dist. */
const LIBRARY_ENTRIES = {
  index: 'src/index.ts',
  'backends/indexeddb/index': 'src/backends/indexeddb/index.ts',
  'backends/sqljs/index': 'src/backends/sqljs/index.ts',
  'backends/remote/index': 'src/backends/remote/index.ts',
  'edge/index': 'src/edge/index.ts',
  'embedders/index': 'src/embedders/index.ts',
  'react/index': 'src/react/index.ts',
  'langgraph/index': 'src/langgraph/index.ts',
  'ai-sdk/index': 'src/ai-sdk/index.ts',
  'store/index': 'src/store/index.ts',
  // The conformance suite stays with the tests it is (test/conformance); published as engram/testing.
  'testing/index': 'test/conformance/index.ts',
};

export default defineConfig({
  entry: { ...LIBRARY_ENTRIES, 'cli/main': 'src/cli/main.ts' },
  format: ['esm'],
  dts: {
    // Named like the JS entries, so every .d.ts lands beside its .js (test/ would otherwise shift the root).
    entry: LIBRARY_ENTRIES,
  },
  target: 'es2022',
  platform: 'neutral',
  splitting: true,
  treeshake: true,
  // JSON lists (the English irregular verbs and plurals): bundled into lazy chunks, as Node cannot import a
  // package's JSON without an import attribute, which the es2022 target would drop. Build-time inputs
  // only, so devDependencies: an install does not carry them.
  noExternal: ['english-verbs-irregular', 'irregular-plurals'],
  clean: true,
  sourcemap: false,
});
