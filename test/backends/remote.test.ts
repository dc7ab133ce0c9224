import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RemoteStore } from '../../src/backends/remote/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { NamespaceCipher } from '../../src/core/crypto/cipher.js';
import { KEY_INFO_META } from '../../src/core/crypto/namespace-key.js';
import type { Json } from '../../src/core/model.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, EngramError, exportJsonl, InMemoryStore } from '../../src/index.js';
import { freshNamespace } from '../conformance/harness.js';
import { testStore } from '../conformance/index.js';
import { standInEmbedder } from '../conformance/stand-in-embedder.js';

const SECRET = 'remote-test-secret-0123456789abcdef';
const SYNTHETIC_CLOCKS = 1000 * 365 * 86_400_000;

/** Conformance namespaces are fresh per case, so the client mints a token per namespace, as a multi-tenant app would. */
const tokens = new Map<string, Promise<string>>();
const tokenFor = (ns: string) => {
  if (!tokens.has(ns)) tokens.set(ns, mintToken({ secret: SECRET, ns: [ns] }));
  return tokens.get(ns)!;
};

const server = new InMemoryStore();
// Conformance cases stamp with synthetic clocks (days ahead, `zzz` stamps), as a store test should;
// the edge's skew bound is tested in test/sync/clock-skew.test.ts.
const app = createEdgeApp({ store: server, secret: SECRET, logger: false, maxClockSkewMs: SYNTHETIC_CLOCKS });
const inProcess = (input: RequestInfo | URL, init?: RequestInit) => app.request(input, init);
const url = 'http://edge.test';

testStore({
  name: 'RemoteStore (in-process app)',
  create: () => new RemoteStore({ url, token: tokenFor, fetch: inProcess }),
  reopen: async (store) => {
    await store.close();
    return new RemoteStore({ url, token: tokenFor, fetch: inProcess });
  },
  capabilities: { persistent: true },
});

describe('over a real port', () => {
  let port = 0;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const store = new InMemoryStore();
    const real = createEdgeApp({ store, secret: SECRET, logger: false, maxClockSkewMs: SYNTHETIC_CLOCKS });
    const listening = serve({ fetch: real.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => listening.once('listening', resolve));
    port = (listening.address() as AddressInfo).port;
    close = () => new Promise((resolve) => listening.close(() => resolve()));
  });
  afterAll(() => close());

  testStore({
    name: 'RemoteStore (node-server on 127.0.0.1)',
    create: () => new RemoteStore({ url: `http://127.0.0.1:${port}`, token: tokenFor }),
    reopen: async (store) => {
      await store.close();
      return new RemoteStore({ url: `http://127.0.0.1:${port}`, token: tokenFor });
    },
    capabilities: { persistent: true },
  });
});

describe('RemoteStore extras', () => {
  const counting = () => {
    const calls: string[] = [];
    const fetch = (input: RequestInfo | URL, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      return app.request(input, init);
    };
    return { calls, fetch };
  };

  it.each([
    ['sql.js', () => new SqlJsStore()],
    ['in-memory', () => new InMemoryStore()],
  ] as const)(
    'two clients racing to add one id, to supersede one fact or to dedupe one content: the edge (%s) tells one',
    async (_name, edgeStore) => {
      // Two RemoteStores are two processes: their checks run apart, and only the edge's transaction sees both,
      // which lists what changed since a feed position (dedupe).
      const edge = createEdgeApp({ store: edgeStore(), secret: SECRET, logger: false });
      const ns = freshNamespace('race');
      const reads: Array<() => void> = [];
      let holding: string | undefined;
      // Reads are held until both clients have read, so both find the id free, the fact current, no copy.
      const heldFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
        const res = await edge.request(input, init);
        const body = typeof init?.body === 'string' ? init.body : '';
        if (holding && body.includes(holding)) await new Promise<void>((resolve) => reads.push(resolve));
        return res;
      };
      const client = () =>
        createMemory({ store: new RemoteStore({ url, token: tokenFor, fetch: heldFetch }), namespace: ns });
      const [a, b] = await Promise.all([client(), client()]);
      // `read` marks the request to hold: a read by id ("get") or the dedupe's search ("query").
      const race = async <T>(run: (mem: typeof a) => Promise<T>, read = '"get"') => {
        holding = read;
        const both = [run(a), run(b)].map((p) =>
          p.then(
            (value) => ({ value }),
            (error: unknown) => ({ error }),
          ),
        );
        while (reads.length < 2) await new Promise((r) => setTimeout(r, 5));
        holding = undefined;
        for (const release of reads.splice(0)) release();
        return Promise.all(both);
      };
      const added = await race((mem) => mem.add({ id: 'same', content: `from ${mem === a ? 'a' : 'b'}` }));
      expect(added.filter((r) => 'value' in r)).toHaveLength(1);
      expect(added.find((r) => 'error' in r)).toMatchObject({ error: { code: 'CONFLICT', field: 'add.id' } });
      const fact = await a.add({ content: 'lives in Berlin' });
      const superseded = await race((mem) => mem.supersede(fact.id, { content: 'lives in Paris' }));
      expect(superseded.filter((r) => 'value' in r)).toHaveLength(1);
      expect(superseded.find((r) => 'error' in r)).toMatchObject({
        error: { code: 'CONFLICT', field: 'supersede.oldId' },
      });
      expect(await a.links(fact.id)).toHaveLength(1);
      // A deduping add reads the edge's feed position, then searches; both clients' searches find no copy.
      const deduped = await race(
        (mem) => mem.add({ content: 'Prefers green tea', tags: [mem === a ? 'a' : 'b'] }, { dedupe: true }),
        '"query"',
      );
      const ids = deduped.map((r) => ('value' in r ? r.value.id : String(r.error)));
      expect(ids[1]).toBe(ids[0]);
      expect((await a.get(ids[0]!))?.tags.sort()).toEqual(['a', 'b']);
      expect(await a.count({ history: true })).toBe(4); // same, Berlin (superseded), Paris, the tea
    },
  );

  it('refuses malformed newIds and unchanged in a push, naming them', async () => {
    const ns = freshNamespace('guards');
    const post = async (push: unknown) => {
      const res = await app.request(`${url}/v1/ns/${ns}/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await tokenFor(ns)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ push }),
      });
      return { status: res.status, body: (await res.json()) as { error?: { field?: string } } };
    };
    expect(await post({ newIds: ['a b'] })).toMatchObject({
      status: 400,
      body: { error: { field: 'sync.push.newIds.0' } },
    });
    expect(await post({ unchanged: [{ id: 'x', field: 'colour', clock: null }] })).toMatchObject({
      status: 400,
      body: { error: { field: 'sync.push.unchanged.0.field' } },
    });
    // A link has fewer fields than a memory; the entity is one of the two.
    expect(
      await post({ unchanged: [{ id: 'x', field: 'content', clock: null, entity: 'link' }] }),
    ).toMatchObject({
      status: 400,
      body: { error: { field: 'sync.push.unchanged.0.field' } },
    });
    expect(await post({ unchanged: [{ id: 'x', field: 'type', clock: null, entity: 'tag' }] })).toMatchObject(
      {
        status: 400,
        body: { error: { field: 'sync.push.unchanged.0.entity' } },
      },
    );
    expect(await post({ unchanged: [{ id: 'x', field: 'type', clock: null }] })).toMatchObject({
      status: 400,
      body: { error: { field: 'sync.push.unchanged.0.field' } },
    });
    expect(await post({ unchanged: [{ id: 'x', field: 'validTo', clock: 'yesterday' }] })).toMatchObject({
      status: 400,
      body: { error: { field: 'sync.push.unchanged.0.clock' } },
    });
    const now = new Date().toISOString();
    expect(await post({ dedupe: { content: 'x', since: -1, now } })).toMatchObject({
      status: 400,
      body: { error: { field: 'sync.push.dedupe.since' } },
    });
    expect(await post({ dedupe: { content: 'x', since: 0, now: 'today' } })).toMatchObject({
      status: 400,
      body: { error: { field: 'sync.push.dedupe.now' } },
    });
  });

  it('writes that the server store holds, and reads what the server wrote', async () => {
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const mem = await createMemory({ store, namespace: 'shared-view' });
    const added = await mem.add({ content: 'written through HTTP', tags: ['remote'] });
    const [record] = await server.getMemories('shared-view', [added.id]);
    expect(record!.memory).toEqual(added);
    const local = await createMemory({ store: server, namespace: 'shared-view' });
    const direct = await local.add({ content: 'written on the server' });
    expect(await mem.get(direct.id)).toEqual(direct);
  });

  it('sends reads issued together as one request', async () => {
    const { calls, fetch } = counting();
    const store = new RemoteStore({ url, token: tokenFor, fetch });
    const mem = await createMemory({ store, namespace: 'batched' });
    const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
    calls.length = 0;
    await mem.link(a!.id, b!.id, 'rel');
    // both ends checked in one get, then linksOf, then the push
    expect(calls).toEqual([
      'POST /v1/ns/batched/sync',
      'GET /v1/ns/batched/memories/' + a!.id + '/links',
      'POST /v1/ns/batched/sync',
    ]);
    calls.length = 0;
    await mem.add({ id: 'given', content: 'caller id' });
    expect(calls).toHaveLength(2); // existence + tombstone check in one get, then the push
  });

  it('sends a long query cut, so an edge refusing queries over 1,024 characters searches it', async () => {
    const sent: number[] = [];
    // An older edge: it refused a query longer than it searches instead of cutting it.
    const olderEdge = (input: RequestInfo | URL, init?: RequestInit) => {
      if (new URL(String(input)).pathname.endsWith('/search')) {
        const { query } = JSON.parse(String(init?.body)) as { query: string };
        sent.push(query.length);
        if (query.length > 1024) {
          const error = { code: 'VALIDATION', message: 'query: expected at most 1024 characters' };
          return Promise.resolve(Response.json({ error }, { status: 400 }));
        }
      }
      return app.request(input, init);
    };
    const embedder = standInEmbedder();
    const store = new RemoteStore({ url, token: tokenFor, fetch: olderEdge });
    const mem = await createMemory({ store, namespace: 'long-query', embedder });
    const [coffee] = await mem.addMany([{ content: 'my coffee habits' }, { content: 'zucchini bread' }]);
    const message = `${'please tell me about my coffee habits '.repeat(130)}zucchini?`;
    expect(message.length).toBeGreaterThan(4900);
    expect((await mem.search(message)).map((h) => h.memory.id)).toEqual([coffee!.id]);
    expect(await mem.context(message)).toBe('- my coffee habits');
    await mem.search(message, { mode: 'hybrid' });
    await mem.search(message, { mode: 'vector' });
    expect(sent.length).toBe(4);
    expect(Math.max(...sent)).toBeLessThanOrEqual(1024);
    // The embedder gets the query cut too: a model's input limit is not exceeded by a long message.
    const queries = embedder.calls.filter((texts) => texts.length === 1 && texts[0]!.startsWith('please'));
    expect(queries).toHaveLength(2);
    for (const [query] of queries) expect(query!.length).toBeLessThanOrEqual(1024);
  });

  it('asks the edge for a boost pool it accepts at the largest limit: at most 1,000 hits', async () => {
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const mem = await createMemory({ store, namespace: freshNamespace('boost-pool') });
    const made = await mem.addMany(Array.from({ length: 3 }, (_, i) => ({ content: `tea ${i}` })));
    const hits = await mem.search('tea', { limit: 1000, boost: { importance: true } });
    expect(hits.map((h) => h.memory.id).sort()).toEqual(made.map((m) => m.id).sort());
    await mem.close();
  });

  it('maps HTTP errors back to EngramError codes', async () => {
    const wrong = await mintToken({ secret: SECRET, ns: ['elsewhere'] });
    const forbidden = new RemoteStore({ url, token: wrong, fetch: inProcess });
    await expect(forbidden.getMemories('mine', ['x'])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const forged = new RemoteStore({ url, token: 'a.b.c', fetch: inProcess });
    await expect(forged.getMemories('mine', ['x'])).rejects.toMatchObject({ code: 'UNAUTHORIZED' });

    const small = createEdgeApp({
      store: new InMemoryStore(),
      secret: SECRET,
      logger: false,
      bodyLimit: 500,
    });
    const tight = new RemoteStore({ url, token: tokenFor, fetch: (i, init) => small.request(i, init) });
    const mem = await createMemory({ store: tight, namespace: 'tight' });
    await expect(mem.add({ content: 'x'.repeat(1000) })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    await expect(mem.search('x', { mode: 'vector' })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'vector',
    });
    await expect(mem.neighbors('ghost')).rejects.toMatchObject({ code: 'NOT_FOUND', field: 'neighbors.id' });
  });

  it('reports an unreachable edge, a timeout, a 5xx page and a foreign 404 as it should', async () => {
    const down = new RemoteStore({ url: 'http://127.0.0.1:9', token: 't.t.t' });
    const offline = await down.getMemories('x', ['y']).catch((e: unknown) => e);
    expect(offline).toBeInstanceOf(EngramError);
    expect(offline).toMatchObject({ code: 'OFFLINE' });
    expect((offline as Error).message).toContain('cannot reach http://127.0.0.1:9');

    const hang = new RemoteStore({
      url,
      token: 't.t.t',
      timeoutMs: 30,
      fetch: (_input, init) =>
        new Promise((_, reject) =>
          init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
        ),
    });
    await expect(hang.getMemories('x', ['y'])).rejects.toMatchObject({
      code: 'OFFLINE',
      message: expect.stringContaining('30 ms'),
    });
    // A fetch that never looks at its signal, whose body never ends: the timeout still holds.
    for (const fetch of [
      () => new Promise<Response>(() => {}),
      async () => new Response(new ReadableStream({ start: () => {} })),
    ]) {
      const deaf = new RemoteStore({ url, token: 't.t.t', timeoutMs: 30, fetch });
      await expect(deaf.getMemories('x', ['y'])).rejects.toMatchObject({
        code: 'OFFLINE',
        message: expect.stringContaining('30 ms'),
      });
    }

    const gateway = new RemoteStore({
      url,
      token: 't.t.t',
      fetch: async () => new Response('<h1>Bad gateway</h1>', { status: 502 }),
    });
    await expect(gateway.getMemories('x', ['y'])).rejects.toMatchObject({ code: 'OFFLINE' });
    const portal = new RemoteStore({
      url,
      token: 't.t.t',
      fetch: async () => new Response('<html>login</html>', { status: 200 }),
    });
    await expect(portal.getMemories('x', ['y'])).rejects.toMatchObject({ code: 'OFFLINE' });
    const foreign = new RemoteStore({
      url,
      token: 't.t.t',
      fetch: async () => new Response('nope', { status: 404 }),
    });
    await expect(foreign.getMemories('x', ['y'])).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('HTTP 404'),
    });
  });

  it("keeps the edge's own error: a 503 STORAGE stays STORAGE, a 429 carries its Retry-After", async () => {
    const answering = (response: () => Response) =>
      new RemoteStore({ url, token: 't.t.t', fetch: async () => response() });
    const storage = answering(() =>
      Response.json({ error: { code: 'STORAGE', message: 'stand-in: disk full' } }, { status: 503 }),
    );
    await expect(storage.getMemories('x', ['y'])).rejects.toMatchObject({
      code: 'STORAGE',
      message: 'stand-in: disk full',
    });
    const limited = answering(() =>
      Response.json(
        { error: { code: 'RATE_LIMITED', message: 'stand-in: slow down' } },
        { status: 429, headers: { 'retry-after': '7' } },
      ),
    );
    await expect(limited.getMemories('x', ['y'])).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: 7000,
    });
  });

  it('passes on an EngramError its token function throws, as it was thrown', async () => {
    const store = new RemoteStore({
      url,
      token: () => {
        throw new EngramError('OFFLINE', 'stand-in: the auth server is down');
      },
      fetch: inProcess,
    });
    await expect(store.getMemories('x', ['y'])).rejects.toMatchObject({
      code: 'OFFLINE',
      message: 'stand-in: the auth server is down',
    });
  });

  it('takes a 200 answer that is JSON but not an Engram answer (a wrong url) as no edge, never as done', async () => {
    const now = new Date().toISOString();
    for (const body of ['{}', 'null', '[]', '{"ok":true}']) {
      const elsewhere = new RemoteStore({
        url,
        token: 't.t.t',
        fetch: async () => new Response(body, { status: 200 }),
      });
      const memory = { id: 'm1', namespace: 'x', content: 'kept?', kind: 'note', tags: [], metadata: {} };
      const write = { id: 'm1', create: { namespace: 'x', createdAt: '2025-01-01T00:00:00.000Z' } };
      const calls = [
        elsewhere.apply('x', {
          memories: [{ ...write, values: memory, clocks: { content: '0190a1b2c3d4-0000-node' } }],
        }),
        elsewhere.getMemories('x', ['y']),
        elsewhere.list('x', { limit: 5, tagMode: 'any', now }),
        elsewhere.count('x', { tagMode: 'any', now }),
        elsewhere.stats('x'),
        elsewhere.search('x', { query: 'kept', limit: 5, mode: 'text', tagMode: 'any', now }),
        elsewhere.changes('x', 0, 10),
      ];
      for (const call of calls) {
        await expect(call, body).rejects.toMatchObject({
          code: 'OFFLINE',
          message: expect.stringContaining('is the url an Engram edge?'),
        });
      }
    }
  });

  it('leaves the text index on the server: it answers search() and serves no postings', async () => {
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    expect(store.capabilities).toEqual({ persistent: true, shared: true });
    expect(typeof store.search).toBe('function');
    for (const method of ['textStats', 'postings', 'vectors']) expect(method in store).toBe(false);
  });

  it('exports a namespace with the language the edge keeps, which a new client learns from it', async () => {
    const first = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const mem = await createMemory({ store: first, namespace: 'remote-german', language: 'german' });
    await mem.add({ content: 'Die Kinder spielten im Garten' });
    await mem.close();
    const later = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const dump: string[] = [];
    for await (const line of exportJsonl(later, { namespaces: ['remote-german'] })) dump.push(line);
    expect(JSON.parse(dump[0]!)).toEqual({
      type: 'language',
      namespace: 'remote-german',
      language: 'german',
    });
    expect(dump).toHaveLength(2);
    // A namespace the edge keeps in English (none recorded) has no language line.
    const plain = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    await (await createMemory({ store: plain, namespace: 'remote-plain' })).add({ content: 'x' });
    const fresh = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    expect(await fresh.getMeta('remote-plain', 'language')).toBeUndefined();
    await Promise.all([first, later, plain, fresh].map((store) => store.close()));
  });

  it('lists the namespaces its token grants plus those it used', async () => {
    const token = await mintToken({ secret: SECRET, ns: ['one', 'two'] });
    const store = new RemoteStore({ url, token, fetch: inProcess });
    await store.getMeta('two', 'clientId');
    expect(await store.namespaces()).toEqual(['one', 'two']);
    // Sorted, whatever the order of the token's claim and of use.
    const unordered = await mintToken({ secret: SECRET, ns: ['zulu', 'alpha'] });
    const sorted = new RemoteStore({ url, token: unordered, fetch: inProcess });
    await sorted.getMeta('mike', 'clientId');
    expect(await sorted.namespaces()).toEqual(['alpha', 'mike', 'zulu']);
    const perNs = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    await perNs.apply('three', { meta: { a: 1 } });
    expect(await perNs.namespaces()).toEqual(['three']);
  });

  it('validates its options and refuses ids no URL can carry', async () => {
    expect(() => new RemoteStore({ url: 'ftp://x', token: 't' })).toThrow(/url/);
    expect(() => new RemoteStore({ url: 'not a url', token: 't' })).toThrow(/url/);
    // fetch refuses a URL with credentials, so every call would fail as if the edge were unreachable:
    // refused at once, and the refusal does not print the password (nor one a malformed URL holds).
    for (const given of ['http://me:s3cret@edge.example', 'http://me:s3/cret@edge.example']) {
      const refused = (() => {
        try {
          new RemoteStore({ url: given, token: 't' });
        } catch (error) {
          return error as Error;
        }
      })();
      expect(refused, given).toMatchObject({ code: 'VALIDATION', field: 'url' });
      expect(refused?.message, given).not.toMatch(/s3|cret/);
    }
    expect(() => new RemoteStore({ url, token: '' })).toThrow(/token/);
    for (const [options, field] of [
      [{ url, token: 't', timeout: 5000 }, 'RemoteStore.timeout'],
      [{ url, token: 't', timeoutMs: 0 }, 'RemoteStore.timeoutMs'],
      [{ url, token: 't', timeoutMs: '5s' }, 'RemoteStore.timeoutMs'],
      [{ url, token: 't', fetch: 'node-fetch' }, 'RemoteStore.fetch'],
      [undefined, 'RemoteStore'],
    ] as const) {
      expect(() => new RemoteStore(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field }),
      );
    }
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    await expect(store.linksOf('ns', ['..'], { direction: 'both' })).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    await expect(store.getMemories('..', ['x'])).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'namespace',
    });
    await expect(store.getMemories('.', ['x'])).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'namespace',
    });
    await expect(store.neighbors('ns', '.', { direction: 'both', now: '', depth: 1 })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'neighbors.id',
    });
  });

  it('pages list and changes past the 1,000 records the edge answers per request', async () => {
    const ns = freshNamespace('pages');
    const local = await createMemory({ store: server, namespace: ns });
    for (let i = 0; i < 1001; i += 500) {
      await local.addMany(
        Array.from({ length: Math.min(500, 1001 - i) }, (_, j) => ({ content: `n${i + j}` })),
      );
    }
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const now = new Date().toISOString();
    const listed = await store.list(ns, { limit: 1500, tagMode: 'any', now });
    expect(new Set(listed.map((r) => r.memory.id)).size).toBe(1001);
    const ids = listed.map((r) => r.memory.id);
    expect((await store.getMemories(ns, ids)).map((r) => r.memory.id)).toEqual(ids);
    const changes = await store.changes(ns, 0, 5000);
    expect(changes.map((c) => c.seq)).toEqual((await server.changes(ns, 0, 5000)).map((c) => c.seq));
    expect(changes.length).toBeGreaterThanOrEqual(1001);
  });

  it('clears a namespace of more than 1,000 memories in pushes the edge takes', async () => {
    const ns = freshNamespace('clear');
    const local = await createMemory({ store: server, namespace: ns });
    await local.addMany(Array.from({ length: 1000 }, (_, i) => ({ content: `n${i}` })));
    await local.add({ content: 'one more' });
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const remote = await createMemory({ store, namespace: ns });
    expect(await remote.clear()).toBe(1001);
    expect(await local.count()).toBe(0);
    expect(await local.stats()).toMatchObject({ memories: 0, tombstones: 1001 });
  });

  it('answers getTombstones with the ids asked, once each, when reads share one request', async () => {
    const ns = freshNamespace('tombstones');
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const mem = await createMemory({ store, namespace: ns });
    const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
    await mem.remove(a!.id);
    await mem.remove(b!.id);
    // Issued together, the three reads are one get: of a as a link too, and of b for the other caller.
    const [, ofA, ofB] = await Promise.all([
      store.getLinks(ns, [a!.id]),
      store.getTombstones(ns, [a!.id]),
      store.getTombstones(ns, [b!.id]),
    ]);
    expect(ofA.map((t) => t.id)).toEqual([a!.id]);
    expect(ofB.map((t) => t.id)).toEqual([b!.id]);
  });

  it('lists by a tag that reads as a JSON array, as that tag', async () => {
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const mem = await createMemory({ store, namespace: freshNamespace('json-tag') });
    const literal = await mem.add({ content: 'tagged literally', tags: ['["urgent"]'] });
    await mem.add({ content: 'tagged urgent', tags: ['urgent'] });
    expect((await mem.list({ tags: ['["urgent"]'] })).items.map((m) => m.id)).toEqual([literal.id]);
  });

  it('keeps the meta of a batch that also pushes records', async () => {
    const ns = freshNamespace('meta-push');
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const memory = { content: 'with meta', kind: 'note', tags: [], metadata: {} };
    await store.apply(ns, {
      memories: [
        {
          id: 'm1',
          create: { namespace: ns, createdAt: '2025-01-01T00:00:00.000Z' },
          values: memory,
          clocks: { content: '0190a1b2c3d4-0000-node' },
        },
      ],
      meta: { cursor: 7 },
    });
    expect(await store.getMeta(ns, 'cursor')).toBe(7);
  });

  it('fails a refused read with one request: only an answer too large is asked again in halves', async () => {
    let requests = 0;
    const store = new RemoteStore({
      url,
      token: 't.t.t',
      fetch: async () => {
        requests += 1;
        return Response.json({ error: { code: 'FORBIDDEN', message: 'stand-in' } }, { status: 403 });
      },
    });
    await expect(store.getMemories('x', ['a', 'b', 'c', 'd'])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(requests).toBe(1);
  });

  it('asks again in halves only when the edge says the get is too large (sync.get), links halved too', async () => {
    const gets: Array<{ memories: string[]; links: string[] }> = [];
    const edgeSaying = (error: { code: string; field?: string }, tooMany: (n: number) => boolean) =>
      new RemoteStore({
        url,
        token: 't.t.t',
        fetch: async (_input, init) => {
          const { get } = JSON.parse(String(init.body)) as { get: { memories: string[]; links: string[] } };
          gets.push(get);
          // Asking again and again for the same ids would never end: fail instead.
          if (gets.length > 50) throw new Error('stand-in: too many requests');
          if (tooMany(get.memories.length + get.links.length)) {
            return Response.json({ error: { ...error, message: 'stand-in' } }, { status: 413 });
          }
          return Response.json({ get: { memories: [], links: [], tombstones: [] } });
        },
      });
    // A body limit (no field): halving would not help, so one request fails.
    const limited = edgeSaying({ code: 'PAYLOAD_TOO_LARGE' }, () => true);
    await expect(limited.getMemories('x', ['a', 'b', 'c', 'd'])).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(gets).toHaveLength(1);
    // Links too large together are asked for in halves until each is alone.
    gets.length = 0;
    const large = edgeSaying({ code: 'PAYLOAD_TOO_LARGE', field: 'sync.get' }, (n) => n > 1);
    expect(await large.getLinks('x', ['l1', 'l2', 'l3', 'l4'])).toEqual([]);
    expect(
      gets
        .filter((g) => g.links.length === 1)
        .map((g) => g.links[0])
        .sort(),
    ).toEqual(['l1', 'l2', 'l3', 'l4']);
    expect(gets.every((g) => g.memories.length === 0)).toBe(true);
    // One id too large alone cannot be halved: it fails with the one request.
    gets.length = 0;
    const alone = edgeSaying({ code: 'PAYLOAD_TOO_LARGE', field: 'sync.get' }, () => true);
    await expect(alone.getMemories('x', ['huge'])).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      field: 'sync.get',
    });
    expect(gets).toEqual([{ memories: ['huge'], links: [] }]);
  });

  it('reads more than 1,000 link ids in requests the edge takes', async () => {
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const ns = freshNamespace('many-links');
    const mem = await createMemory({ store, namespace: ns });
    const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
    const link = await mem.link(a!.id, b!.id, 'rel');
    const asked = [...Array.from({ length: 1000 }, (_, i) => `missing-${i}`), link.id];
    expect((await store.getLinks(ns, asked)).map((r) => r.link.id)).toEqual([link.id]);
  });

  it('reads the tombstones of more than 1,000 ids in requests the edge takes', async () => {
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const ns = freshNamespace('many-tombstones');
    const mem = await createMemory({ store, namespace: ns });
    const gone = await mem.add({ content: 'gone' });
    await mem.remove(gone.id);
    const asked = [...Array.from({ length: 1000 }, (_, i) => `missing-${i}`), gone.id];
    expect((await store.getTombstones(ns, asked)).map((t) => t.id)).toEqual([gone.id]);
  });

  it('answers each id asked twice once', async () => {
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const ns = freshNamespace('twice');
    const mem = await createMemory({ store, namespace: ns });
    const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
    expect((await store.getMemories(ns, [b!.id, a!.id, b!.id])).map((r) => r.memory.id)).toEqual([
      b!.id,
      a!.id,
    ]);
  });

  it('sends JSON as JSON: a content-type with a body, none without', async () => {
    const sent: Array<[string, string | null]> = [];
    const store = new RemoteStore({
      url,
      token: tokenFor,
      fetch: (input, init) => {
        sent.push([init.method ?? 'GET', new Headers(init.headers).get('content-type')]);
        return app.request(input, init);
      },
    });
    const ns = freshNamespace('content-type');
    await store.getMemories(ns, ['x']);
    await store.list(ns, { limit: 5, tagMode: 'any', now: new Date().toISOString() });
    expect(sent).toEqual([
      ['POST', 'application/json'],
      ['GET', null],
    ]);
  });

  it('sends a language other than English with every push, so an edge that lost the namespace has it again', async () => {
    const ns = freshNamespace('lost-language');
    const edges = [new InMemoryStore(), new InMemoryStore()].map((store) =>
      createEdgeApp({ store, secret: SECRET, logger: false, maxClockSkewMs: SYNTHETIC_CLOCKS }),
    );
    let edge = edges[0]!;
    const store = new RemoteStore({
      url,
      token: tokenFor,
      fetch: (input, init) => edge.request(input, init),
    });
    const mem = await createMemory({ store, namespace: ns, language: 'german' });
    await mem.add({ content: 'Die Kinder spielten im Garten' });
    // The edge's database is replaced by an empty one: the next push sets the language again.
    edge = edges[1]!;
    await mem.add({ content: 'Die Häuser stehen am Fluss' });
    const fresh = new RemoteStore({
      url,
      token: tokenFor,
      fetch: (input, init) => edge.request(input, init),
    });
    expect(await fresh.getMeta(ns, 'language')).toBe('german');
    await mem.close();
  });

  it("keeps meta as it was given: a later change to the caller's object does not reach it", async () => {
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const ns = freshNamespace('meta-copy');
    const value = { cursor: 1, seen: ['a'] };
    await store.apply(ns, { meta: { state: value } });
    value.seen.push('b');
    const read = (await store.getMeta(ns, 'state')) as { seen: string[] };
    expect(read).toEqual({ cursor: 1, seen: ['a'] });
    read.seen.push('c');
    expect(await store.getMeta(ns, 'state')).toEqual({ cursor: 1, seen: ['a'] });
  });

  it('answers latestSeq with the feed end the edge gives, undefined when it cannot tell', async () => {
    const answering = (body: unknown) =>
      new RemoteStore({ url, token: 't.t.t', fetch: async () => Response.json(body) });
    expect(await answering({ pull: { changes: [], cursor: 42, hasMore: false } }).latestSeq('x')).toBe(42);
    // An edge that echoes the position asked from knows no end.
    const echo = { pull: { changes: [], cursor: Number.MAX_SAFE_INTEGER, hasMore: false } };
    expect(await answering(echo).latestSeq('x')).toBeUndefined();
    expect(await answering({}).latestSeq('x')).toBeUndefined();
    // An empty 200 answer is no edge's: OFFLINE, as any other body that is not an Engram answer.
    const empty = new RemoteStore({
      url,
      token: 't.t.t',
      fetch: async () => new Response('', { status: 200 }),
    });
    await expect(empty.latestSeq('x')).rejects.toMatchObject({ code: 'OFFLINE' });
    await expect(empty.getMeta('x', 'language')).rejects.toMatchObject({ code: 'OFFLINE' });
  });

  it('reads the namespaces of a token whose claims hold base64url characters, strings only', async () => {
    const encode = (claims: unknown) => Buffer.from(JSON.stringify(claims)).toString('base64url');
    // Names picked so that the payload holds both '-' and '_', which plain base64 spells '+' and '/'.
    const claims = { ns: ['>>>', '???', 7, null, 'plain'] };
    const payload = encode(claims);
    expect(payload).toMatch(/-/);
    expect(payload).toMatch(/_/);
    const store = new RemoteStore({ url, token: `e30.${payload}.sig`, fetch: inProcess });
    expect(await store.namespaces()).toEqual(['>>>', '???', 'plain']);
  });

  it('answers latestSeq with the newest position of the feed on a real edge, not its first', async () => {
    const ns = freshNamespace('latest');
    const local = await createMemory({ store: server, namespace: ns });
    await local.addMany([{ content: 'a' }, { content: 'b' }, { content: 'c' }]);
    const feed = await server.changes(ns, 0, 100);
    expect(feed.length).toBeGreaterThan(1);
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    expect(await store.latestSeq(ns)).toBe(feed.at(-1)!.seq);
  });

  it('answers linksOf with a link between two of the memories asked once', async () => {
    const ns = freshNamespace('links-of');
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    const mem = await createMemory({ store, namespace: ns });
    const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
    const link = await mem.link(a!.id, b!.id, 'rel');
    const found = await store.linksOf(ns, [a!.id, b!.id], { direction: 'both' });
    expect(found.map((r) => r.link.id)).toEqual([link.id]);
  });

  it('stops paging list and changes at a short page, asking no more', async () => {
    const ns = freshNamespace('short-page');
    const { calls, fetch } = counting();
    const store = new RemoteStore({ url, token: tokenFor, fetch });
    const mem = await createMemory({ store, namespace: ns });
    await mem.addMany([{ content: 'a' }, { content: 'b' }, { content: 'c' }]);
    calls.length = 0;
    const now = new Date().toISOString();
    expect(await store.list(ns, { limit: 10, tagMode: 'any', now })).toHaveLength(3);
    expect(calls).toEqual([`GET /v1/ns/${ns}/memories`]);
    calls.length = 0;
    expect((await store.changes(ns, 0, 100)).length).toBeGreaterThanOrEqual(3);
    expect(calls).toEqual([`POST /v1/ns/${ns}/sync`]);
  });

  it('reads the key info of an encrypted namespace from the edge when asked first, and asks once', async () => {
    const ns = freshNamespace('key-info');
    const { info } = await NamespaceCipher.create({ passphrase: 'correct horse', iterations: 1000 });
    const writer = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    await writer.apply(ns, { meta: { [KEY_INFO_META]: info as unknown as Json } });
    const { calls, fetch } = counting();
    const reader = new RemoteStore({ url, token: tokenFor, fetch });
    expect(await reader.getMeta(ns, KEY_INFO_META)).toEqual(info);
    expect(await reader.getMeta(ns, KEY_INFO_META)).toEqual(info);
    expect(calls).toHaveLength(1);
  });

  it('sends an id holding /, ? or # as one path segment: the edge refuses it, no other route or memory answers', async () => {
    const ns = freshNamespace('segment');
    const store = new RemoteStore({ url, token: tokenFor, fetch: inProcess });
    for (const id of ['a/b', 'a?b', 'a#b']) {
      await expect(store.linksOf(ns, [id], { direction: 'both' }), id).rejects.toMatchObject({
        code: 'VALIDATION',
        field: 'links.id',
      });
      await expect(
        store.neighbors(ns, id, { direction: 'both', now: new Date().toISOString(), depth: 1 }),
        id,
      ).rejects.toMatchObject({ code: 'VALIDATION', field: 'neighbors.id' });
    }
  });

  it('gives a request 15 000 ms by default', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const never = () => new Promise<Response>(() => {});
      const store = new RemoteStore({ url: 'http://edge.test', token: 't.t.t', fetch: never });
      let outcome: string | undefined;
      store.getMemories('x', ['y']).then(
        () => {
          outcome = 'answered';
        },
        (error: Error) => {
          outcome = error.message;
        },
      );
      await vi.advanceTimersByTimeAsync(14_999);
      expect(outcome).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(outcome).toBe('RemoteStore: cannot reach http://edge.test: no answer within 15000 ms');
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a path prefix of the url and fails clearly once closed', async () => {
    const seen: string[] = [];
    const store = new RemoteStore({
      url: 'https://gateway.example/engram/',
      token: tokenFor,
      fetch: (input, init) => {
        seen.push(String(input));
        return app.request(String(input).replace('/engram', ''), init);
      },
    });
    await store.getMemories('prefixed', ['x']);
    expect(seen).toEqual(['https://gateway.example/engram/v1/ns/prefixed/sync']);
    await store.close();
    await expect(store.getMemories('prefixed', ['x'])).rejects.toMatchObject({ code: 'STORAGE' });
  });
});
