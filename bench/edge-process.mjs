// One Node edge as its own process, for the live and scale benchmarks: createEdgeApp over PostgresStore
// with live sync relayed through Postgres LISTEN/NOTIFY. Prints "ready <port>" and serves until killed;
// on "stats" over stdin it prints "stats <rss bytes> <cpu µs user+system> <open streams>".
import { serve } from '@hono/node-server';
import { createEdgeApp, PostgresHub, PostgresStore, postgresJs } from '../dist/edge/index.js';

const [url, schema, secret, heartbeat] = process.argv.slice(2);
const driver = postgresJs(url, { max: 10, connection: { search_path: schema } });
const store = new PostgresStore(driver);
await store.open();
const hub = new PostgresHub(driver);
const app = createEdgeApp({
  store,
  secret,
  logger: false,
  live: hub,
  heartbeatMs: heartbeat ? Number(heartbeat) : undefined,
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
server.on('listening', () => console.log(`ready ${server.address().port}`));
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text) => {
  if (!text.includes('stats')) return;
  globalThis.gc?.();
  const cpu = process.cpuUsage();
  console.log(`stats ${process.memoryUsage().rss} ${cpu.user + cpu.system} ${hub.connections}`);
});
