// IndexedDBStore in real Chromium (Debian's, through playwright-core) beside raw `idb` and Dexie, with
// the profile on disk. The page (indexeddb-page.mjs) is bundled from dist and served from 127.0.0.1;
// pairs alternate within one page, and every timing is taken inside it. `bundlePage` is exported for its test.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { launchWithProfile, serveFiles } from './chromium.mjs';
import { median, percentile } from './corpus.mjs';

const BULK = Number(process.env.BENCH_IDB_BULK ?? 10_000);
const LARGE = Number(process.env.BENCH_IDB_LARGE ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const COLD_ROUNDS = Number(process.env.BENCH_IDB_COLD_ROUNDS ?? 5);
const DISK_SIZE = Number(process.env.BENCH_IDB_DISK ?? BULK);
const DISK_KINDS = ['engram', 'dexie', 'dexieWords'];
const SEARCH_KINDS = ['engram', 'dexieWords'];
const SEARCH_REF = 'Dexie *words, OR, ranked by terms matched';
const k = (n) => `${n / 1000}K`;

export async function bundlePage() {
  const result = await build({
    entryPoints: [new URL('./indexeddb-page.mjs', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    // The page has no `process`: corpus.mjs reads the same BENCH_WORDS as this process does.
    define: { 'process.env.BENCH_WORDS': JSON.stringify(process.env.BENCH_WORDS ?? '10,60') },
  });
  return result.outputFiles[0].text;
}

async function openPage(context, url, fresh = false) {
  const page = (!fresh && context.pages()[0]) || (await context.newPage());
  page.setDefaultTimeout(300_000);
  await page.goto(url);
  await page.waitForFunction(() => globalThis.bench?.ready);
  return page;
}

async function reload(page) {
  await page.reload();
  await page.waitForFunction(() => globalThis.bench?.ready);
}

/** Bulk add rounds; the last round's searchable databases are kept for the search at BULK size. */
async function bulkAdd(page, record) {
  const kinds = ['engram', 'raw', 'dexie', 'dexieWords'];
  const times = Object.fromEntries(kinds.map((kind) => [kind, []]));
  const kept = {};
  for (let round = 0; round < ROUNDS; round++) {
    // Dexie with a word index is the slowest by far (7-9 s a fill) and no target's reference: one fill,
    // in the last round, whose database the search at BULK size then reads.
    for (const kind of round === ROUNDS - 1 ? kinds : kinds.filter((kind) => kind !== 'dexieWords')) {
      const keep = round === ROUNDS - 1 && SEARCH_KINDS.includes(kind);
      const { ms, name } = await page.evaluate(
        ([kind, size, keep]) => globalThis.bench.fill(kind, size, keep),
        [kind, BULK, keep],
      );
      times[kind].push(ms);
      if (keep) kept[kind] = name;
    }
  }
  const suite = 'indexeddb';
  const metric = `bulk add ${k(BULK)} (addMany × ${BULK / 1000})`;
  const ours = median(times.engram);
  const unit = 'ms';
  record({
    suite,
    metric,
    ours,
    ref: median(times.raw),
    refName: 'raw idb puts, one transaction',
    unit,
    target: { ratio: 1.3 },
  });
  record({
    suite,
    metric,
    ours,
    ref: median(times.dexie),
    refName: 'Dexie bulkPut (id, kind, *tags)',
    unit,
    target: { ratio: 1 },
  });
  record({
    suite,
    metric,
    ours,
    ref: median(times.dexieWords),
    refName: 'Dexie bulkPut + *words index',
    unit,
  });
  return kept;
}

async function searchLatency(page, record, size, names, condition = '') {
  const queries = await page.evaluate((size) => globalThis.bench.queries(size), size);
  const times = { engram: [], dexieWords: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of SEARCH_KINDS) {
      const run = await page.evaluate(
        ([kind, name, queries]) => globalThis.bench.latencies(kind, name, queries),
        [kind, names[kind], queries],
      );
      times[kind].push(...run);
    }
  }
  for (const p of [50, 99]) {
    record({
      suite: 'indexeddb',
      metric: `text search p${p} at ${k(size)}${condition}`,
      ours: percentile(times.engram, p),
      ref: percentile(times.dexieWords, p),
      refName: SEARCH_REF,
      unit: 'ms',
    });
  }
  return queries;
}

/** `count()` of the whole namespace against Dexie's `count()` of its table (IndexedDB's own key count). */
async function countAll(page, record, size, names) {
  const times = { engram: [], dexieWords: [] };
  const counted = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of SEARCH_KINDS) {
      const run = await page.evaluate(
        ([kind, name]) => globalThis.bench.counts(kind, name, 5),
        [kind, names[kind]],
      );
      times[kind].push(...run.times);
      counted[kind] = run.count;
    }
  }
  if (counted.engram !== size || counted.dexieWords !== size) {
    throw new Error(`count at ${k(size)}: Engram ${counted.engram}, Dexie ${counted.dexieWords}`);
  }
  record({
    suite: 'indexeddb',
    metric: `count() at ${k(size)}`,
    ours: median(times.engram),
    ref: median(times.dexieWords),
    refName: 'Dexie table count()',
    unit: 'ms',
  });
}

/** Reload, open, search once: the page starts with no connection, no cache and no warmed-up code. */
async function coldSearch(page, record, size, names, queries) {
  const times = { engram: [], dexieWords: [] };
  for (let round = 0; round < COLD_ROUNDS; round++) {
    for (const kind of SEARCH_KINDS) {
      await reload(page);
      const { ms } = await page.evaluate(
        ([kind, name, query]) => globalThis.bench.coldSearch(kind, name, query),
        [kind, names[kind], queries[round]],
      );
      times[kind].push(ms);
    }
  }
  record({
    suite: 'indexeddb',
    metric: `cold open + first search at ${k(size)}`,
    ours: median(times.engram),
    ref: median(times.dexieWords),
    refName: SEARCH_REF,
    unit: 'ms',
    target: size >= 100_000 ? { max: 300 } : undefined,
  });
}

/** Bytes of the files in `dir` (Chromium's IndexedDB for one origin: a LevelDB directory). */
async function directoryBytes(dir) {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

const PAGE_HTML = '<!doctype html><script type="module" src="/bench.js"></script>';

/**
 * Space on disk: Chromium keeps one LevelDB directory per origin, so each database is written from an
 * origin of its own (a server on its own port) in a profile of its own, filled with DISK_SIZE memories,
 * then the browser is closed, opened again on each origin (LevelDB turns its log into tables when it
 * opens) and closed again. What is measured is the directory, as an app would leave it: LevelDB's own
 * compression, and versions of rewritten rows its compactions have not dropped yet, included.
 */
async function diskSize(script, record) {
  const profile = await mkdtemp(join(tmpdir(), 'engram-bench-disk-'));
  const files = {
    '/': { type: 'text/html', body: PAGE_HTML },
    '/bench.js': { type: 'text/javascript', body: script },
  };
  const servers = {};
  let context;
  try {
    for (const kind of DISK_KINDS) servers[kind] = await serveFiles(files);
    context = await launchWithProfile(profile);
    for (const kind of DISK_KINDS) {
      const page = await openPage(context, servers[kind].url, true);
      await page.evaluate(([kind, size]) => globalThis.bench.fill(kind, size, true), [kind, DISK_SIZE]);
      await page.close();
    }
    await context.close();
    context = await launchWithProfile(profile);
    for (const kind of DISK_KINDS) {
      const page = await openPage(context, servers[kind].url, true);
      await page.evaluate(() => indexedDB.databases());
      await page.close();
    }
    await context.close();
    context = undefined;
    const bytes = {};
    for (const kind of DISK_KINDS) {
      const origin = new URL(servers[kind].url);
      const dir = join(
        profile,
        'Default',
        'IndexedDB',
        `http_${origin.hostname}_${origin.port}.indexeddb.leveldb`,
      );
      bytes[kind] = (await directoryBytes(dir)) / 2 ** 20;
    }
    for (const [kind, refName] of [
      ['dexie', 'Dexie (id, kind, *tags), no text index'],
      ['dexieWords', 'Dexie + *words index'],
    ]) {
      record({
        suite: 'indexeddb',
        metric: `size on disk at ${k(DISK_SIZE)}`,
        ours: bytes.engram,
        ref: bytes[kind],
        refName,
        unit: 'MiB',
      });
    }
  } finally {
    await context?.close();
    for (const server of Object.values(servers)) await server.close();
    await rm(profile, { recursive: true, force: true });
  }
}

/**
 * Launches Chromium and fills the LARGE databases (minutes, measuring nothing); run.mjs lets this
 * overlap with the Postgres fill, which runs in other processes.
 */
export async function prepare(info) {
  const profile = await mkdtemp(join(tmpdir(), 'engram-bench-chromium-'));
  const script = await bundlePage();
  const server = await serveFiles({
    '/': { type: 'text/html', body: PAGE_HTML },
    '/bench.js': { type: 'text/javascript', body: script },
  });
  let context = await launchWithProfile(profile);
  const page = await openPage(context, server.url);
  info.chromium = context.browser()?.version();
  const close = async () => {
    await context.close();
    await server.close();
    await rm(profile, { recursive: true, force: true });
  };
  // A new browser on the same profile: what an app sees when it is opened again on a database it wrote
  // earlier. Chromium stays slower for a while after writing 100K rows (see docs/stores.md, IndexedDB).
  const restart = async () => {
    await context.close();
    context = await launchWithProfile(profile);
    return openPage(context, server.url);
  };
  try {
    const large = {};
    const took = {};
    // One fill after the other, in one page: side by side (two pages of one origin share its
    // IndexedDB backend) they took longer than in turn (131 s and 94 s against 34 s and 85 s).
    for (const kind of SEARCH_KINDS) {
      const filled = await page.evaluate(
        ([kind, size]) => globalThis.bench.fill(kind, size, true),
        [kind, LARGE],
      );
      large[kind] = filled.name;
      took[kind] = `${(filled.ms / 1000).toFixed(0)} s`;
    }
    info.settings.push(
      `IndexedDB: the ${k(LARGE)} databases are filled once per run, one after the other, side by side with the Postgres fill: Engram (addMany × ${LARGE / 1000}) in ${took.engram}, Dexie bulkPut + words in ${took.dexieWords}.`,
    );
    return { page, large, close, restart, script };
  } catch (error) {
    await close();
    throw error;
  }
}

export default async function run(record, info, prepared) {
  const { page: writer, large, close, restart, script } = prepared ?? (await prepare(info));
  try {
    const small = await bulkAdd(writer, record);
    await searchLatency(writer, record, BULK, small);
    await searchLatency(writer, record, LARGE, large);
    const page = await restart();
    const queries = await searchLatency(page, record, LARGE, large, ', browser reopened');
    await countAll(page, record, LARGE, large);
    await coldSearch(page, record, LARGE, large, queries);
    await diskSize(script, record);
    info.settings.push(
      `IndexedDB: Chromium with its profile on disk (an incognito profile keeps IndexedDB in memory); bulk add ${k(BULK)} × ${ROUNDS} rounds alternating Engram, raw idb, Dexie, and Dexie + words in the last round only; search ${ROUNDS} rounds × 100 queries at ${k(BULK)} and ${k(LARGE)} in the browser that wrote the databases, then at ${k(LARGE)} again in a new browser on the same profile; count() of the whole ${k(LARGE)}, ${ROUNDS} rounds × 5 alternating, in that browser; cold open ${COLD_ROUNDS} page reloads each (the browser process, with IndexedDB's caches, stays up, as in a tab reload); size on disk: ${k(DISK_SIZE)} memories each in an origin of its own in a new profile, measured after the browser was closed, opened on each origin again and closed (LevelDB's files, compressed, with what its compactions have not dropped yet).`,
    );
  } finally {
    await close();
  }
}
