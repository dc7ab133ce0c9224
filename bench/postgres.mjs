// PostgresStore on the real server (DATABASE_URL) beside raw postgres.js, in a schema of its own that is
// dropped first: text search at 100K against a tsvector/GIN query over the same rows, and sync of 10K
// changes through the Node edge (createEdgeApp on 127.0.0.1) against batched multi-row INSERTs.
import { serve } from '@hono/node-server';
import postgres from 'postgres';
import { createEdgeApp, mintToken, PostgresStore, postgresJs } from '../dist/edge/index.js';
import { createMemory, InMemoryStore } from '../dist/index.js';
import { makeCorpus, median, percentile, time } from './corpus.mjs';

const URL_ = process.env.DATABASE_URL ?? 'postgres://postgres:bench@127.0.0.1:5432/test';
const SCHEMA = 'engram_bench';
const SEARCH_SIZE = Number(process.env.BENCH_PG_SIZE ?? 100_000);
const SYNC_SIZE = Number(process.env.BENCH_PG_SYNC ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RAW_BATCH = 500;
const SECRET = 'engram-bench-secret';
const k = (n) => `${n / 1000}K`;
const connection = { search_path: SCHEMA };

const sql = postgres(URL_, { onnotice: () => {}, connection, max: 4 });

async function resetSchema() {
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await sql.unsafe(`CREATE SCHEMA ${SCHEMA}`);
}

async function rawTable(name, { gin }) {
  await sql.unsafe(`CREATE TABLE ${name} (id text COLLATE "C" PRIMARY KEY, content text NOT NULL,
    kind text NOT NULL, tags text[] NOT NULL)`);
  if (gin)
    await sql.unsafe(`CREATE INDEX ${name}_fts ON ${name} USING gin (to_tsvector('english', content))`);
}

const rowsOf = (items, prefix) =>
  items.map((item, i) => ({ id: `${prefix}-${String(i).padStart(8, '0')}`, ...item }));

async function rawInsert(name, rows) {
  for (let i = 0; i < rows.length; i += RAW_BATCH) {
    await sql`INSERT INTO ${sql(name)} ${sql(rows.slice(i, i + RAW_BATCH), 'id', 'content', 'kind', 'tags')}`;
  }
}

async function latencies(queries, run) {
  for (const q of queries.slice(0, 10)) await run(q);
  const out = [];
  for (const q of queries) out.push(await time(() => run(q)));
  return out;
}

/** The reference query of the issue (AND, as plainto_tsquery parses) and one with Engram's OR semantics. */
const rawSearch = {
  and: (q) => sql`SELECT id, content, ts_rank(to_tsvector('english', content), query) AS rank
    FROM raw_docs, plainto_tsquery('english', ${q}) query
    WHERE to_tsvector('english', content) @@ query ORDER BY rank DESC LIMIT 10`,
  or: (q) => sql`SELECT id, content, ts_rank(to_tsvector('english', content), query) AS rank
    FROM raw_docs, to_tsquery('english', ${q.split(' ').join(' | ')}) query
    WHERE to_tsvector('english', content) @@ query ORDER BY rank DESC LIMIT 10`,
};

const openStore = () => new PostgresStore(postgresJs(URL_, { connection }));

/** The search databases: Engram's store and a raw GIN-indexed table holding the same rows. */
async function fillSearch(info) {
  const { items, queries } = makeCorpus(SEARCH_SIZE);
  const mem = await createMemory({ store: openStore(), namespace: 'search' });
  const engram = await time(async () => {
    for (let i = 0; i < items.length; i += 1000) await mem.addMany(items.slice(i, i + 1000));
  });
  await rawTable('raw_docs', { gin: true });
  const raw = await time(() => rawInsert('raw_docs', rowsOf(items, 'doc')));
  await sql`VACUUM ANALYZE raw_docs`;
  await sql`ANALYZE engram_memories`;
  await sql`ANALYZE engram_postings`;
  const s = (ms) => `${(ms / 1000).toFixed(0)} s`;
  info.settings.push(
    `Postgres: ${k(SEARCH_SIZE)} filled once per run, side by side with the IndexedDB fill: Engram addMany × ${SEARCH_SIZE / 1000} in ${s(engram)}, raw INSERT ×${RAW_BATCH} into a GIN-indexed table in ${s(raw)}.`,
  );
  return { mem, queries };
}

async function searchSuite(record, { mem, queries }) {
  const times = { engram: [], and: [], or: [] };
  for (let round = 0; round < ROUNDS; round++) {
    times.engram.push(...(await latencies(queries, (q) => mem.search(q, { limit: 10 }))));
    times.and.push(...(await latencies(queries, rawSearch.and)));
    times.or.push(...(await latencies(queries, rawSearch.or)));
  }
  for (const [kind, refName, target] of [
    ['and', 'tsvector/GIN, plainto_tsquery (AND) + ts_rank', { ratio: 1.5 }],
    ['or', 'tsvector/GIN, OR tsquery + ts_rank', undefined],
  ]) {
    for (const [p, tgt] of [
      [50, target],
      [99, undefined],
    ]) {
      record({
        suite: 'postgres',
        metric: `text search p${p} at ${k(SEARCH_SIZE)}`,
        ours: percentile(times.engram, p),
        ref: percentile(times[kind], p),
        refName,
        unit: 'ms',
        target: tgt,
      });
    }
  }
  await mem.close();
}

/**
 * A replica with an in-memory store that syncs only when told to; `firstPull` marks the end of its push.
 * Its start-up exchange is left pending: the next `sync()` runs it.
 */
async function replica(url, namespace, token) {
  const marks = { firstPull: undefined };
  const mem = await createMemory({
    store: new InMemoryStore(),
    namespace,
    sync: {
      url,
      token,
      intervalMs: 0,
      debounceMs: 3_600_000,
      fetch: (input, init) => {
        if (marks.firstPull === undefined && String(init?.body).includes('"pull":'))
          marks.firstPull = performance.now();
        return fetch(input, init);
      },
    },
  });
  return { mem, marks };
}

async function syncSuite(record) {
  const store = openStore();
  const app = createEdgeApp({ store, secret: SECRET, logger: false });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  const { items } = makeCorpus(SYNC_SIZE, 7);
  const times = { push: [], round: [], pull: [], rawInsert: [], rawInsertGin: [], rawSelect: [] };
  await rawTable('sync_plain', { gin: false });
  await rawTable('sync_gin', { gin: true });
  for (let round = 0; round < ROUNDS; round++) {
    const namespace = `sync-${round}`;
    const token = await mintToken({ secret: SECRET, ns: namespace });
    const writer = await replica(url, namespace, token);
    await writer.mem.sync(); // an empty exchange, so that the timed one below is the push alone
    writer.marks.firstPull = undefined;
    for (let i = 0; i < items.length; i += 1000) await writer.mem.addMany(items.slice(i, i + 1000));
    const start = performance.now();
    const pushed = await writer.mem.sync();
    times.push.push(writer.marks.firstPull - start);
    // The writer's whole round: its push, then its pull, which leaves its own push out (docs/sync.md, "Echoes").
    times.round.push(performance.now() - start);
    if (pushed.pushed !== items.length) throw new Error(`sync pushed ${pushed.pushed} of ${items.length}`);
    await writer.mem.close();

    const reader = await replica(url, namespace, token);
    let pulled;
    times.pull.push(await time(async () => (pulled = await reader.mem.sync())));
    if (pulled.pulled !== items.length) throw new Error(`sync pulled ${pulled.pulled} of ${items.length}`);
    await reader.mem.close();

    const rows = rowsOf(items, `r${round}`);
    times.rawInsert.push(await time(() => rawInsert('sync_plain', rows)));
    times.rawInsertGin.push(await time(() => rawInsert('sync_gin', rows)));
    times.rawSelect.push(
      await time(async () => {
        for (let after = `r${round}`; ; ) {
          const page = await sql`SELECT * FROM sync_plain WHERE id > ${after} AND id < ${`r${round}.`}
            ORDER BY id LIMIT ${RAW_BATCH}`;
          if (page.length < RAW_BATCH) break;
          after = page[page.length - 1].id;
        }
      }),
    );
  }
  await new Promise((resolve) => server.close(resolve));
  await store.close();
  const metric = (what) => `sync ${what} ${k(SYNC_SIZE)} changes through the edge`;
  const push = median(times.push);
  record({
    suite: 'postgres',
    metric: metric('push'),
    ours: push,
    ref: median(times.rawInsert),
    refName: `raw INSERT ×${RAW_BATCH}, plain table`,
    unit: 'ms',
    target: { ratio: 1.5 },
  });
  record({
    suite: 'postgres',
    metric: metric('push'),
    ours: push,
    ref: median(times.rawInsertGin),
    refName: `raw INSERT ×${RAW_BATCH}, GIN-indexed table`,
    unit: 'ms',
  });
  record({
    suite: 'postgres',
    metric: `sync round (the writer's push and pull) ${k(SYNC_SIZE)} changes through the edge`,
    ours: median(times.round),
    ref: median(times.rawInsertGin),
    refName: `raw INSERT ×${RAW_BATCH}, GIN-indexed table`,
    unit: 'ms',
  });
  record({
    suite: 'postgres',
    metric: metric('pull'),
    ours: median(times.pull),
    ref: median(times.rawSelect),
    refName: `raw SELECT, keyset pages of ${RAW_BATCH}`,
    unit: 'ms',
  });
}

/** Drops and recreates the schema, then fills the search databases (a minute or more, measuring nothing). */
export async function prepare(info) {
  const [{ server_version: version }] = await sql`SHOW server_version`.catch((error) => {
    throw new Error(
      `bench/postgres: cannot reach ${URL_.replace(/:[^:@/]*@/, ':***@')} (set DATABASE_URL): ${error.message}`,
    );
  });
  info.postgres = version;
  await resetSchema();
  return fillSearch(info);
}

export default async function run(record, info, prepared) {
  try {
    await searchSuite(record, prepared ?? (await prepare(info)));
    await syncSuite(record);
    info.settings.push(
      `Postgres: search ${ROUNDS} rounds × 100 queries at ${k(SEARCH_SIZE)}; sync ${ROUNDS} rounds of ${k(SYNC_SIZE)} changes, each pushed by one replica and pulled by a fresh one, alternating with the raw INSERTs.`,
    );
  } finally {
    await sql.end();
  }
}
