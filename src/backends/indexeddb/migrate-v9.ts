import { type IDBPDatabase, unwrap } from 'idb';
import { PendingRequests } from './pending-requests.js';
import type { StoredShardRow, TextShardRow, UpgradeTransaction } from './schema.js';
import { packShard } from './text-shards.js';

/** Rows read per request: at 100K memories a shard row holds ~3.5K postings, ~14 KB as 32-bit words. */
const PAGE = 256;

type ShardKey = [string, number, number];

/**
 * v8 -> v9, inside the upgrade transaction: every text shard row is stored packed (`packShard`: varints of
 * slot distances instead of a 32-bit word per posting, a third of the bytes), read in pages of PAGE rows
 * in key order and put back under the same keys. Rows an earlier step of this upgrade wrote (v2's and v3's
 * rebuilds, v7's and v8's, which write through today's TextIndexWriter) are packed already and left alone.
 */
export async function migrateToVersion9(tx: UpgradeTransaction): Promise<void> {
  const shards = (tx as unknown as ReturnType<IDBPDatabase['transaction']>).objectStore('textShards');
  const native = unwrap(shards);
  const writes = new PendingRequests();
  for (let after: ShardKey | undefined; ; ) {
    const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true);
    const [keys, rows] = await Promise.all([
      shards.getAllKeys(range, PAGE) as Promise<ShardKey[]>,
      shards.getAll(range, PAGE) as Promise<Array<TextShardRow | StoredShardRow>>,
    ]);
    rows.forEach((row, i) => {
      if ('data' in row) writes.trackRequest(native.put(packShard(row), keys[i]!));
    });
    if (keys.length < PAGE) break;
    after = keys[keys.length - 1]!;
  }
  await writes.settle();
}
