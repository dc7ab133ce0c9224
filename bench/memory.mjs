// In-memory search: Engram's InMemoryStore beside MiniSearch and Orama on one corpus and one query set.
import { create, insertMultiple, search as oramaSearch } from '@orama/orama';
import MiniSearch from 'minisearch';
import { createMemory, InMemoryStore } from '../dist/index.js';
import { makeCorpus, median, percentile, time } from './corpus.mjs';

const SIZE = Number(process.env.BENCH_MEMORY_SIZE ?? 100_000);
/** Index time is measured over several rounds at this size; at SIZE each library is built once (heap). */
const INDEX_SIZE = Number(process.env.BENCH_MEMORY_INDEX_SIZE ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const INDEX_ROUNDS = Number(process.env.BENCH_MEMORY_INDEX_ROUNDS ?? 3);

async function buildEngram(items) {
  const mem = await createMemory({ store: new InMemoryStore() });
  for (let i = 0; i < items.length; i += 1000) await mem.addMany(items.slice(i, i + 1000));
  return mem;
}

function buildMiniSearch(items) {
  const mini = new MiniSearch({ fields: ['content'], idField: 'id' });
  mini.addAll(items.map((item, id) => ({ id, content: item.content })));
  return mini;
}

async function buildOrama(items) {
  const db = create({ schema: { content: 'string' } });
  await insertMultiple(
    db,
    items.map((item) => ({ content: item.content })),
    1000,
  );
  return db;
}

async function latencies(queries, run) {
  for (const q of queries.slice(0, 10)) await run(q); // warm-up
  const out = [];
  for (const q of queries) out.push(await time(() => run(q)));
  return out;
}

/** Builds once, reporting the time (collections excluded) and the heap the result holds. */
async function builtOnce(build) {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const start = performance.now();
  const built = await build();
  const ms = performance.now() - start;
  globalThis.gc?.();
  return { built, ms, used: process.memoryUsage().heapUsed - before };
}

const mapValues = (object, fn) => Object.fromEntries(Object.entries(object).map(([key, v]) => [key, fn(v)]));

/** One row per peer; a target applies to each, so meeting it means beating both (the faster one). */
function recordEach(record, metric, values, unit, target) {
  for (const [key, refName] of [
    ['minisearch', 'MiniSearch'],
    ['orama', 'Orama'],
  ]) {
    record({ suite: 'in-memory', metric, ours: values.engram, ref: values[key], refName, unit, target });
  }
}

export default async function run(record, info = { settings: [] }) {
  const small = makeCorpus(INDEX_SIZE).items;
  const index = { engram: [], minisearch: [], orama: [] };
  for (let round = 0; round < INDEX_ROUNDS; round++) {
    index.engram.push(await time(() => buildEngram(small)));
    index.minisearch.push(await time(() => buildMiniSearch(small)));
    index.orama.push(await time(() => buildOrama(small)));
  }
  recordEach(record, `index ${INDEX_SIZE / 1000}K memories`, mapValues(index, median), 'ms');

  const { items, queries } = makeCorpus(SIZE);
  const k = `${SIZE / 1000}K`;
  const engram = await builtOnce(() => buildEngram(items));
  const mini = await builtOnce(() => buildMiniSearch(items));
  const orama = await builtOnce(() => buildOrama(items));
  const once = { engram, minisearch: mini, orama };
  recordEach(
    record,
    `index ${k} memories (one run)`,
    mapValues(once, (b) => b.ms),
    'ms',
  );
  recordEach(
    record,
    `heap after indexing ${k}`,
    mapValues(once, (b) => b.used / 2 ** 20),
    'MiB',
    { ratio: 0.5 },
  );

  const ours = [];
  const theirs = { minisearch: [], orama: [] };
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(...(await latencies(queries, (q) => engram.built.search(q, { limit: 10 }))));
    theirs.minisearch.push(...(await latencies(queries, async (q) => mini.built.search(q).slice(0, 10))));
    theirs.orama.push(...(await latencies(queries, (q) => oramaSearch(orama.built, { term: q, limit: 10 }))));
  }
  const searches = { engram: ours, ...theirs };
  recordEach(record, `text search p50 at ${k}`, mapValues(searches, median), 'ms', { ratio: 0.5 });
  recordEach(
    record,
    `text search p99 at ${k}`,
    mapValues(searches, (l) => percentile(l, 99)),
    'ms',
  );

  // Agreement of the top 10 with MiniSearch's BM25 (both OR queries): how alike the rankings are.
  let overlap = 0;
  for (const q of queries) {
    const a = new Set((await engram.built.search(q, { limit: 10 })).map((h) => h.memory.content));
    const b = mini.built
      .search(q)
      .slice(0, 10)
      .map((h) => items[h.id].content);
    overlap += b.filter((c) => a.has(c)).length / Math.max(1, Math.min(10, b.length));
  }
  record({
    suite: 'in-memory',
    metric: `top-10 agreement at ${k} (fraction)`,
    ours: overlap / queries.length,
    ref: 1,
    refName: 'MiniSearch',
    unit: '',
  });
  info.settings.push(
    `In-memory: index time at ${INDEX_SIZE / 1000}K, ${INDEX_ROUNDS} rounds alternating the three libraries; at ${k} each is built once (time and heap, after a forced GC), then searched ${ROUNDS} rounds × 100 queries, alternating.`,
  );
}
