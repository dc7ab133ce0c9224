import type { Hono } from 'hono';
import { checkConnection, postgresJs } from '../backends/postgres/postgres-js.js';
import { PostgresStore } from '../backends/postgres/postgres-store.js';
import { errorMessage } from '../core/errors.js';
import { createEdgeApp } from './app.js';
import type { EdgeEnv } from './env.js';
import { type DurableObjectNamespaceLike, durableObjectHub } from './live/durable-object-hub.js';

export { EngramHub } from './live/durable-object-hub.js';

/** The bindings wrangler.toml declares. */
export interface WorkerEnv {
  /** Hyperdrive in front of Postgres (preferred). */
  HYPERDRIVE?: { connectionString: string };
  /** A direct Postgres URL, used when there is no Hyperdrive binding. */
  DATABASE_URL?: string;
  /** The token signing key: `wrangler secret put ENGRAM_SECRET`. */
  ENGRAM_SECRET?: string;
  /** Comma-separated origins allowed by CORS; any origin when unset. */
  CORS_ORIGINS?: string;
  /** `maxClockSkewMs` of the app (default 60000): pushed stamps further ahead are refused. */
  MAX_CLOCK_SKEW_MS?: string;
  /** Live sync's hub: the `EngramHub` Durable Object class, one object per namespace. */
  ENGRAM_HUB?: DurableObjectNamespaceLike;
}

function misconfigured(message: string): Response {
  return Response.json(
    { error: { code: 'STORAGE', message: `server misconfigured: ${message}` } },
    { status: 500 },
  );
}

/**
 * A connection opened in one request cannot serve another in Workers, so each request gets its own
 * postgres.js client (Hyperdrive pools the real connections). It is never ended: the runtime closes
 * the socket with the request, and `sql.end()` would only wait on it.
 */
function storeFor(env: WorkerEnv): PostgresStore {
  const url = env.HYPERDRIVE?.connectionString ?? env.DATABASE_URL;
  if (!url) throw new Error('no HYPERDRIVE binding and no DATABASE_URL');
  // `fetch_types: false` saves a catalog round trip per connection; the store binds id lists as
  // text literals, so it needs no fetched array types.
  return new PostgresStore(postgresJs(url, { max: 5, fetch_types: false }));
}

let cached: { secret: string; app: Hono<EdgeEnv> } | undefined;

/** One app per isolate (its clock must outlive requests), rebuilt only if the secret changes. */
function appFor(env: WorkerEnv): Hono<EdgeEnv> {
  const secret = env.ENGRAM_SECRET ?? '';
  if (cached?.secret !== secret) {
    const origins = env.CORS_ORIGINS?.split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    const app = createEdgeApp({
      secret,
      store: (c) => storeFor(c.env as WorkerEnv),
      cors: origins?.length ? { origin: origins } : undefined,
      maxClockSkewMs: env.MAX_CLOCK_SKEW_MS ? Number(env.MAX_CLOCK_SKEW_MS) : undefined,
      // Without the binding, each isolate keeps its own streams: live only among clients it happens to serve.
      live: env.ENGRAM_HUB ? durableObjectHub(env.ENGRAM_HUB) : undefined,
    });
    cached = { secret, app };
  }
  return cached.app;
}

/** The Cloudflare Workers entry: `wrangler dev` / `wrangler deploy` (see wrangler.toml). */
export default {
  fetch(request: Request, env: WorkerEnv, ctx: unknown): Response | Promise<Response> {
    if (!env.ENGRAM_SECRET)
      return misconfigured('ENGRAM_SECRET is not set (wrangler secret put ENGRAM_SECRET)');
    if (!env.HYPERDRIVE && !env.DATABASE_URL) return misconfigured('bind HYPERDRIVE or set DATABASE_URL');
    let app: ReturnType<typeof appFor>;
    try {
      // A connection string the driver cannot use is the server's fault, told here rather than as a
      // request's 400 once a route opens the store.
      checkConnection(env.HYPERDRIVE?.connectionString ?? env.DATABASE_URL);
      app = appFor(env);
    } catch (error) {
      // A bad variable (MAX_CLOCK_SKEW_MS=abc, a CORS origin list createEdgeApp refuses) names itself.
      return misconfigured(errorMessage(error));
    }
    return app.fetch(request, env, ctx as Parameters<Hono['fetch']>[2]);
  },
};
