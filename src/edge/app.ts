import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { EngramError, validationError } from '../core/errors.js';
import type { MemoryStore } from '../core/store-contract.js';
import { authenticate, authorize } from './auth.js';
import { type DemoPage, demoRoutes } from './demo.js';
import type { EdgeEnv } from './env.js';
import { payloadTooLarge, toErrorResponse } from './errors.js';
import { createFacades } from './facade.js';
import { type HealthOptions, healthHandler } from './health.js';
import { consoleLogger, type RequestLogger, requestLogger } from './logger.js';
import { graphRoutes } from './routes/graph.js';
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
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;
const DEFAULT_CORS: CorsOptions = {
  origin: '*',
  allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
  allowHeaders: ['Authorization', 'Content-Type'],
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
  const secret = checkSecret(options.secret);
  const storeFor = storeResolver(options.store);
  const maxSize = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const { facadeFor, observe } = createFacades();
  const app = new Hono<EdgeEnv>();

  if (options.logger !== false) app.use(requestLogger(options.logger ?? consoleLogger));
  if (options.cors !== false) app.use(cors({ ...DEFAULT_CORS, ...options.cors }));
  app.onError((error, c) => toErrorResponse(c, error));
  app.notFound((c) =>
    toErrorResponse(c, new EngramError('NOT_FOUND', `route: no route for ${c.req.method} ${c.req.path}`)),
  );

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
  app.use(
    '/v1/ns/:ns/*',
    bodyLimit({
      maxSize,
      onError: () => {
        throw payloadTooLarge(maxSize);
      },
    }),
  );
  app.route('/v1/ns/:ns/memories', memoryRoutes(facadeFor));
  app.route('/v1/ns/:ns/search', searchRoutes(facadeFor));
  app.route('/v1/ns/:ns/sync', syncRoutes(observe));
  app.route('/v1/ns/:ns', graphRoutes(facadeFor));
  return app;
}

function storeResolver(store: MemoryStore | StoreFactory): StoreFactory {
  if (typeof store === 'function') return store;
  if (store && typeof store.apply === 'function') return () => store;
  throw validationError('store', 'a MemoryStore or a function returning one');
}
