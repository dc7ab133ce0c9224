import type { IDBPDatabase, IDBPTransaction } from 'idb';
import type { ChangeEntry, MemoryRecord, Tombstone } from '../../core/store-contract.js';
import { feedKey } from './keys.js';
import type { MemoryRowV5 } from './migrate-v5.js';
import { PendingRequests } from './pending-requests.js';
import { emptyStats, toMemoryRow } from './rows.js';
import type { EngramDatabase, FeedEntry, LinkRow, NamespaceStats, UpgradeTransaction } from './schema.js';
import { TextIndexWriter } from './text-writer.js';

type LegacyTransaction = IDBPTransaction<unknown, string[], 'versionchange'>;
type V1Change = ChangeEntry & { namespace: string };

/**
 * v1 -> v2, inside the upgrade transaction: embeddings move to `vectors`, feed entries from the
 * `changes` store onto the rows they describe, the per-posting index is rebuilt as text groups, and
 * per-namespace statistics are computed once, so that no later open has to.
 */
export async function migrateToVersion2(db: EngramDatabase, tx: UpgradeTransaction): Promise<void> {
  for (const name of ['vectors', 'stats', 'textTables', 'textShards'] as const) db.createObjectStore(name);
  const memories = tx.objectStore('memories');
  memories.createIndex('tags', 'tagKeys', { multiEntry: true });
  // v6 moved memories' feed entries into feed blocks (migrate-v6.ts) and dropped this index.
  (tx as unknown as LegacyTransaction)
    .objectStore('memories')
    .createIndex('feed', ['memory.namespace', 'seq']);
  tx.objectStore('links').createIndex('feed', ['link.namespace', 'seq']);
  tx.objectStore('tombstones').createIndex('feed', ['namespace', 'seq']);

  const stats = new Map<string, NamespaceStats>();
  const statsOf = (namespace: string) => {
    const found = stats.get(namespace) ?? emptyStats();
    stats.set(namespace, found);
    return found;
  };
  const feed = new Map<string, FeedEntry>();
  const changes = (await (tx as unknown as LegacyTransaction).objectStore('changes').getAll()) as V1Change[];
  for (const { namespace, seq, entity, id, origin } of changes) {
    feed.set(`${namespace}\u0000${entity}:${id}`, { seq, origin });
    statsOf(namespace).seq = Math.max(statsOf(namespace).seq, seq);
  }
  const legacy = db as unknown as IDBPDatabase;
  legacy.deleteObjectStore('changes');
  legacy.deleteObjectStore('postings');
  // Every v1 record had an entry; one without would get a new one rather than vanish from the feed.
  const entryOf = (namespace: string, entity: string, id: string): FeedEntry =>
    feed.get(`${namespace}\u0000${entity}:${id}`) ?? { seq: ++statsOf(namespace).seq, origin: 'local' };

  const writes = new PendingRequests();
  const stores = { tables: tx.objectStore('textTables'), shards: tx.objectStore('textShards') };
  const vectors = tx.objectStore('vectors');
  let text: TextIndexWriter | undefined;
  let textNamespace: string | undefined;
  for (let cursor = await memories.openCursor(); cursor; cursor = await cursor.continue()) {
    const record = cursor.value as unknown as MemoryRecord;
    const { namespace, id, content, embedding } = record.memory;
    if (namespace !== textNamespace) {
      await text?.flush();
      text = new TextIndexWriter('english', stores, namespace, statsOf(namespace), writes);
      textNamespace = namespace;
    }
    const place = text!.add(id, content);
    if (embedding) writes.track(vectors.put(Float64Array.from(embedding), [namespace, id]));
    // The entry stays on the row (the `feed` index), as on every row until v6; v5's step adds its key.
    const { seq, origin } = entryOf(namespace, 'memory', id);
    const row: MemoryRowV5 = { ...toMemoryRow(record, place, seq), origin, feedKey: feedKey(namespace, seq) };
    writes.track(cursor.update(row));
  }
  await text?.flush();
  for (let cursor = await tx.objectStore('links').openCursor(); cursor; cursor = await cursor.continue()) {
    const { link } = cursor.value as LinkRow;
    writes.track(cursor.update({ ...cursor.value, ...entryOf(link.namespace, 'link', link.id) }));
  }
  for (
    let cursor = await tx.objectStore('tombstones').openCursor();
    cursor;
    cursor = await cursor.continue()
  ) {
    const { namespace, entity, id } = cursor.value as Tombstone;
    writes.track(cursor.update({ ...cursor.value, ...entryOf(namespace, entity, id) }));
  }
  const statsStore = tx.objectStore('stats');
  for (const [namespace, counters] of stats) writes.track(statsStore.put(counters, namespace));
  await writes.settle();
}
