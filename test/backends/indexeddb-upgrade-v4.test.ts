import 'fake-indexeddb/auto';
import { deleteDB, type IDBPDatabase, openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import type { EngramDatabase, TextShardRow } from '../../src/backends/indexeddb/schema.js';
import { decodeShard, encodeShard, type ShardPostings } from '../../src/backends/indexeddb/text-shards.js';
import { SCHEMA_VERSION, upgradeSchema } from '../../src/backends/indexeddb/upgrade.js';
import { createMemory, type Engram } from '../../src/index.js';
import { type CopiedStores, withFeedOnRows } from './indexeddb-test-kit.js';

const name = `engram-upgrade-v4-${process.pid}-${Date.now()}`;
const QUERIES = ['coffee', 'morning tea', 'even*', 'dri*', 'garden -tea', 'the'];

/** v3's shard of a term: FNV-1a of its first two UTF-16 units, over 64 shards, stems and words alike. */
function version3Shard(term: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < Math.min(2, term.length); i++) hash = Math.imul(hash ^ term.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % 64;
}

async function results(mem: Engram): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const query of QUERIES) {
    out.push((await mem.search(query, { limit: 20 })).map((h) => [h.memory.id, h.score]));
  }
  return out;
}

/**
 * A version 3 database as v3 code left it: written through today's store, then copied row by row into
 * a database created at version 3, with the text rows re-sharded the way v3 keyed them.
 */
async function makeVersion3(): Promise<{ searches: unknown[]; changes: unknown[]; stats: unknown }> {
  const store = new IndexedDBStore({ name, textGroupSize: 4 });
  const mem = await createMemory({ store, namespace: 'ns' });
  const contents = [
    'I drink coffee every morning',
    'tea in the evening',
    'the garden needs water in the evening',
    'coffee and tea, morning and evening',
    'drinking water in the garden',
    'evenings are for tea',
  ];
  for (const content of contents) await mem.add({ content });
  const gone = await mem.add({ content: 'a coffee to forget' });
  await mem.remove(gone.id);
  const searches = await results(mem);
  const changes = await store.changes('ns', 0, 100);
  const stats = await store.textStats('ns');
  await mem.close();

  const current = await openDB(name);
  const written: CopiedStores = [];
  for (const storeName of [...current.objectStoreNames]) {
    written.push([storeName, await current.getAll(storeName), await current.getAllKeys(storeName)]);
  }
  const copied = withFeedOnRows(written);
  current.close();
  await deleteDB(name);
  const legacy = await openDB(name, 3, {
    upgrade: (db, oldVersion, _newVersion, tx) =>
      upgradeSchema(db as unknown as EngramDatabase, oldVersion, tx as never, 3),
  });
  for (const [storeName, values, keys] of copied) {
    const tx = (legacy as IDBPDatabase).transaction(storeName, 'readwrite');
    // The older schema's key path decides (memory rows left theirs for an out-of-line key in v5).
    const inline = tx.store.keyPath !== null;
    if (storeName === 'textShards') {
      const byKey = new Map<
        string,
        { namespace: string; shard: number; group: number; postings: ShardPostings }
      >();
      values.forEach((value, i) => {
        const [namespace] = keys[i] as [string, number, number];
        const row = value as TextShardRow;
        for (const [term, list] of decodeShard(row)) {
          const shard = version3Shard(term);
          const key = `${namespace} ${shard} ${row.group}`;
          const found = byKey.get(key) ?? { namespace, shard, group: row.group, postings: new Map() };
          byKey.set(key, found.postings.set(term, list) && found);
        }
      });
      for (const { namespace, shard, group, postings } of byKey.values()) {
        void tx.store.put(encodeShard(group, postings), [namespace, shard, group]);
      }
    } else {
      values.forEach((value, i) => void (inline ? tx.store.put(value) : tx.store.put(value, keys[i])));
    }
    await tx.done;
  }
  legacy.close();
  return { searches, changes, stats };
}

describe('IndexedDBStore schema v3 -> v4', () => {
  it('re-shards the text index: same ids, scores, statistics and change feed', async () => {
    const before = await makeVersion3();
    const check = await openDB(name);
    expect(check.version).toBe(3);
    const shards = (await check.getAllKeys('textShards')).map((key) => (key as number[])[1]!);
    expect(Math.max(...shards)).toBeLessThan(64); // v3 had 64 shards, stems among them
    check.close();

    const store = new IndexedDBStore({ name });
    const mem = await createMemory({ store, namespace: 'ns' });
    expect(await results(mem)).toEqual(before.searches);
    expect(await store.changes('ns', 0, 100)).toEqual(before.changes);
    expect(await store.textStats('ns')).toEqual(before.stats);
    expect(before.stats).toMatchObject({ docs: 6 });
    // Writes after the upgrade index into the new layout beside the rebuilt one.
    const added = await mem.add({ content: 'morning coffee in the garden' });
    expect((await mem.search('garden coffee')).map((h) => h.memory.id)).toContain(added.id);
    await mem.close();
    const upgraded = await openDB(name);
    expect(upgraded.version).toBe(SCHEMA_VERSION);
    const after = (await upgraded.getAllKeys('textShards')).map((key) => (key as number[])[1]!);
    expect(Math.max(...after)).toBeGreaterThanOrEqual(64); // stems now live in their own shards
    upgraded.close();
  });
});
