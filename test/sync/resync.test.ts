import { describe, expect, it } from 'vitest';
import { formatHlc, HybridLogicalClock } from '../../src/core/hlc.js';
import type { SyncRequest, SyncResponse } from '../../src/core/sync/protocol.js';
import { RESYNC_KEYS, resyncFully } from '../../src/core/sync/resync.js';
import { createLinkWrite, createMemoryWrite } from '../../src/core/writes.js';
import { InMemoryStore } from '../../src/index.js';

const CURSOR = 'sync.cursor';
const PUSHED = 'sync.pushed';

/** An edge whose whole feed is empty (everything deleted there and collected), at feed position `cursor`. */
function emptyEdge(cursor: number) {
  const asked: SyncRequest[] = [];
  const exchange = async (request: SyncRequest): Promise<SyncResponse> => {
    asked.push(request);
    return { pull: { changes: [], cursor, hasMore: false } } as unknown as SyncResponse;
  };
  return { asked, exchange };
}

const deps = (store: InMemoryStore, exchange: (r: SyncRequest) => Promise<SyncResponse>, pageSize = 100) => ({
  store,
  namespace: 'n',
  clock: new HybridLogicalClock('this-replica'),
  exchange,
  pageSize,
  cursorKey: CURSOR,
  pushedKey: PUSHED,
});

/** Links l0 m0→m1, l1 m1→m2, l2 m2→m0, written with `stamp`. */
const ringLinks = (stamp: string, at: string) =>
  [
    ['l0', 'm0', 'm1'],
    ['l1', 'm1', 'm2'],
    ['l2', 'm2', 'm0'],
  ].map(([id, from, to]) =>
    createLinkWrite({ id: id!, namespace: 'n', from: from!, to: to!, type: 'next', createdAt: at }, stamp),
  );

describe('resyncFully', () => {
  it('with nothing to forget still stores the cursor and clears the re-sync mark', async () => {
    const store = new InMemoryStore();
    await store.open();
    const edge = emptyEdge(42);
    expect(await resyncFully(deps(store, edge.exchange))).toEqual([]);
    expect(await store.getMeta('n', CURSOR)).toBe(42);
    expect(await store.getMeta('n', RESYNC_KEYS.pending)).toBeNull();
    await store.close();
  });

  it('forgets every memory and link the edge lost, in pages that split between memories and links', async () => {
    const store = new InMemoryStore();
    await store.open();
    // Records another replica made (their stamps name another node): pulled once, since lost by the edge.
    const stamp = formatHlc({
      wallMs: Date.parse('2026-01-01T00:00:00Z'),
      counter: 0,
      node: 'other-replica',
    });
    const at = '2026-01-01T00:00:00.000Z';
    const memories = ['m0', 'm1', 'm2'].map((id) => createMemoryWrite('n', id, { content: id }, stamp, at));
    const links = ringLinks(stamp, at);
    await store.apply('n', { memories, links, origin: 'remote' });
    const edge = emptyEdge(9);
    // Pages of two: [m0 m1], [m2 l0], [l1 l2].
    const forgotten = await resyncFully(deps(store, edge.exchange, 2));
    expect(forgotten.sort()).toEqual(['l0', 'l1', 'l2', 'm0', 'm1', 'm2']);
    expect(await store.getMemories('n', ['m0', 'm1', 'm2'])).toEqual([]);
    expect(await store.getLinks('n', ['l0', 'l1', 'l2'])).toEqual([]);
    // Forgotten, not deleted: no tombstones to push back.
    expect(await store.getTombstones('n', ['m0', 'l2'])).toEqual([]);
    expect(await store.getMeta('n', CURSOR)).toBe(9);
    await store.close();
  });

  it('forgets links the edge lost between memories it keeps, past a page boundary', async () => {
    const store = new InMemoryStore();
    await store.open();
    const d = deps(store, emptyEdge(3).exchange, 2);
    // This replica's own memories, never pushed: a re-sync keeps them for the outbox to push.
    const at = new Date().toISOString();
    const memories = ['m0', 'm1', 'm2'].map((id) =>
      createMemoryWrite('n', id, { content: id }, d.clock.tick(), at),
    );
    await store.apply('n', { memories });
    // Links another replica made, pulled once, since lost by the edge.
    const stamp = formatHlc({
      wallMs: Date.parse('2026-01-01T00:00:00Z'),
      counter: 0,
      node: 'other-replica',
    });
    const links = ringLinks(stamp, at);
    await store.apply('n', { links, origin: 'remote' });
    expect((await resyncFully(d)).sort()).toEqual(['l0', 'l1', 'l2']);
    expect((await store.getMemories('n', ['m0', 'm1', 'm2'])).map((r) => r.memory.id)).toEqual([
      'm0',
      'm1',
      'm2',
    ]);
    expect(await store.getLinks('n', ['l0', 'l1', 'l2'])).toEqual([]);
    await store.close();
  });
});
