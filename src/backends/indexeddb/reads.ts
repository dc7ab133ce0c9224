import type { Direction, LinkRecord, Memory, MemoryRecord } from '../../core/types.js';
import type { LinkRow, MemoryRow } from './schema.js';

/** The little of idb's typed stores these reads need, so readonly and readwrite transactions share them. */
export interface KeyGetter<V> {
  get(key: [string, string]): Promise<V | undefined>;
}
export interface IndexReader<V> {
  getAll(query: [string, string]): Promise<V[]>;
}

/** Rejoins rows with their embeddings; only rows that have one cost a second request. */
export async function withVectors(
  vectors: KeyGetter<Float64Array>,
  rows: readonly MemoryRow[],
): Promise<MemoryRecord[]> {
  const embeddings = await Promise.all(
    rows.map((row) => (row.hasVector ? vectors.get([row.memory.namespace, row.memory.id]) : undefined)),
  );
  return rows.map((row, i) => {
    const embedding = embeddings[i];
    const memory: Memory = embedding ? { ...row.memory, embedding: Array.from(embedding) } : row.memory;
    return { memory, clocks: row.clocks };
  });
}

/** The records of `ids` that exist, in the order asked. */
export async function readMemoryRecords(
  memories: KeyGetter<MemoryRow>,
  vectors: KeyGetter<Float64Array>,
  namespace: string,
  ids: readonly string[],
): Promise<MemoryRecord[]> {
  const rows = await Promise.all(ids.map((id) => memories.get([namespace, id])));
  return withVectors(
    vectors,
    rows.filter((row) => row !== undefined),
  );
}

export async function readByIds<V>(
  store: KeyGetter<V>,
  namespace: string,
  ids: readonly string[],
): Promise<V[]> {
  const rows = await Promise.all(ids.map((id) => store.get([namespace, id])));
  return rows.filter((row) => row !== undefined);
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
  for (const row of lists.flat()) found.set(row.link.id, row);
  return [...found.values()];
}
