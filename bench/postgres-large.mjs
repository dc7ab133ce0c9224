// `npm run bench:large`: PostgresStore at a million memories on the real server (DATABASE_URL), beside a
// raw table with a GIN-indexed tsvector column holding the same rows, in a schema of its own that is
// dropped first. Prints fill time, text search p50/p99, table sizes and a sync push/pull of 10K changes
// through the edge into the filled database. Apart from `npm run bench` (minutes of fill); a full run (1M)
// keeps its rows in bench/large.json, which `npm run bench` puts in BENCHMARKS.md's issue-15 section.
import { writeFile } from 'node:fs/promises';
import { serve } from '@hono/node-server';
import postgres from 'postgres';
import { createEdgeApp, mintToken, PostgresStore, postgresJs } from '../dist/edge/index.js';
import { createMemory, InMemoryStore } from '../dist/index.js';
import { makeCorpus, percentile, time } from './corpus.mjs';
import { revision } from './revision.mjs';

const URL_ = process.env.DATABASE_URL ?? 'postgres://postgres:bench@127.0.0.1:5432/test';
const SCHEMA = process.env.BENCH_LARGE_SCHEMA ?? 'engram_large';
const SIZE = Number(process.env.BENCH_LARGE_SIZE ?? 1_000_000);
const SYNC = Number(process.env.BENCH_LARGE_SYNC ?? 10_000);
const BATCH = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECRET = 'engram-bench-secret';
/** Taken at the start: the code the figures are for, even if src changes during the long run. */
const COMMIT = revision();
const connection = { search_path: SCHEMA };
const sql = postgres(URL_, { onnotice: () => {}, connection, max: 4 });
const k = (n) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}K`);
const rows = [];
const record = (metric, ours, ref, refName, unit) => {
  rows.push({ metric, ours, ref, refName, unit, ratio: ours / ref });
  const fmt = (n) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2));
  console.log(
    `${metric.padEnd(40)} ours ${fmt(ours)} ${unit}  ${refName} ${fmt(ref)} ${unit}  ratio ${(ours / ref).toFixed(2)}`,
  );
};

// Progress on stderr: a million-memory fill takes tens of minutes.
const progress = (what, since) =>
  console.error(`${what} after ${((performance.now() - since) / 1000).toFixed(0)} s`);

/**
 * Search latencies of both systems over ROUNDS passes of the queries, the systems alternating pass by pass
 * as in `npm run bench` (one pass of 100 queries leaves its p99 to a single query).
 */
async function latencies(queries, systems) {
  for (const run of systems) for (const q of queries.slice(0, 10)) await run(q);
  const out = systems.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, run] of systems.entries()) for (const q of queries) out[i].push(await time(() => run(q)));
  }
  return out;
}

/**
 * Fills both systems with the corpus and returns its queries: the million texts are dropped once this
 * returns, so that searches are timed in a heap like a server's, not one holding the bench's corpus
 * (every major collection in the search loop would otherwise mark it, on both sides).
 */
async function fill(mem, started) {
  const { items, queries } = makeCorpus(SIZE);
  const engramFill = await time(async () => {
    for (let i = 0; i < items.length; i += BATCH) {
      await mem.addMany(items.slice(i, i + BATCH));
      if ((i + BATCH) % 100_000 === 0) progress(`filled ${k(i + BATCH)}`, started);
    }
  });
  await sql.unsafe(`CREATE TABLE raw_docs (id text COLLATE "C" PRIMARY KEY, content text NOT NULL,
    kind text NOT NULL, tags text[] NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED)`);
  await sql.unsafe('CREATE INDEX raw_docs_fts ON raw_docs USING gin (tsv)');
  const rawFill = await time(async () => {
    for (let i = 0; i < items.length; i += BATCH) {
      const slice = items.slice(i, i + BATCH).map((item, j) => ({
        id: `doc-${String(i + j).padStart(8, '0')}`,
        content: item.content,
        kind: item.kind ?? 'note',
        tags: item.tags ?? [],
      }));
      await sql`INSERT INTO raw_docs ${sql(slice, 'id', 'content', 'kind', 'tags')}`;
    }
  });
  progress('raw table filled', started);
  return { queries, engramFill, rawFill };
}

async function main() {
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await sql.unsafe(`CREATE SCHEMA ${SCHEMA}`);
  const store = new PostgresStore(postgresJs(URL_, { connection }));
  const mem = await createMemory({ store, namespace: 'large' });
  const started = performance.now();
  const { queries, engramFill, rawFill } = await fill(mem, started);
  await sql`VACUUM ANALYZE raw_docs`;
  // Every engram table the schema holds (schema steps add and drop some), not a list kept by hand.
  const tables =
    await sql`SELECT tablename FROM pg_tables WHERE schemaname = ${SCHEMA} AND tablename LIKE 'engram\_%'`;
  for (const { tablename } of tables) await sql.unsafe(`VACUUM ANALYZE ${tablename}`);
  record(
    `fill ${k(SIZE)} (addMany ×${BATCH})`,
    engramFill / 1000,
    rawFill / 1000,
    `raw INSERT ×${BATCH}, GIN tsvector`,
    's',
  );

  progress('vacuumed', started);
  const [ours, raw] = await latencies(queries, [
    (q) => mem.search(q, { limit: 10 }),
    (
      q,
    ) => sql`SELECT id, ts_rank(tsv, query) AS rank FROM raw_docs, to_tsquery('english', ${q.split(' ').join(' | ')}) query
      WHERE tsv @@ query ORDER BY rank DESC LIMIT 10`,
  ]);
  for (const p of [50, 99]) {
    record(
      `text search p${p} at ${k(SIZE)}`,
      percentile(ours, p),
      percentile(raw, p),
      'GIN tsvector, OR tsquery + ts_rank',
      'ms',
    );
  }
  // Where the bytes are: heap, TOAST and each index of every table in the schema.
  const relations = await sql`SELECT c.relname AS name, pg_relation_size(c.oid) AS heap,
      pg_total_relation_size(c.oid) - pg_relation_size(c.oid) - pg_indexes_size(c.oid) AS toast,
      pg_indexes_size(c.oid) AS indexes, c.reltuples::bigint AS rows
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${SCHEMA} AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC`;
  const mib = (n) => `${(Number(n) / 2 ** 20).toFixed(1)} MiB`.padStart(11);
  for (const r of relations) {
    console.log(
      `  ${r.name.padEnd(22)} heap ${mib(r.heap)}  toast ${mib(r.toast)}  indexes ${mib(r.indexes)}  rows ${r.rows}`,
    );
  }
  const indexes = await sql`SELECT c.relname AS name, pg_relation_size(c.oid) AS bytes FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${SCHEMA} AND c.relkind = 'i'
    ORDER BY bytes DESC`;
  for (const i of indexes) console.log(`  index ${i.name.padEnd(30)} ${mib(i.bytes)}`);
  const size = async (tables) => {
    const [{ bytes }] = await sql`SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${SCHEMA} AND c.relkind = 'r'
      AND c.relname = ANY(${tables})`;
    return Number(bytes) / 2 ** 20;
  };
  const engramTables = relations.map((r) => r.name).filter((name) => name.startsWith('engram_'));
  record(
    `table size at ${k(SIZE)}`,
    await size(engramTables),
    await size(['raw_docs']),
    'raw table + GIN tsvector',
    'MiB',
  );
  record(
    `text index size at ${k(SIZE)}`,
    await size(['engram_postings']),
    await size(['raw_docs']),
    'raw table + GIN tsvector',
    'MiB',
  );
  await mem.close();

  const edgeStore = new PostgresStore(postgresJs(URL_, { connection }));
  const app = createEdgeApp({ store: edgeStore, secret: SECRET, logger: false });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  // The pushed namespace is the filled one: its index already holds a million memories.
  const token = await mintToken({ secret: SECRET, ns: 'large' });
  const replica = (fetch) =>
    createMemory({
      store: new InMemoryStore(),
      namespace: 'large',
      sync: { url, token, intervalMs: 0, debounceMs: 3_600_000, ...(fetch ? { fetch } : {}) },
    });
  // The push is timed until the replica's first pull request, which is refused: the writer would pull
  // the whole namespace back, which the reader below measures on its own.
  let firstPull;
  const writer = await replica((input, init) => {
    if (!String(init?.body).includes('"pull":')) return fetch(input, init);
    firstPull ??= performance.now();
    return Promise.reject(new TypeError('the push is measured, not the pull'));
  });
  const extra = makeCorpus(SYNC, 7).items;
  for (let i = 0; i < extra.length; i += BATCH) await writer.addMany(extra.slice(i, i + BATCH));
  progress('replica written', started);
  const pushStart = performance.now();
  await writer.sync().catch(() => {});
  const push = firstPull - pushStart;
  await writer.close();
  const rawPush = await time(async () => {
    for (let i = 0; i < extra.length; i += 500) {
      const slice = extra.slice(i, i + 500).map((item, j) => ({
        id: `push-${String(i + j).padStart(8, '0')}`,
        content: item.content,
        kind: 'note',
        tags: item.tags ?? [],
      }));
      await sql`INSERT INTO raw_docs ${sql(slice, 'id', 'content', 'kind', 'tags')}`;
    }
  });
  record(
    `sync push ${k(SYNC)} into ${k(SIZE)} through the edge`,
    push,
    rawPush,
    'raw INSERT ×500, GIN tsvector',
    'ms',
  );
  const reader = await replica();
  const pull = await time(() => reader.sync());
  await reader.close();
  const rawPull = await time(async () => {
    for (let after = ''; ; ) {
      const page = await sql`SELECT * FROM raw_docs WHERE id > ${after} ORDER BY id LIMIT 500`;
      if (page.length < 500) break;
      after = page[page.length - 1].id;
    }
  });
  record(
    `sync pull ${k(SIZE + SYNC)} through the edge`,
    pull,
    rawPull,
    'raw SELECT, keyset pages of 500',
    'ms',
  );
  await new Promise((resolve) => server.close(resolve));
  await edgeStore.close();
}

/** The rows, with the day and the code they were measured on; a smaller trial run leaves the file alone. */
async function keep() {
  if (SIZE !== 1_000_000) return;
  const file = new URL('./large.json', import.meta.url);
  await writeFile(
    file,
    `${JSON.stringify({ date: new Date().toISOString().slice(0, 10), commit: COMMIT, rows }, null, 2)}\n`,
  );
  console.log(`wrote ${file.pathname}`);
}

try {
  await main();
  await keep();
} finally {
  await sql.end();
}
