import type { IDBPTransaction } from 'idb';
import { COLLECTED_SEQ_META } from '../../core/store-contract.js';
import { namespaceRange } from './keys.js';
import type { EngramSchema, StoreName } from './schema.js';

type Tx<Stores extends StoreName[], Mode extends IDBTransactionMode> = IDBPTransaction<
  EngramSchema,
  Stores,
  Mode
>;

/** Rows read per request: `getAll` pages, one request each, instead of a cursor's request per row. */
const PAGE = 1000;

/**
 * Memories expired at `now`: the namespace's rows read in pages (there is no expiry index; see
 * docs/stores.md for what the scan costs).
 */
export async function expiredIds(
  tx: Tx<['memories'], 'readonly'>,
  namespace: string,
  options: { now: string; limit: number },
): Promise<string[]> {
  const now = Date.parse(options.now);
  const memories = tx.objectStore('memories');
  const ids: string[] = [];
  for (let after: string | undefined; ids.length < options.limit; ) {
    const rows = await memories.getAll(namespaceRange(namespace, after), PAGE);
    for (const { memory } of rows) {
      if (memory.expiresAt !== undefined && Date.parse(memory.expiresAt) <= now) ids.push(memory.id);
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.memory.id;
  }
  return ids.slice(0, options.limit);
}

/**
 * `MemoryStore.collectTombstones`: a tombstone row carries its own feed entry, so deleting the row drops
 * the entry; the raised `gc.collectedSeq` is written in the same transaction.
 */
export async function collectTombstones(
  tx: Tx<['tombstones', 'meta'], 'readwrite'>,
  namespace: string,
  options: { before: string; limit: number; keepLocalAfter?: number },
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
      if (unpushed) continue;
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
