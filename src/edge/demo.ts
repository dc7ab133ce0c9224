import { type Handler, Hono } from 'hono';
import { EngramError } from '../core/errors.js';
import type { EdgeEnv } from './env.js';
import { mintToken, parseTtl } from './token.js';

/** A page served by the edge app: `/`, its files under `/demo/`, and short tokens for one namespace. */
export interface DemoPage {
  /** The HTML served at `/`. */
  html: string;
  /** Files served at `/demo/<name>` (the page's script and stylesheet), by name. */
  assets?: Record<string, string>;
  /** The only namespace the page's tokens grant (default `demo`). */
  namespace?: string;
  /** Lifetime of each token (default 15 minutes); the page asks for a fresh one before it runs out. */
  tokenTtl?: string | number;
}

/** What `GET /demo/config` answers: everything the page needs to sync. */
export interface DemoConfig {
  namespace: string;
  token: string;
  /** When `token` expires (ISO 8601). */
  expiresAt: string;
}

const PLACEHOLDER = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Engram</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}</style>
<h1>Engram is running</h1>
<p>The memory API is served under <code>/v1/ns/:ns/</code>; <a href="/health">/health</a> reports on the store.</p>
<p>Every <code>/v1</code> request needs <code>Authorization: Bearer &lt;token&gt;</code> (mint one with <code>engram token</code>).</p>
`;

/** A small SVG mark: browsers take SVG from /favicon.ico when the content type says so. */
const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#3b5bdb"/><circle cx="8" cy="8" r="3" fill="#fff"/></svg>';
const FAVICON_HEADERS = { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400' };

const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  html: 'text/html; charset=utf-8',
  svg: 'image/svg+xml',
};

/**
 * The demo routes: `true` serves a short "API is running" note at `/`, a string serves that HTML, and a
 * {@link DemoPage} serves the page, its files and `GET /demo/config`, which mints a token for the demo
 * namespace only. Anyone who can load the page can write to that namespace, so the CLI's `--no-demo`
 * turns all of it off; the Worker entry never serves it.
 */
export function demoRoutes(demo: true | string | DemoPage, secret: string): Hono<EdgeEnv> {
  const routes = new Hono<EdgeEnv>();
  const page = typeof demo === 'object' ? demo : { html: demo === true ? PLACEHOLDER : demo };
  routes.get('/', (c) => c.html(page.html));
  // Browsers ask for /favicon.ico on their own; answer it rather than log a 404 on every visit.
  routes.get('/favicon.ico', (c) => c.body(FAVICON, 200, FAVICON_HEADERS));
  if (typeof demo !== 'object') return routes;

  for (const [name, body] of Object.entries(demo.assets ?? {})) {
    const type = CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
    // The page's service worker lives under /demo/ but must control `/` too.
    const headers: Record<string, string> = { 'content-type': type, 'cache-control': 'no-cache' };
    if (name === 'sw.js') headers['service-worker-allowed'] = '/';
    routes.get(`/demo/${name}`, (c) => c.body(body, 200, headers));
  }
  routes.get('/demo/config', configHandler(secret, demo.namespace ?? 'demo', demo.tokenTtl ?? '15m'));
  return routes;
}

function configHandler(secret: string, namespace: string, ttl: string | number): Handler<EdgeEnv> {
  const seconds = parseTtl(ttl);
  return async (c) => {
    // Browsers say where a request comes from: another site's script gets no token, even though CORS is open.
    const site = c.req.header('sec-fetch-site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new EngramError('FORBIDDEN', `demo config: same-origin requests only, got a ${site} one`);
    }
    const expiresAt = new Date(Date.now() + seconds * 1000).toISOString();
    const token = await mintToken({ secret, ns: [namespace], ttl: seconds });
    c.header('cache-control', 'no-store');
    return c.json({ namespace, token, expiresAt } satisfies DemoConfig);
  };
}
