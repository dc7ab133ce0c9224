import { afterAll, describe, expect, it, vi } from 'vitest';
import { createEdgeApp } from '../../src/edge/index.js';
import { COLLECTED_SEQ_META, EngramError, InMemoryStore } from '../../src/index.js';
import { feedFloor, formatHlc } from '../../src/store/index.js';
import { edgeStores, SECRET, testApp } from './helpers.js';

const DAY = 86_400_000;
const { stores: servers, close } = await edgeStores('edge_gc');
afterAll(close);

const stamp = (ms: number, node = 'replica') => formatHlc({ wallMs: ms, counter: 0, node });
const write = (id: string, ms: number, extra: Record<string, unknown> = {}) => ({
  id,
  create: { namespace: 'demo', createdAt: new Date(ms).toISOString() },
  values: { content: id, kind: 'note', tags: [], metadata: {}, ...extra },
  clocks: Object.fromEntries(
    ['content', 'kind', 'tags', 'metadata', ...Object.keys(extra)].map((f) => [f, stamp(ms)]),
  ),
});

describe.each(servers)('edge maintenance on %s', (_, makeStore) => {
  it('purges expired memories with tombstones, collects old tombstones and answers resync to a replica behind', async () => {
    let t = Date.parse('2031-05-01T00:00:00.000Z');
    const ns = 'demo';
    const store = makeStore();
    const { call } = await testApp({ store, now: () => t, live: false });
    const sync = (body: unknown) => call('POST', `/v1/ns/${ns}/sync`, body);
    const pushed = await sync({
      push: {
        memories: [
          write('keep', t),
          write('gone', t),
          write('ttl', t, { expiresAt: new Date(t + 1000).toISOString() }),
        ],
      },
    });
    expect(pushed.status).toBe(200);
    const { json: first } = await sync({ pull: { after: 0 } });
    const cursor = first.pull.cursor as number;
    await sync({
      push: { tombstones: [{ entity: 'memory', id: 'gone', namespace: ns, clock: stamp(t + 1) }] },
    });

    // A day later the expired memory becomes a tombstone of the server's, which replicas pull.
    t += DAY;
    const { json: next } = await sync({ pull: { after: cursor } });
    expect(next.pull.changes).toEqual([
      expect.objectContaining({ id: 'gone', tombstone: expect.objectContaining({ id: 'gone' }) }),
      expect.objectContaining({
        id: 'ttl',
        tombstone: expect.objectContaining({ entity: 'memory', id: 'ttl' }),
      }),
    ]);
    expect(await store.getMemories(ns, ['ttl'])).toEqual([]);

    // 31 days on, the tombstones older than 30 days are collected; a replica behind is told to re-sync.
    t += 30 * DAY;
    const { json: late } = await sync({ cursor, pull: { after: cursor } });
    expect(await store.getTombstones(ns, ['gone', 'ttl'])).toEqual([expect.objectContaining({ id: 'ttl' })]);
    const collected = (await store.getMeta(ns, COLLECTED_SEQ_META)) as number;
    expect(collected).toBeGreaterThan(0);
    expect(late.resync).toEqual({ collectedSeq: collected });
    expect(late.pull).toEqual({ changes: [], cursor, hasMore: false });

    // Its push is not applied (it could re-create what was deleted) ...
    const refused = await sync({ cursor, push: { memories: [write('gone', t)] } });
    expect(refused.json.resync).toEqual({ collectedSeq: collected });
    expect(refused.json.push).toBeUndefined();
    expect(await store.getMemories(ns, ['gone'])).toEqual([]);
    // ... while a pull naming no cursor (a later page of a pull from 0; RemoteStore's feed reads), a first
    // pull and an up-to-date replica carry on.
    expect((await sync({ pull: { after: cursor } })).json.resync).toBeUndefined();
    expect((await sync({ pull: { after: cursor, states: false } })).json.resync).toBeUndefined();
    const full = await sync({ pull: { after: 0 } });
    expect(full.json.resync).toBeUndefined();
    // A cursor at the collected seq itself missed nothing that was collected.
    expect((await sync({ cursor: collected, pull: { after: collected } })).json.resync).toBeUndefined();
    // A cursor of 0 (a replica that never pulled) holds nothing stale either: its push is applied.
    const unpulled = await sync({ cursor: 0, push: { memories: [write('first', t)] } });
    expect(unpulled.json.resync).toBeUndefined();
    expect(unpulled.json.push.memories).toHaveLength(1);
    expect(full.json.pull.changes.map((c: { id: string }) => c.id).sort()).toEqual(['keep', 'ttl']);
    const current = await sync({ cursor: full.json.pull.cursor, push: { memories: [write('new', t)] } });
    expect(current.json.push.memories).toHaveLength(1);
  });

  it('a delete stamped 40 days ago, stored before maintenance first ran (an older edge, an import), is kept a horizon', async () => {
    let t = Date.parse('2031-05-01T00:00:00.000Z');
    const store = makeStore();
    const old = t - 40 * DAY;
    // Stored as an edge of a release before feed marks, or an import into the server's database, left it.
    await store.apply('demo', {
      memories: [write('victim', old - 1000)],
      tombstones: [{ entity: 'memory', id: 'victim', namespace: 'demo', clock: stamp(old) }],
    });
    const { call } = await testApp({ store, now: () => t, live: false });
    const sync = (body: unknown) => call('POST', '/v1/ns/demo/sync', body);
    // The first run notes the feed position reached now; none yet is a horizon old.
    for (const later of [0, 60_000, DAY]) {
      t += later;
      await sync({ pull: { after: 0 } });
      expect(await store.getTombstones('demo', ['victim']), String(later)).toHaveLength(1);
    }
    t += 30 * DAY;
    await sync({ pull: { after: 0 } });
    expect(await store.getTombstones('demo', ['victim'])).toEqual([]);
  });

  it('collects a tombstone a horizon after it was stored, though writes keep moving the feed on after it', async () => {
    const start = Date.parse('2031-05-01T00:00:00.000Z');
    let t = start;
    const store = makeStore();
    const maintenance = { tombstoneHorizonMs: DAY };
    const { call } = await testApp({ store, now: () => t, live: false, maintenance });
    const sync = (body: unknown) => call('POST', '/v1/ns/demo/sync', body);
    await sync({
      push: { tombstones: [{ entity: 'memory', id: 'gone', namespace: 'demo', clock: stamp(t) }] },
    });
    // The next run notes the feed position the tombstone arrived at.
    t += 60_000;
    await sync({ pull: { after: 0 } });
    // Half an hour on (a day / 64 is 22.5 minutes), a write moves the feed on: its position is noted as
    // a new mark, not by moving the tombstone's mark up to now.
    t += 30 * 60_000;
    await sync({ push: { memories: [write('later', t)] } });
    t += 60_000;
    await sync({ pull: { after: 0 } });
    expect(await store.getTombstones('demo', ['gone'])).toHaveLength(1);
    t = start + DAY + 2 * 60_000;
    await sync({ pull: { after: 0 } });
    expect(await store.getTombstones('demo', ['gone'])).toEqual([]);
  });

  it('drops feed marks past the end of the feed (a database reset or restored): they tell nothing of it', async () => {
    const t = Date.parse('2031-05-01T00:00:00.000Z');
    let now = t;
    const store = makeStore();
    const old = t - 40 * DAY;
    // A namespace of its own: the mark would stay in the database the next cases of this store share.
    const ns = 'marks-reset';
    // Left by a feed that had reached a position a year past this one's clock-sized numbers, forty days
    // ago: kept, it would say the tombstone below was stored by then, and collect it at once.
    const past = feedFloor(Date.now() + 365 * DAY);
    await store.apply(ns, { meta: { 'gc.feedMarks': [[old, past]] } });
    const { call } = await testApp({ store, now: () => now, live: false, ns: [ns] });
    const sync = (body: unknown) => call('POST', `/v1/ns/${ns}/sync`, body);
    await sync({
      push: { tombstones: [{ entity: 'memory', id: 'gone', namespace: ns, clock: stamp(old) }] },
    });
    now += 60_000;
    await sync({ pull: { after: 0 } });
    // Stored a minute ago, whatever its stamp says: kept a horizon from now.
    expect(await store.getTombstones(ns, ['gone'])).toHaveLength(1);
  });

  it('keeps few feed marks: a busy namespace notes one per horizon / 64 at most', async () => {
    let t = Date.parse('2031-05-01T00:00:00.000Z');
    const store = makeStore();
    const { call } = await testApp({ store, now: () => t, live: false });
    for (let i = 0; i < 10; i++) {
      await call('POST', '/v1/ns/demo/sync', { push: { memories: [write(`m${i}`, t)] } });
      t += 60_000;
    }
    // A 30-day horizon keeps marks 11.25 hours apart: ten minutes of writes leave the first and the newest.
    expect(await store.getMeta('demo', 'gc.feedMarks')).toHaveLength(2);
  });

  it('purges every expired memory in one run, more than a batch of them; at most one run a minute', async () => {
    let t = Date.parse('2031-05-01T00:00:00.000Z');
    const store = makeStore();
    const { call } = await testApp({ store, now: () => t, live: false });
    const sync = (body: unknown) => call('POST', '/v1/ns/demo/sync', body);
    const expiresAt = new Date(t + 1000).toISOString();
    for (let part = 0; part < 3; part++) {
      const memories = Array.from({ length: 250 }, (_, i) => write(`ttl-${part}-${i}`, t, { expiresAt }));
      expect((await sync({ push: { memories } })).status).toBe(200);
    }
    // Expired, but the last run was under a minute ago: this request runs none.
    t += 30_000;
    await sync({ pull: { after: 0, limit: 1 } });
    expect(await store.getMemories('demo', ['ttl-0-0', 'ttl-2-249'])).toHaveLength(2);
    t += 31_000;
    await sync({ pull: { after: 0, limit: 1 } });
    expect(await store.getMemories('demo', ['ttl-0-0', 'ttl-2-249'])).toEqual([]);
    expect(await store.getTombstones('demo', ['ttl-0-0', 'ttl-2-249'])).toHaveLength(2);
  });

  it('a purge wins over the write it purged, stamped ahead by a replica and pushed again (its answer lost)', async () => {
    let t = Date.parse('2031-05-01T00:00:00.000Z');
    const store = makeStore();
    const { call } = await testApp({ store, now: () => t, live: false, maintenance: { intervalMs: 1000 } });
    const sync = (body: unknown) => call('POST', '/v1/ns/demo/sync', body);
    // A replica 50 s ahead (within the bound) writes a memory expiring in a second.
    const ahead = write('ttl', t + 50_000, { expiresAt: new Date(t + 1000).toISOString() });
    expect((await sync({ push: { memories: [ahead] } })).status).toBe(200);
    t += 2000;
    await sync({ pull: { after: 0 } });
    expect(await store.getMemories('demo', ['ttl'])).toEqual([]);
    // The edge's clock moved past the pushed stamps, so its purge is later than every field of the write:
    // the same write again (a push whose answer was lost) does not create it anew.
    const again = await sync({ push: { memories: [ahead] } });
    expect(again.json.push).toMatchObject({ memories: [], rejected: ['ttl'] });
    expect(await store.getMemories('demo', ['ttl'])).toEqual([]);
  });
});

describe('edge maintenance options', () => {
  it('a bad value is a VALIDATION error naming the field', () => {
    for (const [maintenance, field] of [
      [{ tombstoneHorizonMs: -5 }, 'maintenance.tombstoneHorizonMs'],
      [{ intervalMs: 1.5 }, 'maintenance.intervalMs'],
      ['30d', 'maintenance'],
    ] as const) {
      let caught: unknown;
      try {
        createEdgeApp({
          store: new InMemoryStore(),
          secret: SECRET,
          logger: false,
          maintenance: maintenance as never,
        });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EngramError);
      expect(caught).toMatchObject({ code: 'VALIDATION', field });
    }
  });

  it('intervalMs: 0 turns it off; a shorter horizon collects sooner', async () => {
    let t = Date.parse('2031-05-01T00:00:00.000Z');
    for (const [maintenance, left] of [
      // The horizon a day, as below: only intervalMs: 0 keeps the tombstone.
      [{ intervalMs: 0, tombstoneHorizonMs: DAY }, 1],
      [{ tombstoneHorizonMs: DAY }, 0],
    ] as const) {
      const { store, call } = await testApp({ now: () => t, live: false, maintenance });
      await call('POST', '/v1/ns/demo/sync', {
        push: { tombstones: [{ entity: 'memory', id: 'gone', namespace: 'demo', clock: stamp(t) }] },
      });
      // The next run, a minute on, notes the feed position the tombstone arrived at.
      t += 60_000;
      await call('POST', '/v1/ns/demo/sync', { pull: { after: 0 } });
      t += 2 * DAY;
      await call('POST', '/v1/ns/demo/sync', { pull: { after: 0 } });
      expect(await store.getTombstones('demo', ['gone'])).toHaveLength(left);
    }
  });
});

describe('edge maintenance that fails', () => {
  it('costs no replica its sync: the failure is logged and the request answered', async () => {
    class FailingPurge extends InMemoryStore {
      override async expiredIds(): Promise<never> {
        throw new Error('purge query failed');
      }
    }
    const logged: unknown[][] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      logged.push(args);
    });
    try {
      const { call } = await testApp({ store: new FailingPurge(), live: false });
      const res = await call('POST', '/v1/ns/demo/sync', { pull: { after: 0 } });
      expect(res.status).toBe(200);
      expect(res.json.pull).toMatchObject({ changes: [] });
      expect(logged.map((args) => String(args[0]))).toEqual([
        'engram edge: maintenance of namespace demo failed',
      ]);
      expect(String(logged[0]![1])).toContain('purge query failed');
    } finally {
      spy.mockRestore();
    }
  });
});
