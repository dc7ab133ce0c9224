import type { IDBPTransaction } from 'idb';
import { COLLECTED_SEQ_META, type TombstoneCollection } from '../../core/store-contract.js';
import { namespaceRange } from './keys.js';
import { type Open, PAGE, readOnly, walkMemories } from './namespace-bounds.js';
import type { EngramSchema, StoreName } from './schema.js';

type Tx<Stores extends StoreName[], Mode extends IDBTransactionMode> = IDBPTransaction<
  EngramSchema,
  Stores,
  Mode
>;

/**
 * The namespace's expiry floor, if it is valid (see NamespaceStats.expiry): when it lies past `now`,
 * nothing has expired and the scan of every memory row is skipped. `seq` is the counters' sequence.
 */
async function expiryFloor(
  tx: Tx<StoreName[], 'readonly'>,
  namespace: string,
): Promise<{ floor: number | undefined; seq: number }> {
  const stats = await tx.objectStore('stats').get(namespace);
  if (!stats) return { floor: Number.POSITIVE_INFINITY, seq: 0 };
  const valid = stats.expiry !== undefined && stats.expiry.seq === stats.seq;
  return { floor: valid ? stats.expiry!.floor : undefined, seq: stats.seq };
}

/**
 * `MemoryStore.expiredIds`: nothing when the namespace's expiry floor is valid and still ahead; else a
 * walk of the memory rows in pages (there is no expiry index: `expiresAt` is kept as written, so its
 * strings do not sort like instants), which records the bounds it saw when it read every row
 * (walkMemories). Opening a memory runs maintenance: without the floor, that read every memory row (at
 * 100K, seconds of reads beside the first searches).
 */
export async function findExpired(
  open: Open,
  namespace: string,
  options: { now: string; limit: number },
): Promise<string[]> {
  const now = Date.parse(options.now);
  const before = await readOnly(open, ['stats'], (tx) => expiryFloor(tx, namespace));
  if (before.floor !== undefined && before.floor > now) return [];
  const ids: string[] = [];
  await walkMemories(
    open,
    namespace,
    before.seq,
    ({ memory }) => {
      if (memory.expiresAt !== undefined && Date.parse(memory.expiresAt) <= now) ids.push(memory.id);
    },
    () => ids.length < options.limit,
  );
  return ids.slice(0, options.limit);
}

/**
 * `MemoryStore.collectTombstones`: a tombstone row carries its own feed entry, so deleting the row drops
 * the entry; the raised `gc.collectedSeq` is written in the same transaction.
 */
export async function collectTombstones(
  tx: Tx<['tombstones', 'meta'], 'readwrite'>,
  namespace: string,
  options: TombstoneCollection,
): Promise<number> {
  const meta = tx.objectStore('meta');
  const tombstones = tx.objectStore('tombstones');
  let highest = Number((await meta.get([namespace, COLLECTED_SEQ_META])) ?? 0);
  const doomed: [string, string][] = [];
  for (let after: string | undefined; doomed.length < options.limit; ) {
    const rows = await tombstones.getAll(namespaceRange(namespace, after), PAGE);
    for (const row of rows) {
      if (doomed.length >= options.limit) break;
      if (row.clock >= options.before) continue;
      const unpushed =
        row.origin === 'local' && options.keepLocalAfter !== undefined && row.seq > options.keepLocalAfter;
      if (unpushed || (options.seqAtMost !== undefined && row.seq > options.seqAtMost)) continue;
      doomed.push([namespace, row.id]);
      highest = Math.max(highest, row.seq);
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.id;
  }
  const writes: Promise<unknown>[] = doomed.map((key) => tombstones.delete(key));
  if (doomed.length > 0) writes.push(meta.put(highest, [namespace, COLLECTED_SEQ_META]));
  await Promise.all([...writes, tx.done]);
  return doomed.length;
}
