import 'fake-indexeddb/auto';
import { deleteDB, type IDBPDatabase, openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import type { EngramDatabase, StoredShardRow } from '../../src/backends/indexeddb/schema.js';
import { unpackShard } from '../../src/backends/indexeddb/text-shards.js';
import { SCHEMA_VERSION, upgradeSchema } from '../../src/backends/indexeddb/upgrade.js';
import { createMemory, type Engram } from '../../src/index.js';

const name = `engram-upgrade-v9-${process.pid}-${Date.now()}`;
const QUERIES = ['kiwi', 'jam tart', 'ki*', 'note 17', 'tart -jam'];
const WORDS = ['kiwi', 'jam', 'tart', 'kiwano', 'plum', 'fig'];

async function results(mem: Engram): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const query of QUERIES)
    out.push((await mem.search(query, { limit: 50 })).map((h) => [h.memory.id, h.score]));
  return out;
}

/**
 * A version 8 database as v8 code left it: written through today's store, then copied into a database
 * created at version 8, its text shard rows unpacked to a 32-bit word per posting as v8 stored them. More
 * shard rows than the v9 step reads per request (256).
 */
async function makeVersion8(): Promise<{ searches: unknown[]; shards: number }> {
  const mem = await createMemory({ store: new IndexedDBStore({ name, textGroupSize: 4 }), namespace: 'ns' });
  await mem.addMany(
    Array.from({ length: 120 }, (_, i) => ({
      id: `m${String(i).padStart(3, '0')}`,
      content: `note ${i} ${WORDS[i % 6]} ${WORDS[(i * 5) % 6]}`,
    })),
  );
  await mem.remove('m007');
  const searches = await results(mem);
  await mem.close();
  const current = await openDB(name);
  const copied: Array<[string, unknown[], IDBValidKey[]]> = [];
  for (const store of [...current.objectStoreNames]) {
    const values = await current.getAll(store);
    const rows = store === 'textShards' ? values.map((row) => unpackShard(row as StoredShardRow)) : values;
    copied.push([store, rows, await current.getAllKeys(store)]);
  }
  current.close();
  await deleteDB(name);
  const legacy = await openDB(name, 8, {
    upgrade: (db, oldVersion, _newVersion, tx) =>
      upgradeSchema(db as unknown as EngramDatabase, oldVersion, tx as never, 8),
  });
  for (const [store, values, keys] of copied) {
    const tx = (legacy as IDBPDatabase).transaction(store, 'readwrite');
    // Links and tombstones are keyed by their rows (key paths), every other store out of line.
    const inline = tx.store.keyPath !== null;
    values.forEach((value, i) => void (inline ? tx.store.put(value) : tx.store.put(value, keys[i])));
    await tx.done;
  }
  legacy.close();
  return { searches, shards: copied.find(([store]) => store === 'textShards')![1].length };
}

describe('IndexedDBStore schema v8 -> v9', () => {
  it('packs every text shard row, page after page, and searches find what they found', async () => {
    const { searches, shards } = await makeVersion8();
    expect(shards).toBeGreaterThan(256);
    const mem = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'ns' });
    expect(await results(mem)).toEqual(searches);
    await mem.close();
    const db = await openDB(name);
    expect(db.version).toBe(SCHEMA_VERSION);
    const rows = await db.getAll('textShards');
    expect(rows).toHaveLength(shards);
    expect(rows.filter((row) => !(row.bytes instanceof Uint8Array) || 'data' in row)).toEqual([]);
    db.close();
  });
});
