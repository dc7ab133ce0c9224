import { afterAll, describe, expect, it } from 'vitest';
import { formatHlc } from '../../src/core/hlc.js';
import { neverOnEdge } from '../../src/core/sync/resync.js';
import { createEdgeApp, type EdgeAppOptions, mintToken } from '../../src/edge/index.js';
import {
  COLLECTED_SEQ_META,
  createMemory,
  type Engram,
  InMemoryStore,
  type MemoryStore,
} from '../../src/index.js';
import { edgeStores } from '../edge/helpers.js';

/**
 * The tombstone horizon against the timing of real rounds (docs/sync.md, "Offline past the horizon"): a
 * clock that issues many stamps in one millisecond, a round whose pull fails after its push, a collection
 * while a replica is between two pages of its pull, and a delete that reaches the edge long after it was
 * made. tombstone-horizon.test.ts has the plain case on every store.
 */
const DAY = 86_400_000;
/** The edge's maintenance runs at most once a minute per namespace (and notes how far its feed reached). */
const MINUTE = 60_000;
const SECRET = 'horizon-races-secret';
const { stores: servers, close } = await edgeStores('horizon_races');
afterAll(close);

let counter = 0;

/** An edge on `server` at the test's time, and replicas of one namespace, each with a switch for its network. */
async function setup(server: MemoryStore = new InMemoryStore(), app: Partial<EdgeAppOptions> = {}) {
  const clock = { t: Date.parse('2031-06-01T00:00:00.000Z') };
  const now = () => clock.t;
  const ns = `races-${++counter}-${Date.now().toString(36)}`;
  const edge = createEdgeApp({ store: server, secret: SECRET, logger: false, live: false, now, ...app });
  const token = await mintToken({ secret: SECRET, ns: [ns] });
  const opened: Engram[] = [];
  const replica = async (
    net: { offline?: boolean; before?: (body: string) => void } = {},
  ): Promise<Engram & { net: typeof net; answers: unknown[] }> => {
    const answers: unknown[] = [];
    const mem = await createMemory({
      store: new InMemoryStore(),
      namespace: ns,
      now,
      maintenance: { intervalMs: 0 },
      sync: {
        url: 'http://edge.test',
        token,
        intervalMs: 0,
        live: false,
        debounceMs: 600_000,
        backoff: { baseMs: 600_000 },
        fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
          if (net.offline) throw new TypeError('fetch failed: offline');
          net.before?.(String(init?.body));
          const response = await edge.fetch(new Request(input, init));
          answers.push(await response.clone().json());
          return response;
        }) as typeof fetch,
      },
    });
    opened.push(mem);
    return Object.assign(mem, { net, answers });
  };
  const toldToResync = (mem: { answers: unknown[] }) =>
    mem.answers.some((a) => (a as { resync?: unknown }).resync !== undefined);
  const closeAll = () => Promise.all(opened.map((m) => m.close()));
  /**
   * `by` syncs a minute later (the edge notes how far its feed reached: the deletes arrived by then), then
   * 31 days later, past the horizon, so the edge collects them.
   */
  const collectPastHorizon = async (by: Engram) => {
    clock.t += MINUTE;
    await by.sync();
    clock.t += 31 * DAY;
    await by.sync();
  };
  /** `by` deletes `id` and the edge collects the delete past its horizon. */
  const removeAndCollect = async (by: Engram, id: string) => {
    await by.remove(id);
    await by.sync();
    await collectPastHorizon(by);
  };
  /** `mem` comes back online: told to re-sync, it forgets `id`, which the edge does not get back. */
  const backWithout = async (mem: Awaited<ReturnType<typeof replica>>, id: string) => {
    mem.net.offline = false;
    await mem.sync();
    expect(toldToResync(mem)).toBe(true);
    expect(await mem.get(id)).toBeNull();
    expect(await server.getMemories(ns, [id])).toEqual([]);
  };
  /** `away` goes offline; `by` syncs, and a day later deletes `id`, which the edge collects; `away` comes back. */
  const deletedWhileAway = async (
    away: Awaited<ReturnType<typeof replica>>,
    by: Awaited<ReturnType<typeof replica>>,
    id: string,
  ) => {
    away.net.offline = true;
    await by.sync();
    clock.t += DAY;
    await removeAndCollect(by, id);
    await backWithout(away, id);
  };
  /**
   * Replicas `a` and `b`, `a` having pulled one record of `b`'s: its cursor is past the start of the feed
   * (one at 0 pulls all of it, and is never told to re-sync). Then a minute passes.
   */
  const pastTheStart = async () => {
    const a = await replica();
    const b = await replica();
    await b.add({ content: 'pulled by a' });
    await b.sync();
    await a.sync();
    clock.t += MINUTE;
    return { a, b };
  };
  /** `mem`'s next round fails at the request `cut` picks (the connection resets there), then its network heals. */
  const cutRound = async (mem: Awaited<ReturnType<typeof replica>>, cut: (body: string) => boolean) => {
    mem.net.before = (body) => {
      if (cut(body)) throw new TypeError('fetch failed: connection reset');
    };
    await expect(mem.sync()).rejects.toMatchObject({ code: 'OFFLINE' });
    mem.net.before = undefined;
  };
  return {
    clock,
    ns,
    server,
    replica,
    toldToResync,
    closeAll,
    collectPastHorizon,
    removeAndCollect,
    backWithout,
    deletedWhileAway,
    pastTheStart,
    cutRound,
  };
}

describe('telling what reached the edge before a re-sync', () => {
  it('a record created and pushed in the same millisecond of the clock is not taken for unpushed', async () => {
    // A frozen test clock (or one running on a stamp ahead of its wall time) gives add and push one instant.
    const { clock, ns, server, replica, toldToResync, closeAll, collectPastHorizon } = await setup();
    const a = await replica();
    const b = await replica();
    await a.sync();
    await a.add({ id: 'x', content: 'pushed in the millisecond it was made' });
    await a.sync();
    await a.add({ id: 'own', content: 'made after that push, in the same millisecond' });
    await b.sync();
    a.net.offline = true;
    await a.update('x', { tags: ['edited offline'] });
    clock.t += 1000;
    await b.remove('x');
    await b.sync();
    await collectPastHorizon(b);
    expect(await server.getMeta(ns, COLLECTED_SEQ_META)).toBeGreaterThan(0);

    a.net.offline = false;
    await a.sync();
    expect(toldToResync(a)).toBe(true);
    expect(await a.get('x')).toBeNull();
    expect(await server.getMemories(ns, ['x'])).toEqual([]);
    expect(await a.get('own')).toMatchObject({ content: 'made after that push, in the same millisecond' });
    expect((await server.getMemories(ns, ['own'])).map((r) => r.memory.id)).toEqual(['own']);
    await closeAll();
  });

  it('reads a push instant stored by an earlier release (ISO) as before', async () => {
    const { clock, ns, server, replica, closeAll, collectPastHorizon } = await setup();
    const a = await replica();
    const b = await replica();
    await a.add({ id: 'x', content: 'reached the edge' });
    await a.sync();
    await b.sync();
    clock.t += 1000;
    await a.store.apply(ns, { meta: { 'sync.pushedAt': new Date(clock.t).toISOString() } });
    a.net.offline = true;
    await a.update('x', { tags: ['edited offline'] });
    clock.t += 1000;
    await a.add({ id: 'own', content: 'never pushed' });
    await b.remove('x');
    await b.sync();
    await collectPastHorizon(b);
    a.net.offline = false;
    await a.sync();
    expect(await a.get('x')).toBeNull();
    expect(await a.get('own')).toMatchObject({ content: 'never pushed' });
    expect(await server.getMemories(ns, ['x'])).toEqual([]);
    await closeAll();
  });

  it('a push answered before its round failed counts as done', async () => {
    const { clock, ns, server, replica, closeAll, removeAndCollect, backWithout, cutRound } = await setup();
    const a = await replica();
    const b = await replica();
    await a.add({ id: 'old', content: 'synced long ago' });
    await a.sync();
    clock.t += MINUTE;
    await a.add({ id: 'n', content: 'pushed by a round whose pull failed' });
    clock.t += 10;
    // The connection drops after the push was answered, before the pull.
    await cutRound(a, (body) => body.includes('"pull"'));
    expect((await server.getMemories(ns, ['n'])).map((r) => r.memory.id)).toEqual(['n']);
    a.net.offline = true;
    await b.sync();
    clock.t += DAY;
    await a.update('n', { tags: ['edited offline'] });
    await removeAndCollect(b, 'n');
    expect(await server.getMeta(ns, COLLECTED_SEQ_META)).toBeGreaterThan(0);
    await backWithout(a, 'n');
    await closeAll();
  });

  it('a record pushed by a round cut short before its last request is not taken for unpushed', async () => {
    const { ns, server, closeAll, deletedWhileAway, pastTheStart, cutRound } = await setup();
    const { a, b } = await pastTheStart();
    await a.add({ id: 'n', content: 'pushed by the first request of the round' });
    for (const part of [0, 1]) {
      await a.addMany(Array.from({ length: 750 }, (_, i) => ({ content: `filler ${part} ${i}` })));
    }
    // The connection drops at the round's second push request: the push instant stays the last round's,
    // though the outbox cursor moved past 'n'.
    let pushes = 0;
    await cutRound(a, (body) => body.includes('"push"') && ++pushes > 1);
    expect((await server.getMemories(ns, ['n'])).map((r) => r.memory.id)).toEqual(['n']);
    await deletedWhileAway(a, b, 'n');
    await closeAll();
  }, 30_000);

  it('the last record of a page the edge took whole, where the outbox cursor stops, is not taken for unpushed', async () => {
    const { ns, closeAll, deletedWhileAway, pastTheStart, cutRound } = await setup();
    const { a, b } = await pastTheStart();
    // The outbox's first page is 4,000 entries (the pulled one is behind the cursor): 3,999 fillers and 'n'.
    for (let i = 0; i < 3999; i += 1000) {
      const count = Math.min(1000, 3999 - i);
      await a.addMany(Array.from({ length: count }, (_, k) => ({ content: `filler ${i + k}` })));
    }
    await a.add({ id: 'n', content: 'last of the first page' });
    await a.addMany(Array.from({ length: 500 }, (_, i) => ({ content: `after ${i}` })));
    // The page's four requests land; the next page's is cut: the cursor is at 'n' itself.
    let pushes = 0;
    await cutRound(a, (body) => body.includes('"push"') && ++pushes > 4);
    const feed = await a.store.changes(ns, 0, 10_000);
    expect(await a.store.getMeta(ns, 'sync.pushedSeq')).toBe(feed.find((e) => e.id === 'n')!.seq);
    await deletedWhileAway(a, b, 'n');
    await closeAll();
  }, 60_000);

  it('a pushed record whose every field was rewritten offline still goes with the record', async () => {
    const { clock, replica, closeAll, removeAndCollect, backWithout } = await setup();
    const a = await replica();
    const b = await replica();
    await a.add({ id: 'x', content: 'reached the edge' });
    clock.t += 10;
    await a.sync();
    await b.sync();
    a.net.offline = true;
    clock.t += 1000;
    // Every field stamped after the last push: only createdAt, from before it, tells it reached the edge.
    await a.update('x', {
      content: 'rewritten whole offline',
      kind: 'note',
      tags: ['t'],
      metadata: { m: 1 },
      embedding: [1, 0],
      embeddingModel: 'stand-in',
      importance: 0.5,
      expiresAt: '2100-01-01T00:00:00.000Z',
      validFrom: '2031-01-01T00:00:00.000Z',
      validTo: '2099-01-01T00:00:00.000Z',
    });
    clock.t += 1000;
    await removeAndCollect(b, 'x');
    await backWithout(a, 'x');
    await closeAll();
  });
});

describe('a collection while a replica catches up', () => {
  it('is noticed on a later page of the pull: the replica re-syncs and the deleted record goes', async () => {
    const { clock, ns, server, replica, toldToResync, closeAll } = await setup(undefined, {
      maintenance: { intervalMs: 1 },
    });
    const w = await replica();
    const a = await replica();
    await w.add({ id: 'victim', content: 'deleted while a was away' });
    await w.sync();
    await a.sync();
    a.net.offline = true;
    clock.t += 1000;
    // More than a page (1000) of changes before the delete, so a's pull reaches it on its second page.
    await w.addMany(Array.from({ length: 1000 }, (_, k) => ({ content: `filler ${k}` })));
    await w.addMany(Array.from({ length: 100 }, (_, k) => ({ content: `filler ${1000 + k}` })));
    await w.sync();
    await w.remove('victim');
    await w.sync();
    clock.t += MINUTE;
    await w.sync();
    // A day before the horizon a comes back; between its pages the tombstone passes it and is collected.
    clock.t += 29 * DAY;
    let pages = 0;
    a.net.offline = false;
    a.net.before = (body) => {
      if (body.includes('"pull"') && pages++ === 1) clock.t += 2 * DAY;
    };
    await a.sync();
    expect(await server.getMeta(ns, COLLECTED_SEQ_META)).toBeGreaterThan(0);
    expect(toldToResync(a)).toBe(true);
    expect(await a.get('victim')).toBeNull();
    expect(await a.count()).toBe(1100);
    await closeAll();
  });
});

describe.each(servers)('the horizon of a delete that arrives late (edge on %s)', (_, makeServer) => {
  it('runs from when the edge stored it, not from its stamp', async () => {
    const { clock, ns, server, replica, toldToResync, closeAll } = await setup(makeServer());
    const a = await replica();
    const b = await replica();
    await a.add({ id: 'victim', content: 'deleted by a while it was offline' });
    await a.sync();
    await b.sync();
    a.net.offline = true;
    clock.t += DAY;
    await a.remove('victim');
    clock.t += 40 * DAY;
    await b.sync();
    // a comes back with a delete stamped 40 days ago: the edge keeps it a horizon from now.
    a.net.offline = false;
    await a.sync();
    clock.t += MINUTE;
    await b.sync();
    expect(await server.getMeta(ns, COLLECTED_SEQ_META)).toBeUndefined();
    expect(await server.getTombstones(ns, ['victim'])).toHaveLength(1);
    expect(toldToResync(b)).toBe(false);
    expect(await b.get('victim')).toBeNull();
    // A replica that starts now pulls the tombstone, as every other change.
    const c = await replica();
    await c.sync();
    expect(await c.get('victim')).toBeNull();

    clock.t += 31 * DAY;
    await b.sync();
    expect(await server.getTombstones(ns, ['victim'])).toEqual([]);
    expect(await server.getMeta(ns, COLLECTED_SEQ_META)).toBeGreaterThan(0);
    await closeAll();
  });
});

describe('records the edge refused, at a re-sync', () => {
  it('a refused create is kept; a refused edit of a record made elsewhere goes with the record', async () => {
    const { clock, ns, server, replica, toldToResync, closeAll, collectPastHorizon } = await setup(
      undefined,
      {
        bodyLimit: 16 * 1024,
      },
    );
    const a = await replica();
    const b = await replica();
    await b.add({ id: 'x', content: 'made by b' });
    await b.sync();
    await a.sync();
    clock.t += 1000;
    const tooLarge = 'long '.repeat(6000);
    await a.update('x', { content: tooLarge });
    await a.add({ id: 'big', content: tooLarge });
    await a.sync();
    expect((await a.rejected()).map((r) => r.id).sort()).toEqual(['big', 'x']);
    a.net.offline = true;
    clock.t += DAY;
    await b.remove('x');
    await b.sync();
    await collectPastHorizon(b);

    a.net.offline = false;
    await a.sync();
    expect(toldToResync(a)).toBe(true);
    expect(await a.get('x')).toBeNull();
    expect(await a.get('big')).toMatchObject({ content: tooLarge });
    expect(await server.getMemories(ns, ['x', 'big'])).toEqual([]);
    await closeAll();
  });
});

describe('a push instant stored by an earlier release (ISO, milliseconds)', () => {
  it('a record created in the push’s own millisecond counts as created after it; one a millisecond before, not', () => {
    const pushedMs = Date.UTC(2026, 0, 1);
    const record = (ms: number) => {
      const stamp = formatHlc({ wallMs: ms, counter: 0, node: 'client.a1b2' });
      return { createdAt: new Date(ms).toISOString(), clocks: { content: stamp, kind: stamp } };
    };
    const replica = {
      node: 'client.c3d4',
      pushedAt: new Date(pushedMs).toISOString(),
      unpushed: true,
      quarantined: false,
    };
    expect(neverOnEdge(record(pushedMs), replica)).toBe(true);
    expect(neverOnEdge(record(pushedMs - 1), replica)).toBe(false);
  });

  it('with no push instant at all (no push ever completed), an unpushed record of its own never reached the edge', () => {
    const stamp = formatHlc({ wallMs: Date.UTC(2026, 0, 1), counter: 0, node: 'client.a1b2' });
    const record = { createdAt: '2026-01-01T00:00:00.000Z', clocks: { content: stamp } };
    const replica = { node: 'client.c3d4', pushedAt: undefined, unpushed: true, quarantined: false };
    expect(neverOnEdge(record, replica)).toBe(true);
    expect(neverOnEdge(record, { ...replica, unpushed: false })).toBe(false);
  });
});
