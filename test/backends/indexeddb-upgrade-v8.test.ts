import 'fake-indexeddb/auto';
import { deleteDB, type IDBPDatabase, openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import type { EngramDatabase } from '../../src/backends/indexeddb/schema.js';
import { upgradeSchema } from '../../src/backends/indexeddb/upgrade.js';
import { createMemory } from '../../src/index.js';

const name = `engram-upgrade-v8-${process.pid}-${Date.now()}`;
/** Memory rows a step reads per request. */
const PAGE = 1000;

/**
 * A version 7 database of one namespace: a page of English memories, then one in Thai, which v7 indexed
 * unsegmented. Its rows are today's, copied into a database created at version 7, without the text index:
 * only the v8 step's rebuild of the namespace makes the Thai memory findable again.
 */
async function makeVersion7(): Promise<void> {
  const mem = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'ns' });
  await mem.addMany(
    Array.from({ length: PAGE }, (_, i) => ({ id: `a${String(i).padStart(4, '0')}`, content: `note ${i}` })),
  );
  await mem.add({ id: 'z-thai', content: 'ฉันชอบกินข้าวผัด' });
  await mem.close();
  const current = await openDB(name);
  const copied: Array<[string, unknown[], IDBValidKey[]]> = [];
  for (const store of ['memories', 'feedBlocks', 'stats', 'meta']) {
    copied.push([store, await current.getAll(store), await current.getAllKeys(store)]);
  }
  current.close();
  await deleteDB(name);
  const legacy = await openDB(name, 7, {
    upgrade: (db, oldVersion, _newVersion, tx) =>
      upgradeSchema(db as unknown as EngramDatabase, oldVersion, tx as never, 7),
  });
  for (const [store, values, keys] of copied) {
    const tx = (legacy as IDBPDatabase).transaction(store, 'readwrite');
    values.forEach((value, i) => void tx.store.put(value, keys[i]));
    await tx.done;
  }
  legacy.close();
}

describe('IndexedDBStore schema v7 -> v8', () => {
  it('finds a text to segment on any page of memory rows, and rebuilds its namespace', async () => {
    await makeVersion7();
    const mem = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'ns' });
    expect((await mem.search('กิน')).map((hit) => hit.memory.id)).toEqual(['z-thai']);
    expect((await mem.search('note')).length).toBeGreaterThan(0);
    await mem.close();
  });
});
