import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createEdgeApp,
  mintToken,
  PostgresStore,
  pglite,
  type RequestLogEntry,
} from '../../src/edge/index.js';
import { createMemory, InMemoryStore, type MemoryStore } from '../../src/index.js';
import { PrivateFieldStore } from './helpers.js';

const SECRET = 'quota-test-secret-0123456789abcdef';
const db = await PGlite.create();
afterAll(() => db.close());

describe.each([
  ['in-memory', () => new InMemoryStore() as MemoryStore],
  ['PGlite', () => new PostgresStore(pglite(db)) as MemoryStore],
])('per-namespace quota on %s', (_name, makeStore) => {
  let n = 0;
  async function edge(
    quota: { memories?: number; bytes?: number },
    store = makeStore(),
    ns = `quota-${++n}-${Math.random().toString(36).slice(2, 7)}`,
  ) {
    const app = createEdgeApp({ store, secret: SECRET, logger: false, quota });
    const token = await mintToken({ secret: SECRET, ns });
    const call = (method: string, path: string, body?: unknown) =>
      app.request(`/v1/ns/${ns}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    return { app, ns, token, call, store };
  }
  const replicaOf = (app: ReturnType<typeof createEdgeApp>, ns: string, token: string) =>
    createMemory({
      store: new InMemoryStore(),
      namespace: ns,
      sync: {
        url: 'http://edge.test',
        token,
        intervalMs: 0,
        live: false,
        fetch: ((i: RequestInfo | URL, init?: RequestInit) =>
          app.fetch(new Request(i, init))) as typeof fetch,
      },
    });

  it('refuses the memory past `memories` whole, with 403 naming quota.memories; deletes and edits pass', async () => {
    const { call } = await edge({ memories: 3 });
    const made = await call('POST', '/memories', [{ content: 'one' }, { content: 'two' }]);
    expect(made.status).toBe(201);
    const ids = ((await made.json()) as Array<{ id: string }>).map((m) => m.id);
    expect((await call('POST', '/memories', { content: 'three' })).status).toBe(201);
    const over = await call('POST', '/memories', [{ content: 'four' }, { content: 'five' }]);
    expect(over.status).toBe(403);
    expect(await over.json()).toMatchObject({
      error: {
        code: 'FORBIDDEN',
        field: 'quota.memories',
        message: expect.stringMatching(/at most 3 memories; it holds 3/),
      },
    });
    expect(((await (await call('GET', '/memories')).json()) as { items: unknown[] }).items).toHaveLength(3);
    expect((await call('PATCH', `/memories/${ids[0]}`, { content: 'one, edited' })).status).toBe(200);
    expect((await call('DELETE', `/memories/${ids[1]}`)).status).toBe(204);
    expect((await call('POST', '/memories', { content: 'fits again' })).status).toBe(201);
  });

  it('counts bytes of content and metadata; growing past `bytes` is refused, shrinking passes', async () => {
    const { call } = await edge({ bytes: 100 });
    const first = await call('POST', '/memories', { content: 'x'.repeat(40), metadata: { k: 'v' } });
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };
    const over = await call('POST', '/memories', { content: 'é'.repeat(30) }); // 60 bytes of UTF-8
    expect(over.status).toBe(403);
    expect(await over.json()).toMatchObject({ error: { code: 'FORBIDDEN', field: 'quota.bytes' } });
    expect((await call('PATCH', `/memories/${id}`, { content: 'x'.repeat(95) })).status).toBe(403);
    expect((await call('PATCH', `/memories/${id}`, { content: 'short' })).status).toBe(200);
    expect((await call('POST', '/memories', { content: 'é'.repeat(30) })).status).toBe(201);
    // Metadata counts as content does: an edit that grows it past the quota is refused too.
    const grown = await call('PATCH', `/memories/${id}`, { metadata: { k: 'v'.repeat(60) } });
    expect(grown.status).toBe(403);
    expect(await grown.json()).toMatchObject({ error: { code: 'FORBIDDEN', field: 'quota.bytes' } });
  });

  it('an edit of the metadata alone counts the content it keeps', async () => {
    const { call } = await edge({ bytes: 100 });
    const made = await call('POST', '/memories', { content: 'x'.repeat(90) });
    const { id } = (await made.json()) as { id: string };
    // 90 bytes of content and 2 of metadata ({}): 13 of metadata take it to 103.
    const grown = await call('PATCH', `/memories/${id}`, { metadata: { k: 'vvvvv' } });
    expect(grown.status).toBe(403);
    expect(await grown.json()).toMatchObject({ error: { code: 'FORBIDDEN', field: 'quota.bytes' } });
    expect((await call('PATCH', `/memories/${id}`, { metadata: { k: 'v' } })).status).toBe(200);
  });

  it('a namespace over a quota lowered after the fact can still edit what it holds, not add to it', async () => {
    const { store, ns, call: unlimited } = await edge({});
    const made = await unlimited('POST', '/memories', [{ content: 'a' }, { content: 'b' }, { content: 'c' }]);
    const [first] = (await made.json()) as Array<{ id: string }>;
    const { call } = await edge({ memories: 1 }, store, ns);
    expect((await call('PATCH', `/memories/${first!.id}`, { content: 'a, longer now' })).status).toBe(200);
    const added = await call('POST', '/memories', { content: 'd' });
    expect(added.status).toBe(403);
    expect(await added.json()).toMatchObject({ error: { code: 'FORBIDDEN', field: 'quota.memories' } });
  });

  it('a pushed edit of a memory the server does not hold adds nothing, so a full namespace takes it', async () => {
    const { call } = await edge({ memories: 1 });
    expect((await call('POST', '/memories', { content: 'the one the quota allows' })).status).toBe(201);
    const stamp = '0190a1b2c3d4-0000-n1';
    const push = { memories: [{ id: 'not-here', values: { content: 'x' }, clocks: { content: stamp } }] };
    const res = await call('POST', '/sync', { push });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { push: { rejected: string[] } }).push.rejected).toEqual(['not-here']);
  });

  it('a replica pushing past the quota gets FORBIDDEN, keeps its writes pending, and nothing is stored', async () => {
    const { app, ns, token, call } = await edge({ memories: 2 });
    const mem = await replicaOf(app, ns, token);
    await mem.addMany([{ content: 'a' }, { content: 'b' }, { content: 'c' }]);
    await expect(mem.sync()).rejects.toMatchObject({ code: 'FORBIDDEN', field: 'quota.memories' });
    expect(mem.status).toMatchObject({ state: 'error', pending: 3 });
    expect(((await (await call('GET', '/memories')).json()) as { items: unknown[] }).items).toHaveLength(0);
    expect((await mem.list()).items).toHaveLength(3);
    await mem.close();
  });

  it('a push of one memory past the quota keeps it pending too: it is not set aside as refused', async () => {
    const { app, ns, token, call } = await edge({ memories: 1 });
    await call('POST', '/memories', { content: 'the one the quota allows' });
    const mem = await replicaOf(app, ns, token);
    await mem.add({ content: 'one past the quota' });
    await expect(mem.sync()).rejects.toMatchObject({ code: 'FORBIDDEN', field: 'quota.memories' });
    expect(mem.status).toMatchObject({ state: 'error', pending: 1 });
    expect(await mem.rejected()).toEqual([]);
    await mem.close();
  });
});

describe('quota options', () => {
  it('a store that cannot measure usage fails a write as STORAGE, and the log says why', async () => {
    const store = new InMemoryStore();
    Object.defineProperty(store, 'usage', { value: undefined });
    const logged: RequestLogEntry[] = [];
    const app = createEdgeApp({
      store,
      secret: SECRET,
      logger: (e) => logged.push(e),
      quota: { memories: 5 },
    });
    const token = await mintToken({ secret: SECRET, ns: 'unmeasured' });
    const res = await app.request('/v1/ns/unmeasured/memories', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'x' }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('STORAGE');
    expect(String(logged[0]?.error)).toContain("store cannot measure a namespace's usage");
    expect(await store.changes('unmeasured', 0, 10)).toEqual([]);
  });

  it('serves a store class with private (#) fields, live news off', async () => {
    // Called through the quota's proxy, a method must still run on the store itself: `this.#field`
    // throws a TypeError on anything else.
    const store = new PrivateFieldStore();
    const app = createEdgeApp({ store, secret: SECRET, logger: false, live: false, quota: { memories: 5 } });
    // /health reads one meta key through the request's store.
    const res = await app.request('/health');
    expect(res.status).toBe(200);
    expect(store.reads).toBeGreaterThan(0);
  });

  it('a bad limit is a VALIDATION error naming it', () => {
    for (const quota of [{ memories: -1 }, { bytes: 1.5 }, { memories: Number.NaN }]) {
      expect(() => createEdgeApp({ store: new InMemoryStore(), secret: SECRET, quota })).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: expect.stringMatching(/^quota\./) }),
      );
    }
    // 0 is a limit (a namespace that may hold nothing), not a mistake.
    expect(() =>
      createEdgeApp({ store: new InMemoryStore(), secret: SECRET, quota: { memories: 0, bytes: 0 } }),
    ).not.toThrow();
  });
});
