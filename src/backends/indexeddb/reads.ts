import { type IDBPObjectStore, unwrap } from 'idb';
import type { Direction, Memory } from '../../core/model.js';
import type { LinkRecord, MemoryRecord } from '../../core/store-contract.js';
import { idOfMemoryKey, memoryKey } from './keys.js';
import { unpackClocks } from './rows.js';
import type { LinkRow, MemoryRow } from './schema.js';

/**
 * How a store keys its rows by id: memories by one string (schema v5, see memoryKey), links and
 * tombstones by `[namespace, id]`.
 */
export interface RowKeys<K> {
  key(namespace: string, id: string): K;
  /** Keys from `first` to `last` ids, both included. */
  span(namespace: string, first: string, last: string): IDBKeyRange;
  idOf(key: K): string;
}

export const MEMORY_KEYS: RowKeys<string> = {
  key: memoryKey,
  span: (namespace, first, last) =>
    IDBKeyRange.bound(memoryKey(namespace, first), memoryKey(namespace, last)),
  idOf: idOfMemoryKey,
};

export const PAIR_KEYS: RowKeys<[string, string]> = {
  key: (namespace, id) => [namespace, id],
  span: (namespace, first, last) => IDBKeyRange.bound([namespace, first], [namespace, last]),
  idOf: ([, id]) => id,
};

/** The little of idb's typed stores these reads need, so readonly and readwrite transactions share them. */
interface KeyGetter<V, K> {
  get(key: K): Promise<V | undefined>;
}
interface KeyStore<V, K> extends KeyGetter<V, K> {
  getAllKeys(range: IDBKeyRange, count: number): Promise<K[]>;
}
interface IndexReader<V> {
  getAll(query: [string, string]): Promise<V[]>;
}
interface CountedIndex<V> extends IndexReader<V> {
  count(query: [string, string]): Promise<number>;
}

/** Reads the rows of `ids` that exist, in the order asked (repeats included). */
type RowReader = <V, K>(
  store: KeyStore<V, K>,
  keys: RowKeys<K>,
  namespace: string,
  ids: readonly string[],
) => Promise<V[]>;

export const readByIds: RowReader = (store, keys, namespace, ids) =>
  getRows(
    unwrap(store as unknown as IDBPObjectStore),
    ids.map((id) => keys.key(namespace, id) as IDBValidKey),
  );

/**
 * The rows at `keys` that exist, in the order asked (repeats included), read with native requests on
 * `store` (idb's `unwrap`): one handler on the last request instead of a promise and two listeners per
 * request, which a search's records, a merge's stored rows and the slot tables all pay. A
 * transaction fires its requests' events in the order they were made, so when the last one succeeds,
 * every earlier one has; the first to fail rejects (and aborts the transaction).
 */
export function getRows<V>(store: IDBObjectStore, keys: readonly IDBValidKey[]): Promise<V[]> {
  return new Promise((resolve, reject) => {
    if (keys.length === 0) {
      resolve([]);
      return;
    }
    const requests = keys.map((key) => store.get(key));
    const failed = (event: Event) => reject((event.target as IDBRequest).error);
    for (const request of requests) request.onerror = failed;
    requests[requests.length - 1]!.onsuccess = () => {
      const rows: V[] = [];
      for (const request of requests) if (request.result !== undefined) rows.push(request.result as V);
      resolve(rows);
    };
  });
}

/** Below this many ids a probe saves too little to pay for its round trip. */
const PROBE_MIN_IDS = 8;

/**
 * For merges: first asks which keys exist between the smallest and largest id, in one request. The
 * time-sorted new ids of a bulk add find none, so a 1000-memory batch costs one read instead of 1000.
 * When the span holds too many other keys to tell, it falls back to one get per id.
 */
export const readByIdsProbing: RowReader = async (store, keys, namespace, ids) => {
  if (ids.length < PROBE_MIN_IDS) return readByIds(store, keys, namespace, ids);
  const sorted = [...ids].sort();
  const limit = ids.length * 2;
  const found = await store.getAllKeys(keys.span(namespace, sorted[0]!, sorted[sorted.length - 1]!), limit);
  if (found.length === limit) return readByIds(store, keys, namespace, ids);
  const present = new Set(found.map(keys.idOf));
  return readByIds(
    store,
    keys,
    namespace,
    ids.filter((id) => present.has(id)),
  );
};

/** Rejoins rows with their embeddings; only rows that have one cost a second request. */
export async function withVectors(
  vectors: KeyGetter<Float64Array, [string, string]>,
  rows: readonly MemoryRow[],
): Promise<MemoryRecord[]> {
  const embeddings = await Promise.all(
    rows.map((row) => (row.hasVector ? vectors.get([row.memory.namespace, row.memory.id]) : undefined)),
  );
  return rows.map((row, i) => {
    const embedding = embeddings[i];
    const memory: Memory = embedding ? { ...row.memory, embedding: Array.from(embedding) } : row.memory;
    return { memory, clocks: unpackClocks(row.clocks) };
  });
}

/** The records of `ids` that exist, in the order asked. */
export async function readMemoryRecords(
  memories: KeyStore<MemoryRow, string>,
  vectors: KeyGetter<Float64Array, [string, string]>,
  namespace: string,
  ids: readonly string[],
): Promise<MemoryRecord[]> {
  return withVectors(vectors, await readByIds(memories, MEMORY_KEYS, namespace, ids));
}

/**
 * The links from `from` to `to`, read from the end with fewer links (counted on the index, no row read):
 * a memory with thousands of links is linked again without reading them.
 */
export async function readLinksBetween(
  byFrom: CountedIndex<LinkRow>,
  byTo: CountedIndex<LinkRow>,
  namespace: string,
  from: string,
  to: string,
): Promise<LinkRecord[]> {
  const [leaving, entering] = await Promise.all([
    byFrom.count([namespace, from]),
    byTo.count([namespace, to]),
  ]);
  const rows = await (leaving <= entering ? byFrom : byTo).getAll([
    namespace,
    leaving <= entering ? from : to,
  ]);
  return rows
    .filter(({ link }) => link.from === from && link.to === to)
    .map(({ link, clocks }) => ({ link, clocks }));
}

/** Links leaving (`out`), entering (`in`) or touching (`both`) any of the memories, each once. */
export async function readLinksTouching(
  byFrom: IndexReader<LinkRow>,
  byTo: IndexReader<LinkRow>,
  namespace: string,
  memoryIds: readonly string[],
  direction: Direction,
): Promise<LinkRecord[]> {
  const lists = await Promise.all(
    memoryIds.flatMap((id) => [
      direction === 'in' ? [] : byFrom.getAll([namespace, id]),
      direction === 'out' ? [] : byTo.getAll([namespace, id]),
    ]),
  );
  const found = new Map<string, LinkRecord>();
  for (const { link, clocks } of lists.flat()) found.set(link.id, { link, clocks });
  return [...found.values()];
}
