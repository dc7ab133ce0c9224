// Bundle size: what an app ships for the parts it imports, measured the same way for Engram and its
// peers: one esbuild bundle for the browser, minified and tree-shaken, then gzip -9 (node:zlib).
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;

/**
 * TinyBase is not a dependency: measured once with minGzip below (createStore + createIndexedDbPersister)
 * from tinybase@10.0.1 installed outside the repo, on 2026-11-21.
 */
const TINYBASE = { bytes: 18_771, name: 'TinyBase 10.0.1 store + IndexedDB persister †' };

/**
 * min+gzip bytes of what an app loads before it can call the entry's exports: the entry chunk and the
 * chunks it imports statically, concatenated. Chunks behind a dynamic import() (Engram loads the sync
 * engine and the default store that way) are counted apart, as `lazy`.
 */
export async function minGzip(source) {
  const result = await build({
    stdin: { contents: source, resolveDir: root, loader: 'js', sourcefile: 'entry.js' },
    bundle: true,
    minify: true,
    treeShaking: true,
    splitting: true,
    outdir: join(root, '.bench-bundle'),
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  const outputs = new Map(Object.entries(result.metafile.outputs));
  const text = new Map(result.outputFiles.map((file) => [relative(root, file.path), file.contents]));
  const eager = new Set();
  const visit = (file) => {
    if (eager.has(file)) return;
    eager.add(file);
    for (const i of outputs.get(file).imports)
      if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit([...outputs].find(([, output]) => output.entryPoint === 'entry.js')[0]);
  const gzip = (files) =>
    gzipSync(Buffer.concat(files.map((file) => text.get(file))), { level: 9 }).byteLength;
  return { eager: gzip([...eager]), lazy: gzip([...outputs.keys()].filter((file) => !eager.has(file))) };
}

const ENTRIES = {
  core: "export { createMemory, InMemoryStore } from './dist/index.js';",
  coreIndexedDB: `export { createMemory, InMemoryStore } from './dist/index.js';
    export { IndexedDBStore } from './dist/backends/indexeddb/index.js';`,
  indexedDBApp: `export { createMemory } from './dist/index.js';
    export { IndexedDBStore } from './dist/backends/indexeddb/index.js';`,
  minisearch: "export { default } from 'minisearch';",
  orama: "export { create, insert, insertMultiple, search } from '@orama/orama';",
  dexie: "export { default } from 'dexie';",
};

/** Measured first, while dist is surely the one this run built. */
export async function prepare() {
  const kib = {};
  for (const [name, source] of Object.entries(ENTRIES)) {
    const { eager, lazy } = await minGzip(source);
    kib[name] = eager / 1024;
    kib[`${name}Lazy`] = lazy / 1024;
  }
  return kib;
}

export default async function run(record, info = { settings: [] }, prepared = undefined) {
  const kib = prepared ?? (await prepare());
  const suite = 'bundle';
  const unit = 'KiB';
  for (const [ref, refName] of [
    ['minisearch', 'MiniSearch'],
    ['orama', 'Orama (create, insert, search)'],
  ]) {
    record({
      suite,
      metric: 'min+gzip: createMemory + InMemoryStore',
      ours: kib.core,
      ref: kib[ref],
      refName,
      unit,
    });
  }
  const metric = 'min+gzip: core + IndexedDBStore';
  const target = { max: 15 };
  record({ suite, metric, ours: kib.coreIndexedDB, ref: kib.dexie, refName: 'Dexie', unit, target });
  record({
    suite,
    metric,
    ours: kib.coreIndexedDB,
    ref: TINYBASE.bytes / 1024,
    refName: TINYBASE.name,
    unit,
    target,
  });
  const app = 'min+gzip: createMemory + IndexedDBStore (no InMemoryStore)';
  record({ suite, metric: app, ours: kib.indexedDBApp, ref: kib.dexie, refName: 'Dexie', unit });
  info.settings.push(
    `Bundle: esbuild (browser, ESM, minified, tree-shaken, code splitting) of the named exports only, from dist for Engram and node_modules for the peers; gzip -9 of the chunks loaded before the first call. Loaded later, on demand: ${kib.coreLazy.toFixed(1)} KiB for core, ${kib.coreIndexedDBLazy.toFixed(1)} KiB for core + IndexedDBStore (the sync engine and the default store). † TinyBase is not installed: measured the same way from tinybase@10.0.1 outside the repo (2026-11-21).`,
  );
}
