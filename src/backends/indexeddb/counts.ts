import { matchesListQuery, validAt } from '../../core/filter.js';
import type { CountQuery, ListQuery, StoreCounts } from '../../core/store-contract.js';
import { labelKey, memoryRange, namespaceRange } from './keys.js';
import { type Open, readOnly, type Tx, walkMemories } from './namespace-bounds.js';
import type { NamespaceStats } from './schema.js';

/**
 * `MemoryStore.stats`: the rows of each kind the namespace holds, counted by IndexedDB from their keys
 * alone. (Without it core walks the change feed and reads every record: 2.9 s at 20K memories in
 * Chromium.)
 */
export async function storeCounts(tx: Tx<'readonly'>, namespace: string): Promise<StoreCounts> {
  const [memories, links, tombstones] = await Promise.all([
    tx.objectStore('memories').count(memoryRange(namespace)),
    tx.objectStore('links').count(namespaceRange(namespace)),
    tx.objectStore('tombstones').count(namespaceRange(namespace)),
  ]);
  return { memories, links, tombstones };
}

/** Where a count with no per-row condition left reads its number: one key range of the store or an index. */
type KeyCount = (tx: Tx<'readonly'>) => Promise<number>;

/**
 * The key range that holds exactly the memories `query` counts, when the namespace's bounds say that no
 * memory is expired at `now` or invalid at the instant asked (NamespaceStats.expiry, .validity) and the
 * query filters by at most one label (a kind or one tag) and not by creation time. Undefined otherwise:
 * the rows must be read.
 */
function keyCount(
  stats: NamespaceStats | undefined,
  namespace: string,
  query: CountQuery,
): KeyCount | undefined {
  if (query.since !== undefined || query.until !== undefined || query.metadata !== undefined)
    return undefined;
  if (!stats || !boundsHold(stats, query)) return undefined;
  const tags = [...new Set(query.tags ?? [])];
  if (tags.length > 1 || (tags.length === 1 && query.kind !== undefined)) return undefined;
  if (query.kind !== undefined) {
    const key = labelKey(namespace, query.kind);
    return (tx) => tx.objectStore('memories').index('kind').count(key);
  }
  if (tags.length === 1) {
    const key = labelKey(namespace, tags[0]!);
    return (tx) => tx.objectStore('memories').index('tags').count(key);
  }
  return (tx) => tx.objectStore('memories').count(memoryRange(namespace));
}

/** Whether the namespace's recorded bounds, still current, leave every memory live at the query's instants. */
function boundsHold(stats: NamespaceStats, query: CountQuery): boolean {
  const { expiry, validity, seq } = stats;
  const now = Date.parse(query.now);
  if (expiry?.seq !== seq || !(expiry.floor > now)) return false;
  const instant = validAt(query);
  if (instant === undefined) return true;
  const at = Date.parse(instant);
  return validity?.seq === seq && validity.from <= at && validity.to > at;
}

/**
 * `MemoryStore.count`. From the keys alone when it can (keyCount); else, filtered by a label, through that
 * label's index entries (countThroughIndex); else a walk of the namespace's rows in pages, each page in
 * its own transaction, checking each memory with core's own filter (walkMemories, which records the
 * bounds it saw: the next count at a moment they allow reads no row).
 */
export async function countMemories(open: Open, namespace: string, query: CountQuery): Promise<number> {
  const first = await readOnly(open, ['stats', 'memories'], async (tx) => {
    const stats = await tx.objectStore('stats').get(namespace);
    const fromKeys = keyCount(stats, namespace, query);
    return { seq: stats?.seq, count: fromKeys && (await fromKeys(tx)) };
  });
  if (first.count !== undefined) return first.count;
  const listQuery = { ...query, limit: Number.POSITIVE_INFINITY };
  const labels = labelEntries(namespace, query);
  if (labels) return readOnly(open, ['memories'], (tx) => countThroughIndex(tx, labels, listQuery));
  let count = 0;
  await walkMemories(open, namespace, first.seq, ({ memory }) => {
    if (matchesListQuery(memory, listQuery)) count++;
  });
  return count;
}

/**
 * The `kind` or `tags` index entries that hold every memory a label-filtered count can count: the kind's
 * entry, else one tag's (`all`: each memory holds it), else every tag's (`any`). Undefined without a label.
 */
function labelEntries(
  namespace: string,
  query: CountQuery,
): { index: 'kind' | 'tags'; keys: string[] } | undefined {
  if (query.kind !== undefined) return { index: 'kind', keys: [labelKey(namespace, query.kind)] };
  const tags = [...new Set(query.tags ?? [])];
  if (tags.length === 0) return undefined;
  const wanted = query.tagMode === 'all' ? tags.slice(0, 1) : tags;
  return { index: 'tags', keys: wanted.map((tag) => labelKey(namespace, tag)) };
}

/**
 * A label-filtered count that the keys cannot answer: a cursor over the label's index entries, each
 * memory checked with core's filter, so a rare kind or tag reads its own few rows, not the namespace's
 * (memories holding several of the tags asked are counted once).
 */
async function countThroughIndex(
  tx: Tx<'readonly'>,
  { index, keys }: { index: 'kind' | 'tags'; keys: string[] },
  query: ListQuery,
): Promise<number> {
  const seen = keys.length > 1 ? new Set<string>() : undefined;
  let count = 0;
  for (const key of keys) {
    let cursor = await tx.objectStore('memories').index(index).openCursor(key);
    for (; cursor; cursor = await cursor.continue()) {
      const { memory } = cursor.value;
      if (seen?.has(memory.id)) continue;
      seen?.add(memory.id);
      if (matchesListQuery(memory, query)) count++;
    }
  }
  return count;
}
