// The multi-server run of docs/scaling.md: 2 Node edge processes on 1 Postgres (DATABASE_URL), live sync
// relayed through LISTEN/NOTIFY, and 200 simulated clients (20 namespaces of 10 replicas, each replica on
// the edge of its parity) that sync live and each write a memory every ~3 s for 20 s. Reports request
// errors, sync-request latency p50/p99 under that load, and convergence: after the writing stops, how
// long until every replica holds exactly what Postgres holds, without anyone calling sync().
import postgres from 'postgres';
import { mintToken } from '../dist/edge/index.js';
import { createMemory, InMemoryStore } from '../dist/index.js';
import { percentile } from './corpus.mjs';
import { startEdge } from './edges.mjs';

const URL_ = process.env.DATABASE_URL ?? 'postgres://postgres:bench@127.0.0.1:5432/test';
const SCHEMA = 'engram_bench_scale';
const SECRET = 'engram-bench-scale-secret';
const CLIENTS = Number(process.env.BENCH_SCALE_CLIENTS ?? 200);
const PER_NAMESPACE = 10;
// 20 s of writing give ~7,000 sync requests (11,441 in 30 s), enough for a steady p99; BENCH_SCALE_SECONDS=60 is docs/scaling.md's run.
const SECONDS = Number(process.env.BENCH_SCALE_SECONDS ?? 20);
const WRITE_EVERY_MS = Number(process.env.BENCH_SCALE_WRITE_MS ?? 3000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default async function run(record, info) {
  const sql = postgres(URL_, { onnotice: () => {}, max: 2 });
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await sql.unsafe(`CREATE SCHEMA ${SCHEMA}`);
  const edges = [startEdge(URL_, SCHEMA, SECRET), startEdge(URL_, SCHEMA, SECRET)];
  const clients = [];
  try {
    const bases = await Promise.all(edges.map((e) => e.base()));
    const latencies = [];
    const failures = { network: 0, status5xx: 0, status4xx: 0 };
    let requests = 0;
    const timed = async (input, init) => {
      // Pushes carry `?answer=ids`: the path, not the whole URL, names a sync request.
      const url = new URL(input instanceof Request ? input.url : String(input)).pathname;
      const started = performance.now();
      try {
        const response = await fetch(input, init);
        if (url.endsWith('/sync')) {
          requests++;
          latencies.push(performance.now() - started);
          if (response.status >= 500) failures.status5xx++;
          else if (response.status >= 400) failures.status4xx++;
        }
        return response;
      } catch (error) {
        if (url.endsWith('/sync') && !init?.signal?.aborted) failures.network++;
        throw error;
      }
    };
    const namespaces = Array.from({ length: Math.ceil(CLIENTS / PER_NAMESPACE) }, (_, i) => `tenant-${i}`);
    const statusErrors = [];
    for (let i = 0; i < CLIENTS; i++) {
      const namespace = namespaces[Math.floor(i / PER_NAMESPACE)];
      const token = await mintToken({ secret: SECRET, ns: [namespace] });
      const mem = await createMemory({
        store: new InMemoryStore(),
        namespace,
        sync: { url: bases[i % 2], token, fetch: timed },
      });
      mem.on('status', (s) => {
        if (s.state === 'error' || s.state === 'offline') statusErrors.push(`${s.state}: ${s.error}`);
      });
      clients.push({ mem, namespace });
    }
    while (clients.some((c) => c.mem.liveState !== 'live')) await sleep(100);
    let writes = 0;
    const until = Date.now() + SECONDS * 1000;
    await Promise.all(
      clients.map(async ({ mem }, i) => {
        await sleep(Math.random() * WRITE_EVERY_MS);
        while (Date.now() < until) {
          await mem.add({ content: `client ${i} at ${Date.now()}`, tags: ['scale'] });
          writes++;
          await sleep(WRITE_EVERY_MS * (0.5 + Math.random()));
        }
      }),
    );
    const stopped = performance.now();
    const truth = new Map(namespaces.map((ns) => [ns, 0]));
    let converged = false;
    let convergedAfter = Number.NaN;
    let behind = CLIENTS;
    while (performance.now() - stopped < 30_000) {
      for (const row of await sql.unsafe(
        `SELECT ns, count(*)::int AS n FROM ${SCHEMA}.engram_memories GROUP BY ns`,
      )) {
        truth.set(row.ns, row.n);
      }
      behind = 0;
      for (const { mem, namespace } of clients) {
        const held = (await mem.store.changes(namespace, 0, 1_000_000)).filter((e) => e.entity === 'memory');
        if (held.length !== truth.get(namespace)) behind++;
      }
      const total = [...truth.values()].reduce((a, b) => a + b, 0);
      if (behind === 0 && total === writes) {
        converged = true;
        convergedAfter = performance.now() - stopped;
        break;
      }
      await sleep(200);
    }
    record({
      suite: 'scale',
      metric: `sync request p99, ${CLIENTS} clients on 2 edges`,
      ours: percentile(latencies, 99),
      ref: percentile(latencies, 50),
      refName: 'p50 of the same run',
      unit: 'ms',
    });
    record({
      suite: 'scale',
      metric: 'convergence after the last write',
      ours: convergedAfter,
      ref: percentile(latencies, 50),
      refName: 'one sync request (p50)',
      unit: 'ms',
    });
    const summary = `Scale: ${CLIENTS} clients (${namespaces.length} namespaces x ${PER_NAMESPACE}) on 2 Node edge processes and 1 Postgres, live sync, each writing every ~${WRITE_EVERY_MS / 1000} s for ${SECONDS} s: ${writes} writes, ${requests} sync requests, errors: ${failures.network} network, ${failures.status5xx} 5xx, ${failures.status4xx} 4xx, ${statusErrors.length} offline/error statuses; sync request p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms; ${converged ? `every replica held exactly what Postgres holds ${convergedAfter.toFixed(0)} ms after the last write, nobody calling sync()` : `NOT converged after 30 s: ${behind} replicas behind`}.`;
    console.log(summary);
    info.settings.push(summary);
  } finally {
    for (const { mem } of clients) await mem.close().catch(() => {});
    await Promise.all(edges.map((e) => e.stop()));
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await sql.end();
  }
}
