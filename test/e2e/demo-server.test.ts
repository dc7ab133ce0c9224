import { decode } from 'hono/jwt';
import { describe, expect, it, vi } from 'vitest';
import { createEdgeApp } from '../../src/edge/app.js';
import type { DemoConfig } from '../../src/edge/demo.js';
import worker from '../../src/edge/worker.js';
import { InMemoryStore } from '../../src/index.js';
import { startServe } from './serve.js';

// Each case starts a server process (12 s measured for one with both cores busy elsewhere).
vi.setConfig({ testTimeout: 120_000 });

const secret = 'demo-server-test-secret';
const page = { html: '<!doctype html><title>notebook</title>', assets: { 'app.js': 'console.log(1)' } };

function demoApp() {
  return createEdgeApp({ store: new InMemoryStore(), secret, logger: false, demo: page });
}

async function config(app: ReturnType<typeof demoApp>): Promise<DemoConfig> {
  const response = await app.request('/demo/config', { headers: { 'sec-fetch-site': 'same-origin' } });
  expect(response.status).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  return (await response.json()) as DemoConfig;
}

describe('the demo page on the edge app', () => {
  it('serves the page at / and its files under /demo/', async () => {
    const app = demoApp();
    expect(await (await app.request('/')).text()).toBe(page.html);
    const script = await app.request('/demo/app.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe('console.log(1)');
    const missing = await app.request('/demo/other.js');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('answers /favicon.ico with an icon, not a 404', async () => {
    const icon = await demoApp().request('/favicon.ico');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(await icon.text()).toMatch(/^<svg /);
  });

  it('hands out short tokens for the demo namespace only', async () => {
    const app = demoApp();
    const { namespace, token, expiresAt } = await config(app);
    expect(namespace).toBe('demo');
    const { payload } = decode(token);
    expect(payload.ns).toEqual(['demo']);
    expect(payload.exp! - payload.iat!).toBe(15 * 60);
    expect(Math.abs(Date.parse(expiresAt) - payload.exp! * 1000)).toBeLessThan(2000);

    const headers = { authorization: `Bearer ${token}` };
    expect((await app.request('/v1/ns/demo/memories', { headers })).status).toBe(200);
    expect((await app.request('/v1/ns/default/memories', { headers })).status).toBe(403);
  });

  it('gives no token to a script of another site', async () => {
    const response = await demoApp().request('/demo/config', { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
  });

  it('takes the namespace and token lifetime from the options', async () => {
    const app = createEdgeApp({
      store: new InMemoryStore(),
      secret,
      logger: false,
      demo: { ...page, namespace: 'playground', tokenTtl: '2m' },
    });
    const { namespace, token } = await config(app);
    const { payload } = decode(token);
    expect([namespace, payload.ns, payload.exp! - payload.iat!]).toEqual(['playground', ['playground'], 120]);
  });

  it('serves nothing of it when the demo is off, nor from the Worker entry', async () => {
    const app = createEdgeApp({ store: new InMemoryStore(), secret, logger: false });
    for (const path of ['/', '/demo/config', '/demo/app.js']) {
      expect((await app.request(path)).status).toBe(404);
    }
    const env = { ENGRAM_SECRET: secret, DATABASE_URL: 'postgres://127.0.0.1:9/unused' };
    vi.spyOn(console, 'log').mockImplementation(() => {}); // the Worker's request log
    for (const path of ['/', '/demo/config', '/demo/app.js']) {
      expect((await worker.fetch(new Request(`http://worker${path}`), env, {})).status).toBe(404);
    }
    vi.restoreAllMocks();
  });

  it('the Worker entry names a bad variable in its answer instead of throwing', async () => {
    const env = {
      ENGRAM_SECRET: `${secret}-other`, // the entry keeps its app per secret: a new one is made
      DATABASE_URL: 'postgres://127.0.0.1:9/unused',
      MAX_CLOCK_SKEW_MS: 'a minute',
    };
    const res = await worker.fetch(new Request('http://worker/health'), env, {});
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /^server misconfigured: maxClockSkewMs: /,
    );
    const badUrl = { ENGRAM_SECRET: `${secret}-url`, DATABASE_URL: 'localhost:5432/engram' };
    const refused = await worker.fetch(new Request('http://worker/v1/ns/a/memories'), badUrl, {});
    expect(refused.status).toBe(500);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /^server misconfigured: postgresJs.url: expected a postgres:\/\/ /,
    );
  });
});

describe('engram serve --no-demo', () => {
  it('serves the API but no page, file or token', async () => {
    const server = await startServe(['--no-demo']);
    try {
      expect(server.out.some((line) => line.includes('demo page'))).toBe(false);
      expect((await fetch(`${server.base}/health`)).status).toBe(200);
      for (const path of ['/', '/demo/config', '/demo/app.js']) {
        expect((await fetch(`${server.base}${path}`)).status).toBe(404);
      }
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
