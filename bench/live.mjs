// Live sync on one Node edge process (PostgresStore on DATABASE_URL, PostgresHub): how long a write by
// one client takes to reach another over the event stream, against one sync round trip on the same
// edge; and what 1,000 idle open event streams cost that edge process, against the same process idle.
import postgres from 'postgres';
import { mintToken } from '../dist/edge/index.js';
import { createMemory, InMemoryStore } from '../dist/index.js';
import { percentile, time } from './corpus.mjs';
import { startEdge } from './edges.mjs';

const URL_ = process.env.DATABASE_URL ?? 'postgres://postgres:bench@127.0.0.1:5432/test';
const SCHEMA = 'engram_bench_live';
const SECRET = 'engram-bench-live-secret';
const WRITES = Number(process.env.BENCH_LIVE_WRITES ?? 100);
const STREAMS = Number(process.env.BENCH_LIVE_STREAMS ?? 1000);
// One heartbeat period (15 s): every open stream sends exactly one heartbeat in the window.
const IDLE_MS = Number(process.env.BENCH_LIVE_IDLE_MS ?? 15_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default async function run(record, info) {
  const sql = postgres(URL_, { onnotice: () => {}, max: 1 });
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await sql.unsafe(`CREATE SCHEMA ${SCHEMA}`);
  const edge = startEdge(URL_, SCHEMA, SECRET);
  try {
    const base = await edge.base();
    const token = await mintToken({ secret: SECRET, ns: ['live'] });
    const client = () =>
      createMemory({
        store: new InMemoryStore(),
        namespace: 'live',
        sync: { url: base, token, intervalMs: 0 },
      });
    const a = await client();
    const b = await client();
    while (a.liveState !== 'live' || b.liveState !== 'live') await sleep(10);
    const arrivedAt = new Map();
    const waiting = new Map();
    b.on('change', (event) => {
      const now = performance.now();
      for (const id of event.ids) {
        if (!arrivedAt.has(id)) arrivedAt.set(id, now);
        waiting.get(id)?.();
      }
    });
    const delivery = [];
    const roundTrip = [];
    for (let i = 0; i < WRITES + 5; i++) {
      const started = performance.now();
      const m = await a.add({ content: `live write ${i}` });
      if (!arrivedAt.has(m.id)) await new Promise((resolve) => waiting.set(m.id, resolve));
      waiting.delete(m.id);
      // The first writes warm connections and JIT: not counted.
      if (i >= 5) delivery.push(arrivedAt.get(m.id) - started);
      const rt = await time(() => b.sync());
      if (i >= 5) roundTrip.push(rt);
      await sleep(20);
    }
    for (const p of [50, 99]) {
      record({
        suite: 'live',
        metric: `write-to-other-client latency p${p}`,
        ours: percentile(delivery, p),
        ref: percentile(roundTrip, p),
        refName: 'one sync round (push+pull) on the same edge',
        unit: 'ms',
      });
    }
    await a.close();
    await b.close();

    // Idle cost of open streams: raw SSE readers (what a browser's stream costs the server).
    await sleep(500);
    const before = await edge.stats();
    await sleep(IDLE_MS);
    const idle = await edge.stats();
    const readers = [];
    for (let i = 0; i < STREAMS; i++) {
      const controller = new AbortController();
      // A token per reader, as each browser has its own: one token holds at most 16 streams in a namespace
      // (mintToken gives each token a jti of its own).
      const own = await mintToken({ secret: SECRET, ns: ['live'] });
      const response = await fetch(`${base}/v1/ns/live/events`, {
        headers: { authorization: `Bearer ${own}` },
        signal: controller.signal,
      });
      const reader = response.body.getReader();
      (async () => {
        try {
          while (!(await reader.read()).done);
        } catch {}
      })();
      readers.push(controller);
    }
    while ((await edge.stats()).streams < STREAMS) await sleep(100);
    await sleep(1000);
    const open = await edge.stats();
    await sleep(IDLE_MS);
    const later = await edge.stats();
    for (const controller of readers) controller.abort();
    const cpuIdle = (idle.cpuMicros - before.cpuMicros) / 1000 / (IDLE_MS / 1000);
    const cpuOpen = (later.cpuMicros - open.cpuMicros) / 1000 / (IDLE_MS / 1000);
    record({
      suite: 'live',
      metric: `edge RSS with ${STREAMS} idle open streams`,
      ours: open.rss / 2 ** 20,
      ref: idle.rss / 2 ** 20,
      refName: 'the same edge process with none',
      unit: ' MiB',
    });
    record({
      suite: 'live',
      metric: `edge CPU with ${STREAMS} idle open streams`,
      ours: cpuOpen,
      ref: cpuIdle,
      refName: 'the same edge process with none',
      unit: ' ms/s',
    });
    info.settings.push(
      `Live: ${WRITES} writes by one client, each timed until another client (its own event stream, no polling) held it, against a sync round on the same edge (a separate Node process, PostgresStore, PostgresHub). Idle cost: ${STREAMS} raw event-stream readers held ${IDLE_MS / 1000} s (heartbeat 15 s) against the same ${IDLE_MS / 1000} s with none.`,
    );
  } finally {
    await edge.stop();
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await sql.end();
  }
}
