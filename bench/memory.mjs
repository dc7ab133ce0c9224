// In-memory search: Engram's InMemoryStore beside MiniSearch and Orama on one corpus and one query set.
import { create, insertMultiple, search as oramaSearch } from '@orama/orama';
import MiniSearch from 'minisearch';
import { createMemory, InMemoryStore } from '../dist/index.js';
import { makeCorpus, median, percentile, time } from './corpus.mjs';

const SIZE = Number(process.env.BENCH_MEMORY_SIZE ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

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

function heapAfter(build) {
  return async () => {
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    const built = await build();
    globalThis.gc?.();
    const used = process.memoryUsage().heapUsed - before;
    return { built, used };
  };
}

export default async function run(record) {
  const { items, queries } = makeCorpus(SIZE);
  const index = { engram: [], minisearch: [], orama: [] };
  for (let round = 0; round < ROUNDS; round++) {
    index.engram.push(await time(() => buildEngram(items)));
    index.minisearch.push(await time(() => buildMiniSearch(items)));
    index.orama.push(await time(() => buildOrama(items)));
  }
  const k = `${SIZE / 1000}K`;
  record({
    suite: 'in-memory',
    metric: `index ${k} memories`,
    ours: median(index.engram),
    ref: median(index.minisearch),
    refName: 'MiniSearch',
    unit: 'ms',
  });
  record({
    suite: 'in-memory',
    metric: `index ${k} memories`,
    ours: median(index.engram),
    ref: median(index.orama),
    refName: 'Orama',
    unit: 'ms',
  });

  const engram = await heapAfter(() => buildEngram(items))();
  const mini = await heapAfter(() => buildMiniSearch(items))();
  const orama = await heapAfter(() => buildOrama(items))();
  record({
    suite: 'in-memory',
    metric: `heap after indexing ${k}`,
    ours: engram.used / 2 ** 20,
    ref: mini.used / 2 ** 20,
    refName: 'MiniSearch',
    unit: 'MiB',
  });
  record({
    suite: 'in-memory',
    metric: `heap after indexing ${k}`,
    ours: engram.used / 2 ** 20,
    ref: orama.used / 2 ** 20,
    refName: 'Orama',
    unit: 'MiB',
  });

  const ours = [];
  const theirs = { minisearch: [], orama: [] };
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(...(await latencies(queries, (q) => engram.built.search(q, { limit: 10 }))));
    theirs.minisearch.push(...(await latencies(queries, async (q) => mini.built.search(q).slice(0, 10))));
    theirs.orama.push(...(await latencies(queries, (q) => oramaSearch(orama.built, { term: q, limit: 10 }))));
  }
  for (const [refName, ref] of [
    ['MiniSearch', theirs.minisearch],
    ['Orama', theirs.orama],
  ]) {
    record({
      suite: 'in-memory',
      metric: `text search p50 at ${k}`,
      ours: median(ours),
      ref: median(ref),
      refName,
      unit: 'ms',
    });
    record({
      suite: 'in-memory',
      metric: `text search p99 at ${k}`,
      ours: percentile(ours, 99),
      ref: percentile(ref, 99),
      refName,
      unit: 'ms',
    });
  }

  // Agreement of the top 10 with MiniSearch's BM25 (both OR queries): how alike the rankings are.
  let overlap = 0;
  const idOf = new Map();
  for (const m of (await engram.built.list({ limit: 1000 })).items) idOf.set(m.id, m.content);
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
}
