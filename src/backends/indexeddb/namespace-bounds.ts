import type { IDBPTransaction } from 'idb';
import type { Memory } from '../../core/model.js';
import { memoryRange } from './keys.js';
import type { EngramSchema, MemoryRow, NamespaceStats, StoreName } from './schema.js';

/*
 * The bounds a namespace's counters row carries (NamespaceStats.expiry and .validity): no memory expires
 * before `expiry.floor`, every memory is valid from `validity.from` at the latest and until `validity.to`
 * at the earliest, as of feed sequence `seq`. Writes carry them (IndexedDBWriteTransaction); a walk of
 * every memory row records them (walkMemories). Maintenance reads the floor, `count` both.
 */

export type Tx<Mode extends IDBTransactionMode> = IDBPTransaction<EngramSchema, StoreName[], Mode>;
/** Opens a transaction on the store's live connection. */
export type Open = <Mode extends IDBTransactionMode>(stores: StoreName[], mode: Mode) => Promise<Tx<Mode>>;

/** Rows read per request: `getAll` pages, one request each, instead of a cursor's request per row. */
export const PAGE = 1000;

const ignore = () => undefined;

/** The bounds of the memories seen so far (ms): the earliest expiry, latest `validFrom`, earliest `validTo`. */
export class MemoryBounds {
  expiry = Number.POSITIVE_INFINITY;
  from = Number.NEGATIVE_INFINITY;
  to = Number.POSITIVE_INFINITY;

  see(memory: Pick<Memory, 'expiresAt' | 'validFrom' | 'validTo'>): void {
    if (memory.expiresAt !== undefined) this.expiry = Math.min(this.expiry, Date.parse(memory.expiresAt));
    if (memory.validFrom !== undefined) this.from = Math.max(this.from, Date.parse(memory.validFrom));
    if (memory.validTo !== undefined) this.to = Math.min(this.to, Date.parse(memory.validTo));
  }

  /** The counters' fields for these bounds as of `seq`. */
  at(seq: number): Required<Pick<NamespaceStats, 'expiry' | 'validity'>> {
    return { expiry: { floor: this.expiry, seq }, validity: { from: this.from, to: this.to, seq } };
  }
}

/** A readonly transaction run by `run`; a failed request rejects `run`, the abort adds nothing. */
export async function readOnly<T>(open: Open, stores: StoreName[], run: (tx: Tx<'readonly'>) => Promise<T>) {
  const tx = await open(stores, 'readonly');
  tx.done.catch(ignore);
  return run(tx);
}

/**
 * Walks the namespace's memory rows in id order, a `getAll` page at a time, each page in its own
 * transaction so that a long walk never holds writers back; `visit` sees every row, and the walk stops
 * between pages once `wanted` says so. A walk that read every row, while nothing moved the feed since
 * `seq` (the counters' sequence when it began), records the bounds it saw: the next maintenance or count
 * that they answer reads no row.
 */
export async function walkMemories(
  open: Open,
  namespace: string,
  seq: number | undefined,
  visit: (row: MemoryRow) => void,
  wanted: () => boolean = () => true,
): Promise<void> {
  const bounds = new MemoryBounds();
  let after: string | undefined;
  let complete = false;
  while (!complete && wanted()) {
    const rows = await readOnly(open, ['memories'], (tx) =>
      tx.objectStore('memories').getAll(memoryRange(namespace, after), PAGE),
    );
    for (const row of rows) {
      bounds.see(row.memory);
      visit(row);
    }
    complete = rows.length < PAGE;
    after = rows[rows.length - 1]?.memory.id;
  }
  if (complete && seq !== undefined) await recordBounds(open, namespace, seq, bounds);
}

/** Puts a full walk's bounds on the counters row, unless the feed moved since `seq` (a write may have widened them). */
async function recordBounds(open: Open, namespace: string, seq: number, bounds: MemoryBounds): Promise<void> {
  const tx = await open(['stats'], 'readwrite');
  const store = tx.objectStore('stats');
  const stats = await store.get(namespace);
  if (stats && stats.seq === seq) await store.put({ ...stats, ...bounds.at(seq) }, namespace);
  await tx.done;
}
