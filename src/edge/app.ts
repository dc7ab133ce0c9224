import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { NotFoundError, validationError } from '../core/errors.js';
import type { MemoryStore } from '../core/store-contract.js';
import { MAX_CLOCK_SKEW_MS_DEFAULT } from '../core/sync/protocol.js';
import { MAX_TIMER_MS } from '../core/validate.js';
import { authenticate, authorize } from './auth.js';
import { bodyLimit } from './body-limit.js';
import { type DemoPage, demoRoutes } from './demo.js';
import { capabilitiesHandler, encryptedGuard } from './encrypted-guard.js';
import type { EdgeEnv } from './env.js';
import { toErrorResponse } from './errors.js';
import { createFacades } from './facade.js';
import { type HealthOptions, healthHandler } from './health.js';
import { type LiveHub, LocalHub } from './live/hub.js';
import { publishingStore } from './live/publishing-store.js';
import { consoleLogger, type RequestLogger, requestLogger } from './logger.js';
import { type EdgeMaintenanceOptions, edgeMaintenance } from './maintenance.js';
import { methodNotAllowed, servedMethods } from './method-not-allowed.js';
import { checkEdgeOptions } from './options.js';
import { queryEncoding } from './query-encoding.js';
import { checkQuotaOptions, type QuotaOptions, quotaStore } from './quota.js';
import { memoryRateLimiter, type RateLimiter, type RateLimitOptions, rateLimit } from './rate-limit.js';
import { eventRoutes } from './routes/events.js';
import { graphRoutes } from './routes/graph.js';
import { lifecycleRoutes } from './routes/lifecycle.js';
import { memoryRoutes } from './routes/memories.js';
import { searchRoutes } from './routes/search.js';
import { syncRoutes } from './routes/sync.js';
import { checkSecret } from './token.js';

export type CorsOptions = NonNullable<Parameters<typeof cors>[0]>;

/** Makes the store for one request, from its bindings (`c.env`): how a Worker opens Postgres per request. */
export type StoreFactory = (c: Context<EdgeEnv>) => MemoryStore;

export interface EdgeAppOptions {
  /**
   * Where the memories live: one store shared by every request, or a factory called per request (for
   * runtimes such as Workers where a connection cannot outlive its request; the factory owns its lifecycle).
   */
  store: MemoryStore | StoreFactory;
  /** The HS256 key that tokens are signed with (see `mintToken`). */
  secret: string;
  /**
   * CORS for browsers, over defaults that allow any origin (tokens travel in a header, not cookies) and
   * the Authorization header; `false` turns it off.
   */
  cors?: CorsOptions | false;
  /** Request log: default one console line per request; `false` for none. */
  logger?: RequestLogger | false;
  /** Largest request body in bytes (default 1 MiB); larger ones get 413 PAYLOAD_TOO_LARGE. */
  bodyLimit?: number;
  /**
   * Serve a page at `/`: `true` for a short "API is running" note, the page's HTML, or a {@link DemoPage}
   * (the demo notebook: its files under `/demo/` and `GET /demo/config` with a token for its namespace).
   * Default off.
   */
  demo?: boolean | string | DemoPage;
  health?: HealthOptions;
  /**
   * How far ahead of the server's clock a pushed stamp may be (default 60 000 ms); a push carrying one
   * further ahead is refused with VALIDATION naming the field. Clients correct their clocks by the
   * `serverTime` every sync answer carries, so only a wrong or hostile clock ever meets this limit.
   */
  maxClockSkewMs?: number;
  /**
   * Purge and tombstone collection, run on a namespace's sync requests (docs/lifecycle.md):
   * `{ tombstoneHorizonMs?: 30 days, intervalMs?: 60 s }`; `intervalMs: 0` turns it off. Bad values are
   * VALIDATION errors naming the field (`maintenance.tombstoneHorizonMs`).
   */
  maintenance?: EdgeMaintenanceOptions;
  /**
   * Requests per token and namespace: `{ requests, windowMs?, burst? }` for the in-memory limiter (one
   * process), or any {@link RateLimiter} (a shared one for several servers). Over it: 429 RATE_LIMITED
   * with `Retry-After`. Default off.
   */
  rateLimit?: RateLimitOptions | RateLimiter | false;
  /** The server's wall clock for stamps and the skew bound (default `Date.now`; injectable for tests). */
  now?: () => number;
  /**
   * Live sync (`GET /v1/ns/:ns/events`): the hub that fans "the feed moved" out to connected clients.
   * Default: one in this process ({@link LocalHub}); several Node servers on one Postgres share news
   * through `postgresHub`; Workers use `durableObjectHub`. `false` turns the route off (clients poll).
   */
  live?: LiveHub | false;
  /** Heartbeat period of event streams in ms (default 15 000). */
  heartbeatMs?: number;
  /**
   * Event streams one token may hold open in one namespace on this server (default 16); one more is
   * 429 RATE_LIMITED with `Retry-After` until one of them ends. A replica holds one per namespace (tabs
   * of one origin share it), so only a leaking or hostile client meets this.
   */
  maxStreamsPerToken?: number;
  /**
   * Per-namespace limits, off by default: `{ memories?, bytes? }` (bytes of content and metadata).
   * A write past one is 403 FORBIDDEN with field `quota.memories` or `quota.bytes`, and nothing of it
   * is written; deletes always pass. Needs a store that measures usage (Postgres, PGlite, sql.js, memory).
   */
  quota?: QuotaOptions;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
const DEFAULT_CORS: CorsOptions = {
  origin: '*',
  allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
  // Last-Event-ID: what an SSE client resuming /events may send (Engram's own sends `?lastEventId=`).
  allowHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID'],
  // A browser's script reads only a few answer headers of another origin unless told: the 429's wait is one
  // the SDK's replicas honour.
  exposeHeaders: ['Retry-After'],
  maxAge: 600,
};

/**
 * The Engram HTTP API as a Hono app: the same app runs on Cloudflare Workers and on Node.
 * Every route runs the SDK's own façade over `store`, so the API and the SDK answer alike.
 *
 * @example
 * import { serve } from '@hono/node-server';
 * import { InMemoryStore } from 'engram';
 * import { createEdgeApp } from 'engram/edge';
 * const app = createEdgeApp({ store: new InMemoryStore(), secret: process.env.ENGRAM_SECRET! });
 * serve({ fetch: app.fetch, port: 8787 });
 */
export function createEdgeApp(options: EdgeAppOptions): Hono<EdgeEnv> {
  checkEdgeOptions(options);
  const secret = checkSecret(options.secret);
  const hub = options.live === false ? undefined : (options.live ?? new LocalHub());
  const quota = checkQuotaOptions(options.quota);
  const announced = hub ? announcing(options.store, hub) : storeResolver(options.store);
  const storeFor: StoreFactory = quota ? (c) => quotaStore(announced(c), quota) : announced;
  const maxSize = wholeOption(options.bodyLimit, 'bodyLimit', DEFAULT_BODY_LIMIT);
  const maxClockSkewMs = clockSkewOption(options.maxClockSkewMs);
  const heartbeatMs = wholeOption(options.heartbeatMs, 'heartbeatMs', 15_000, MAX_TIMER_MS);
  const maxStreams = wholeOption(options.maxStreamsPerToken, 'maxStreamsPerToken', 16);
  checkFunctionOption(options.now, 'now', 'a function returning milliseconds since the epoch');
  checkFunctionOption(
    options.logger === false ? undefined : options.logger,
    'logger',
    'false or a function of a log entry',
  );
  const now = options.now ?? Date.now;
  const { facadeFor, observerOf, stamp } = createFacades(maxClockSkewMs, now);
  const maintain = edgeMaintenance(options.maintenance, now, stamp);
  const app = new Hono<EdgeEnv>();

  if (options.logger !== false) app.use(requestLogger(options.logger ?? consoleLogger));
  if (options.cors !== false) app.use(cors({ ...DEFAULT_CORS, ...options.cors }));
  app.use(queryEncoding());
  app.onError((error, c) => toErrorResponse(c, error));
  // A known path asked with a method it does not serve is a 405 naming the ones it does; only an
  // unknown path is a 404.
  const methodsServed = servedMethods(app, { preflight: options.cors !== false });
  app.notFound((c) => {
    const allowed = methodsServed(c.req.path);
    if (allowed.length > 0) return methodNotAllowed(c, allowed);
    return toErrorResponse(c, new NotFoundError(`route: no route for ${c.req.method} ${c.req.path}`));
  });

  // A store (in Workers, a database client) is made only for requests that use one: after auth,
  // never for a 401, a 404 or a demo file.
  const withStore: MiddlewareHandler<EdgeEnv> = async (c, next) => {
    c.set('store', storeFor(c));
    await next();
  };
  app.get('/health', withStore, healthHandler(options.health));
  if (options.demo) app.route('/', demoRoutes(options.demo, secret));

  app.use('/v1/*', authenticate(secret));
  app.use('/v1/ns/:ns/*', authorize(), withStore);
  const limiter = rateLimiterOf(options.rateLimit);
  if (limiter) app.use('/v1/ns/:ns/*', rateLimit(limiter));
  app.use('/v1/ns/:ns/*', bodyLimit(maxSize));
  app.use('/v1/ns/:ns/*', encryptedGuard());
  app.get('/v1/ns/:ns/capabilities', capabilitiesHandler());
  app.route('/v1/ns/:ns', lifecycleRoutes(facadeFor));
  app.route('/v1/ns/:ns/memories', memoryRoutes(facadeFor));
  app.route('/v1/ns/:ns/search', searchRoutes(facadeFor));
  app.route('/v1/ns/:ns/sync', syncRoutes(observerOf, maxClockSkewMs, now, maintain));
  if (hub) app.route('/v1/ns/:ns/events', eventRoutes(hub, heartbeatMs, maxStreams));
  app.route('/v1/ns/:ns', graphRoutes(facadeFor));
  return app;
}

function rateLimiterOf(option: EdgeAppOptions['rateLimit']): RateLimiter | undefined {
  if (!option) return undefined;
  return 'take' in option && typeof option.take === 'function'
    ? option
    : memoryRateLimiter(option as RateLimitOptions);
}

/** A whole-number option of 1 or more, up to `max` where there is one (a timer's period: MAX_TIMER_MS). */
function wholeOption(value: number | undefined, field: string, fallback: number, max?: number): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isSafeInteger(value) ||
    value < 1 ||
    (max !== undefined && value > max)
  ) {
    const range = max === undefined ? '1 or more' : `from 1 to ${max}`;
    throw validationError(field, `a whole number ${range}`, String(value));
  }
  return value;
}

/** An option called per request: a wrong type would fail every request with a 500, so it fails here. */
function checkFunctionOption(value: unknown, field: string, expected: string): void {
  if (value !== undefined && typeof value !== 'function')
    throw validationError(field, expected, typeof value);
}

function clockSkewOption(value: number | undefined): number {
  if (value === undefined) return MAX_CLOCK_SKEW_MS_DEFAULT;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw validationError('maxClockSkewMs', 'a number of milliseconds, 0 or more', String(value));
  }
  return value;
}

/** Stores whose writes tell the hub: a shared store is wrapped once, a per-request store per request. */
function announcing(store: MemoryStore | StoreFactory, hub: LiveHub): StoreFactory {
  const resolve = storeResolver(store);
  const publish = (namespace: string, seq?: number) => hub.publish(namespace, seq);
  if (typeof store !== 'function') {
    const wrapped = publishingStore(resolve(undefined as never), publish, () => {});
    return () => wrapped;
  }
  return (c) =>
    publishingStore(resolve(c), publish, (work) => {
      try {
        c.executionCtx.waitUntil(work);
      } catch {
        // No execution context (Node): the promise runs on by itself.
      }
    });
}

function storeResolver(store: MemoryStore | StoreFactory): StoreFactory {
  if (typeof store === 'function') return store;
  if (store && typeof store.apply === 'function') return () => store;
  throw validationError('store', 'a MemoryStore or a function returning one');
}
