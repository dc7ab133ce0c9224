import { getEventListeners } from 'node:events';
import { sign } from 'hono/jwt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createEdgeApp,
  type LiveHub,
  type LiveStreamRequest,
  LocalHub,
  mintToken,
} from '../../src/edge/index.js';
import {
  type DurableObjectNamespaceLike,
  durableObjectHub,
  EngramHub,
} from '../../src/edge/live/durable-object-hub.js';
import { InMemoryStore } from '../../src/index.js';
import { PrivateFieldStore, SECRET, testApp } from './helpers.js';

const hubs: LocalHub[] = [];
afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.close();
});

/** Reads an event stream; `readUntil` fails if the stream ends before `part`, rather than spin on. */
const eventReader = (res: Response) => {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    async readUntil(part: string) {
      while (!text.includes(part)) {
        const { done, value } = await reader.read();
        if (done)
          throw new Error(`the stream ended before ${JSON.stringify(part)}; got ${JSON.stringify(text)}`);
        text += decoder.decode(value, { stream: true });
      }
    },
    /** The feed positions of the change events read so far. */
    announced: () => [...text.matchAll(/id: (\d+)\nevent: change/g)].map((m) => Number(m[1])),
    text: () => text,
    cancel: () => reader.cancel(),
  };
};

describe('HEAD /events', () => {
  it('answers the stream headers and leaves no subscription behind', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const { app, token, call } = await testApp({ live: hub, heartbeatMs: 50 });
    for (let i = 0; i < 5; i++) {
      const res = await app.request('/v1/ns/demo/events', {
        method: 'HEAD',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      expect(await res.text()).toBe('');
    }
    expect(hub.connections).toBe(0);
    // A write finds nobody to queue its news for.
    expect((await call('POST', '/v1/ns/demo/memories', { content: 'after HEAD' })).status).toBe(201);
    expect(hub.connections).toBe(0);
  });

  it('still validates Last-Event-ID and query parameters on HEAD', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const { app, token } = await testApp({ live: hub });
    const head = (path: string, headers: Record<string, string> = {}) =>
      app.request(path, { method: 'HEAD', headers: { authorization: `Bearer ${token}`, ...headers } });
    expect((await head('/v1/ns/demo/events', { 'last-event-id': 'x' })).status).toBe(400);
    expect((await head('/v1/ns/demo/events', { 'last-event-id': '-1' })).status).toBe(400);
    expect((await head('/v1/ns/demo/events?lastEventId=-1')).status).toBe(400);
    expect((await head('/v1/ns/demo/events?since=1')).status).toBe(400);
    expect(hub.connections).toBe(0);
  });
});

describe('LocalHub', () => {
  it('hands news to every listener of the namespace, though one of them throws', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const heard: Array<number | undefined> = [];
    hub.subscribe('demo', () => {
      throw new Error('a broken listener');
    });
    hub.subscribe('demo', (seq) => heard.push(seq));
    hub.subscribe('other', (seq) => heard.push(-1 * (seq ?? 0)));
    await expect(hub.publish('demo', 7)).resolves.toBeUndefined();
    hub.deliver('demo', 8);
    expect(heard).toEqual([7, 8]);
  });

  it('an unsubscribe called twice does not cut off a later listener of the namespace', () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const heard: Array<number | undefined> = [];
    const off = hub.subscribe('demo', () => {});
    off();
    hub.subscribe('demo', (seq) => heard.push(seq));
    off();
    hub.deliver('demo', 3);
    expect(heard).toEqual([3]);
  });

  it('keeps nothing of a stream that ended: no listener, no open stream, no hold on the request signal', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const client = new AbortController();
    const res = hub.stream({ namespace: 'demo', signal: client.signal, heartbeatMs: 60_000 });
    expect(hub.connections).toBe(1);
    await res.body!.cancel();
    expect(hub.connections).toBe(0);
    // A long-lived server sees many namespaces and streams come and go: what ended must not pile up.
    expect(getEventListeners(client.signal, 'abort')).toHaveLength(0);
    const held = hub as unknown as { listeners: Map<string, unknown>; open: Set<unknown> };
    expect([held.listeners.size, held.open.size]).toEqual([0, 0]);
  });
});

describe('rate limit keyed on the verified token', () => {
  /** The same token with its last signature character's unused low bit flipped (still verifies). */
  const flipLastBit = (token: string) => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = token.slice(-1);
    return token.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
  };

  it('gives every spelling of one token one allowance', async () => {
    const { app, token } = await testApp({ rateLimit: { requests: 3 } });
    const spellings = [
      `Bearer ${token}`,
      `bearer ${token}`,
      `BEARER ${token}`,
      `Bearer   ${token}`,
      `Bearer\t${token}`,
      `Bearer ${token}=`,
      `Bearer ${flipLastBit(token)}`,
      `BeArEr ${flipLastBit(token)}=`,
    ];
    const statuses: number[] = [];
    for (const authorization of spellings) {
      const res = await app.request('/v1/ns/demo/stats', { headers: { authorization } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
  });

  it('still gives another token its own allowance, and refuses a bad one with 401', async () => {
    const { app, token } = await testApp({ rateLimit: { requests: 1 } });
    const other = await mintToken({ secret: SECRET, ns: ['demo', 'elsewhere'] });
    const get = (authorization: string) => app.request('/v1/ns/demo/stats', { headers: { authorization } });
    expect((await get(`Bearer ${token}`)).status).toBe(200);
    expect((await get(`Bearer ${token}`)).status).toBe(429);
    expect((await get(`Bearer ${other}`)).status).toBe(200);
    expect((await get(`Bearer ${token.slice(0, -3)}AAA`)).status).toBe(401);
  });
});

describe('GET /events with Last-Event-ID', () => {
  it('catches a client up with one change naming the newest feed position, not the next one', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const { app, token, call, store } = await testApp({ live: hub });
    for (const content of ['one', 'two', 'three']) await call('POST', '/v1/ns/demo/memories', { content });
    const seqs = (await store.changes('demo', 0, 10)).map((c) => c.seq);
    expect(seqs).toHaveLength(3);
    const res = await app.request('/v1/ns/demo/events', {
      headers: { authorization: `Bearer ${token}`, 'last-event-id': String(seqs[0]) },
    });
    const { readUntil, text, cancel } = eventReader(res);
    await readUntil('event: change');
    expect(text()).toContain(`id: ${seqs[2]}\nevent: change\ndata: {"seq":${seqs[2]}}`);
    await cancel();
  });

  it('refuses a feed position that is not a whole number a cursor can hold, opening no stream', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const { app, token } = await testApp({ live: hub });
    for (const lastEventId of ['1.5', 'Infinity', '1e400', '9007199254740993']) {
      const res = await app.request('/v1/ns/demo/events', {
        headers: { authorization: `Bearer ${token}`, 'last-event-id': lastEventId },
      });
      expect(res.status, lastEventId).toBe(400);
      expect(await res.json(), lastEventId).toMatchObject({
        error: { code: 'VALIDATION', field: 'Last-Event-ID' },
      });
    }
    expect(hub.connections).toBe(0);
  });
});

describe('live news of writes', () => {
  it('announces a delete, and not a push that changed nothing', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const { app, token, call, store } = await testApp({ live: hub });
    await call('POST', '/v1/ns/demo/memories', { id: 'gone', content: 'to delete' });
    const res = await app.request('/v1/ns/demo/events', { headers: { authorization: `Bearer ${token}` } });
    const { readUntil, announced, cancel } = eventReader(res);
    await readUntil('event: ready');
    // Not stored and no create part: rejected, so nothing changed and nobody is woken.
    const stamp = `${Date.now().toString(16).padStart(12, '0')}-0000-client`;
    const orphan = { id: 'orphan', values: { content: 'x' }, clocks: { content: stamp } };
    const noop = await call('POST', '/v1/ns/demo/sync', { push: { memories: [orphan] } });
    expect(noop.json.push).toMatchObject({ memories: [], deleted: [], rejected: ['orphan'] });
    expect((await call('DELETE', '/v1/ns/demo/memories/gone')).status).toBe(204);
    expect((await call('POST', '/v1/ns/demo/memories', { id: 'last', content: 'last' })).status).toBe(201);
    const seqs = Object.fromEntries((await store.changes('demo', 0, 10)).map((c) => [c.id, c.seq]));
    await readUntil(`id: ${seqs.last}\n`);
    expect(announced()).toEqual([seqs.gone, seqs.last]);
    await cancel();
  });

  it('announces a write that only links two memories', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const { app, token, call, store } = await testApp({ live: hub });
    for (const id of ['a', 'b']) await call('POST', '/v1/ns/demo/memories', { id, content: id });
    const res = await app.request('/v1/ns/demo/events', { headers: { authorization: `Bearer ${token}` } });
    const { readUntil, announced, cancel } = eventReader(res);
    await readUntil('event: ready');
    const link = await call('POST', '/v1/ns/demo/links', { from: 'a', to: 'b', type: 'related_to' });
    expect(link.status).toBe(201);
    expect((await call('POST', '/v1/ns/demo/memories', { id: 'last', content: 'last' })).status).toBe(201);
    const seqs = Object.fromEntries((await store.changes('demo', 0, 10)).map((c) => [c.id, c.seq]));
    await readUntil(`id: ${seqs.last}\n`);
    expect(announced()).toEqual([seqs[link.json.id], seqs.last]);
    await cancel();
  });

  it('serves a store class with private (#) fields: the live wrapper runs its methods on the store itself', async () => {
    const store = new PrivateFieldStore();
    const hub = new LocalHub();
    hubs.push(hub);
    const app = createEdgeApp({ store, secret: SECRET, logger: false, live: hub });
    expect((await app.request('/health')).status).toBe(200);
    expect(store.reads).toBeGreaterThan(0);
  });

  it("still tells clients of a write when the store cannot say the feed's position", async () => {
    // The lookup right after a write (the announcement's) fails.
    class Store extends InMemoryStore {
      lookupFails = false;
      override async apply(...args: Parameters<InMemoryStore['apply']>) {
        const result = await super.apply(...args);
        this.lookupFails = true;
        return result;
      }
      override async latestSeq(namespace: string): Promise<number> {
        if (!this.lookupFails) return super.latestSeq(namespace);
        this.lookupFails = false;
        throw new Error('the position lookup failed');
      }
    }
    const hub = new LocalHub();
    hubs.push(hub);
    const { app, token, call } = await testApp({ live: hub, store: new Store() });
    const res = await app.request('/v1/ns/demo/events', { headers: { authorization: `Bearer ${token}` } });
    const { readUntil, text, cancel } = eventReader(res);
    await readUntil('event: ready');
    expect((await call('POST', '/v1/ns/demo/memories', { content: 'x' })).status).toBe(201);
    await readUntil('event: change');
    expect(text()).toContain('event: change\ndata: {}\n\n');
    await cancel();
  });

  it('logs a hub that fails to announce a write, and the write still succeeds', async () => {
    const failing: LiveHub = {
      publish: async () => {
        throw new Error('hub unreachable');
      },
      stream: () => new Response(''),
    };
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const { call } = await testApp({ live: failing });
      expect((await call('POST', '/v1/ns/demo/memories', { content: 'x' })).status).toBe(201);
      await vi.waitFor(() =>
        expect(logged).toHaveBeenCalledWith('engram: live publish failed', expect.any(Error)),
      );
    } finally {
      logged.mockRestore();
    }
  });

  it('tells proxies not to cache, transform or buffer the stream', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const { app, token } = await testApp({ live: hub });
    const res = await app.request('/v1/ns/demo/events', { headers: { authorization: `Bearer ${token}` } });
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    await res.body!.cancel();
  });
});

describe('event stream of a token that expires', () => {
  it('a token whose exp falls inside a second is good to the end of that second, and so is its stream', async () => {
    const second = 1_800_000_000;
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(second * 1000 + 200);
      const hub = new LocalHub();
      hubs.push(hub);
      const { app, call } = await testApp({ live: hub });
      // authenticate() takes it until floor(now / 1000) reaches exp: through the whole of `second`.
      const token = await sign({ ns: ['demo'], exp: second + 0.5 }, SECRET, 'HS256');
      const res = await app.request('/v1/ns/demo/events', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const next = async () => new TextDecoder().decode((await reader.read()).value);
      expect(await next()).toContain('event: ready');
      expect((await call('POST', '/v1/ns/demo/memories', { content: 'news' })).status).toBe(201);
      expect(await next()).toContain('event: change');
      await reader.cancel();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a token that expires in a month arms no timer past what a runtime can hold', async () => {
    const overflows: string[] = [];
    const onWarning = (warning: Error) => {
      if (warning.name === 'TimeoutOverflowWarning') overflows.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      const hub = new LocalHub();
      hubs.push(hub);
      const { app } = await testApp({ live: hub });
      const token = await mintToken({ secret: SECRET, ns: ['demo'], ttl: '30d' });
      const res = await app.request('/v1/ns/demo/events', { headers: { authorization: `Bearer ${token}` } });
      const reader = res.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain('event: ready');
      // Node warns (on the next tick) and fires a timer it cannot hold after 1 ms, over and over.
      await new Promise((r) => setTimeout(r, 20));
      expect(overflows).toEqual([]);
      await reader.cancel();
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('rate limit per namespace', () => {
  it('gives one token its own allowance in each namespace it grants', async () => {
    const { call } = await testApp({ rateLimit: { requests: 1 }, ns: ['demo', 'other'] });
    expect((await call('GET', '/v1/ns/demo/stats')).status).toBe(200);
    expect((await call('GET', '/v1/ns/demo/stats')).status).toBe(429);
    expect((await call('GET', '/v1/ns/other/stats')).status).toBe(200);
  });

  it('tells a client to wait at least a second when a shared limiter names no wait', async () => {
    const { call } = await testApp({ rateLimit: { take: () => ({ ok: false, retryAfterMs: 0 }) } });
    const res = await call('GET', '/v1/ns/demo/stats');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.json.error.message).toMatch(/retry after 1 s$/);
  });
});

describe('query parameters with an empty name', () => {
  it('DELETE /memories?=x is refused and removes nothing', async () => {
    const { call } = await testApp();
    for (const content of ['one', 'two']) await call('POST', '/v1/ns/demo/memories', { content });
    for (const query of ['?=scratch', '?=', '?&=1', '?kind=scratch']) {
      const res = await call('DELETE', `/v1/ns/demo/memories${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.error.code).toBe('VALIDATION');
      expect(res.json.error.field).toMatch(/^clear\./);
    }
    expect((await call('GET', '/v1/ns/demo/count')).json.count).toBe(2);
  });

  it('is refused on other routes too', async () => {
    const { call } = await testApp();
    for (const [method, path, body] of [
      ['GET', '/v1/ns/demo/stats?=x', undefined],
      ['GET', '/v1/ns/demo/capabilities?=x', undefined],
      ['GET', '/v1/ns/demo/memories?=x', undefined],
      ['POST', '/v1/ns/demo/sync?=x', {}],
    ] as const) {
      const res = await call(method, path, body);
      expect(res.status, path).toBe(400);
      expect(res.json.error.field, path).toMatch(/\.$/);
    }
  });

  it('a scalar parameter given twice with different values is refused, not guessed', async () => {
    const { call } = await testApp();
    for (const content of ['one', 'two', 'three']) await call('POST', '/v1/ns/demo/memories', { content });
    for (const [path, field] of [
      ['/v1/ns/demo/memories?limit=2&limit=3', 'list.limit'],
      ['/v1/ns/demo/memories?kind=a&kind=b', 'list.kind'],
      ['/v1/ns/demo/path?from=m1&from=m2&to=m2', 'path.from'],
      // `now` and `include`, which the read routes take beside their own options, are held to it too.
      ['/v1/ns/demo/memories?now=2020-01-01T00:00:00Z&now=x', 'list.now'],
      ['/v1/ns/demo/memories?include=clocks&include=nope', 'list.include'],
      ['/v1/ns/demo/count?now=2020-01-01T00:00:00Z&now=2021-01-01T00:00:00Z', 'count.now'],
      ['/v1/ns/demo/memories/m1/links?now=2020-01-01T00:00:00Z&now=x', 'links.options.now'],
    ] as const) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.json.error.field, path).toBe(field);
    }
    // The same value twice is one value.
    expect((await call('GET', '/v1/ns/demo/memories?limit=2&limit=2')).json.items).toHaveLength(2);
  });

  it('POST /memories?dedupe=true with an array body is refused, adding nothing', async () => {
    const { call } = await testApp();
    await call('POST', '/v1/ns/demo/memories', { content: 'same' });
    const res = await call('POST', '/v1/ns/demo/memories?dedupe=true', [{ content: 'same' }]);
    expect(res.status).toBe(400);
    expect(res.json.error.field).toBe('add.options.dedupe');
    expect((await call('GET', '/v1/ns/demo/count')).json.count).toBe(1);
  });
});

describe('request bodies', () => {
  it('a body that is not UTF-8 is refused, not stored with replacement characters', async () => {
    const { app, token, call } = await testApp();
    const post = (body: Uint8Array<ArrayBuffer>) =>
      app.request('/v1/ns/demo/memories', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
    // {"content":"caf<0xE9>"}: Latin-1, not UTF-8.
    const latin1 = new Uint8Array([
      ...new TextEncoder().encode('{"content":"caf'),
      0xe9,
      ...new TextEncoder().encode('"}'),
    ]);
    const res = await post(latin1);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'VALIDATION', field: 'body' } });
    expect((await call('GET', '/v1/ns/demo/count')).json.count).toBe(0);
    // UTF-8, with or without a byte order mark, is read as ever.
    const utf8 = new TextEncoder().encode('{"content":"café"}');
    expect((await post(utf8)).status).toBe(201);
    expect((await post(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8]))).status).toBe(201);
    const items = (await call('GET', '/v1/ns/demo/memories')).json.items;
    expect(items.map((m: { content: string }) => m.content)).toEqual(['café', 'café']);
  });

  it('a compressed body is refused naming its Content-Encoding, not as bytes that are not UTF-8', async () => {
    const { app, token, call } = await testApp();
    const json = new TextEncoder().encode('{"content":"zipped"}');
    const gzipped = new Uint8Array(
      await new Response(new Blob([json]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer(),
    );
    const post = (body: Uint8Array<ArrayBuffer>, encoding: string) =>
      app.request('/v1/ns/demo/memories', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-encoding': encoding,
        },
        body,
      });
    const res = await post(gzipped, 'gzip');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: {
        code: 'VALIDATION',
        field: 'body',
        message: expect.stringContaining('Content-Encoding: gzip'),
      },
    });
    expect((await call('GET', '/v1/ns/demo/count')).json.count).toBe(0);
    // `identity` is no encoding at all.
    expect((await post(json, 'identity')).status).toBe(201);
    expect((await post(json, 'Identity')).status).toBe(201);
  });
});

describe('event streams per token', () => {
  it('a token holds at most maxStreamsPerToken streams in a namespace; one more is 429 until one ends', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const { app, token } = await testApp({ live: hub, maxStreamsPerToken: 2, ns: ['demo', 'other'] });
    const other = await mintToken({ secret: SECRET, ns: ['demo'] });
    const open = (ns = 'demo', auth = token) =>
      app.request(`/v1/ns/${ns}/events`, { headers: { authorization: `Bearer ${auth}` } });
    const first = await open();
    const second = await open();
    expect([first.status, second.status]).toEqual([200, 200]);
    const refused = await open();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('15');
    expect(((await refused.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringContaining('at most 2'),
    });
    // Another namespace, or another token, has its own allowance.
    const elsewhere = await open('other');
    const otherToken = await open('demo', other);
    expect([elsewhere.status, otherToken.status]).toEqual([200, 200]);
    expect(hub.connections).toBe(4);
    // A client that goes away frees its place.
    await first.body!.cancel();
    await new Promise((r) => setTimeout(r, 10));
    expect(hub.connections).toBe(3);
    const again = await open();
    expect(again.status).toBe(200);
    expect((await open()).status).toBe(429);
    // So does a stream the server ends (shutdown): every place is free again.
    await hub.close();
    for (const res of [second, again, elsewhere, otherToken]) await res.text();
    const after = await Promise.all([open(), open()]);
    expect(after.map((r) => r.status)).toEqual([200, 200]);
    for (const res of after) await res.body!.cancel();
  });

  it('ends the stream of a client whose request is aborted, before any next event would tell', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const { app, token } = await testApp({ live: hub });
    const gone = new AbortController();
    const res = await app.request('/v1/ns/demo/events', {
      headers: { authorization: `Bearer ${token}` },
      signal: gone.signal,
    });
    expect(res.status).toBe(200);
    expect(hub.connections).toBe(1);
    // The body is never read nor cancelled: a server learns of a client gone from the request's signal.
    gone.abort();
    expect(hub.connections).toBe(0);
  });

  it('opens nothing for a client that went away while its Last-Event-ID was looked up', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const gone = new AbortController();
    class Store extends InMemoryStore {
      override async changes(...args: Parameters<InMemoryStore['changes']>) {
        // The client's connection drops while the server reads the feed for its catch-up.
        gone.abort();
        return super.changes(...args);
      }
    }
    const { app, token, call } = await testApp({ live: hub, maxStreamsPerToken: 1, store: new Store() });
    expect((await call('POST', '/v1/ns/demo/memories', { content: 'already there' })).status).toBe(201);
    // Node's server hands a response whose connection is already closed nothing: its body is never read
    // nor cancelled, so only the request's signal can tell the stream that nobody listens.
    const res = await app.request('/v1/ns/demo/events', {
      headers: { authorization: `Bearer ${token}`, 'last-event-id': '0' },
      signal: gone.signal,
    });
    expect(gone.signal.aborted).toBe(true);
    expect(res.status).toBe(200);
    expect(hub.connections).toBe(0);
    // Nor does it keep the token's one place.
    const next = await app.request('/v1/ns/demo/events', { headers: { authorization: `Bearer ${token}` } });
    expect(next.status).toBe(200);
    await next.body!.cancel();
  });

  it('frees one place, not more, for a stream cancelled while the server waits for its next event', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const { app, token } = await testApp({ live: hub, maxStreamsPerToken: 2 });
    const open = () => app.request('/v1/ns/demo/events', { headers: { authorization: `Bearer ${token}` } });
    const [first, second] = [await open(), await open()];
    // Its opening lines read, the server is mid-way through reading the next one when the client goes.
    const reader = first.body!.getReader();
    await reader.read();
    await reader.cancel();
    await new Promise((r) => setTimeout(r, 10));
    const third = await open();
    expect(third.status).toBe(200);
    expect((await open()).status).toBe(429);
    for (const res of [second, third]) await res.body!.cancel();
  });

  it('live: false turns the events route off (clients poll)', async () => {
    const { call } = await testApp({ live: false });
    const res = await call('GET', '/v1/ns/demo/events');
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('NOT_FOUND');
  });

  it('lets a token hold 16 streams in a namespace by default', async () => {
    const hub = new LocalHub();
    hubs.push(hub);
    const { app, token } = await testApp({ live: hub });
    const open = () => app.request('/v1/ns/demo/events', { headers: { authorization: `Bearer ${token}` } });
    const streams: Response[] = [];
    for (let i = 0; i < 16; i++) streams.push(await open());
    expect(streams.map((res) => res.status)).toEqual(Array(16).fill(200));
    expect((await open()).status).toBe(429);
    for (const res of streams) await res.body!.cancel();
  });

  it('refuses bad heartbeatMs and maxStreamsPerToken options when the app is made', async () => {
    for (const [field, value] of [
      ['heartbeatMs', 0],
      ['heartbeatMs', -5],
      ['heartbeatMs', Number.NaN],
      ['heartbeatMs', 2 ** 31],
      ['heartbeatMs', '1000'],
      ['maxStreamsPerToken', 0],
      ['maxStreamsPerToken', 1.5],
    ] as const) {
      await expect(testApp({ [field]: value })).rejects.toMatchObject({ code: 'VALIDATION', field });
    }
  });
});

describe('what the edge hands its live hub', () => {
  /** A hub that answers every stream with an empty one and keeps what it was asked and told. */
  const recordingHub = () => {
    const asked: LiveStreamRequest[] = [];
    const published: string[] = [];
    const hub: LiveHub = {
      async publish(namespace) {
        published.push(namespace);
      },
      stream(request) {
        asked.push(request);
        return new Response('', { headers: { 'content-type': 'text/event-stream' } });
      },
    };
    return { hub, asked, published };
  };

  it('asks for a heartbeat every 15 s by default', async () => {
    const { hub, asked } = recordingHub();
    const { call } = await testApp({ live: hub });
    expect((await call('GET', '/v1/ns/demo/events')).status).toBe(200);
    expect(asked).toMatchObject([{ namespace: 'demo', heartbeatMs: 15_000 }]);
  });

  it('reads an empty Last-Event-ID as none: no catch-up from the start of the feed', async () => {
    const { hub, asked } = recordingHub();
    const { app, token, call } = await testApp({ live: hub });
    expect((await call('POST', '/v1/ns/demo/memories', { content: 'already there' })).status).toBe(201);
    const open = async (lastEventId: string) => {
      const res = await app.request('/v1/ns/demo/events', {
        headers: { authorization: `Bearer ${token}`, 'last-event-id': lastEventId },
      });
      expect(res.status).toBe(200);
      await res.text();
      return asked.at(-1)?.catchUp;
    };
    expect(await open('')).toBeUndefined();
    expect(await open('0')).toEqual(expect.any(Number));
  });

  it('takes the Last-Event-ID header over ?lastEventId: a reconnecting EventSource sends the newer one', async () => {
    const { hub, asked } = recordingHub();
    const { app, token, call } = await testApp({ live: hub });
    expect((await call('POST', '/v1/ns/demo/memories', { content: 'already there' })).status).toBe(201);
    const open = async (query: string, header?: string) => {
      const res = await app.request(`/v1/ns/demo/events${query}`, {
        headers: {
          authorization: `Bearer ${token}`,
          ...(header === undefined ? {} : { 'last-event-id': header }),
        },
      });
      expect(res.status).toBe(200);
      await res.text();
      return asked.at(-1)?.catchUp;
    };
    const latest = await open('?lastEventId=0');
    expect(latest).toEqual(expect.any(Number));
    expect(await open('?lastEventId=0', String(latest))).toBeUndefined();
  });

  it('frees the place of a stream the hub failed to open', async () => {
    const { hub } = recordingHub();
    const stream = hub.stream.bind(hub);
    let failures = 1;
    hub.stream = (request) => {
      if (failures-- > 0) throw new Error('hub unreachable');
      return stream(request);
    };
    const { call } = await testApp({ live: hub, maxStreamsPerToken: 1 });
    expect((await call('GET', '/v1/ns/demo/events')).status).toBe(500);
    expect((await call('GET', '/v1/ns/demo/events')).status).toBe(200);
  });

  it('catches up a client exactly one change behind the feed', async () => {
    const { hub, asked } = recordingHub();
    const { app, token, call, store } = await testApp({ live: hub });
    expect((await call('POST', '/v1/ns/demo/memories', { content: 'the only change' })).status).toBe(201);
    const latest = await (store as InMemoryStore).latestSeq('demo');
    const res = await app.request('/v1/ns/demo/events', {
      headers: { authorization: `Bearer ${token}`, 'last-event-id': String(latest - 1) },
    });
    await res.text();
    expect(asked.at(-1)?.catchUp).toBe(latest);
  });

  it("passes the hub's answer on and frees its place: no body, a refusal, or a body that failed", async () => {
    const { hub } = recordingHub();
    const { app, token } = await testApp({ live: hub, maxStreamsPerToken: 1 });
    const open = () => app.request('/v1/ns/demo/events', { headers: { authorization: `Bearer ${token}` } });
    hub.stream = () => new Response(null, { status: 204 });
    expect((await open()).status).toBe(204);
    expect((await open()).status).toBe(204);
    hub.stream = () => new Response('restarting', { status: 503 });
    for (const _ of [1, 2]) {
      const res = await open();
      expect(res.status).toBe(503);
      expect(await res.text()).toBe('restarting');
    }
    hub.stream = () =>
      new Response(
        new ReadableStream({
          start: (controller) => controller.error(new Error('the hub connection was lost')),
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    await expect((await open()).text()).rejects.toThrow('the hub connection was lost');
    await expect((await open()).text()).rejects.toThrow('the hub connection was lost');
  });

  it("hands the news of a write on a per-request store to the runtime's waitUntil", async () => {
    const { hub, published } = recordingHub();
    const store = new InMemoryStore();
    const app = createEdgeApp({ secret: SECRET, logger: false, live: hub, store: () => store });
    const token = await mintToken({ secret: SECRET, ns: ['demo'] });
    const deferred: Promise<unknown>[] = [];
    const executionCtx = {
      waitUntil: (work: Promise<unknown>) => deferred.push(work),
      passThroughOnException() {},
      props: {},
    };
    const res = await app.request(
      '/v1/ns/demo/memories',
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ content: 'x' }),
      },
      {},
      executionCtx,
    );
    expect(res.status).toBe(201);
    // A Worker ends once its response is sent unless told to wait: the announcement is what it waits for.
    expect(deferred).toHaveLength(1);
    await Promise.all(deferred);
    expect(published).toEqual(['demo']);
  });
});

describe('durableObjectHub', () => {
  /** A Durable Object namespace binding as a Worker gets it: one EngramHub object per name, here in process. */
  const binding = (): DurableObjectNamespaceLike => {
    const objects = new Map<string, EngramHub>();
    return {
      idFromName: (name) => name,
      get(id) {
        const name = String(id);
        const object = objects.get(name) ?? new EngramHub();
        objects.set(name, object);
        return { fetch: (input, init) => object.fetch(new Request(input, init)) };
      },
    };
  };

  it("hands a stream its catch-up and heartbeat, and news to the namespace's object with its seq", async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const hub = durableObjectHub(binding());
      const res = await hub.stream({ namespace: 'demo', catchUp: 4, heartbeatMs: 20 });
      const { readUntil, announced, text, cancel } = eventReader(res);
      await readUntil('event: ready');
      vi.advanceTimersByTime(20);
      await hub.publish('other', 8);
      await hub.publish('demo', 9);
      await readUntil('id: 9\n');
      expect(announced()).toEqual([4, 9]);
      expect(text()).toContain(': ping');
      await cancel();
    } finally {
      vi.useRealTimers();
    }
  });

  it('ends the stream when the token expires, or when the client goes away', async () => {
    const hub = durableObjectHub(binding());
    const expiring = eventReader(await hub.stream({ namespace: 'demo', expiresAt: Date.now() + 50 }));
    await expiring.readUntil('event: expired');
    const client = new AbortController();
    const res = await hub.stream({ namespace: 'demo', signal: client.signal });
    const reader = res.body!.getReader();
    await reader.read();
    client.abort();
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return 'ended';
      })(),
    ).resolves.toBe('ended');
  });
});
