import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'backends/indexeddb/index': 'src/backends/indexeddb/index.ts',
    'backends/sqljs/index': 'src/backends/sqljs/index.ts',
    'backends/remote/index': 'src/backends/remote/index.ts',
    'edge/index': 'src/edge/index.ts',
    'embedders/index': 'src/embedders/index.ts',
    'react/index': 'src/react/index.ts',
    'langgraph/index': 'src/langgraph/index.ts',
    'ai-sdk/index': 'src/ai-sdk/index.ts',
    'cli/main': 'src/cli/main.ts',
  },
  format: ['esm'],
  dts: {
    entry: [
      'src/index.ts',
      'src/backends/indexeddb/index.ts',
      'src/backends/sqljs/index.ts',
      'src/backends/remote/index.ts',
      'src/edge/index.ts',
      'src/embedders/index.ts',
      'src/react/index.ts',
      'src/langgraph/index.ts',
      'src/ai-sdk/index.ts',
    ],
  },
  target: 'es2022',
  platform: 'neutral',
  splitting: true,
  treeshake: true,
  clean: true,
  sourcemap: false,
});
