import 'fake-indexeddb/auto';
import { type IDBPDatabase, openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import type { EngramDatabase } from '../../src/backends/indexeddb/schema.js';
import { SCHEMA_VERSION, upgradeSchema } from '../../src/backends/indexeddb/upgrade.js';

const name = `engram-upgrade-v5-${process.pid}-${Date.now()}`;
const at = '2026-11-01T08:00:00.000Z';

/** A v4 memory row as v4 code wrote it: keys from `[memory.namespace, memory.id]`, `[namespace, tag]` tag keys. */
function v4Row(namespace: string, i: number) {
  const id = `m${String(i).padStart(5, '0')}`;
  const tags = i % 3 === 0 ? [] : [`t${i % 5}`, 'all'];
  return {
    memory: {
      id,
      namespace,
      content: `memory ${i}`,
      kind: `k${i % 4}`,
      tags,
      metadata: {},
      createdAt: at,
      updatedAt: at,
    },
    clocks: `stamp-${i}`,
    tagKeys: tags.map((tag) => [namespace, tag]),
    group: Math.floor(i / 2048),
    slot: i % 2048,
    seq: i + 1,
    origin: i % 2 ? 'remote' : 'local',
  };
}

describe('IndexedDBStore schema v4 -> v5 -> v6', () => {
  it('moves every memory row, page after page and namespace after namespace, to string keys, then its feed entry into blocks', async () => {
    // More rows than one page of the copy (1000), in two namespaces whose keys interleave by neither.
    const rows = [
      ...Array.from({ length: 1500 }, (_, i) => v4Row('a', i)),
      ...Array.from({ length: 1200 }, (_, i) => v4Row('b', i)),
    ];
    const legacy = await openDB(name, 4, {
      upgrade: (db, oldVersion, _newVersion, tx) =>
        upgradeSchema(db as unknown as EngramDatabase, oldVersion, tx as never, 4),
    });
    const tx = (legacy as IDBPDatabase).transaction('memories', 'readwrite');
    for (const row of rows) void tx.store.put(row);
    await tx.done;
    legacy.close();

    const upgraded = await openDB(name, 5, {
      upgrade: (db, oldVersion, _newVersion, tx) =>
        upgradeSchema(db as unknown as EngramDatabase, oldVersion, tx as never, 5),
    });
    expect(upgraded.transaction('memories').store.keyPath).toBeNull();
    const keys = await upgraded.getAllKeys('memories');
    expect(keys).toHaveLength(rows.length);
    expect(keys).toEqual(rows.map(({ memory }) => `${memory.namespace}\u0000${memory.id}`));
    for (const row of [rows[0]!, rows[999]!, rows[1000]!, rows[1499]!, rows[1500]!, rows[2699]!]) {
      const { namespace, id, kind, tags } = row.memory;
      expect(await upgraded.get('memories', `${namespace}\u0000${id}`)).toEqual({
        ...row,
        kindKey: `${namespace}\u0000${kind}`,
        tagKeys: tags.map((tag) => `${namespace}\u0000${tag}`),
        feedKey: `${namespace}\u0000${String(row.seq).padStart(16, '0')}`,
      });
    }
    // Each index answers by the new keys, with every row it should hold.
    const count = (index: string, key: string) => upgraded.countFromIndex('memories', index as never, key);
    expect(await count('kind', 'b\u0000k1')).toBe(
      rows.filter((r) => r.memory.namespace === 'b' && r.memory.kind === 'k1').length,
    );
    expect(await count('tags', 'a\u0000all')).toBe(
      rows.filter((r) => r.memory.namespace === 'a' && r.memory.tags.length > 0).length,
    );
    const feed = await upgraded.getAllKeysFromIndex(
      'memories',
      'feed' as never,
      IDBKeyRange.bound('a\u00000000000000001490', 'a\u0001'),
    );
    expect(feed).toEqual(rows.slice(1489, 1500).map(({ memory }) => `a\u0000${memory.id}`));
    upgraded.close();

    // v5 -> v6: the entries move into feed blocks of up to 1000, page after page and namespace after
    // namespace, the `feed` index goes and the rows stay as they were.
    const v6 = await openDB(name, SCHEMA_VERSION, {
      upgrade: (db, oldVersion, _newVersion, tx) =>
        upgradeSchema(db as unknown as EngramDatabase, oldVersion, tx as never),
    });
    expect([...v6.transaction('memories').store.indexNames].sort()).toEqual(['kind', 'tags']);
    expect(await v6.getAllKeys('feedBlocks')).toEqual([
      ['a', 1000],
      ['a', 1500],
      ['b', 1000],
      ['b', 1200],
    ]);
    const blocks = await v6.getAll('feedBlocks');
    const entries = blocks.flatMap(({ seqs, ids, origins }) =>
      Array.from(seqs, (seq, j) => [seq, ids.split(' ')[j], origins[j]]),
    );
    expect(entries).toEqual(rows.map((r) => [r.seq, r.memory.id, r.origin === 'remote' ? 'r' : 'l']));
    expect(await v6.get('memories', 'b\u0000m01199')).toMatchObject({ seq: 1200, origin: 'remote' });
    v6.close();
  });
});
