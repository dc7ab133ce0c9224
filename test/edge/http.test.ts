import { HTTPException } from 'hono/http-exception';
import { describe, expect, it, vi } from 'vitest';
import { createEdgeApp, type RequestLogEntry } from '../../src/edge/index.js';
import { EngramError, InMemoryStore } from '../../src/index.js';
import { testApp } from './helpers.js';

/** POSTs `bytes` as a chunked body of `size`-byte chunks, as a client streaming its upload does. */
function postInChunks(
  app: { request: (path: string, init: RequestInit) => Response | Promise<Response> },
  token: string,
  bytes: Uint8Array,
  size: number,
) {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
      controller.close();
    },
  });
  return app.request('/v1/ns/demo/memories', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
}

describe('edge http behaviour', () => {
  it('413 PAYLOAD_TOO_LARGE past the body limit (1 MiB by default), with or without content-length', async () => {
    const { call, app, token } = await testApp();
    const big = JSON.stringify({ content: 'x', metadata: { blob: 'y'.repeat(1024 * 1024) } });
    const res = await call('POST', '/v1/ns/demo/memories', big);
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    // The default is 1 MiB exactly: one byte more is refused, the limit itself is read (what the
    // store then says of a megabyte of metadata does not matter here).
    const sized = (n: number) => JSON.stringify({ content: 'x', metadata: { blob: 'y'.repeat(n - 38) } });
    expect(sized(1024 * 1024)).toHaveLength(1024 * 1024);
    expect((await call('POST', '/v1/ns/demo/memories', sized(1024 * 1024 + 1))).status).toBe(413);
    expect((await call('POST', '/v1/ns/demo/memories', sized(1024 * 1024))).status).not.toBe(413);

    const bytes = new TextEncoder().encode(big);
    const chunked = await postInChunks(app, token, bytes, 64 * 1024);
    expect(chunked.status).toBe(413);
    expect((await chunked.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
    // A Content-Length beside Transfer-Encoding says nothing (HTTP/1.1): the body is counted as it comes.
    const lying = await app.request('/v1/ns/demo/memories', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked', 'content-length': '10' },
      body: new Blob([bytes]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(lying.status).toBe(413);
  });

  it('reads a streamed body found too large to its end before the 413 (left half read, the client saw a reset or a hang)', async () => {
    const { app, token } = await testApp();
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 40) controller.close();
        else {
          sent++;
          controller.enqueue(chunk);
        }
      },
    });
    const res = await app.request('/v1/ns/demo/memories', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(sent).toBe(40);
  });

  it('takes a configurable body limit', async () => {
    const { call } = await testApp({ bodyLimit: 200 });
    expect((await call('POST', '/v1/ns/demo/memories', { content: 'small' })).status).toBe(201);
    expect((await call('POST', '/v1/ns/demo/memories', { content: 'z'.repeat(300) })).status).toBe(413);
  });

  it('takes a body of exactly the limit, declared or streamed, and refuses one byte more', async () => {
    const { app, token } = await testApp({ bodyLimit: 200 });
    const sized = (bytes: number) => JSON.stringify({ content: 'x'.repeat(bytes - '{"content":""}'.length) });
    const post = (body: string, declared: boolean) =>
      app.request('/v1/ns/demo/memories', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          ...(declared ? { 'content-length': String(body.length) } : {}),
        },
        body,
      });
    for (const declared of [true, false]) {
      expect((await post(sized(200), declared)).status, `200 bytes, declared: ${declared}`).toBe(201);
      expect((await post(sized(201), declared)).status, `201 bytes, declared: ${declared}`).toBe(413);
    }
    // A streamed body under the limit reaches the route whole, its chunks in order.
    const content = 'abcdefghij'.repeat(15);
    const chunked = await postInChunks(app, token, new TextEncoder().encode(JSON.stringify({ content })), 40);
    expect(chunked.status).toBe(201);
    expect((await chunked.json()).content).toBe(content);
  });

  it('refuses a bad bodyLimit, logger, now or maxClockSkewMs when the app is made, naming the option', () => {
    const make = (options: Record<string, unknown>) => () =>
      createEdgeApp({ store: new InMemoryStore(), secret: 's', ...options } as Parameters<
        typeof createEdgeApp
      >[0]);
    for (const [field, value] of [
      ['bodyLimit', 0],
      ['bodyLimit', '1mb'],
      ['bodyLimit', 1.5],
      ['logger', {}],
      ['logger', true],
      ['now', 123],
      ['maxClockSkewMs', -1],
      ['maxClockSkewMs', Number.POSITIVE_INFINITY],
    ] as const) {
      expect(make({ [field]: value }), `${field}: ${String(value)}`).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field }),
      );
    }
    expect(make({ logger: false, bodyLimit: 10, now: () => 0 })).not.toThrow();
    // No skew at all is a bound too: a push must carry no stamp ahead of the server's clock.
    expect(make({ logger: false, maxClockSkewMs: 0 })).not.toThrow();
  });

  it('refuses misspelt options and options of the wrong shape, so no limit is silently off', () => {
    const make = (options: Record<string, unknown>) => () =>
      createEdgeApp({ store: new InMemoryStore(), secret: 's', logger: false, ...options } as Parameters<
        typeof createEdgeApp
      >[0]);
    for (const [options, field] of [
      [{ ratelimit: { requests: 10 } }, 'ratelimit'],
      [{ bodylimit: 10 }, 'bodylimit'],
      [{ quota: { memory: 5 } }, 'quota.memory'],
      [{ rateLimit: { requests: 10, window: 1000 } }, 'rateLimit.window'],
      [{ cors: { orgin: 'https://app.example' } }, 'cors.orgin'],
      [{ health: { timeout: 5 } }, 'health.timeout'],
      [{ demo: { html: '<p>', ttl: '1h' } }, 'demo.ttl'],
      [{ live: true }, 'live'],
      [{ live: {} }, 'live'],
      [{ store: 'postgres://localhost/db' }, 'store'],
      [{ store: undefined }, 'store'],
      [{ store: {} }, 'store'],
      // An options object with a `take` that is no function is not a RateLimiter.
      [{ rateLimit: { requests: 10, take: 1 } }, 'rateLimit.take'],
    ] as const) {
      expect(make(options), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field }),
      );
    }
    expect(() => createEdgeApp(undefined as never)).toThrow(
      expect.objectContaining({ field: 'createEdgeApp' }),
    );
    expect(
      make({
        rateLimit: { take: () => ({ ok: true }) },
        cors: { origin: ['https://a.example'], credentials: true },
        quota: { memories: 10, bytes: 1000 },
        health: { timeoutMs: 100 },
        demo: { html: '<p>', namespace: 'demo', tokenTtl: '1h' },
        live: false,
        maintenance: { intervalMs: 0 },
        store: () => new InMemoryStore(),
      }),
    ).not.toThrow();
  });

  it('400 VALIDATION for malformed or missing JSON bodies', async () => {
    const { call } = await testApp();
    const broken = await call('POST', '/v1/ns/demo/memories', '{"content": ');
    expect(broken.status).toBe(400);
    expect(broken.json.error).toMatchObject({ code: 'VALIDATION', field: 'body' });
    expect((await call('POST', '/v1/ns/demo/search', '')).json.error.field).toBe('body');
    // Whitespace alone is no body either: said as such, not as malformed JSON.
    for (const blank of ['', ' \n\t ']) {
      expect((await call('POST', '/v1/ns/demo/search', blank)).json.error, JSON.stringify(blank)).toEqual({
        code: 'VALIDATION',
        field: 'body',
        message: 'body: expected a JSON body, got nothing',
      });
    }
    expect((await call('POST', '/v1/ns/demo/memories', '"just a string"')).json.error).toMatchObject({
      code: 'VALIDATION',
      field: 'add',
    });
  });

  it('404 JSON for unknown paths, whatever the method', async () => {
    const { call, app } = await testApp();
    const unknown = await app.request('/nowhere');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.has('allow')).toBe(false);
    expect(await unknown.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'route: no route for GET /nowhere' },
    });
    for (const [method, path] of [
      ['GET', '/v1/ns/demo/unknown'],
      ['PUT', '/v1/ns/demo/unknown'],
      ['DELETE', '/v1/ns/demo/memories/x/unknown'],
      ['POST', '/healthz'],
    ]) {
      const res = await call(method!, path!);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json.error.code, `${method} ${path}`).toBe('NOT_FOUND');
      expect(res.headers.has('allow'), `${method} ${path}`).toBe(false);
    }
  });

  it('405 with Allow and the JSON error for a known path asked with a method it does not serve', async () => {
    const logged: RequestLogEntry[] = [];
    const { call, app, token } = await testApp({ logger: (entry) => logged.push(entry) });
    const cases: Array<[string, string, string]> = [
      ['PUT', '/v1/ns/demo/search', 'POST, OPTIONS'],
      ['GET', '/v1/ns/demo/search', 'POST, OPTIONS'],
      ['DELETE', '/health', 'GET, HEAD, OPTIONS'],
      ['POST', '/health', 'GET, HEAD, OPTIONS'],
      ['PUT', '/v1/ns/demo/memories/x', 'GET, HEAD, PATCH, DELETE, OPTIONS'],
      ['PATCH', '/v1/ns/demo/memories', 'GET, HEAD, POST, DELETE, OPTIONS'],
      ['GET', '/v1/ns/demo/memories/x/supersede', 'POST, OPTIONS'],
      ['PUT', '/v1/ns/demo/sync', 'POST, OPTIONS'],
      ['POST', '/v1/ns/demo/events', 'GET, HEAD, OPTIONS'],
      ['DELETE', '/v1/ns/demo/path', 'GET, HEAD, OPTIONS'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await call(method, path, method === 'GET' ? undefined : { content: 'never written' });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(res.json, `${method} ${path}`).toEqual({
        error: {
          code: 'VALIDATION',
          field: 'method',
          message: `method: expected one of ${allow} for ${path}, got ${method}`,
        },
      });
    }
    expect(logged.map((entry) => entry.status)).toEqual(cases.map(() => 405));
    // Nothing was written by the refused PUT/PATCH/POST.
    expect((await call('GET', '/v1/ns/demo/count')).json).toEqual({ count: 0 });

    // Auth still comes first under /v1: no token, no hint of what the path serves.
    const anonymous = await call('PUT', '/v1/ns/demo/search', { query: 'x' }, null);
    expect(anonymous.status).toBe(401);

    // CORS: a browser's preflight still passes, and a 405 carries the headers a script needs to read it.
    const preflight = await app.request('/v1/ns/demo/search', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const refused = await app.request('/v1/ns/demo/search', {
      method: 'PUT',
      headers: { origin: 'https://app.example', authorization: `Bearer ${token}` },
    });
    expect(refused.status).toBe(405);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');

    // HEAD is served wherever GET is; without CORS, OPTIONS is not served at all.
    expect((await app.request('/health', { method: 'HEAD' })).status).toBe(200);
    const plain = await testApp({ cors: false });
    const options = await plain.app.request('/health', { method: 'OPTIONS' });
    expect(options.status).toBe(405);
    expect(options.headers.get('allow')).toBe('GET, HEAD');

    // Routes a caller adds to the app (before it serves, as Hono requires) count too.
    const extended = await testApp();
    extended.app.put('/custom', (c) => c.text('put'));
    const custom = await extended.app.request('/custom', { method: 'GET' });
    expect(custom.status).toBe(405);
    expect(custom.headers.get('allow')).toBe('PUT, OPTIONS');
  });

  it('never sends a stack trace or a driver message: 500 for a fault, 503 for STORAGE', async () => {
    class BrokenStore extends InMemoryStore {
      override async list(): Promise<never> {
        throw new TypeError('cannot read properties of undefined (secret internals)');
      }
      override async getMemories(): Promise<never> {
        throw new EngramError('STORAGE', 'connect ECONNREFUSED 10.0.0.7:5432 (db.internal)');
      }
    }
    const logged: RequestLogEntry[] = [];
    const { call } = await testApp({ store: new BrokenStore(), logger: (e) => logged.push(e) });
    const fault = await call('GET', '/v1/ns/demo/memories');
    expect(fault.status).toBe(500);
    expect(fault.json.error.code).toBe('STORAGE');
    const storage = await call('GET', '/v1/ns/demo/memories/x');
    expect(storage.status).toBe(503);
    expect(storage.json.error.code).toBe('STORAGE');
    for (const res of [fault, storage]) {
      expect(res.text).not.toMatch(/secret internals|10\.0\.0\.7|ECONNREFUSED|\bat \w|\.ts:\d/);
    }
    expect(logged.map((e) => e.status)).toEqual([500, 503]);
    expect(String(logged[0]!.error)).toContain('secret internals');
  });

  it("answers an HTTPException from a route added to the app as Engram's JSON error", async () => {
    const { app } = await testApp();
    app.get('/extra/:status', (c) => {
      throw new HTTPException(Number(c.req.param('status')) as 400, { message: 'from an added route' });
    });
    const cases: Array<[number, number, string]> = [
      [400, 400, 'VALIDATION'],
      [422, 400, 'VALIDATION'],
      [401, 401, 'UNAUTHORIZED'],
      [413, 413, 'PAYLOAD_TOO_LARGE'],
      [502, 500, 'STORAGE'],
    ];
    for (const [thrown, status, code] of cases) {
      const res = await app.request(`/extra/${thrown}`);
      expect(res.status, String(thrown)).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code, String(thrown)).toBe(code);
    }
    const refused = await app.request('/extra/400');
    expect(await refused.json()).toEqual({ error: { code: 'VALIDATION', message: 'from an added route' } });
  });

  it('tells a client refused as RATE_LIMITED to wait whole seconds, at least one', async () => {
    const { app } = await testApp();
    app.get('/limited/:ms', (c) => {
      throw new EngramError('RATE_LIMITED', 'slow down', { retryAfterMs: Number(c.req.param('ms')) });
    });
    for (const [ms, seconds] of [
      [1500, '2'],
      [200, '1'],
      [0, '1'],
      [3000, '3'],
    ] as const) {
      const res = await app.request(`/limited/${ms}`);
      expect(res.status, String(ms)).toBe(429);
      expect(res.headers.get('retry-after'), String(ms)).toBe(seconds);
    }
  });

  it('logs method, path, status and time, never tokens, queries or bodies', async () => {
    const logged: RequestLogEntry[] = [];
    const { call, token } = await testApp({ logger: (e) => logged.push(e) });
    await call('POST', '/v1/ns/demo/memories', { content: 'private diary entry' });
    await call('GET', '/v1/ns/demo/memories?kind=secretkind');
    await call('GET', '/v1/ns/demo/memories', undefined, null);
    expect(logged.map(({ method, path, status }) => `${method} ${path} ${status}`)).toEqual([
      'POST /v1/ns/demo/memories 201',
      'GET /v1/ns/demo/memories 200',
      'GET /v1/ns/demo/memories 401',
    ]);
    expect(logged.every((e) => typeof e.ms === 'number' && e.error === undefined)).toBe(true);
    const text = JSON.stringify(logged);
    for (const leak of [token, 'private diary', 'secretkind']) expect(text).not.toContain(leak);
  });

  it('answers CORS preflights and adds CORS headers, configurable or off', async () => {
    const { app } = await testApp();
    const preflight = await app.request('/v1/ns/demo/memories', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PATCH');
    // An EventSource resuming a stream of another origin sends Last-Event-ID.
    const resume = await app.request('/v1/ns/demo/events', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'last-event-id',
      },
    });
    expect(resume.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('last-event-id');
    const denied = await app.request('/v1/ns/demo/memories', { headers: { origin: 'https://app.example' } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('*');

    // A 429's Retry-After is readable by a script of another origin (exposed), as the SDK's replicas read it.
    const limited = await testApp({ rateLimit: { requests: 1 } });
    const ask = () =>
      limited.app.request('/v1/ns/demo/stats', {
        headers: { origin: 'https://app.example', authorization: `Bearer ${limited.token}` },
      });
    expect((await ask()).status).toBe(200);
    const refused = await ask();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('retry-after');

    const strict = await testApp({ cors: { origin: ['https://only.example'] } });
    const other = await strict.app.request('/health', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.has('access-control-allow-origin')).toBe(false);
    const allowed = await strict.app.request('/v1/ns/demo/memories', {
      method: 'OPTIONS',
      headers: { origin: 'https://only.example', 'access-control-request-method': 'GET' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://only.example');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const off = await testApp({ cors: false });
    expect(
      (await off.app.request('/health', { headers: { origin: 'https://x.example' } })).headers.has(
        'access-control-allow-origin',
      ),
    ).toBe(false);
  });

  it('health: 200 when the store answers, 503 when it fails or hangs', async () => {
    const ok = await testApp();
    const up = await ok.app.request('/health');
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ ok: true, store: 'memory' });

    const logged: RequestLogEntry[] = [];
    const failing = await testApp({
      health: { check: () => Promise.reject(new Error('db down at 10.1.2.3')) },
      logger: (entry) => logged.push(entry),
    });
    const down = await failing.app.request('/health');
    expect(down.status).toBe(503);
    const body = await down.json();
    expect(body).toMatchObject({ ok: false, error: { code: 'STORAGE' } });
    expect(JSON.stringify(body)).not.toContain('10.1.2.3');
    // The server log keeps what the client is not told.
    expect(logged.map((entry) => [entry.status, String(entry.error)])).toEqual([
      [503, 'Error: db down at 10.1.2.3'],
    ]);

    const hanging = await testApp({ health: { check: () => new Promise(() => {}), timeoutMs: 50 } });
    expect((await hanging.app.request('/health')).status).toBe(503);

    const closed = new InMemoryStore();
    await closed.close();
    expect((await (await testApp({ store: closed })).app.request('/health')).status).toBe(503);
  });

  it('health: a store that has not answered in 3 s by default is down', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { app } = await testApp({ health: { check: () => new Promise(() => {}) } });
      let status: number | undefined;
      const answered = Promise.resolve(app.request('/health')).then((res) => {
        status = res.status;
      });
      await vi.advanceTimersByTimeAsync(2999);
      expect(status).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      await answered;
      expect(status).toBe(503);
      // An answered check leaves no timer behind (one per /health call would pile up under a prober).
      const quick = await testApp();
      expect((await quick.app.request('/health')).status).toBe(200);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('serves a page at / only when demo is on', async () => {
    expect((await (await testApp()).app.request('/')).status).toBe(404);
    const page = await (await testApp({ demo: true })).app.request('/');
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('Engram is running');
    const custom = await (await testApp({ demo: '<h1>custom</h1>' })).app.request('/');
    expect(await custom.text()).toBe('<h1>custom</h1>');
  });

  it('refuses to start without a secret or a store', async () => {
    const { createEdgeApp } = await import('../../src/edge/index.js');
    expect(() => createEdgeApp({ store: new InMemoryStore(), secret: '' })).toThrow(/secret/);
    // biome-ignore lint/suspicious/noExplicitAny: deliberately missing store
    expect(() => createEdgeApp({ store: undefined as any, secret: 's' })).toThrow(/store/);
  });
});

describe('edge with a store per request', () => {
  it('calls the factory for each request and serves from the store it returns', async () => {
    const { createEdgeApp, mintToken } = await import('../../src/edge/index.js');
    const shared = new InMemoryStore();
    let made = 0;
    const app = createEdgeApp({
      secret: 'factory-secret',
      logger: false,
      store: () => {
        made++;
        return shared;
      },
    });
    const token = await mintToken({ secret: 'factory-secret', ns: 'f' });
    const headers = { authorization: `Bearer ${token}` };
    const res = await app.request('/v1/ns/f/memories', {
      method: 'POST',
      headers,
      body: JSON.stringify({ content: 'x' }),
    });
    expect(res.status).toBe(201);
    expect((await app.request('/health')).status).toBe(200);
    expect(made).toBe(2);
    expect((await shared.list('f', { tagMode: 'any', now: new Date().toISOString(), limit: 5 })).length).toBe(
      1,
    );
    // Refused and unknown requests never open a store (in Workers, a database client).
    expect((await app.request('/v1/ns/f/memories')).status).toBe(401);
    expect((await app.request('/v1/ns/other/memories', { headers })).status).toBe(403);
    expect((await app.request('/nowhere')).status).toBe(404);
    expect(made).toBe(2);
  });
});
