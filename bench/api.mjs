// The edge API on Node over real Postgres, one request at a time, as an app calls it: add and search
// latency p50/p99 through HTTP on 127.0.0.1, beside the same single-row work done with raw postgres.js.
import { serve } from '@hono/node-server';
import postgres from 'postgres';
import { createEdgeApp, mintToken, PostgresStore, postgresJs } from '../dist/edge/index.js';
import { makeCorpus, percentile, time } from './corpus.mjs';

const URL_ = process.env.DATABASE_URL ?? 'postgres://postgres:bench@127.0.0.1:5432/test';
const SCHEMA = 'engram_bench_api';
const COUNT = Number(process.env.BENCH_API_COUNT ?? 1000);
const SECRET = 'engram-bench-secret';
const connection = { search_path: SCHEMA };

export default async function run(record, info) {
  const sql = postgres(URL_, { onnotice: () => {}, connection, max: 2 });
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await sql.unsafe(`CREATE SCHEMA ${SCHEMA}`);
  await sql.unsafe(`CREATE TABLE raw_api (id text PRIMARY KEY, content text NOT NULL, tags text[] NOT NULL)`);
  await sql.unsafe(`CREATE INDEX raw_api_fts ON raw_api USING gin (to_tsvector('english', content))`);
  const store = new PostgresStore(postgresJs(URL_, { connection }));
  const server = serve({
    fetch: createEdgeApp({ store, secret: SECRET, logger: false }).fetch,
    port: 0,
    hostname: '127.0.0.1',
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${server.address().port}/v1/ns/api`;
  const headers = {
    authorization: `Bearer ${await mintToken({ secret: SECRET, ns: ['api'] })}`,
    'content-type': 'application/json',
  };
  const call = async (path, body) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    await response.arrayBuffer();
  };
  try {
    const { items, queries } = makeCorpus(COUNT, 11);
    const adds = { api: [], raw: [] };
    // Alternating one API add and one raw insert, so both see the same machine.
    for (const [i, item] of items.entries()) {
      adds.api.push(await time(() => call('/memories', { content: item.content, tags: item.tags })));
      adds.raw.push(
        await time(() => sql`INSERT INTO raw_api VALUES (${`r${i}`}, ${item.content}, ${item.tags})`),
      );
    }
    const searches = { api: [], raw: [] };
    for (const q of [...queries, ...queries, ...queries]) {
      searches.api.push(await time(() => call('/search', { query: q, limit: 10 })));
      searches.raw.push(
        await time(
          () => sql`SELECT id, content, ts_rank(to_tsvector('english', content), query) AS rank
            FROM raw_api, to_tsquery('english', ${q.split(' ').join(' | ')}) query
            WHERE to_tsvector('english', content) @@ query ORDER BY rank DESC LIMIT 10`,
        ),
      );
    }
    for (const p of [50, 99]) {
      record({
        suite: 'api',
        metric: `add p${p}, one memory per request`,
        ours: percentile(adds.api, p),
        ref: percentile(adds.raw, p),
        refName: 'raw postgres.js INSERT (no HTTP)',
        unit: 'ms',
      });
      record({
        suite: 'api',
        metric: `search p${p} at ${COUNT / 1000}K`,
        ours: percentile(searches.api, p),
        ref: percentile(searches.raw, p),
        refName: 'raw tsvector/GIN OR query (no HTTP)',
        unit: 'ms',
      });
    }
    info.settings.push(
      `API: ${COUNT} adds one per request, then ${queries.length * 3} searches, through @hono/node-server on 127.0.0.1 and PostgresStore on the real server, alternating with raw postgres.js.`,
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await store.close();
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await sql.end();
  }
}
