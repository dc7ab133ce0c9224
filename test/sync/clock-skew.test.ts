import 'fake-indexeddb/auto';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, type Engram, InMemoryStore, type MemoryStore } from '../../src/index.js';
import { SECRET, testApp } from '../edge/helpers.js';

const db = await PGlite.create();
afterAll(() => db.close());

const hex = (ms: number) => Math.floor(ms).toString(16).padStart(12, '0');
const stampAt = (ms: number, node = 'attacker') => `${hex(ms)}-0000-${node}`;
const YEAR_2100 = '03bb2cc3d800-0000-attacker';
const HOUR = 3_600_000;

async function seed(call: Awaited<ReturnType<typeof testApp>>['call'], id = 'victim') {
  const res = await call('POST', '/v1/ns/demo/memories', { id, content: 'original' });
  expect(res.status).toBe(201);
}

describe('bounded clock skew at the edge', () => {
  for (const [name, stamp] of [
    ['year 2100', YEAR_2100],
    ['25 h ahead', () => stampAt(Date.now() + 25 * HOUR)],
    ['the largest stamp', 'ffffffffffff-ffff-zzzzzzzz'],
    ['61 s ahead', () => stampAt(Date.now() + 61_000)],
  ] as const) {
    it(`refuses a pushed stamp from ${name} with VALIDATION naming the field, and PATCH still wins`, async () => {
      const { call } = await testApp({ store: new PostgresStore(pglite(db)), ns: ['demo'] });
      const ns = `demo`;
      await call('DELETE', `/v1/ns/${ns}/memories/victim`);
      const id = `victim-${Math.random().toString(36).slice(2, 8)}`;
      await seed(call, id);
      const forged = typeof stamp === 'function' ? stamp() : stamp;
      const res = await call('POST', `/v1/ns/${ns}/sync`, {
        push: { memories: [{ id, values: { content: 'FORGED' }, clocks: { content: forged } }] },
      });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({
        code: 'VALIDATION',
        field: 'sync.push.memories.0.clocks.content',
      });
      expect(res.json.error.message).toMatch(/ahead of the server clock/);
      const patched = await call('PATCH', `/v1/ns/${ns}/memories/${id}`, { content: 'edited' });
      expect(patched.json.content).toBe('edited');
    });
  }

  it('accepts a stamp within the bound, and maxClockSkewMs is an option of createEdgeApp', async () => {
    const { call } = await testApp({ maxClockSkewMs: 2 * HOUR });
    await seed(call);
    const ok = await call('POST', '/v1/ns/demo/sync', {
      push: {
        memories: [
          { id: 'victim', values: { content: 'ahead' }, clocks: { content: stampAt(Date.now() + HOUR) } },
        ],
      },
    });
    expect(ok.status).toBe(200);
    expect(ok.json.serverTime).toBeTypeOf('number');
    expect(ok.json.maxClockSkewMs).toBe(2 * HOUR);
    expect(() => createEdgeApp({ store: new InMemoryStore(), secret: SECRET, maxClockSkewMs: -1 })).toThrow(
      /maxClockSkewMs/,
    );
  });

  it('refuses a createdAt from the future and a tombstone stamped in the future', async () => {
    const { call } = await testApp();
    const future = new Date(Date.now() + 2 * HOUR).toISOString();
    const now = stampAt(Date.now(), 'x');
    const create = await call('POST', '/v1/ns/demo/sync', {
      push: {
        memories: [
          {
            id: 'later',
            create: { namespace: 'demo', createdAt: future },
            values: { content: 'x' },
            clocks: { content: now },
          },
        ],
      },
    });
    expect(create.json.error.field).toBe('sync.push.memories.0.create.createdAt');
    const tomb = await call('POST', '/v1/ns/demo/sync', {
      push: {
        tombstones: [{ entity: 'memory', id: 'a', namespace: 'demo', clock: stampAt(Date.now() + HOUR) }],
      },
    });
    expect(tomb.json.error.field).toBe('sync.push.tombstones.0.clock');
  });

  it('refuses a link stamped ahead too, saying how far ahead in a unit a person reads', async () => {
    const { call } = await testApp();
    const push = (ms: number) =>
      call('POST', '/v1/ns/demo/sync', {
        push: { links: [{ id: 'l', values: { type: 'x' }, clocks: { type: stampAt(ms) } }] },
      });
    const minutes = await push(Date.now() + 10 * 60_000);
    expect(minutes.json.error).toMatchObject({ code: 'VALIDATION', field: 'sync.push.links.0.clocks.type' });
    expect(minutes.json.error.message).toMatch(/the stamp is 10 min ahead of the server clock/);
    expect((await push(Date.now() + 5 * HOUR)).json.error.message).toMatch(/ 5 h ahead/);
    expect((await push(Date.now() + 3 * 24 * HOUR)).json.error.message).toMatch(/ 3 days ahead/);
  });

  it('a stamp stored in the future before the bound existed no longer freezes the field', async () => {
    const store = new PostgresStore(pglite(db));
    const { call } = await testApp({ store, ns: ['legacy'] });
    const created = await call('POST', '/v1/ns/legacy/memories', { id: 'old', content: 'original' });
    expect(created.status).toBe(201);
    // Written straight into the store, as an older server without the bound would have.
    await store.apply('legacy', {
      memories: [{ id: 'old', values: { content: 'FORGED' }, clocks: { content: YEAR_2100 } }],
      origin: 'remote',
    });
    const patched = await call('PATCH', '/v1/ns/legacy/memories/old', { content: 'mine again' });
    expect(patched.json.content).toBe('mine again');
    expect((await call('GET', '/v1/ns/legacy/memories/old')).json.content).toBe('mine again');

    // A replica that pulled the forged stamp also gets its edit through, locally and on the server.
    await store.apply('legacy', {
      memories: [{ id: 'old', values: { content: 'FORGED' }, clocks: { content: 'ffffffffffff-ffff-zzz' } }],
      origin: 'remote',
    });
    const token = await mintToken({ secret: SECRET, ns: ['legacy'] });
    const app = createEdgeApp({ store, secret: SECRET, logger: false });
    const mem = await createMemory({
      namespace: 'legacy',
      sync: {
        url: 'http://edge.test',
        token,
        fetch: (r, i) => Promise.resolve(app.request(r as string, i)),
        intervalMs: 0,
      },
    });
    await mem.sync();
    expect((await mem.get('old'))?.content).toBe('FORGED');
    expect((await mem.update('old', { content: 'user edit' })).content).toBe('user edit');
    await mem.sync();
    expect((await call('GET', '/v1/ns/legacy/memories/old')).json.content).toBe('user edit');
    await mem.close();
  });

  it('a stamp a replica stored in the future before the bound existed gives way to the next pulled edit', async () => {
    const { app, call } = await testApp({ ns: ['legacy'] });
    const token = await mintToken({ secret: SECRET, ns: ['legacy'] });
    const sync = {
      url: 'http://edge.test',
      token,
      fetch: (r: RequestInfo | URL, i?: RequestInit) => Promise.resolve(app.request(r as string, i)),
      intervalMs: 0,
    };
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'legacy', sync });
    const m = await mem.add({ content: 'original' });
    await mem.sync();
    // Stamped in 2100 by a release before the bound (pulled from an older edge, say), in this store only.
    const [held] = await store.getMemories('legacy', [m.id]);
    await store.apply('legacy', {
      memories: [
        { id: m.id, values: { content: 'FROZEN' }, clocks: { ...held!.clocks, content: YEAR_2100 } },
      ],
      origin: 'remote',
    });
    expect(
      (await call('PATCH', `/v1/ns/legacy/memories/${m.id}`, { content: 'edited elsewhere' })).status,
    ).toBe(200);
    await mem.sync();
    expect((await mem.get(m.id))?.content).toBe('edited elsewhere');
    await mem.close();
  });

  it("one namespace's pushes never move another namespace's timestamps", async () => {
    const { call, token } = await testApp({ ns: ['x', 'y'], maxClockSkewMs: 24 * HOUR });
    expect(token).toBeTruthy();
    await call('POST', '/v1/ns/x/memories', { id: 'm', content: 'x' });
    const ahead = await call('POST', '/v1/ns/x/sync', {
      push: {
        memories: [
          { id: 'm', values: { content: 'ahead' }, clocks: { content: stampAt(Date.now() + 23 * HOUR) } },
        ],
      },
    });
    expect(ahead.status).toBe(200);
    const before = Date.now();
    const made = await call('POST', '/v1/ns/y/memories', { content: 'in y' });
    expect(Date.parse(made.json.createdAt)).toBeLessThan(before + 60_000);
    const listed = await call('GET', `/v1/ns/y/memories?until=${new Date(Date.now() + 1000).toISOString()}`);
    expect(listed.json.items.map((m: { id: string }) => m.id)).toEqual([made.json.id]);
  });
});

describe('replicas whose clock is wrong', () => {
  async function edge(store: MemoryStore = new InMemoryStore()) {
    const app = createEdgeApp({ store, secret: SECRET, logger: false });
    const token = await mintToken({ secret: SECRET, ns: ['skew'] });
    const fetch = (r: RequestInfo | URL, i?: RequestInit) => Promise.resolve(app.request(r as string, i));
    return { token, fetch: fetch as typeof globalThis.fetch };
  }

  it('a device a day ahead syncs, and an edit made later elsewhere still wins', async () => {
    const { token, fetch } = await edge();
    const sync = { url: 'http://edge.test', token, fetch, intervalMs: 0 };
    const ahead = await createMemory({ namespace: 'skew', now: () => Date.now() + 24 * HOUR, sync });
    const honest = await createMemory({ namespace: 'skew', sync });
    // Written before the first round, with the wrong clock: restamped by the offset when pushed.
    const m = await ahead.add({ content: 'from the future device' });
    expect(Date.parse(m.createdAt)).toBeGreaterThan(Date.now() + 23 * HOUR);
    await ahead.sync();
    expect(ahead.status.state).toBe('online');
    await honest.sync();
    expect(Date.parse((await honest.get(m.id))!.createdAt)).toBeLessThan(Date.now() + 60_000);
    await honest.update(m.id, { content: 'honest edit' });
    await honest.sync();
    await ahead.sync();
    expect((await ahead.get(m.id))?.content).toBe('honest edit');
    await ahead.update(m.id, { content: 'ahead edits last' });
    await ahead.sync();
    await honest.sync();
    expect((await honest.get(m.id))?.content).toBe('ahead edits last');
    await Promise.all([ahead.close(), honest.close()]);
  });

  it('a device clock that jumps ahead mid-session is refused with a clock message, then recovers', async () => {
    const { token, fetch } = await edge();
    let jump = 0;
    const mem = await createMemory({
      namespace: 'skew',
      now: () => Date.now() + jump,
      sync: { url: 'http://edge.test', token, fetch, intervalMs: 0, debounceMs: 3_600_000 },
    });
    await mem.sync();
    jump = 5 * HOUR;
    await mem.add({ content: 'written after the jump' });
    await expect(mem.sync()).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(mem.status.state).toBe('error');
    expect(mem.status.error).toMatch(/clock/);
    // The next round hears the edge's time first and restamps: no loop, no loss.
    await mem.sync();
    expect(mem.status).toMatchObject({ state: 'online', pending: 0 });
    await mem.close();
  });
});

describe('a device clock set back between sessions', () => {
  const DAY = 24 * HOUR;
  /** An edge on the test's clock `t`, and a replica `b` on IndexedDB whose device clock is `t + skew`. */
  async function world() {
    const clock = { t: Date.parse('2031-05-01T00:00:00.000Z'), skew: 0, offline: false, pullsLost: false };
    const now = () => clock.t;
    const ns = `set-back-${Date.now().toString(36)}`;
    const server = new InMemoryStore();
    const app = createEdgeApp({ store: server, secret: SECRET, logger: false, live: false, now });
    const token = await mintToken({ secret: SECRET, ns: [ns] });
    const sync = (cut: (body: string) => boolean) => ({
      url: 'http://edge.test',
      token,
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        if (cut(String(init?.body))) throw new TypeError('fetch failed: offline');
        return app.fetch(new Request(input, init));
      }) as typeof fetch,
      intervalMs: 0,
      live: false,
      backoff: { baseMs: 600_000 },
    });
    const name = `${ns}-${process.pid}`;
    const a = await createMemory({ namespace: ns, now, sync: sync(() => false) });
    const openB = () =>
      createMemory({
        store: new IndexedDBStore({ name }),
        namespace: ns,
        now: () => clock.t + clock.skew,
        sync: sync((body) => clock.offline || (clock.pullsLost && body.includes('"pull"'))),
      });
    return { clock, ns, server, a, openB };
  }
  type World = Awaited<ReturnType<typeof world>>;

  it('an offline edit made after it wins on the edge too, instead of the two disagreeing for good', async () => {
    const { clock, ns, server, a, openB } = await world();
    const m = await a.add({ content: 'first' });
    await a.sync();
    const b = await openB();
    await b.sync();
    clock.t += HOUR;
    await a.update(m.id, { content: 'a edits an hour later' });
    await a.sync();
    await b.sync();
    await b.close();
    clock.offline = true;
    clock.t += HOUR;
    clock.skew = -30 * DAY;
    const reopened = await openB();
    await reopened.update(m.id, { content: 'b edits last, offline' });
    await expect(reopened.sync()).rejects.toMatchObject({ code: 'OFFLINE' });
    clock.offline = false;
    await reopened.sync();
    await a.sync();
    expect((await server.getMemories(ns, [m.id]))[0]?.memory.content).toBe('b edits last, offline');
    expect((await a.get(m.id))?.content).toBe('b edits last, offline');
    expect((await reopened.get(m.id))?.content).toBe('b edits last, offline');
    await Promise.all([a.close(), reopened.close()]);
  });

  /**
   * b syncs and closes (after `beforeClose`); a deletes a memory, which the edge collects past the 30-day
   * horizon; b comes back with its clock set back to the start of the year and writes offline, then
   * syncs: it must re-sync, miss the delete no more, and keep (and push) its own write.
   */
  async function reSyncAfterSetBack(beforeClose: (w: World, b: Engram) => Promise<void>) {
    const w = await world();
    const { clock, ns, server, a, openB } = w;
    await a.add({ id: 'gone', content: 'deleted while b was away' });
    await a.sync();
    const b = await openB();
    await b.sync();
    await beforeClose(w, b);
    await b.close();
    clock.offline = true;
    await a.remove('gone');
    await a.sync();
    // A minute on (the edge notes how far its feed reached), then past the 30-day horizon: collected.
    clock.t += 60_000;
    await a.sync();
    clock.t += 31 * DAY;
    await a.sync();
    // b's battery died: its clock restarts at the start of the year, and it works offline.
    clock.skew = Date.parse('2031-01-01T00:00:00.000Z') - clock.t;
    const reopened = await openB();
    const own = await reopened.add({ content: 'written offline with a clock set back' });
    await expect(reopened.sync()).rejects.toMatchObject({ code: 'OFFLINE' });
    clock.offline = false;
    await reopened.sync();
    expect(await reopened.get('gone')).toBeNull();
    expect(await reopened.get(own.id)).toMatchObject({ content: 'written offline with a clock set back' });
    expect((await server.getMemories(ns, [own.id])).map((r) => r.memory.content)).toEqual([
      'written offline with a clock set back',
    ]);
    await Promise.all([a.close(), reopened.close()]);
  }

  it('a re-sync keeps what it wrote offline, though its last push was in a round whose pull was lost', async () => {
    await reSyncAfterSetBack(async ({ clock }, b) => {
      clock.t += HOUR;
      await b.add({ content: 'pushed by b' });
      // The edge takes the push; the pull never comes back: the round fails after it.
      clock.pullsLost = true;
      await expect(b.sync()).rejects.toMatchObject({ code: 'OFFLINE' });
      clock.pullsLost = false;
    });
  });

  it('a re-sync past the tombstone horizon keeps what it wrote offline', async () => {
    await reSyncAfterSetBack(async () => {});
  });
});
