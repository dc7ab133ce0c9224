import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { PAGE } from '../../src/backends/indexeddb/namespace-bounds.js';
import { createMemory, type MemoryInput } from '../../src/index.js';
import { countReads } from './indexeddb-test-kit.js';

/**
 * Maintenance asks for expired memories whenever a memory opens. The store keeps a floor under every
 * expiry of a namespace beside its counters, so that this costs no scan of the memory rows while
 * nothing can have expired; these check that the floor never hides an expired memory.
 */
let databases = 0;
const freshName = () => `engram-expiry-floor-${process.pid}-${Date.now()}-${++databases}`;
const HOUR = 3_600_000;
const at = (ms: number) => new Date(ms).toISOString();

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * A database holding one memory expiring in 10 hours, then what an older release's write leaves: a
 * memory row expiring in an hour (sooner than the floor says), the counters moved, the floor not.
 */
async function withOlderReleaseWrite() {
  const name = freshName();
  const mem = await createMemory({
    store: new IndexedDBStore({ name }),
    namespace: 'ns',
    maintenance: { intervalMs: 0 },
  });
  const now = Date.now();
  const kept = await mem.add({ content: 'kept', expiresAt: at(now + 10 * HOUR) });
  await mem.close();
  const raw = await openDB(name);
  const row = await raw.get('memories', `ns\u0000${kept.id}`);
  await raw.put(
    'memories',
    { ...row, memory: { ...row.memory, id: 'z-old', expiresAt: at(now + HOUR) }, seq: row.seq + 1 },
    'ns\u0000z-old',
  );
  const stats = await raw.get('stats', 'ns');
  await raw.put('stats', { ...stats, seq: stats.seq + 1 }, 'ns');
  raw.close();
  return { name, now, stats };
}

describe('IndexedDBStore expiry floor', () => {
  it('skips the scan while nothing can have expired, and still finds every expired memory', async () => {
    const name = freshName();
    const store = new IndexedDBStore({ name });
    const mem = await createMemory({ store, namespace: 'ns', maintenance: { intervalMs: 0 } });
    const now = Date.now();
    await mem.addMany([{ content: 'plain one' }, { content: 'plain two' }]);
    const soon = await mem.add({ content: 'expires soon', expiresAt: at(now + HOUR) });
    const scans = countReads('getAll', 'memories');
    expect(await store.expiredIds('ns', { now: at(now), limit: 10 })).toEqual([]);
    expect(scans()).toBe(0);
    // Past the floor: one scan finds it.
    expect(await store.expiredIds('ns', { now: at(now + 2 * HOUR), limit: 10 })).toEqual([soon.id]);
    expect(scans()).toBe(1);
    // A later write with an earlier expiry lowers the floor.
    const sooner = await mem.add({ content: 'expires sooner', expiresAt: at(now + HOUR / 2) });
    expect(await store.expiredIds('ns', { now: at(now + HOUR * 0.75), limit: 10 })).toEqual([sooner.id]);
    // No more than the limit, in id order, though one read finds more.
    expect(await store.expiredIds('ns', { now: at(now + 2 * HOUR), limit: 1 })).toEqual([soon.id]);
    await mem.close();
  });

  it('scans again after a write that did not carry the floor (an older release), and then records it', async () => {
    const { name, now, stats } = await withOlderReleaseWrite();

    const reopened = new IndexedDBStore({ name });
    const scans = countReads('getAll', 'memories');
    expect(await reopened.expiredIds('ns', { now: at(now + 2 * HOUR), limit: 10 })).toEqual(['z-old']);
    expect(scans()).toBe(1);
    // The scan recorded what it saw: the next ask before the old memory's expiry reads nothing.
    expect(await reopened.expiredIds('ns', { now: at(now), limit: 10 })).toEqual([]);
    expect(scans()).toBe(1);
    const check = await openDB(name);
    expect((await check.get('stats', 'ns')).expiry).toEqual({ floor: now + HOUR, seq: stats.seq + 1 });
    check.close();
    await reopened.close();
  });

  it('does not carry a floor left stale by an older release through a later write', async () => {
    const { name, now } = await withOlderReleaseWrite();

    // Today's release writes before anything scans: the floor it finds is stale, and stays so.
    const reopened = await createMemory({
      store: new IndexedDBStore({ name }),
      namespace: 'ns',
      maintenance: { intervalMs: 0 },
    });
    await reopened.add({ content: 'plain' });
    expect(await reopened.store.expiredIds!('ns', { now: at(now + 2 * HOUR), limit: 10 })).toEqual(['z-old']);
    await reopened.close();
  });
});

describe('IndexedDBStore count and the expiry floor', () => {
  it('does not count from the keys under a floor left stale by an older release', async () => {
    const { name, now } = await withOlderReleaseWrite();
    const mem = await createMemory({
      store: new IndexedDBStore({ name }),
      namespace: 'ns',
      now: () => now + 2 * HOUR,
      maintenance: { intervalMs: 0 },
    });
    // Past the old memory's expiry, before the stale floor; history leaves validity out of it.
    expect(await mem.count({ history: true })).toBe(1);
    await mem.close();
  });
});

describe('IndexedDBStore walks of namespaces larger than one read', () => {
  it('reads every page, and records bounds only from a walk that read them all', async () => {
    const name = freshName();
    const now = Date.parse('2030-01-01T00:00:00Z');
    const store = new IndexedDBStore({ name });
    const mem = await createMemory({
      store,
      namespace: 'ns',
      now: () => now,
      maintenance: { intervalMs: 0 },
    });
    // One page more than a read takes: the first and the last memory expire, the last is valid only later.
    const writes: MemoryInput[] = Array.from({ length: PAGE + 1 }, (_, i) => ({
      id: `m${String(i).padStart(4, '0')}`,
      content: `memory ${i}`,
    }));
    writes[0] = { ...writes[0]!, expiresAt: at(now + HOUR) };
    writes[PAGE] = { ...writes[PAGE]!, expiresAt: at(now + HOUR), validFrom: at(now + 2 * HOUR) };
    await mem.addMany(writes.slice(0, PAGE));
    await mem.addMany(writes.slice(PAGE));
    const later = at(now + 1.5 * HOUR);
    expect(await store.expiredIds('ns', { now: later, limit: 10 })).toEqual(['m0000', `m${PAGE}`]);
    expect(await mem.count()).toBe(PAGE);

    // Bounds left stale (an older release's write), then a walk that stops after its first page.
    const raw = await openDB(name);
    const stats = await raw.get('stats', 'ns');
    await raw.put('stats', { ...stats, seq: stats.seq + 1 }, 'ns');
    raw.close();
    expect(await store.expiredIds('ns', { now: later, limit: 1 })).toEqual(['m0000']);
    // What that walk saw says nothing of the last memory: the count still reads it, not yet valid.
    expect(await mem.count()).toBe(PAGE);
    await mem.close();
  });
});
