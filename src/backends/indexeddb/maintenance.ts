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
 * One page of the scan for memories expired at `now` (there is no expiry index: `expiresAt` is kept as
 * written, so its strings do not sort like instants). `next` is where the following page starts, absent
 * at the end. Pages are read in separate transactions by the store, so a scan never holds writers back.
 */
export async function expiredInPage(
  tx: Tx<['memories'], 'readonly'>,
  namespace: string,
  after: string | undefined,
  now: number,
): Promise<{ ids: string[]; next?: string }> {
  const rows = await tx.objectStore('memories').getAll(namespaceRange(namespace, after), PAGE);
  const ids = rows.flatMap(({ memory }) =>
    memory.expiresAt !== undefined && Date.parse(memory.expiresAt) <= now ? [memory.id] : [],
  );
  return rows.length < PAGE ? { ids } : { ids, next: rows[rows.length - 1]!.memory.id };
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
