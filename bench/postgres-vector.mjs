// Vector search in PostgresStore at 10K × 384 in `npm run bench` (BENCH_PGVEC_SIZE=100000 for the 100K figures
// in docs/embeddings.md, over half an hour on the 2-core machine). On the real server (DATABASE_URL; Debian's Postgres has
// no pgvector): exact ranking in SQL, with a model and without one, against the path it replaces, every
// embedding read out and scored in this process (core's scan, which a store without `nearestAnyModel` gets). On PGlite with pgvector: the exact `<#>`
// scan against the opt-in HNSW index, with HNSW's recall@10 against exact and its build time.
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import postgres from 'postgres';
import { PostgresStore, pglite, postgresJs } from '../dist/edge/index.js';
import { createMemory } from '../dist/index.js';
import { median } from './corpus.mjs';
import { makeVectors } from './vector.mjs';

const URL_ = process.env.DATABASE_URL ?? 'postgres://postgres:bench@127.0.0.1:5432/test';
const SCHEMA = 'engram_bench_vector';
const SIZE = Number(process.env.BENCH_PGVEC_SIZE ?? 10_000);
const DIMS = Number(process.env.BENCH_VECTOR_DIMS ?? 384);
const QUERIES = Number(process.env.BENCH_PGVEC_QUERIES ?? 20);
/** The old path reads 300 MB per query at 100K: a few queries give its median. */
const OLD_QUERIES = Number(process.env.BENCH_PGVEC_OLD_QUERIES ?? 3);
const K = 10;
const MODEL = 'bench-384';
const k = `${SIZE / 1000}K×${DIMS}`;

const row = (data, i) => Array.from(data.subarray(i * DIMS, (i + 1) * DIMS));

async function fill(mem, vectors) {
  const start = performance.now();
  for (let i = 0; i < SIZE; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(SIZE, i + 1000); j++) {
      batch.push({
        id: `v${String(j).padStart(7, '0')}`,
        content: `vector ${j}`,
        embedding: row(vectors, j),
        embeddingModel: MODEL,
      });
    }
    await mem.addMany(batch);
  }
  return performance.now() - start;
}

/** Median time of `run(i)` over the queries (the first one warms up and is not counted); the hits by query. */
async function measure(queries, run) {
  await run(0);
  const times = [];
  const hits = [];
  for (let i = 0; i < queries.length; i++) {
    const start = performance.now();
    hits[i] = (await run(i)).map((h) => h.memory.id);
    times.push(performance.now() - start);
  }
  return { p50: median(times), hits };
}

function recall(truth, got) {
  let found = 0;
  for (let i = 0; i < got.length; i++) found += got[i].filter((id) => truth[i].includes(id)).length / K;
  return found / got.length;
}

/** Fills the server schema and the PGlite database (minutes at 100K, measuring nothing but the fill). */
export async function prepare(info) {
  const vectors = makeVectors(SIZE, 1);
  const admin = postgres(URL_, { onnotice: () => {}, max: 1 });
  await admin.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.unsafe(`CREATE SCHEMA ${SCHEMA}`);
  await admin.end();
  const server = await createMemory({
    store: new PostgresStore(postgresJs(URL_, { connection: { search_path: SCHEMA }, max: 2 })),
    namespace: 'vectors',
  });
  // The same data through core's scan: what a search without `model` did before it was ranked in SQL.
  const scanning = await createMemory({
    store: Object.assign(
      new PostgresStore(postgresJs(URL_, { connection: { search_path: SCHEMA }, max: 2 })),
      {
        nearestAnyModel: false,
      },
    ),
    namespace: 'vectors',
  });
  const db = await PGlite.create({ extensions: { vector } });
  const embedded = await createMemory({ store: new PostgresStore(pglite(db)), namespace: 'vectors' });
  const [serverFill, pgliteFill] = await Promise.all([fill(server, vectors), fill(embedded, vectors)]);
  await db.query('VACUUM ANALYZE engram_memories');
  const s = (ms) => `${(ms / 1000).toFixed(0)} s`;
  info.settings.push(
    `Postgres vectors: ${k} synthetic unit vectors (bench/vector.mjs) written by addMany × ${SIZE / 1000} into the server in ${s(serverFill)} and into PGlite with pgvector in ${s(pgliteFill)}; ${QUERIES} queries (${OLD_QUERIES} on the old path), k = ${K}.`,
  );
  return { server, scanning, db, embedded, pgliteFill };
}

export default async function run(record, info, prepared) {
  const { server, scanning, db, embedded, pgliteFill } = prepared ?? (await prepare(info));
  const queryData = makeVectors(QUERIES, 2);
  const queries = Array.from({ length: QUERIES }, (_, i) => row(queryData, i));
  const suite = 'pg-vector';
  try {
    const exactSql = await measure(queries, (i) =>
      server.search('', { vector: queries[i], model: MODEL, limit: K }),
    );
    const anyModelSql = await measure(queries, (i) => server.search('', { vector: queries[i], limit: K }));
    // Core's scan pages through every embedding and scores them here: the path SQL ranking replaces.
    const old = await measure(queries.slice(0, OLD_QUERIES), (i) =>
      scanning.search('', { vector: queries[i], limit: K }),
    );
    record({
      suite,
      metric: `Postgres exact vector search in SQL, p50 at ${k} (ms)`,
      ours: exactSql.p50,
      ref: old.p50,
      refName: 'every embedding read out (old path)',
      unit: ' ms',
    });
    record({
      suite,
      metric: `Postgres exact vector search in SQL without a model, p50 at ${k} (ms)`,
      ours: anyModelSql.p50,
      ref: old.p50,
      refName: 'every embedding read out (old path)',
      unit: ' ms',
    });
    record({
      suite,
      metric: `Postgres exact in SQL: top 10 missing vs the old path at ${k}`,
      ours: 1 - recall(old.hits, exactSql.hits.slice(0, OLD_QUERIES)),
      ref: 1,
      refName: 'old path',
      unit: '',
      target: { max: 0 },
    });

    const exact = await measure(queries, (i) =>
      embedded.search('', { vector: queries[i], model: MODEL, limit: K }),
    );
    // efSearch: the candidate list HNSW keeps per query; 400 is Engram's default, 100 shows the trade-off.
    for (const efSearch of [100, 400]) {
      const hnswMem = await createMemory({
        store: new PostgresStore(pglite(db), { vectors: { index: 'hnsw', hnsw: { efSearch } } }),
        namespace: 'vectors',
      });
      // The first HNSW search builds the index (once per length); later writes update it in place.
      const buildStart = performance.now();
      await hnswMem.search('', { vector: queries[0], model: MODEL, limit: K });
      const buildMs = performance.now() - buildStart;
      const hnsw = await measure(queries, (i) =>
        hnswMem.search('', { vector: queries[i], model: MODEL, limit: K }),
      );
      record({
        suite,
        metric: `PGlite pgvector HNSW (efSearch ${efSearch}) search p50 at ${k} (ms)`,
        ours: hnsw.p50,
        ref: exact.p50,
        refName: 'PGlite pgvector exact (<#> scan)',
        unit: ' ms',
      });
      record({
        suite,
        metric: `PGlite pgvector HNSW (efSearch ${efSearch}) recall@10 miss (1 − recall) at ${k}`,
        ours: 1 - recall(exact.hits, hnsw.hits),
        ref: 1,
        refName: 'exact',
        unit: '',
        target: efSearch === 400 ? { max: 0.05 } : undefined,
      });
      if (efSearch === 100) {
        record({
          suite,
          metric: `PGlite pgvector HNSW index build at ${k} (ms)`,
          ours: buildMs,
          ref: pgliteFill,
          refName: 'addMany fill',
          unit: ' ms',
        });
      }
      await hnswMem.close();
    }
  } finally {
    await server.close();
    await scanning.close();
    await embedded.close();
    await db.close();
  }
}
