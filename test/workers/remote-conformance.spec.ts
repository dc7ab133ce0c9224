import { env } from 'cloudflare:workers';
import { RemoteStore } from '../../src/backends/remote/index.js';
import { createEdgeApp } from '../../src/edge/app.js';
import { PostgresStore, postgresJs } from '../../src/edge/index.js';
import { mintToken } from '../../src/edge/token.js';
import { testStore } from '../conformance/index.js';

// The one conformance suite, through RemoteStore, against the edge app running in workerd and Postgres
// behind it over postgres.js (Hyperdrive's local connection string).
//
// The app is called directly, not through `exports.default.fetch`: @cloudflare/vitest-pool-workers (0.15 to
// 0.23) wraps the Worker entry's prototype in one more Proxy each time it constructs it, once per call, so
// every later call walks the whole chain. This suite makes some 1,500 calls and grew quadratically slow
// (430 s, 80 % of workerd's time in JSProxy::GetOwnPropertyDescriptor). Called directly, requests share the
// test's I/O context, so they share one postgres.js client (never ended: in workerd `sql.end()` would only
// wait). worker.spec.ts and live.spec.ts test the Worker entry itself: its per-request store, its bindings
// and the Durable Object hub.
const store = new PostgresStore(postgresJs(env.HYPERDRIVE.connectionString, { max: 5, fetch_types: false }));
const app = createEdgeApp({
  secret: env.ENGRAM_SECRET,
  store,
  maxClockSkewMs: Number(env.MAX_CLOCK_SKEW_MS),
  logger: false,
});
const tokens = new Map<string, Promise<string>>();
const tokenFor = (ns: string) => {
  if (!tokens.has(ns)) tokens.set(ns, mintToken({ secret: env.ENGRAM_SECRET, ns: [ns] }));
  return tokens.get(ns)!;
};
const remote = () =>
  new RemoteStore({
    url: 'https://engram.test',
    token: tokenFor,
    fetch: async (input, init) => app.fetch(new Request(input, init)),
  });

testStore({
  name: 'RemoteStore -> edge app (workerd) -> Postgres',
  create: remote,
  reopen: async (store) => {
    await store.close();
    return remote();
  },
  capabilities: { persistent: true },
});
