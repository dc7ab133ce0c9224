import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { build } from 'esbuild';
import type { Hono } from 'hono';

/** Serves the tab page (`tabs-page.ts`, bundled for the browser) at `/` on `app`. */
export async function addTabsPage(app: Hono): Promise<void> {
  const out = await build({
    entryPoints: [join(import.meta.dirname, 'tabs-page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'warning',
  });
  const bundle = out.outputFiles[0]!.text;
  app.get('/', (c) =>
    c.html('<!doctype html><title>tab</title><script type="module" src="/tabs.js"></script>'),
  );
  app.get('/tabs.js', (c) => c.body(bundle, 200, { 'content-type': 'text/javascript' }));
}

/** `app` on a free port of 127.0.0.1. */
export async function listen(app: Hono): Promise<{ http: Server; base: string }> {
  const http = await new Promise<Server>((ready) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    s.once('listening', () => ready(s));
  });
  return { http, base: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
}
