import 'fake-indexeddb/auto';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { PostgresStore, pglite, postgresJs } from '../../src/backends/postgres/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import {
  COLLECTED_SEQ_META,
  createMemory,
  type Engram,
  InMemoryStore,
  type MemoryStore,
} from '../../src/index.js';

const DAY = 86_400_000;
/** The edge's maintenance runs at most once a minute per namespace (and notes how far its feed reached). */
const MINUTE = 60_000;
const SECRET = 'horizon-secret';
const pg = await PGlite.create();
const url = process.env.DATABASE_URL;
const schema = `horizon_${process.pid}_${Date.now()}`;
const admin = url ? postgres(url, { max: 1, onnotice: () => {} }) : null;
if (admin) await admin.unsafe(`CREATE SCHEMA ${schema}`);
afterAll(async () => {
  await pg.close();
  if (admin) {
    await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
});

type ServerCase = [string, () => MemoryStore];
const servers: ServerCase[] = [
  ['InMemoryStore', () => new InMemoryStore()],
  ['PGlite', () => new PostgresStore(pglite(pg))],
];
// Real Postgres where the machine has one (DATABASE_URL; see test/setup/real-postgres.ts).
if (url) {
  servers.push([
    'Postgres',
    () => new PostgresStore(postgresJs(url, { max: 2, connection: { search_path: schema } })),
  ]);
}

let counter = 0;
const replicaStores: Array<[string, () => MemoryStore]> = [
  ['InMemoryStore', () => new InMemoryStore()],
  ['SqlJsStore', () => new SqlJsStore()],
  ['IndexedDBStore', () => new IndexedDBStore({ name: `horizon-${process.pid}-${++counter}` })],
];

/**
 * `by` syncs a minute later (the edge's maintenance notes how far its feed reached: the deletes arrived by
 * then), then 31 days later, past the horizon, so the edge collects the tombstones it held that long.
 * `later` moves the test's clock.
 */
async function collectPastHorizon(later: (ms: number) => void, by: Engram): Promise<void> {
  later(MINUTE);
  await by.sync();
  later(31 * DAY);
  await by.sync();
}

async function snapshot(mem: Engram) {
  const items = (await mem.list({ limit: 100 })).items;
  const links = await Promise.all(items.map((m) => mem.links(m.id, { direction: 'out' })));
  return { items, links: links.flat().sort((a, b) => (a.id < b.id ? -1 : 1)) };
}

/** An edge on an InMemoryStore at the test's clock, and fetches to it that fail while `lost(init)` says so. */
function memoryEdge(now: () => number) {
  const server = new InMemoryStore();
  const app = createEdgeApp({ store: server, secret: SECRET, logger: false, live: false, now });
  const fetchTo = (lost: (init?: RequestInit) => boolean = () => false) =>
    (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (lost(init)) throw new TypeError('fetch failed');
      return app.fetch(new Request(input, init));
    }) as typeof fetch;
  return { server, fetchTo };
}

describe.each(servers)('a replica offline past the tombstone horizon (edge on %s)', (_, makeServer) => {
  it.each(replicaStores)(
    'on %s re-syncs in full: its unsynced writes survive, deletions arrive, nothing resurrects',
    async (_name, makeReplica) => {
      let t = Date.parse('2031-03-01T00:00:00.000Z');
      const now = () => t;
      const ns = `h-${++counter}-${Date.now().toString(36)}`;
      const server = makeServer();
      const app = createEdgeApp({ store: server, secret: SECRET, logger: false, live: false, now });
      let bOffline = false;
      const fetchFor =
        (offline: () => boolean): typeof fetch =>
        async (input, init) => {
          if (offline()) throw new TypeError('fetch failed: offline');
          return app.fetch(new Request(input, init));
        };
      const token = await mintToken({ secret: SECRET, ns: [ns] });
      const sync = (offline: () => boolean) => ({
        url: 'http://edge.test',
        token,
        fetch: fetchFor(offline),
        intervalMs: 0,
        live: false,
        backoff: { baseMs: 600_000 },
      });
      const a = await createMemory({ namespace: ns, now, sync: sync(() => false) });
      const b = await createMemory({ store: makeReplica(), namespace: ns, now, sync: sync(() => bOffline) });

      await a.addMany([
        { id: 'deleted', content: 'deleted on the server while b was away' },
        { id: 'shared', content: 'edited on both sides', tags: ['start'] },
        { id: 'also-deleted', content: 'deleted by both' },
      ]);
      await a.link('deleted', 'shared', 'related_to');
      await a.sync();
      await b.sync();
      expect((await b.list()).items).toHaveLength(3);

      bOffline = true;
      t += 1000;
      await a.remove('deleted');
      await a.remove('also-deleted');
      await a.update('shared', { content: 'edited on a' });
      await a.sync();
      t += 1000;
      // Offline edits: of a record the server deleted, a record of b's own, and a concurrent edit.
      await b.update('deleted', { content: 'b edits what the server deleted' });
      await b.remove('also-deleted');
      const own = await b.add({ id: 'own', content: 'written by b while offline' });
      await b.link('own', 'shared', 'part_of');
      await b.update('shared', { tags: ['from-b'] });
      await expect(b.sync()).rejects.toMatchObject({ code: 'OFFLINE' });

      await collectPastHorizon((ms) => (t += ms), a);
      expect(await server.getTombstones(ns, ['deleted', 'also-deleted'])).toEqual([]);
      const collected = await server.getMeta(ns, COLLECTED_SEQ_META);
      expect(collected).toBeGreaterThan((await b.store.getMeta(ns, 'sync.cursor')) as number);

      bOffline = false;
      await b.sync();
      // b: the deleted record is gone (its pending edit lost, as to a tombstone), its own writes survive.
      expect(await b.get('deleted')).toBeNull();
      expect(await b.get('also-deleted')).toBeNull();
      expect(await b.get(own.id)).toMatchObject({ content: 'written by b while offline' });
      expect(await b.get('shared')).toMatchObject({ content: 'edited on a', tags: ['from-b'] });
      expect(await b.store.getMemories(ns, ['deleted', 'also-deleted'])).toEqual([]);
      expect(await b.store.getMeta(ns, 'sync.cursor')).toBeGreaterThanOrEqual(collected as number);
      // The server: nothing resurrected, b's writes arrived.
      expect(await server.getMemories(ns, ['deleted', 'also-deleted'])).toEqual([]);
      expect((await server.getMemories(ns, ['own', 'shared'])).map((r) => r.memory.id).sort()).toEqual([
        'own',
        'shared',
      ]);
      expect(b.status).toMatchObject({ state: 'online', pending: 0 });

      await a.sync();
      await b.sync();
      expect(await snapshot(b)).toEqual(await snapshot(a));
      expect((await snapshot(a)).items.map((m) => m.id).sort()).toEqual(['own', 'shared']);
      expect((await snapshot(a)).links.map((l) => [l.from, l.to])).toEqual([['own', 'shared']]);
      await a.close();
      await b.close();
    },
  );
});

describe('a replica reopened while offline past the horizon', () => {
  it('keeps the writes it made before it was closed: its node id changes with each opening, its client id does not', async () => {
    let t = Date.parse('2031-05-01T00:00:00.000Z');
    const now = () => t;
    const ns = `reopen-${Date.now().toString(36)}`;
    const { server, fetchTo } = memoryEdge(now);
    const token = await mintToken({ secret: SECRET, ns: [ns] });
    let offline = false;
    const syncFor = (cut: () => boolean) => ({
      url: 'http://edge.test',
      token,
      fetch: fetchTo(cut),
      intervalMs: 0,
      live: false,
      backoff: { baseMs: 600_000 },
    });
    const sync = syncFor(() => offline);
    const name = `reopen-${process.pid}-${++counter}`;
    const a = await createMemory({ namespace: ns, now, sync: syncFor(() => false) });
    await a.add({ id: 'gone', content: 'deleted while b was away' });
    await a.sync();
    const b = await createMemory({ store: new IndexedDBStore({ name }), namespace: ns, now, sync });
    await b.sync();
    offline = true;
    t += 1000;
    await b.add({ id: 'own', content: 'written offline, before b was closed' });
    await b.close();
    await a.remove('gone');
    await a.sync();
    await collectPastHorizon((ms) => (t += ms), a);
    offline = false;
    const reopened = await createMemory({ store: new IndexedDBStore({ name }), namespace: ns, now, sync });
    await reopened.sync();
    expect(await reopened.get('own')).toMatchObject({ content: 'written offline, before b was closed' });
    expect(await reopened.get('gone')).toBeNull();
    expect((await server.getMemories(ns, ['own'])).map((r) => r.memory.content)).toEqual([
      'written offline, before b was closed',
    ]);
    await a.close();
    await reopened.close();
  });
});

describe('re-sync bookkeeping', () => {
  it('a re-sync interrupted before its pruning starts over on the next round', async () => {
    let t = Date.parse('2031-03-01T00:00:00.000Z');
    const now = () => t;
    const { fetchTo } = memoryEdge(now);
    let down = false;
    const fetchFn = fetchTo(() => down);
    const token = await mintToken({ secret: SECRET, ns: ['r'] });
    const opts = { url: 'http://edge.test', token, fetch: fetchFn, intervalMs: 0, live: false };
    const a = await createMemory({ namespace: 'r', now, sync: opts });
    const b = await createMemory({ namespace: 'r', now, sync: opts });
    await a.add({ id: 'x', content: 'x' });
    await a.sync();
    await b.sync();
    await a.remove('x');
    await a.sync();
    await collectPastHorizon((ms) => (t += ms), a);
    // b learns it must re-sync, and the network drops during the re-sync's pulls.
    let cut = true;
    let failed = 0;
    const flaky = (async (input: RequestInfo | URL, init?: RequestInit) => {
      // The re-sync's pulls (from the start of the feed) are lost while `cut`.
      if (cut && String(init?.body).includes('"after":0')) {
        failed++;
        throw new TypeError('fetch failed');
      }
      return fetchFn(input, init);
    }) as typeof fetch;
    const c = await createMemory({
      store: b.store,
      namespace: 'r',
      now,
      sync: { ...opts, fetch: flaky, backoff: { baseMs: 600_000 } },
    });
    // Its first round (started by createMemory) learns of the re-sync and loses the first pull of it.
    for (let i = 0; i < 2000 && c.status.state !== 'offline'; i++) await new Promise((r) => setTimeout(r, 5));
    expect(c.status.state).toBe('offline');
    expect(failed).toBeGreaterThan(0);
    expect(await c.store.getMeta('r', 'sync.resync')).toBe(true);
    expect(await c.get('x')).not.toBeNull();
    cut = false;
    await c.sync();
    expect(await c.get('x')).toBeNull();
    expect(await c.store.getMeta('r', 'sync.resync')).toBeNull();
    down = true;
    await a.close();
    await c.close();
    await b.close().catch(() => undefined);
  });
});

describe('a replica whose first pull never came back', () => {
  it('re-syncs in full on its next round: a record it pushed, deleted and collected meanwhile, goes', async () => {
    let t = Date.parse('2031-04-01T00:00:00.000Z');
    const now = () => t;
    const { server, fetchTo } = memoryEdge(now);
    const token = await mintToken({ secret: SECRET, ns: ['first'] });
    let pullsLost = true;
    // The network drops after the push: every pull of b is lost while `pullsLost`.
    const fetchFn = fetchTo((init) => pullsLost && String(init?.body).includes('"pull":'));
    const opts = { url: 'http://edge.test', token, intervalMs: 0, live: false, backoff: { baseMs: 600_000 } };
    const b = await createMemory({ namespace: 'first', now, sync: { ...opts, fetch: fetchFn } });
    await b.addMany([
      { id: 'pushed', content: 'reached the edge, then deleted there' },
      { id: 'kept', content: 'reached the edge and stays' },
    ]);
    await expect(b.sync()).rejects.toMatchObject({ code: 'OFFLINE' });
    expect((await server.getMemories('first', ['pushed', 'kept'])).map((r) => r.memory.id)).toEqual([
      'pushed',
      'kept',
    ]);
    expect(await b.store.getMeta('first', 'sync.cursor')).toBeUndefined();
    const a = await createMemory({ namespace: 'first', now, sync: { ...opts, fetch: fetchTo() } });
    await a.sync();
    await a.remove('pushed');
    await a.sync();
    await collectPastHorizon((ms) => (t += ms), a);
    expect(await server.getMeta('first', COLLECTED_SEQ_META)).toBeGreaterThan(0);
    // b comes back with a write made offline: its pull starts at 0, with no cursor for the edge to check.
    await b.add({ id: 'offline', content: 'written while the pulls were lost' });
    pullsLost = false;
    await b.sync();
    expect(await b.get('pushed')).toBeNull();
    expect(await b.get('kept')).toMatchObject({ content: 'reached the edge and stays' });
    expect(await b.get('offline')).toMatchObject({ content: 'written while the pulls were lost' });
    expect((await server.getMemories('first', ['offline'])).map((r) => r.memory.id)).toEqual(['offline']);
    expect(await b.store.getMeta('first', 'sync.resync')).toBeNull();
    // Once: the re-sync stored a cursor, so the next rounds pull on from it.
    expect(await b.store.getMeta('first', 'sync.cursor')).toBeGreaterThan(0);
    await a.close();
    await b.close();
  });
});

describe('re-sync at scale', () => {
  it('forgets more records than one page (1 200 deleted past the horizon) and keeps the rest', async () => {
    let t = Date.parse('2031-03-01T00:00:00.000Z');
    const now = () => t;
    const { fetchTo } = memoryEdge(now);
    let bOffline = false;
    const token = await mintToken({ secret: SECRET, ns: ['big'] });
    const sync = (offline: () => boolean) => ({
      url: 'http://edge.test',
      token,
      intervalMs: 0,
      live: false,
      backoff: { baseMs: 600_000 },
      fetch: fetchTo(offline),
    });
    const a = await createMemory({ namespace: 'big', now, sync: sync(() => false) });
    const b = await createMemory({ namespace: 'big', now, sync: sync(() => bOffline) });
    const inputs = Array.from({ length: 1300 }, (_, k) => ({ id: `m${k}`, content: `note ${k}` }));
    const made = [...(await a.addMany(inputs.slice(0, 650))), ...(await a.addMany(inputs.slice(650)))];
    await a.sync();
    await b.sync();
    bOffline = true;
    t += 1000;
    for (let i = 0; i < 1200; i += 100) {
      await a.store.apply('big', {
        tombstones: made.slice(i, i + 100).map((m) => ({
          entity: 'memory' as const,
          id: m.id,
          namespace: 'big',
          clock: `${t.toString(16).padStart(12, '0')}-0000-deleter`,
        })),
      });
    }
    await a.sync();
    await collectPastHorizon((ms) => (t += ms), a);
    bOffline = false;
    await b.sync();
    expect(await b.count()).toBe(100);
    expect(
      (
        await b.store.getMemories(
          'big',
          made.map((m) => m.id),
        )
      )
        .map((r) => r.memory.id)
        .sort(),
    ).toEqual(
      made
        .slice(1200)
        .map((m) => m.id)
        .sort(),
    );
    expect(await b.store.getMeta('big', 'sync.resync')).toBeNull();
    await a.close();
    await b.close();
  });
});
