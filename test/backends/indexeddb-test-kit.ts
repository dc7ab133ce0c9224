import { vi } from 'vitest';
import { IndexedDBStore, type IndexedDBStoreOptions } from '../../src/backends/indexeddb/index.js';
import { feedKey, memoryKey } from '../../src/backends/indexeddb/keys.js';
import type { FeedBlockRow, MemoryRow, StoredShardRow } from '../../src/backends/indexeddb/schema.js';
import { unpackShard } from '../../src/backends/indexeddb/text-shards.js';
import { createMemory, type Engram, InMemoryStore } from '../../src/index.js';

/** Counts `method` calls on the object store `storeName` from now on (restore with vi.restoreAllMocks). */
export function countReads(method: 'get' | 'getAll', storeName: string): () => number {
  const spy = vi.spyOn(IDBObjectStore.prototype, method);
  return () => spy.mock.contexts.filter((store) => (store as IDBObjectStore).name === storeName).length;
}

/**
 * Two tabs on one database and the in-memory reference, on one clock; `both(write, writer)` runs a write
 * in `writer` and then in the reference at the same clock time, so their records (and scores) agree.
 */
export async function twoTabsAndReference(name: string, options: Omit<IndexedDBStoreOptions, 'name'>) {
  const clock = { now: Date.parse('2030-01-01T00:00:00.000Z') };
  const now = () => (clock.now += 1000);
  const tab = () => createMemory({ store: new IndexedDBStore({ name, ...options }), namespace: 'ns', now });
  const tabA = await tab();
  const tabB = await tab();
  const reference = await createMemory({ store: new InMemoryStore(), namespace: 'ns', now });
  const both = async (write: (mem: Engram) => Promise<unknown>, writer: Engram) => {
    const at = clock.now;
    await write(writer);
    clock.now = at;
    await write(reference);
  };
  return { tabA, tabB, reference, both };
}

/** The rows of every store of a database, as `[store, values, keys]`. */
export type CopiedStores = Array<[string, unknown[], IDBValidKey[]]>;

/**
 * Rows written by today's store as a database before schema v6 held them, for tests that build an older
 * one: every memory row carries its own change-feed entry (`origin`, `feedKey`), no `feedBlocks`, and
 * text shard rows hold a 32-bit word per posting (before v9).
 */
export function withFeedOnRows(copied: CopiedStores): CopiedStores {
  const originOf = new Map<string, string>();
  for (const [store, values, keys] of copied) {
    if (store !== 'feedBlocks') continue;
    values.forEach((value, i) => {
      const [namespace] = keys[i] as [string, number];
      const { ids, origins } = value as FeedBlockRow;
      ids.split(' ').forEach((id, j) => {
        originOf.set(memoryKey(namespace, id), origins[j] === 'r' ? 'remote' : 'local');
      });
    });
  }
  return copied
    .filter(([store]) => store !== 'feedBlocks')
    .map(([store, values, keys]) => {
      if (store === 'textShards') return [store, values.map((v) => unpackShard(v as StoredShardRow)), keys];
      if (store !== 'memories') return [store, values, keys];
      const rows = values.map((value, i) => {
        const row = value as MemoryRow;
        const key = keys[i] as string;
        return { ...row, origin: originOf.get(key), feedKey: feedKey(row.memory.namespace, row.seq) };
      });
      return [store, rows, keys];
    });
}
