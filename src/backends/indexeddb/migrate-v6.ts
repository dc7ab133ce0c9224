import { type IDBPDatabase, unwrap } from 'idb';
import { FeedBlockWriter } from './feed.js';
import type { MemoryRowV5 } from './migrate-v5.js';
import { PendingRequests } from './pending-requests.js';
import type { EngramDatabase, FeedBlockRow, UpgradeTransaction } from './schema.js';

/** Rows read per request, and entries per block written. */
const PAGE = 1000;

/**
 * v5 -> v6, inside the upgrade transaction: memory rows' change-feed entries move from the rows (the
 * `feed` index) into feed blocks (see FeedBlockRow), and the index goes, so that a put of a memory row
 * no longer costs the browser that index's entry. The rows are read in pages of 1000 in feed order (one
 * namespace after another, each by sequence number) and their entries written as blocks of up to 1000;
 * the rows themselves are not rewritten (no copy: reads, ~1 block put per 1000 memories): `feedKey`
 * and `origin` stay on them, read by nothing, until each is next written.
 */
export async function migrateToVersion6(db: EngramDatabase, tx: UpgradeTransaction): Promise<void> {
  const blocks = unwrap((db as unknown as IDBPDatabase).createObjectStore('feedBlocks'));
  const writes = new PendingRequests();
  const put = (block: FeedBlockRow, key: [string, number]) => writes.trackRequest(blocks.put(block, key));
  const memories = (tx as unknown as ReturnType<IDBPDatabase['transaction']>).objectStore('memories');
  let block: FeedBlockWriter | undefined;
  let namespace: string | undefined;
  for (let after: string | undefined; ; ) {
    const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true);
    const rows = (await memories.index('feed').getAll(range, PAGE)) as MemoryRowV5[];
    for (const { memory, seq, origin } of rows) {
      if (!block || namespace !== memory.namespace || block.size === PAGE) {
        block?.writeNew(put);
        namespace = memory.namespace;
        block = new FeedBlockWriter(namespace);
      }
      block.add(seq, memory.id, origin);
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.feedKey;
  }
  block?.writeNew(put);
  await writes.settle();
  memories.deleteIndex('feed');
}
