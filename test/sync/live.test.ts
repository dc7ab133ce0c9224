import { decode, sign } from 'hono/jwt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveConnection, type LiveOptions } from '../../src/core/sync/live.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { LocalHub } from '../../src/edge/live/hub.js';
import { createMemory, type Engram, InMemoryStore } from '../../src/index.js';

const SECRET = 'live-test-secret';
const URL_ = 'http://edge.test';

function until(check: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() - start > ms) reject(new Error(`condition not met within ${ms} ms`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

const open: Engram[] = [];
afterEach(async () => {
  for (const mem of open.splice(0)) await mem.close();
});

function edge(options: { heartbeatMs?: number } = {}) {
  const hub = new LocalHub();
  const server = new InMemoryStore();
  const app = createEdgeApp({ store: server, secret: SECRET, logger: false, live: hub, ...options });
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) =>
    app.fetch(new Request(input, init))) as typeof fetch;
  return { hub, server, app, fetch: fetchFn };
}

async function replica(fetchFn: typeof fetch, extra: Record<string, unknown> = {}): Promise<Engram> {
  const token = await mintToken({ secret: SECRET, ns: ['n'] });
  // No background polling: only the live stream can bring another client's write in time.
  const mem = await createMemory({
    namespace: 'n',
    sync: { url: URL_, token, fetch: fetchFn, intervalMs: 0, ...extra },
  });
  open.push(mem);
  return mem;
}

/** Reads an SSE response until `predicate` holds for the text so far, then cancels it. */
async function readUntil(response: Response, predicate: (text: string) => boolean): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!predicate(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

describe('GET /v1/ns/:ns/events', () => {
  it('needs the same token as the rest of /v1', async () => {
    const { app } = edge();
    expect((await app.request('/v1/ns/n/events')).status).toBe(401);
    const other = await mintToken({ secret: SECRET, ns: ['other'] });
    const response = await app.request('/v1/ns/n/events', { headers: { authorization: `Bearer ${other}` } });
    expect(response.status).toBe(403);
  });

  it('streams ready, a change per write with the feed seq as id, and heartbeats', async () => {
    const { app, hub, server } = edge({ heartbeatMs: 30 });
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const headers = { authorization: `Bearer ${token}` };
    const response = await app.request('/v1/ns/n/events', { headers });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reading = readUntil(response, (t) => t.includes('event: change') && t.includes(': ping'));
    await until(() => hub.connections === 1);
    const post = await app.request('/v1/ns/n/memories', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'hello' }),
    });
    expect(post.status).toBe(201);
    const text = await reading;
    expect(text.startsWith('retry: ')).toBe(true);
    expect(text).toContain('event: ready');
    const seq = await server.latestSeq('n');
    expect(seq).toBeGreaterThan(0);
    expect(text).toContain(`id: ${seq}\nevent: change\ndata: {"seq":${seq}}`);
    await until(() => hub.connections === 0);
  });

  it('answers Last-Event-ID behind the feed with a change at once, and refuses a malformed one', async () => {
    const { app, server } = edge();
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const seqs: number[] = [];
    for (const content of ['a', 'b']) {
      await app.request('/v1/ns/n/memories', { method: 'POST', headers, body: JSON.stringify({ content }) });
      seqs.push(await server.latestSeq('n'));
    }
    const [first, second] = seqs as [number, number];
    const behind = await app.request('/v1/ns/n/events', {
      headers: { ...headers, 'last-event-id': `${first}` },
    });
    expect(await readUntil(behind, (t) => t.includes('event: change'))).toContain(
      `id: ${second}\nevent: change`,
    );
    const current = await app.request('/v1/ns/n/events', {
      headers: { ...headers, 'last-event-id': `${second}` },
    });
    const text = await readUntil(current, (t) => t.includes('event: ready'));
    expect(text).not.toContain('event: change');
    const bad = await app.request('/v1/ns/n/events', { headers: { ...headers, 'last-event-id': 'x' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('Last-Event-ID');
  });

  it('ends with an expired event when the token expires; a token without exp keeps its stream open', async () => {
    const { app, hub, server } = edge();
    // ttl 2: exp lands 1 to 2 s from now (JWT time has 1 s resolution).
    const short = await mintToken({ secret: SECRET, ns: ['n'], ttl: 2 });
    const expiresAt = (decode(short).payload.exp as number) * 1000;
    const forever = await sign({ ns: ['n'] }, SECRET, 'HS256');
    const expiring = await app.request('/v1/ns/n/events', { headers: { authorization: `Bearer ${short}` } });
    const lasting = await app.request('/v1/ns/n/events', { headers: { authorization: `Bearer ${forever}` } });
    expect([expiring.status, lasting.status]).toEqual([200, 200]);
    const lastingRead = readUntil(lasting, (t) => t.includes('event: change'));
    await until(() => hub.connections === 2);

    let overdue: ReturnType<typeof setTimeout> | undefined;
    const text = await Promise.race([
      readUntil(expiring, () => false),
      new Promise<never>((_, reject) => {
        overdue = setTimeout(
          () => reject(new Error('the stream outlived its token')),
          expiresAt + 1000 - Date.now(),
        );
      }),
    ]).finally(() => clearTimeout(overdue));
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(text).toMatch(/\n\nevent: expired\ndata: (\{.*\})\n\n$/);
    const data = JSON.parse(/event: expired\ndata: (.*)\n/.exec(text)![1]!) as { error: { code: string } };
    expect(data.error.code).toBe('UNAUTHORIZED');
    await until(() => hub.connections === 1);

    // A write after the expiry reaches the stream whose token has no exp, and the expired token is refused.
    const post = await app.request('/v1/ns/n/memories', {
      method: 'POST',
      headers: { authorization: `Bearer ${forever}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'after the expiry' }),
    });
    expect(post.status).toBe(201);
    expect(await lastingRead).toContain(`id: ${await server.latestSeq('n')}\nevent: change`);
    const again = await app.request('/v1/ns/n/events', { headers: { authorization: `Bearer ${short}` } });
    expect(again.status).toBe(401);
  });

  it('clears the expiry timer when the stream closes before the token expires', async () => {
    const { app, hub } = edge();
    const token = await mintToken({ secret: SECRET, ns: ['n'], ttl: '1h' });
    const armed = vi.spyOn(globalThis, 'setTimeout');
    const cleared = vi.spyOn(globalThis, 'clearTimeout');
    try {
      const response = await app.request('/v1/ns/n/events', {
        headers: { authorization: `Bearer ${token}` },
      });
      const expiry = armed.mock.results.filter((_, i) => (armed.mock.calls[i]![1] ?? 0) > 60_000);
      expect(expiry).toHaveLength(1);
      await readUntil(response, (t) => t.includes('event: ready'));
      await until(() => hub.connections === 0);
      expect(cleared.mock.calls.map(([timer]) => timer)).toContain(expiry[0]!.value);
    } finally {
      armed.mockRestore();
      cleared.mockRestore();
    }
  });
});

/** `response` with its stream cut 50 ms after its first chunk (the ready event), as a dropped network would. */
function droppingAfterFirstChunk(response: Response, onDrop: () => void = () => {}): Response {
  const reader = response.body!.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value } = await reader.read();
      controller.enqueue(value!);
      await new Promise((r) => setTimeout(r, 50));
      await reader.cancel();
      onDrop();
      controller.error(new TypeError('network connection lost'));
    },
  });
  return new Response(body, { headers: response.headers });
}

describe('live sync client', () => {
  it("pulls another client's write within a second, without polling", async () => {
    const { fetch: fetchFn } = edge();
    const a = await replica(fetchFn);
    const b = await replica(fetchFn);
    await until(() => a.liveState === 'live' && b.liveState === 'live');
    const started = Date.now();
    const arrived = new Promise<number>((resolve) =>
      b.on('change', (event) => {
        if (event.type === 'sync') resolve(Date.now() - started);
      }),
    );
    const m = await a.add({ content: 'written on A' });
    expect(await arrived).toBeLessThan(1000);
    expect((await b.get(m.id))?.content).toBe('written on A');
  });

  it('reconnects after the stream breaks and catches up on what it missed', async () => {
    const { fetch: upstream } = edge();
    let streams = 0;
    // The first event stream dies right after its first chunk; later ones flow.
    const breaking = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await upstream(input, init);
      if (!new URL(String(input)).pathname.endsWith('/events') || ++streams > 1) return response;
      return droppingAfterFirstChunk(response);
    }) as typeof fetch;
    const b = await replica(breaking, { backoff: { baseMs: 300, maxMs: 300 } });
    const a = await replica(upstream);
    await until(() => streams >= 1);
    const m = await a.add({ content: 'while B reconnects' });
    await until(() => streams >= 2 && b.liveState === 'live');
    await expect.poll(async () => (await b.get(m.id))?.content, { timeout: 3000 }).toBe('while B reconnects');
  });

  it("a sync round that succeeds ends the stream's reconnect wait: the edge is back", async () => {
    const { fetch: upstream } = edge();
    let down = true;
    const flaky = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (down) throw new TypeError('fetch failed');
      return upstream(input, init);
    }) as typeof fetch;
    // Attempts made while the edge was down have backed off far (here at once).
    const b = await replica(flaky, { backoff: { baseMs: 600_000, maxMs: 600_000 } });
    await new Promise((r) => setTimeout(r, 100));
    expect(b.liveState).toBe('connecting');
    down = false;
    await b.sync();
    expect(b.status.state).toBe('online');
    await until(() => b.liveState === 'live', 2000);
  });

  it('says connecting as soon as a stream that was up drops, not after the reconnect wait', async () => {
    const { fetch: upstream } = edge();
    let dropped = false;
    // The stream dies right after its first chunk (the ready event).
    const breaking = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await upstream(input, init);
      return droppingAfterFirstChunk(response, () => {
        dropped = true;
      });
    }) as typeof fetch;
    const states: string[] = [];
    const live = new LiveConnection({
      url: URL_,
      token: await mintToken({ secret: SECRET, ns: ['n'] }),
      namespace: 'n',
      fetch: breaking,
      backoff: { baseMs: 10_000, maxMs: 10_000 },
      cursor: async () => 0,
      onChange: () => {},
      onState: (state) => states.push(state),
    });
    live.start();
    await until(() => dropped);
    await new Promise((r) => setTimeout(r, 100));
    // Well inside the 5-10 s wait before the next attempt.
    expect(live.state).toBe('connecting');
    expect(states).toEqual(['connecting', 'live', 'connecting']);
    await live.stop();
  });

  it('asks for the stream with no header a cross-origin preflight would have to allow beyond Authorization', async () => {
    const { fetch: upstream, app } = edge();
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const asked: Array<{ url: string; headers: string[] }> = [];
    const recording = (async (input: RequestInfo | URL, init?: RequestInit) => {
      asked.push({
        url: String(input),
        headers: Object.keys(init?.headers ?? {}).map((h) => h.toLowerCase()),
      });
      return upstream(input, init);
    }) as typeof fetch;
    const live = new LiveConnection({
      url: URL_,
      token,
      namespace: 'n',
      fetch: recording,
      cursor: async () => 7,
      onChange: () => {},
    });
    live.start();
    await until(() => live.state === 'live');
    await live.stop();
    expect(asked[0]!.url).toBe(`${URL_}/v1/ns/n/events?lastEventId=7`);
    // accept is a CORS-safelisted header; authorization is allowed by the edge's preflight.
    expect(asked[0]!.headers.sort()).toEqual(['accept', 'authorization']);
    const preflight = await app.request('/v1/ns/n/events', {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization,last-event-id',
      },
    });
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(',');
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'last-event-id']));
  });

  it('stop() ends the stream even when the fetch ignores the abort signal', async () => {
    const { app, hub } = edge();
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    // A wrapper that drops the signal: only cancelling the body can end the read.
    const deaf = (async (input: RequestInfo | URL, init?: RequestInit) =>
      app.fetch(new Request(input, { headers: init?.headers }))) as typeof fetch;
    const live = new LiveConnection({
      url: URL_,
      token,
      namespace: 'n',
      fetch: deaf,
      cursor: async () => 0,
      onChange() {},
    });
    live.start();
    await until(() => live.state === 'live' && hub.connections === 1);
    const stopped = live.stop().then(() => 'stopped');
    const timeout = new Promise((resolve) => setTimeout(() => resolve('still open'), 2000));
    expect(await Promise.race([stopped, timeout])).toBe('stopped');
    await until(() => hub.connections === 0);
  });

  it('stopped while its cursor is read, it opens no stream', async () => {
    const { app, hub } = edge();
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    let fetches = 0;
    const deaf = (async (input: RequestInfo | URL, init?: RequestInit) => {
      fetches++;
      return app.fetch(new Request(input, { headers: init?.headers }));
    }) as typeof fetch;
    let release: (cursor: number) => void = () => {};
    const cursor = () => new Promise<number>((resolve) => (release = resolve));
    const live = new LiveConnection({ url: URL_, token, namespace: 'n', fetch: deaf, cursor, onChange() {} });
    live.start();
    await until(() => live.state === 'connecting');
    const stopped = live.stop();
    release(0);
    await stopped;
    expect(fetches).toBe(0);
    expect(hub.connections).toBe(0);
  });

  it("hands the event's feed position to the client", async () => {
    const { fetch: upstream, app, server } = edge();
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const heard: Array<number | undefined> = [];
    const live = new LiveConnection({
      url: URL_,
      token,
      namespace: 'n',
      fetch: upstream,
      cursor: async () => 0,
      onChange: (seq) => heard.push(seq),
    });
    live.start();
    await until(() => live.state === 'live');
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    await app.request('/v1/ns/n/memories', {
      method: 'POST',
      headers,
      body: JSON.stringify({ content: 'x' }),
    });
    await until(() => heard.length === 1);
    expect(heard).toEqual([await server.latestSeq('n')]);
    await live.stop();
  });

  it('a stream ended by its token expiring reconnects once, meets the 401 and polls instead of looping', async () => {
    const { app } = edge();
    let streams = 0;
    const counting = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (new URL(String(input)).pathname.endsWith('/events')) streams++;
      return app.fetch(new Request(input, init));
    }) as typeof fetch;
    const token = await mintToken({ secret: SECRET, ns: ['n'], ttl: 2 });
    const states: string[] = [];
    const live = new LiveConnection({
      url: URL_,
      token,
      namespace: 'n',
      fetch: counting,
      backoff: { baseMs: 20, maxMs: 20 },
      cursor: async () => 0,
      onChange: () => {},
      onState: (state, reason) => states.push(reason ? `${state}: ${reason}` : state),
    });
    live.start();
    await until(() => live.state === 'polling', 4000);
    await new Promise((r) => setTimeout(r, 200));
    await live.stop();
    expect(streams).toBe(2);
    expect(states).toEqual([
      'connecting',
      'live',
      'connecting',
      'polling: the edge refused the token',
      'off',
    ]);
  });

  it('live: false opens no stream', async () => {
    const { fetch: upstream, hub } = edge();
    const mem = await replica(upstream, { live: false });
    await mem.sync();
    expect(hub.connections).toBe(0);
    expect(mem.liveState).toBe('off');
  });
});

describe('falling back to polling', () => {
  it('a proxy that buffers the stream: polling after two silent opens, and changes still arrive', async () => {
    const { fetch: upstream } = edge();
    // Like a buffering proxy: the event stream's response is held until the whole body has arrived.
    const buffering = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await upstream(input, init);
      if (!new URL(String(input)).pathname.endsWith('/events')) return response;
      const aborted = new Promise<never>((_, reject) =>
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
      const text = await Promise.race([response.text(), aborted]);
      return new Response(text, { headers: response.headers });
    }) as typeof fetch;
    const states: string[] = [];
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const b = await createMemory({
      namespace: 'n',
      sync: { url: URL_, token, fetch: buffering, intervalMs: 200 },
    });
    open.push(b);
    let opens = 0;
    const live = new LiveConnection({
      url: URL_,
      token,
      namespace: 'n',
      fetch: ((input: RequestInfo | URL, init?: RequestInit) => {
        opens++;
        return buffering(input, init);
      }) as typeof fetch,
      openTimeoutMs: 150,
      backoff: { baseMs: 20, maxMs: 20 },
      cursor: async () => 0,
      onChange: () => {},
      onState: (state) => states.push(state),
    });
    live.start();
    await until(() => live.state === 'polling', 3000);
    await live.stop();
    // One silent open may be a slow network: it tries once more before it gives up on streaming.
    expect(opens).toBe(2);
    expect(states).toEqual(['connecting', 'polling', 'off']);
    const a = await replica(upstream);
    const m = await a.add({ content: 'through the proxy' });
    await a.sync();
    await expect.poll(async () => (await b.get(m.id))?.content, { timeout: 3000 }).toBe('through the proxy');
  });

  it('a runtime whose fetch cannot stream a body falls back at once', async () => {
    const { fetch: upstream } = edge();
    const noStreams = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await upstream(input, init);
      if (!new URL(String(input)).pathname.endsWith('/events')) return response;
      void response.body?.cancel();
      // What such a runtime hands back: headers, and no readable body.
      return { ok: true, status: 200, headers: response.headers, body: null } as unknown as Response;
    }) as typeof fetch;
    const mem = await replica(noStreams, { intervalMs: 60_000 });
    await until(() => mem.liveState === 'polling', 2000);
  });

  it('an edge without the route (404) means polling, not a reconnect loop', async () => {
    const server = new InMemoryStore();
    const app = createEdgeApp({ store: server, secret: SECRET, logger: false, live: false });
    let streams = 0;
    const counting = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (new URL(String(input)).pathname.endsWith('/events')) streams++;
      return app.fetch(new Request(input, init));
    }) as typeof fetch;
    const mem = await replica(counting);
    await until(() => mem.liveState === 'polling', 2000);
    await new Promise((r) => setTimeout(r, 300));
    expect(streams).toBe(1);
  });
});

describe('the live connection, on the wire', () => {
  const connection = async (fetchFn: typeof fetch, extra: Partial<LiveOptions> = {}) => {
    const heard: Array<number | undefined> = [];
    const states: string[] = [];
    let opens = 0;
    const live = new LiveConnection({
      url: URL_,
      token: await mintToken({ secret: SECRET, ns: ['n'] }),
      namespace: 'n',
      fetch: ((input: RequestInfo | URL, init?: RequestInit) => {
        if (new URL(String(input)).pathname.endsWith('/events')) opens++;
        return fetchFn(input, init);
      }) as typeof fetch,
      cursor: async () => 0,
      onChange: (seq) => heard.push(seq),
      onState: (state, reason) => states.push(reason ? `${state}: ${reason}` : state),
      ...extra,
    });
    live.start();
    return { live, heard, states, opens: () => opens };
  };
  const write = (app: ReturnType<typeof edge>['app'], token: string) =>
    app.request('/v1/ns/n/memories', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'x' }),
    });

  it('reads events whose lines end in CRLF (as a proxy may rewrite them), feed positions included', async () => {
    const { app, fetch: upstream, server } = edge();
    const crlf = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await upstream(input, init);
      const toCrlf = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          const text = new TextDecoder().decode(chunk).replace(/\r?\n/g, '\r\n');
          controller.enqueue(new TextEncoder().encode(text));
        },
      });
      return new Response(response.body!.pipeThrough(toCrlf), { headers: response.headers });
    }) as typeof fetch;
    const { live, heard } = await connection(crlf);
    await until(() => live.state === 'live');
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const seqs: number[] = [];
    for (const _ of [1, 2]) {
      await write(app, token);
      seqs.push(await server.latestSeq('n'));
    }
    await until(() => heard.length === 2);
    expect(heard).toEqual(seqs);
    await live.stop();
  });

  it('heartbeats keep a stream open past the idle timeout', async () => {
    const { fetch: upstream } = edge({ heartbeatMs: 50 });
    const { live, opens, states } = await connection(upstream, { idleTimeoutMs: 600 });
    await until(() => live.state === 'live');
    await new Promise((r) => setTimeout(r, 1500));
    expect(opens()).toBe(1);
    expect(states).toEqual(['connecting', 'live']);
    await live.stop();
  });

  it('a stream silent past the idle timeout is dropped and opened again', async () => {
    const { fetch: upstream } = edge({ heartbeatMs: 60_000 });
    const { live, opens } = await connection(upstream, {
      idleTimeoutMs: 200,
      backoff: { baseMs: 10, maxMs: 10 },
    });
    await until(() => opens() >= 3, 3000);
    await live.stop();
  });

  it('an edge answering 500, or a token function that fails, is tried again after the backoff, not polled', async () => {
    const failing = await connection((async () => new Response('oops', { status: 500 })) as typeof fetch, {
      backoff: { baseMs: 10, maxMs: 10 },
    });
    await until(() => failing.opens() >= 3, 2000);
    await failing.live.stop();
    expect(failing.states).toEqual(['connecting', 'off']);
    let asked = 0;
    const noToken = await connection(edge().fetch, {
      token: async () => {
        asked++;
        throw new Error('the auth server is down');
      },
      backoff: { baseMs: 10, maxMs: 10 },
    });
    await until(() => asked >= 3, 2000);
    await noToken.live.stop();
    expect(noToken.states).toEqual(['connecting', 'off']);
  });

  it('a token the edge refuses for this namespace (403) means polling, not a reconnect loop', async () => {
    const { fetch: upstream } = edge();
    const { live, opens, states } = await connection(upstream, {
      token: await mintToken({ secret: SECRET, ns: ['another'] }),
      backoff: { baseMs: 10, maxMs: 10 },
    });
    await until(() => live.state === 'polling', 2000);
    await new Promise((r) => setTimeout(r, 200));
    expect(opens()).toBe(1);
    expect(states).toEqual(['connecting', 'polling: the edge refused the token']);
    await live.stop();
  });

  it('waits no longer than backoff.maxMs between attempts, however many failed', async () => {
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    // The shortest waits (random 0): 10, 20, then 20 each (about 75 opens in 1.5 s); unbounded, they would
    // double to 640 ms by the 7th (8 opens).
    const { live, opens } = await connection(down, { backoff: { baseMs: 20, maxMs: 40 }, random: () => 0 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(opens()).toBeGreaterThanOrEqual(20);
    await live.stop();
  });

  it('a stream that came up starts its backoff over: the next drop reconnects after the shortest wait', async () => {
    const { fetch: upstream } = edge();
    let failures = 5;
    let dropped = 0;
    // Five failed opens back the wait off to 1.6 s; the sixth open comes up, then drops.
    const flaky = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (failures > 0) {
        failures--;
        throw new TypeError('fetch failed');
      }
      const response = await upstream(input, init);
      return dropped > 0 ? response : droppingAfterFirstChunk(response, () => dropped++);
    }) as typeof fetch;
    const { live, opens } = await connection(flaky, {
      backoff: { baseMs: 100, maxMs: 60_000 },
      random: () => 0,
    });
    await until(() => dropped === 1, 5000);
    const droppedAt = Date.now();
    await until(() => opens() === 7 && live.state === 'live', 5000);
    expect(Date.now() - droppedAt).toBeLessThan(800);
    await live.stop();
  });

  /** An event stream that sends `text`, then stays open until aborted (or never sends a byte, text ''). */
  const eventStream = (text: string, init?: RequestInit) => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        if (text) controller.enqueue(new TextEncoder().encode(text));
        init?.signal?.addEventListener('abort', () =>
          controller.error(new DOMException('aborted', 'AbortError')),
        );
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  };

  it('a stream that comes up again after a drop pulls once, for what it may have missed meanwhile', async () => {
    const { fetch: upstream } = edge();
    let dropped = false;
    const flaky = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await upstream(input, init);
      if (dropped) return response;
      return droppingAfterFirstChunk(response, () => {
        dropped = true;
      });
    }) as typeof fetch;
    const { live, heard, opens } = await connection(flaky, { backoff: { baseMs: 10, maxMs: 10 } });
    await until(() => opens() === 2 && live.state === 'live');
    // The first stream's ready asked for nothing (the engine's first round pulls); the second's asks once.
    expect(heard).toEqual([undefined]);
    await live.stop();
  });

  it('gives a change event the feed position of its own id line only, and none when that is not a number', async () => {
    const stream = (async (_input: RequestInfo | URL, init?: RequestInit) =>
      eventStream(
        'event: ready\n\nid: 7\nevent: change\n\nevent: change\n\nid: seven\nevent: change\n\nid: 9\nevent: change\n\n',
        init,
      )) as typeof fetch;
    const { live, heard } = await connection(stream);
    await until(() => heard.length === 4);
    expect(heard).toEqual([7, undefined, undefined, 9]);
    await live.stop();
  });

  it('an edge answering 405 or 501, or with another content type, means polling, not a reconnect loop', async () => {
    for (const answer of [
      () => new Response('no', { status: 405 }),
      () => new Response('no', { status: 501 }),
      () => new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } }),
    ]) {
      const { live, opens, states } = await connection((async () => answer()) as typeof fetch, {
        backoff: { baseMs: 10, maxMs: 10 },
      });
      await until(() => live.state === 'polling', 2000);
      await new Promise((r) => setTimeout(r, 100));
      expect(opens()).toBe(1);
      expect(states).toEqual(['connecting', 'polling: streaming unsupported']);
      await live.stop();
    }
  });

  it('after polling for a buffered path, tries the stream twice again before polling once more', async () => {
    let opensAtPolling: number[] = [];
    const { live, opens } = await connection(
      (async (_input: RequestInfo | URL, init?: RequestInit) => eventStream('', init)) as typeof fetch,
      {
        openTimeoutMs: 40,
        retryLiveMs: 60,
        backoff: { baseMs: 10, maxMs: 10 },
        onState: (state) => {
          if (state === 'polling') opensAtPolling = [...opensAtPolling, opens()];
        },
      },
    );
    await until(() => opensAtPolling.length === 2, 3000);
    await live.stop();
    expect(opensAtPolling).toEqual([2, 4]);
  });

  it('a stream that came up forgets an earlier silent open: one more silent open is not yet a buffering path', async () => {
    // Silent, then up and ended by the edge, then silent again, then up for good.
    const answers = ['', 'event: ready\n\n', '', 'event: ready\n\n'];
    let ended = false;
    const { live, states, opens } = await connection(
      (async (_input: RequestInfo | URL, init?: RequestInit) => {
        const text = answers[Math.min(opens() - 1, answers.length - 1)]!;
        if (opens() !== 2) return eventStream(text, init);
        ended = true;
        return new Response(text, { headers: { 'content-type': 'text/event-stream' } });
      }) as typeof fetch,
      { openTimeoutMs: 40, backoff: { baseMs: 10, maxMs: 10 } },
    );
    await until(() => (ended && opens() === 4 && live.state === 'live') || live.state === 'polling', 3000);
    await live.stop();
    expect(states).toEqual(['connecting', 'live', 'connecting', 'live', 'off']);
  });

  it('a stream that went silent after coming up is a dead connection, not a buffering path', async () => {
    // Up, then silent past the idle timeout; every open after it silent from the start.
    let opensAtPolling: number | undefined;
    const { live, opens } = await connection(
      (async (_input: RequestInfo | URL, init?: RequestInit) =>
        eventStream(opens() === 1 ? 'event: ready\n\n' : '', init)) as typeof fetch,
      {
        openTimeoutMs: 40,
        idleTimeoutMs: 60,
        backoff: { baseMs: 10, maxMs: 10 },
        onState: (state) => {
          if (state === 'polling') opensAtPolling ??= opens();
        },
      },
    );
    await until(() => opensAtPolling !== undefined, 3000);
    await live.stop();
    // Two silent opens make a buffering path; the idle stream before them was not one.
    expect(opensAtPolling).toBe(3);
  });

  it('waits a refused fixed token out: a sync round that succeeds does not end that wait', async () => {
    const { fetch: upstream } = edge();
    const { live, opens } = await connection(upstream, {
      token: await mintToken({ secret: SECRET, ns: ['another'] }),
    });
    await until(() => live.state === 'polling', 2000);
    // Only a token function can give a renewed token: the same fixed one would be refused again.
    live.reconnectNow();
    await new Promise((r) => setTimeout(r, 100));
    expect(opens()).toBe(1);
    await live.stop();
  });

  it('a renewed token ends the refused wait once: a later fallback to polling is not cut short again', async () => {
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const answers = [401, 404];
    const { live, opens, states } = await connection(
      (async () => new Response('no', { status: answers[Math.min(opens() - 1, 1)] })) as typeof fetch,
      { token: async () => token },
    );
    await until(() => live.state === 'polling', 2000);
    live.reconnectNow(); // a round with a renewed token succeeded
    await until(() => opens() === 2 && states.length === 4, 2000);
    expect(states.at(-1)).toBe('polling: streaming unsupported');
    live.reconnectNow(); // another round: the edge has no stream route, so nothing to reconnect
    await new Promise((r) => setTimeout(r, 100));
    expect(opens()).toBe(2);
    await live.stop();
  });
});

describe('the live connection, backing off (fake timers)', () => {
  it('doubles its wait after every failed open, jittered within the upper half', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let opens = 0;
      const live = new LiveConnection({
        url: URL_,
        token: 't',
        namespace: 'n',
        fetch: (async () => {
          opens++;
          throw new TypeError('fetch failed');
        }) as typeof fetch,
        backoff: { baseMs: 100, maxMs: 10_000 },
        random: () => 0.5,
        cursor: async () => 0,
        onChange: () => {},
      });
      live.start();
      // Waits of 75, 150 and 300 ms (half the ceiling, plus half of the other half): opens at 0, 75, 225, 525.
      const seen: number[] = [];
      for (const at of [74, 1, 149, 1, 299, 1]) {
        await vi.advanceTimersByTimeAsync(at);
        seen.push(opens);
      }
      expect(seen).toEqual([1, 2, 2, 3, 3, 4]);
      const stopped = live.stop();
      await vi.advanceTimersByTimeAsync(0);
      await stopped;
    } finally {
      vi.useRealTimers();
    }
  });
});
