import { existsSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { errorMessage } from '../core/errors.js';
import { createEdgeApp, DEFAULT_BODY_LIMIT } from '../edge/app.js';
import type { DemoPage } from '../edge/demo.js';
import { postgresHub } from '../edge/live/postgres-hub.js';
import { mintToken } from '../edge/token.js';
import { parseFlags, port } from './args.js';
import { loadDemoPage } from './demo-page.js';
import { devSecret } from './dev-secret.js';
import { type CliIo, type Command, UsageError } from './io.js';
import type { createNodeServer } from './node-server.js';
import { openStore } from './open-store.js';
import { requirePeers } from './peers.js';
import { warnIfShortSecret } from './short-secret.js';

const DEV_NAMESPACES = ['default', 'demo'];
/** In-flight requests get this long to finish after SIGTERM before their connections are cut. */
const DRAIN_MS = 10_000;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the edge API on Node (Postgres from DATABASE_URL, else PGlite in --data)',
  help: `Usage: engram serve [--port 8787] [--host 127.0.0.1] [--data ./data] [--secret S] [--no-demo] [--rate-limit 6000]

Runs the Engram HTTP API. Postgres comes from $DATABASE_URL when set, else embedded PGlite in
<data>/pglite. The token secret comes from --secret or $ENGRAM_SECRET; without either, a dev secret
is made once in <data>/dev-secret and a ready token for namespaces ${DEV_NAMESPACES.join(', ')} is printed.
SIGTERM or SIGINT stops accepting requests, lets those in flight finish, then closes the database.
One server at a time may use a PGlite directory: a second one on the same --data is refused.

  --port 8787       port to listen on (0 picks a free one)
  --host 127.0.0.1  interface to bind (0.0.0.0 for every interface)
  --data ./data     directory for PGlite and the dev secret
  --secret S        token signing secret (default: $ENGRAM_SECRET); under 32 characters, a warning
  --no-demo         do not serve the demo page at /
  --rate-limit 6000 requests per minute per token and namespace (burst of the same size; 0 = off);
                    the limiter is in this process: behind several servers, divide or share it

Example:
  ENGRAM_SECRET=$(openssl rand -hex 32) engram serve --port 8787 --data ./data`,

  async run(argv, io) {
    const flags = parseFlags(argv, {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      data: { type: 'string', default: './data' },
      secret: { type: 'string' },
      'no-demo': { type: 'boolean', default: false },
      'rate-limit': { type: 'string', default: '6000' },
    });
    if (flags.help) {
      io.out(this.help);
      return 0;
    }
    const listenPort = port(flags.port);
    const perMinute = rateLimit(flags['rate-limit']);
    await requirePeers(['@hono/node-server', io.env.DATABASE_URL ? 'postgres' : '@electric-sql/pglite']);
    const dataDir = resolve(io.cwd, flags.data);
    const given = flags.secret ?? io.env.ENGRAM_SECRET;
    // --data holds PGlite (without DATABASE_URL) and the dev secret (without a secret); otherwise unused.
    if (!io.env.DATABASE_URL || !given) checkDataDir(dataDir, flags.data);
    const dev = given ? undefined : devSecret(dataDir);
    const secret = given ?? dev!.secret;

    const served = await openStore(io.env.DATABASE_URL, dataDir);
    const { store, where, driver } = served;
    // Live sync through Postgres LISTEN/NOTIFY, so every `engram serve` on this database tells its clients.
    const hub = postgresHub(driver);
    try {
      await store.open();
    } catch (error) {
      await served.close().catch(() => {});
      throw new Error(`cannot open the store (${where}): ${errorMessage(error)}`);
    }
    const demo = flags['no-demo'] ? false : await demoPage(io);
    const app = createEdgeApp({
      store,
      secret,
      demo,
      rateLimit: perMinute > 0 ? { requests: perMinute, windowMs: 60_000 } : false,
      live: hub,
      logger: ({ method, path, status, ms, error }) => {
        io.out(`${method} ${path} ${status} ${ms}ms`);
        if (error !== undefined)
          io.err(String(error instanceof Error ? (error.stack ?? error.message) : error));
      },
    });

    let server: Server;
    try {
      server = await listen(app.fetch, listenPort, flags.host);
    } catch (error) {
      await hub.close();
      await served.close();
      throw error;
    }
    const base = baseUrl(server, flags.host);
    io.out(`engram: API on ${base}/v1/ns/:ns/ (store: ${where})`);
    if (given) warnIfShortSecret(io, given);
    if (demo) io.out(`engram: demo page on ${base}/`);
    if (dev) await printDevToken(io, dev.file, secret, base, flags.host);

    if (!io.stop.aborted)
      await new Promise((done) => io.stop.addEventListener('abort', done, { once: true }));
    io.err('engram: stopping: finishing requests in flight, then closing the store');
    // Event streams never finish by themselves: end them so clients reconnect elsewhere, then drain.
    await hub.close();
    await drain(server);
    await served.close();
    io.err('engram: stopped');
    return 0;
  },
};

/** `--rate-limit N`: requests per minute, 0 for none. */
function rateLimit(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(
      `--rate-limit: expected a whole number of requests per minute (0 = off), got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

/** The built demo notebook, or the placeholder page when the build has not made it. */
async function demoPage(io: CliIo): Promise<DemoPage | true> {
  const page = await loadDemoPage();
  if (!page) io.err('engram: the demo page is not built (npm run build); serving a placeholder at /');
  return page ?? true;
}

async function listen(
  fetch: Parameters<typeof createNodeServer>[0],
  port: number,
  hostname: string,
): Promise<Server> {
  // Loaded after requirePeers: it imports @hono/node-server, an optional peer.
  const { createNodeServer } = await import('./node-server.js');
  return new Promise((ready, fail) => {
    const server = createNodeServer(fetch, { bodyLimit: DEFAULT_BODY_LIMIT });
    server.listen(port, hostname);
    server.once('listening', () => ready(server));
    server.once('error', (error: NodeJS.ErrnoException) => fail(listenError(error, port, hostname)));
  });
}

/** What `listen` says when --host is no address of this machine (or no name that resolves). */
const NOT_A_HOST = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EADDRNOTAVAIL']);

function listenError(error: NodeJS.ErrnoException, port: number, hostname: string): Error {
  if (error.code === 'EADDRINUSE')
    return new Error(`port ${port} on ${hostname} is already in use (try --port)`);
  if (error.code !== undefined && NOT_A_HOST.has(error.code))
    return new UsageError(`--host: cannot listen on ${JSON.stringify(hostname)} (${error.message})`);
  return new Error(error.message);
}

/** A file where --data should be is a mistake in the call, said before anything is opened or written. */
function checkDataDir(dir: string, given: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new UsageError(`--data: ${JSON.stringify(given)} is not a directory`);
}

function baseUrl(server: Server, host: string): string {
  const { port } = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

/**
 * Stops accepting, lets requests in flight finish, and cuts what is still open after DRAIN_MS. A
 * keep-alive connection turns idle once its last response is sent; sweeping idle ones as they appear
 * keeps shutdown from waiting out the keep-alive timeout.
 */
function drain(server: Server): Promise<void> {
  return new Promise((done) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const force = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
    sweep.unref();
    force.unref();
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(force);
      done();
    });
    server.closeIdleConnections();
  });
}

async function printDevToken(
  io: CliIo,
  file: string,
  secret: string,
  base: string,
  host: string,
): Promise<void> {
  const token = await mintToken({ secret, ns: DEV_NAMESPACES, ttl: '30d' });
  io.out(`engram: no --secret or ENGRAM_SECRET, so using the dev secret in ${file}`);
  io.out(`Dev token for namespaces ${DEV_NAMESPACES.join(', ')} (valid 30 days):`);
  io.out(token);
  io.out('Try it:');
  io.out(`  curl -H "Authorization: Bearer ${token}" -H "content-type: application/json" \\`);
  io.out(`    -d '{"content":"Prefers dark roast coffee"}' ${base}/v1/ns/demo/memories`);
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    io.err(
      'engram: warning: a dev secret on a non-loopback interface; set ENGRAM_SECRET for anything shared',
    );
  }
}
