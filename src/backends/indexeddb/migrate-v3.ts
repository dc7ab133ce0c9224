import type { Memory } from '../../core/model.js';
import { PendingRequests } from './pending-requests.js';
import { emptyStats } from './rows.js';
import type { EngramDatabase, MemoryRow, NamespaceStats, UpgradeTransaction } from './schema.js';
import { TextIndexWriter } from './text-writer.js';

/**
 * v2 -> v3, inside the upgrade transaction: the text index gains the words as written beside their
 * stems (for prefixes that do not depend on stemming), so it is rebuilt from the stored content.
 * Records, the change feed and sequence numbers stay as they are.
 */
export async function migrateToVersion3(_db: EngramDatabase, tx: UpgradeTransaction): Promise<void> {
  const stores = { tables: tx.objectStore('textTables'), shards: tx.objectStore('textShards') };
  await stores.tables.clear();
  await stores.shards.clear();
  const statsStore = tx.objectStore('stats');
  const stats = new Map<string, NamespaceStats>();
  for (let cursor = await statsStore.openCursor(); cursor; cursor = await cursor.continue()) {
    stats.set(cursor.key, { ...emptyStats(), seq: cursor.value.seq });
  }
  const statsOf = (namespace: string) => {
    const found = stats.get(namespace) ?? emptyStats();
    stats.set(namespace, found);
    return found;
  };
  const writes = new PendingRequests();
  let text: TextIndexWriter | undefined;
  let textNamespace: string | undefined;
  const memories = tx.objectStore('memories');
  for (let cursor = await memories.openCursor(); cursor; cursor = await cursor.continue()) {
    const row: MemoryRow = cursor.value;
    const { namespace, id, content } = row.memory as Memory;
    if (namespace !== textNamespace) {
      await text?.flush();
      text = new TextIndexWriter('english', stores, namespace, statsOf(namespace), writes);
      textNamespace = namespace;
    }
    const place = text!.add(id, content);
    writes.track(cursor.update({ ...row, group: place.group, slot: place.slot }));
  }
  await text?.flush();
  for (const [namespace, counters] of stats) writes.track(statsStore.put(counters, namespace));
  await writes.settle();
}
