import type { IDBPObjectStore } from 'idb';
import { compareIdsDesc, matchesListQuery } from '../../core/filter.js';
import type { ListQuery } from '../../core/store-contract.js';
import { idOfMemoryKey, labelKey, memoriesBelow, memoryKey } from './keys.js';
import type { EngramSchema, MemoryRow, StoreName } from './schema.js';

type MemoriesStore = IDBPObjectStore<EngramSchema, StoreName[], 'memories', 'readonly'>;

/** What a cursor over memory rows offers, whether it walks the store or one of its indexes. */
interface RowCursor {
  readonly value: MemoryRow;
  readonly primaryKey: string;
  continue(): Promise<RowCursor | null>;
}

async function collect(start: RowCursor | null, query: ListQuery): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  for (let cursor = start; cursor && rows.length < query.limit; cursor = await cursor.continue()) {
    if (matchesListQuery(cursor.value.memory, query)) rows.push(cursor.value);
  }
  return rows;
}

/**
 * Walks one `namespace NUL value` entry of the kind or tags index newest first. Entries with equal
 * index keys are ordered by primary key `namespace NUL id`, so id order comes free; a cursor position
 * is a jump there with continuePrimaryKey.
 */
async function scanIndex(
  memories: MemoriesStore,
  index: 'kind' | 'tags',
  value: string,
  namespace: string,
  query: ListQuery,
): Promise<MemoryRow[]> {
  const indexKey = labelKey(namespace, value);
  let cursor = await memories.index(index).openCursor(indexKey, 'prev');
  const { beforeId } = query;
  if (cursor && beforeId !== undefined) {
    const id = idOfMemoryKey(cursor.primaryKey);
    if (id > beforeId) cursor = await cursor.continuePrimaryKey(indexKey, memoryKey(namespace, beforeId));
    else if (id === beforeId) cursor = await cursor.continue();
  }
  return collect(cursor, query);
}

/**
 * Matching rows, id descending, at most `limit`: through the kind index, else a tags index entry,
 * else the namespace's key range. Filters the index does not answer are checked row by row with
 * core's `matchesListQuery`, so results equal every other store's.
 */
export async function listRows(
  memories: MemoriesStore,
  namespace: string,
  query: ListQuery,
): Promise<MemoryRow[]> {
  if (query.kind !== undefined) return scanIndex(memories, 'kind', query.kind, namespace, query);
  const tags = [...new Set(query.tags ?? [])];
  if (tags.length === 1 || (tags.length > 1 && query.tagMode === 'all')) {
    return scanIndex(memories, 'tags', tags[0]!, namespace, query);
  }
  if (tags.length > 1) {
    // Any of several tags: the first `limit` matches overall are among each tag's first `limit`.
    const lists = await Promise.all(tags.map((tag) => scanIndex(memories, 'tags', tag, namespace, query)));
    const union = new Map(lists.flat().map((row) => [row.memory.id, row] as const));
    return [...union.values()].sort((a, b) => compareIdsDesc(a.memory.id, b.memory.id)).slice(0, query.limit);
  }
  return collect(await memories.openCursor(memoriesBelow(namespace, query.beforeId), 'prev'), query);
}
