import type { IDBPDatabase } from 'idb';
import { feedKey, labelKey, memoryKey } from './keys.js';
import { PendingRequests } from './pending-requests.js';
import type { EngramDatabase, MemoryRow, UpgradeTransaction } from './schema.js';

const COPY = 'memories-v5';

/**
 * v4 -> v5, inside the upgrade transaction: memory rows move to a store keyed out of line by one string,
 * `namespace NUL id`, and their kind and tag index keys become strings likewise (see memoryKey), which
 * Chromium reads from a put's value at less cost. The rows are copied into a new store, which takes the
 * old one's name; their content, clocks, text places and change-feed entries stay as they were.
 */
export async function migrateToVersion5(db: EngramDatabase, tx: UpgradeTransaction): Promise<void> {
  const legacy = db as unknown as IDBPDatabase;
  const copy = legacy.createObjectStore(COPY);
  copy.createIndex('kind', 'kindKey');
  copy.createIndex('tags', 'tagKeys', { multiEntry: true });
  copy.createIndex('feed', 'feedKey');
  const writes = new PendingRequests();
  const memories = (tx as unknown as ReturnType<IDBPDatabase['transaction']>).objectStore('memories');
  for (let cursor = await memories.openCursor(); cursor; cursor = await cursor.continue()) {
    const row = cursor.value as MemoryRow;
    const { namespace, id, kind, tags } = row.memory;
    const moved: MemoryRow = {
      ...row,
      feedKey: feedKey(namespace, row.seq),
      kindKey: labelKey(namespace, kind),
      tagKeys: tags.map((tag) => labelKey(namespace, tag)),
    };
    writes.track(copy.put(moved, memoryKey(namespace, id)));
  }
  await writes.settle();
  legacy.deleteObjectStore('memories');
  copy.name = 'memories';
}
