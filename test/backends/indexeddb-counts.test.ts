import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { createMemory } from '../../src/index.js';
import { countReads } from './indexeddb-test-kit.js';

/**
 * `count` and `stats` on IndexedDB: from the keys (IDB's own `count`) while the namespace's recorded
 * bounds say no memory is expired or out of its validity at the instant asked, else from the rows. The
 * conformance suite checks the answers on every store; these check which path answers, and that bounds
 * left stale by a write that did not carry them (an older release) never give a wrong count.
 */
let databases = 0;
const freshName = () => `engram-counts-${process.pid}-${Date.now()}-${++databases}`;
const HOUR = 3_600_000;
const at = (ms: number) => new Date(ms).toISOString();

afterEach(() => {
  vi.restoreAllMocks();
});

async function open(name: string, now: () => number) {
  const store = new IndexedDBStore({ name });
  const mem = await createMemory({ store, namespace: 'ns', now, maintenance: { intervalMs: 0 } });
  return { store, mem };
}

/**
 * A database holding one memory, then what an older release's write leaves: a row no longer valid, the
 * counters moved (and the expiry floor's seq with them when `floorMoved`), the validity bounds not.
 */
async function withOlderReleaseWrite(now: number, { floorMoved }: { floorMoved: boolean }) {
  const name = freshName();
  const first = await open(name, () => now);
  const kept = await first.mem.add({ content: 'kept' });
  await first.mem.close();
  const raw = await openDB(name);
  const row = await raw.get('memories', `ns\u0000${kept.id}`);
  await raw.put(
    'memories',
    { ...row, memory: { ...row.memory, id: 'z-old', validTo: at(now - HOUR) }, seq: row.seq + 1 },
    'ns\u0000z-old',
  );
  const stats = await raw.get('stats', 'ns');
  const seq = stats.seq + 1;
  await raw.put(
    'stats',
    { ...stats, seq, ...(floorMoved ? { expiry: { ...stats.expiry, seq } } : {}) },
    'ns',
  );
  raw.close();
  return { name, stats };
}

describe('IndexedDBStore count and stats', () => {
  it('counts from the keys while every memory is live, and reads the rows only when a bound or filter needs them', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const { mem } = await open(freshName(), () => now);
    await mem.addMany([
      { content: 'one', kind: 'fact', tags: ['x'] },
      { content: 'two', kind: 'fact', metadata: { n: 1 } },
      { content: 'three', tags: ['x', 'y'] },
    ]);
    const rows = countReads('getAll', 'memories');
    const keyCounts = vi.spyOn(IDBObjectStore.prototype, 'count');
    const indexCounts = vi.spyOn(IDBIndex.prototype, 'count');
    expect(await mem.count()).toBe(3);
    expect(await mem.count({ kind: 'fact' })).toBe(2);
    expect(await mem.count({ tags: ['x'] })).toBe(2);
    expect(await mem.count({ tags: ['y', 'y'], tagMode: 'all' })).toBe(1);
    expect(rows()).toBe(0);
    expect(keyCounts).toHaveBeenCalledTimes(1);
    expect(indexCounts).toHaveBeenCalledTimes(3);
    // Filters the keys do not answer: the namespace's rows in pages, or a label's rows through its index
    // (a memory holding both tags asked counted once).
    const cursors = vi.spyOn(IDBIndex.prototype, 'openCursor');
    expect(await mem.count({ metadata: { n: 1 } })).toBe(1);
    expect(await mem.count({ tags: ['x', 'y'] })).toBe(2);
    expect(await mem.count({ kind: 'fact', tags: ['x'] })).toBe(1);
    expect(await mem.count({ since: at(now - HOUR) })).toBe(3);
    expect(rows()).toBe(2);
    expect(cursors).toHaveBeenCalledTimes(3);
    // A memory valid only later: rows until it is valid... and after (its start stays a bound).
    await mem.add({ content: 'later', kind: 'fact', validFrom: at(now + HOUR) });
    expect(await mem.count()).toBe(3);
    expect(rows()).toBe(3);
    expect(await mem.count({ kind: 'fact' })).toBe(2);
    expect(rows()).toBe(3);
    expect(cursors).toHaveBeenCalledTimes(4);
    expect(await mem.count({ history: true })).toBe(4);
    expect(rows()).toBe(3);
    now += 2 * HOUR;
    expect(await mem.count()).toBe(4);
    expect(await mem.count({ kind: 'fact' })).toBe(3);
    expect(rows()).toBe(3);
    expect(cursors).toHaveBeenCalledTimes(4);
    expect(await mem.count({ asOf: at(now - 2 * HOUR) })).toBe(3);
    expect(rows()).toBe(4);
    await mem.close();
  });

  it('counts from the keys from the instant the latest start is reached, and reads rows at the earliest end', async () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const { mem } = await open(freshName(), () => now);
    await mem.addMany([
      { content: 'starts', validFrom: at(now + HOUR) },
      { content: 'ends', validTo: at(now + 2 * HOUR) },
    ]);
    const rows = countReads('getAll', 'memories');
    expect(await mem.count({ asOf: at(now + HOUR) })).toBe(2);
    expect(rows()).toBe(0);
    // At its end a memory is no longer valid: the keys cannot tell.
    expect(await mem.count({ asOf: at(now + 2 * HOUR) })).toBe(1);
    expect(rows()).toBe(1);
    await mem.close();
  });

  it('stats counts stored rows from their keys', async () => {
    const { mem } = await open(freshName(), Date.now);
    const [a, b, c] = await mem.addMany([{ content: 'a' }, { content: 'b' }, { content: 'c' }]);
    await mem.link(a!.id, b!.id, 'rel');
    await mem.remove(c!.id);
    const rows = countReads('getAll', 'memories');
    const feed = vi.spyOn(IDBObjectStore.prototype, 'getAll');
    expect(await mem.stats()).toMatchObject({ memories: 2, links: 1, tombstones: 1 });
    expect(rows()).toBe(0);
    expect(feed).not.toHaveBeenCalled();
    await mem.close();
  });

  it('reads the rows after a write that did not carry the bounds (an older release), then records them', async () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const { name, stats } = await withOlderReleaseWrite(now, { floorMoved: false });

    const { mem } = await open(name, () => now);
    const rows = countReads('getAll', 'memories');
    expect(await mem.count()).toBe(1);
    expect(rows()).toBe(1);
    expect(await mem.count({ history: true })).toBe(2);
    // The walk recorded what it saw: the old memory's end is a bound, so counts now still read rows...
    expect(rows()).toBe(1);
    const check = await openDB(name);
    expect((await check.get('stats', 'ns')).validity).toEqual({
      from: Number.NEGATIVE_INFINITY,
      to: now - HOUR,
      seq: stats.seq + 1,
    });
    check.close();
    // ...except where it allows none: before that end.
    expect(await mem.count({ asOf: at(now - 2 * HOUR) })).toBe(2);
    expect(rows()).toBe(1);
    await mem.close();
  });

  it('does not carry validity bounds left stale by an older release through a later write', async () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    // A release that kept the expiry floor but not the validity bounds wrote.
    const { name } = await withOlderReleaseWrite(now, { floorMoved: true });

    // Today's release writes before anything counts: the bounds it finds are stale, and stay so.
    const { mem } = await open(name, () => now);
    await mem.add({ content: 'plain' });
    expect(await mem.count()).toBe(2);
    expect(await mem.count({ history: true })).toBe(3);
    await mem.close();
  });
});
