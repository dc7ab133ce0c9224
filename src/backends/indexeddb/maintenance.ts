import type { IDBPTransaction } from 'idb';
import { COLLECTED_SEQ_META } from '../../core/store-contract.js';
import { memoryRange, namespaceRange } from './keys.js';
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
 * at the end; `earliest` is the earliest expiry on the page (ms; Infinity when none). Pages are read in
 * separate transactions by the store, so a scan never holds writers back.
 */
async function expiredInPage(
  tx: Tx<StoreName[], 'readonly'>,
  namespace: string,
  after: string | undefined,
  now: number,
): Promise<{ ids: string[]; earliest: number; next?: string }> {
  const rows = await tx.objectStore('memories').getAll(memoryRange(namespace, after), PAGE);
  const ids: string[] = [];
  let earliest = Number.POSITIVE_INFINITY;
  for (const { memory } of rows) {
    if (memory.expiresAt === undefined) continue;
    const at = Date.parse(memory.expiresAt);
    earliest = Math.min(earliest, at);
    if (at <= now) ids.push(memory.id);
  }
  return rows.length < PAGE ? { ids, earliest } : { ids, earliest, next: rows[rows.length - 1]!.memory.id };
}

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
 * Records the floor a full scan found, unless anything moved the feed since the scan began (a write
 * then may have added an earlier expiry): the next scan will try again.
 */
async function keepExpiryFloor(
  tx: Tx<StoreName[], 'readwrite'>,
  namespace: string,
  scanned: { floor: number; seq: number },
): Promise<void> {
  const stats = await tx.objectStore('stats').get(namespace);
  if (stats && stats.seq === scanned.seq) {
    await tx.objectStore('stats').put({ ...stats, expiry: scanned }, namespace);
  }
  await tx.done;
}

/** Opens a transaction on the store's live connection. */
type Open = <Mode extends IDBTransactionMode>(
  stores: StoreName[],
  mode: Mode,
) => Promise<Tx<StoreName[], Mode>>;

const ignore = () => undefined;

/**
 * `MemoryStore.expiredIds`: nothing when the namespace's expiry floor is valid and still ahead; else a
 * scan in pages, each in its own transaction, that records the floor it saw when it read every row.
 * Opening a memory runs maintenance: without the floor, that read every memory row (at 100K, seconds of
 * reads beside the first searches).
 */
export async function findExpired(
  open: Open,
  namespace: string,
  options: { now: string; limit: number },
): Promise<string[]> {
  const read = async <T>(stores: StoreName[], run: (tx: Tx<StoreName[], 'readonly'>) => Promise<T>) => {
    const tx = await open(stores, 'readonly');
    tx.done.catch(ignore);
    return run(tx);
  };
  const now = Date.parse(options.now);
  const before = await read(['stats'], (tx) => expiryFloor(tx, namespace));
  if (before.floor !== undefined && before.floor > now) return [];
  const ids: string[] = [];
  let earliest = Number.POSITIVE_INFINITY;
  let after: string | undefined;
  for (let more = true; more && ids.length < options.limit; ) {
    const page = await read(['memories'], (tx) => expiredInPage(tx, namespace, after, now));
    ids.push(...page.ids);
    earliest = Math.min(earliest, page.earliest);
    after = page.next;
    more = page.next !== undefined;
  }
  if (after === undefined) {
    await keepExpiryFloor(await open(['stats'], 'readwrite'), namespace, {
      floor: earliest,
      seq: before.seq,
    });
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
