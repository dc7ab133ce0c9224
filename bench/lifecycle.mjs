// Validity filtering: the cost of "valid now" (the default of list and search) on a store where 30% of
// the memories are superseded, against the same search with `history: true` (no validity filter).

import initSqlJs from 'sql.js';
import { SqlJsStore } from '../dist/backends/sqljs/index.js';
import { createMemory, InMemoryStore } from '../dist/index.js';
import { makeCorpus, median, percentile, time } from './corpus.mjs';

const SIZE = Number(process.env.BENCH_LIFECYCLE_SIZE ?? 100_000);
const SQL_SIZE = Number(process.env.BENCH_LIFECYCLE_SQL_SIZE ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SUPERSEDED = 0.3;

/**
 * Every memory gets a validity period; 30% of them (spread evenly) were closed in 2021, as `supersede`
 * closes them, the others are open. Written with addMany: supersede per memory would only make the
 * fill slower, the stored state is the same.
 */
function withValidity(items) {
  return items.map((item, i) =>
    (i * 7919) % 100 < SUPERSEDED * 100
      ? { ...item, validFrom: '2020-01-01T00:00:00Z', validTo: '2021-01-01T00:00:00Z' }
      : { ...item, validFrom: '2021-01-01T00:00:00Z' },
  );
}

async function fill(store, items) {
  const mem = await createMemory({ store });
  for (let i = 0; i < items.length; i += 1000) await mem.addMany(items.slice(i, i + 1000));
  return mem;
}

/** Alternates the two variants query by query (and which goes first), so load and caches hit both alike. */
async function compare(mem, queries) {
  const valid = [];
  const plain = [];
  for (const q of queries.slice(0, 10)) {
    await mem.search(q, { limit: 10 });
    await mem.search(q, { limit: 10, history: true });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, q] of queries.entries()) {
      // Which variant meets the query first (cold caches) alternates too.
      const runValid = async () => valid.push(await time(() => mem.search(q, { limit: 10 })));
      const runPlain = async () => plain.push(await time(() => mem.search(q, { limit: 10, history: true })));
      if ((i + round) % 2 === 0) {
        await runValid();
        await runPlain();
      } else {
        await runPlain();
        await runValid();
      }
    }
  }
  return { valid, plain };
}

async function suite(record, name, store, size) {
  const { items, queries } = makeCorpus(size);
  const mem = await fill(store, withValidity(items));
  const superseded = (await mem.count({ history: true })) - (await mem.count());
  const { valid, plain } = await compare(mem, queries);
  const k = `${size / 1000}K`;
  for (const [label, p] of [
    ['p50', 50],
    ['p99', 99],
  ]) {
    record({
      suite: 'lifecycle',
      metric: `${name} search ${label}, valid now vs history at ${k}`,
      ours: label === 'p50' ? median(valid) : percentile(valid, p),
      ref: label === 'p50' ? median(plain) : percentile(plain, p),
      refName: 'no validity filter',
      unit: 'ms',
      target: label === 'p50' ? { ratio: 1.2 } : undefined,
    });
  }
  await mem.close();
  return superseded;
}

export default async function run(record, info = { settings: [] }) {
  const superseded = await suite(record, 'in-memory', new InMemoryStore(), SIZE);
  await suite(record, 'sql.js', new SqlJsStore({ sqlJs: await initSqlJs() }), SQL_SIZE);
  info.settings.push(
    `Lifecycle: ${SIZE / 1000}K memories in memory (${superseded} superseded, i.e. validTo in the past) and ${SQL_SIZE / 1000}K in sql.js; ${ROUNDS} rounds × 100 text queries (limit 10), each run with the default validity filter and with history: true, alternating.`,
  );
}
