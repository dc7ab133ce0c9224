import { type IDBPDatabase, unwrap } from 'idb';
import type { ChangeOrigin } from '../../core/store-contract.js';
import { feedKey, labelKey, memoryKey } from './keys.js';
import { PendingRequests } from './pending-requests.js';
import type { EngramDatabase, MemoryRow, UpgradeTransaction } from './schema.js';

const COPY = 'memories-v5';

/** A memory row as v2 to v5 wrote it: its change-feed entry on the row, behind the `feed` index. */
export interface MemoryRowV5 extends MemoryRow {
  /** `namespace NUL seq` (see feedKey in keys.ts) since v5, the `feed` index's key. */
  feedKey: string;
  origin: ChangeOrigin;
}

/** Rows read per request. */
const PAGE = 1000;

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
  const native = unwrap(copy);
  const memories = (tx as unknown as ReturnType<IDBPDatabase['transaction']>).objectStore('memories');
  // Pages of rows, one request each, and puts not awaited one by one: a cursor's round trip per row
  // made the upgrade of 100K memories take about a minute in Chromium.
  for (let after: IDBValidKey | undefined; ; ) {
    const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true);
    const rows = (await memories.getAll(range, PAGE)) as MemoryRowV5[];
    for (const row of rows) {
      const { namespace, id, kind, tags } = row.memory;
      const moved: MemoryRowV5 = {
        ...row,
        feedKey: feedKey(namespace, row.seq),
        kindKey: labelKey(namespace, kind),
        tagKeys: tags.map((tag) => labelKey(namespace, tag)),
      };
      writes.trackRequest(native.put(moved, memoryKey(namespace, id)));
    }
    if (rows.length < PAGE) break;
    const { namespace, id } = rows[rows.length - 1]!.memory;
    after = [namespace, id];
  }
  await writes.settle();
  legacy.deleteObjectStore('memories');
  copy.name = 'memories';
}
