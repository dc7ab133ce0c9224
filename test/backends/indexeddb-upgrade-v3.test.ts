import 'fake-indexeddb/auto';
import { deleteDB, type IDBPDatabase, openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import type { EngramDatabase, TextShardRow } from '../../src/backends/indexeddb/schema.js';
import { decodeShard, encodeShard } from '../../src/backends/indexeddb/text-shards.js';
import { SCHEMA_VERSION, upgradeSchema } from '../../src/backends/indexeddb/upgrade.js';
import { WORD_MARK } from '../../src/core/text/index.js';
import { createMemory } from '../../src/index.js';
import { type CopiedStores, withFeedOnRows } from './indexeddb-test-kit.js';

const name = `engram-upgrade-v3-${process.pid}-${Date.now()}`;

/**
 * A version 2 database as v2 code left it: written through today's store, then copied row by row into a
 * database created at version 2, with the index keys v2 never wrote (words as written) taken out.
 */
async function makeVersion2(): Promise<{ coffee: string }> {
  const mem = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'ns' });
  const coffee = await mem.add({ content: 'I drink coffee every morning' });
  await mem.add({ content: 'tea in the evening' });
  await mem.close();
  const current = await openDB(name);
  const written: CopiedStores = [];
  for (const store of [...current.objectStoreNames]) {
    written.push([store, await current.getAll(store), await current.getAllKeys(store)]);
  }
  const copied = withFeedOnRows(written);
  current.close();
  await deleteDB(name);
  const legacy = await openDB(name, 2, {
    upgrade: (db, oldVersion, _newVersion, tx) =>
      upgradeSchema(db as unknown as EngramDatabase, oldVersion, tx as never, 2),
  });
  for (const [store, values, keys] of copied) {
    const tx = (legacy as IDBPDatabase).transaction(store, 'readwrite');
    // The older schema's key path decides (memory rows left theirs for an out-of-line key in v5).
    const inline = tx.store.keyPath !== null;
    values.forEach((value, i) => {
      let row = value;
      if (store === 'textShards') {
        const postings = decodeShard(value as TextShardRow);
        for (const term of [...postings.keys()]) if (term.startsWith(WORD_MARK)) postings.delete(term);
        row = encodeShard((value as TextShardRow).group, postings);
      }
      void (inline ? tx.store.put(row) : tx.store.put(row, keys[i]));
    });
    await tx.done;
  }
  legacy.close();
  return { coffee: coffee.id };
}

describe('IndexedDBStore schema v2 -> v3', () => {
  it('rebuilds the text index with words as written, so whole-word prefixes match', async () => {
    const { coffee } = await makeVersion2();
    const check = await openDB(name);
    expect(check.version).toBe(2);
    const terms = (await check.getAll('textShards')).flatMap((row) => [...decodeShard(row).keys()]);
    expect(terms).toContain('coffe');
    expect(terms.some((t) => t.startsWith(WORD_MARK))).toBe(false);
    const { seq } = await check.get('stats', 'ns');
    check.close();

    const store = new IndexedDBStore({ name });
    const mem = await createMemory({ store, namespace: 'ns' });
    expect((await mem.search('coffee*')).map((h) => h.memory.id)).toEqual([coffee]);
    expect((await mem.search('morning*')).map((h) => h.memory.id)).toEqual([coffee]);
    expect(await store.textStats('ns')).toEqual({ docs: 2, tokens: 9 });
    expect((await mem.list()).items).toHaveLength(2);
    await mem.close();
    const upgraded = await openDB(name);
    expect(upgraded.version).toBe(SCHEMA_VERSION);
    // The feed's number stays: a rebuild of the text counters does not number the feed again.
    expect((await upgraded.get('stats', 'ns')).seq).toBe(seq);
    upgraded.close();
  });
});
