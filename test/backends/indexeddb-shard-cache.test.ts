import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { type ReadTransaction, SEARCH_STORES } from '../../src/backends/indexeddb/search-transactions.js';
import { ShardCache } from '../../src/backends/indexeddb/shard-cache.js';
import { SlotCache } from '../../src/backends/indexeddb/slot-tables.js';
import { readDocPostings } from '../../src/backends/indexeddb/text-reader.js';
import { shardOf } from '../../src/backends/indexeddb/text-shards.js';
import { createMemory, type Engram } from '../../src/index.js';
import { countReads, twoTabsAndReference } from './indexeddb-test-kit.js';

/**
 * A store keeps the text shard rows its searches read, for the index as the namespace's counters
 * stamp it. These check that a search reads them again whenever any tab changed the index, by
 * comparing with the reference store after every step, and that an unchanged index is not read again.
 */
const name = `engram-shard-cache-${process.pid}-${Date.now()}`;
const QUERIES = ['kiwi', 'jam tart', 'ki*', 'tart -jam', 'kiwi jam'];

async function sameSearches(mems: Engram[], reference: Engram, step: string): Promise<void> {
  const hits = async (mem: Engram, query: string) =>
    (await mem.search(query, { limit: 20 })).map((h) => [h.memory.id, h.score]);
  for (const query of QUERIES) {
    const expected = await hits(reference, query);
    for (const mem of mems) expect(await hits(mem, query), `${step}: ${query}`).toEqual(expected);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('IndexedDBStore shard rows kept between searches', () => {
  it('are used while the index is unchanged and read again after any tab changed it', async () => {
    const { tabA, tabB, reference, both } = await twoTabsAndReference(name, { textGroupSize: 4 });
    await both(
      (m) =>
        m.addMany([
          { id: 'a1', content: 'kiwi tart' },
          { id: 'a2', content: 'kiwi kiwi jam' },
          { id: 'a3', content: 'jam tart' },
        ]),
      tabA,
    );
    await sameSearches([tabA, tabB], reference, 'first');
    const reads = countReads('getAll', 'textShards');
    await sameSearches([tabA, tabB], reference, 'again');
    expect(reads()).toBe(0);

    await both(
      (m) =>
        m.addMany([
          { id: 'b1', content: 'kiwi jam jam' },
          { id: 'b2', content: 'tart' },
        ]),
      tabB,
    );
    await sameSearches([tabA, tabB], reference, 'after B added');
    await both((m) => m.update('a2', { content: 'tart only' }), tabB);
    await sameSearches([tabA, tabB], reference, 'after B edited');
    await both((m) => m.remove('a1'), tabA);
    await sameSearches([tabA, tabB], reference, 'after A removed');
    await both((m) => m.remove('b1'), tabB);
    await sameSearches([tabA, tabB], reference, 'after B removed');
    expect(reads()).toBeGreaterThan(0);
    await Promise.all([tabA.close(), tabB.close(), reference.close()]);
  });

  it('keeps at most its byte budget, least recently used out', () => {
    const row = (group: number) => ({ group, terms: 'a b', data: new Uint32Array(250) });
    const cache = new ShardCache(4 * 1100);
    for (let shard = 0; shard < 6; shard++) cache.set('ns', shard, 's', [row(0)], cache.generation);
    expect(cache.get('ns', 0, 's')).toBeUndefined();
    expect(cache.get('ns', 5, 's')).toHaveLength(1);
    expect(cache.get('ns', 5, 'other stamp')).toBeUndefined();
    expect(cache.has('ns', 5)).toBe(false);
    const generation = cache.generation;
    cache.clear();
    cache.set('ns', 1, 's', [row(0)], generation);
    expect(cache.has('ns', 1)).toBe(false);
  });

  it('leaves out a shard whose rows weigh more than a quarter of the budget, each row weighing beyond its bytes', () => {
    const cache = new ShardCache(4 * 1100);
    const postings = (words: number) => [{ group: 0, terms: 'a b', data: new Uint32Array(words) }];
    cache.set('ns', 1, 's', postings(250), cache.generation);
    cache.set('ns', 2, 's', postings(300), cache.generation);
    expect([cache.has('ns', 1), cache.has('ns', 2)]).toEqual([true, false]);
    // Rows with no postings still cost their object: a shard of many of them is not free to keep.
    const empty = Array.from({ length: 100 }, (_, group) => ({ group, terms: '', data: new Uint32Array(0) }));
    cache.set('ns', 3, 's', empty, cache.generation);
    expect(cache.has('ns', 3)).toBe(false);
  });

  it('does not keep rows a search read while the cache was cleared (the connection dropped meanwhile)', async () => {
    const mem = await createMemory({
      store: new IndexedDBStore({ name: `${name}-cleared` }),
      namespace: 'ns',
    });
    await mem.addMany([{ content: 'kiwi tart' }, { content: 'kiwi jam' }]);
    const kept = new ShardCache();
    const db = await openDB(`${name}-cleared`);
    const tx = db.transaction(SEARCH_STORES, 'readonly');
    // The counters come back after the cache was cleared: what the search read began before the clear.
    const clearing = new Proxy(tx, {
      get(target, key) {
        if (key !== 'objectStore') return Reflect.get(target, key);
        return (store: string) => {
          const found = target.objectStore(store as 'stats');
          if (store !== 'stats') return found;
          return {
            get: async (namespace: string) => {
              const stats = await found.get(namespace);
              kept.clear();
              return stats;
            },
          };
        };
      },
    }) as unknown as ReadTransaction;
    const [kiwi] = await readDocPostings(clearing, 'ns', ['kiwi'], [], new SlotCache(), kept);
    expect(kiwi!.docs).toHaveLength(2);
    expect(kept.has('ns', shardOf('kiwi'))).toBe(false);
    db.close();
    await mem.close();
  });
});
