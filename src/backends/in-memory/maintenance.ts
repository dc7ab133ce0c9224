import { isExpired } from '../../core/filter.js';
import type { Json } from '../../core/model.js';
import {
  type ChangeEntry,
  COLLECTED_SEQ_META,
  type MemoryRecord,
  type Tombstone,
  type TombstoneCollection,
} from '../../core/store-contract.js';

/** Ids of the memories expired at `now`, at most `limit` (a scan: the store keeps no expiry index). */
export function expiredIn(
  records: Iterable<MemoryRecord>,
  options: { now: string; limit: number },
): string[] {
  const ids: string[] = [];
  for (const { memory } of records) {
    if (ids.length >= options.limit) break;
    if (isExpired(memory, options.now)) ids.push(memory.id);
  }
  return ids;
}

interface Collectable {
  tombstones: Map<string, Tombstone>;
  changes: Map<string, ChangeEntry>;
  meta: Map<string, Json>;
}

/** `MemoryStore.collectTombstones` over the store's maps; synchronous, so it is one step of the serial queue. */
export function collectIn(data: Collectable, options: TombstoneCollection): number {
  let removed = 0;
  let highest = Number(data.meta.get(COLLECTED_SEQ_META) ?? 0);
  for (const tombstone of [...data.tombstones.values()]) {
    if (removed >= options.limit) break;
    if (tombstone.clock >= options.before) continue;
    const key = `${tombstone.entity}:${tombstone.id}`;
    const entry = data.changes.get(key);
    const unpushed =
      entry?.origin === 'local' && options.keepLocalAfter !== undefined && entry.seq > options.keepLocalAfter;
    if (unpushed) continue;
    if (entry && options.seqAtMost !== undefined && entry.seq > options.seqAtMost) continue;
    data.tombstones.delete(tombstone.id);
    data.changes.delete(key);
    if (entry && entry.seq > highest) highest = entry.seq;
    removed++;
  }
  if (removed > 0) data.meta.set(COLLECTED_SEQ_META, highest);
  return removed;
}
