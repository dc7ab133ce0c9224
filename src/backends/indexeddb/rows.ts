import type { LinkRecord, MemoryRecord, Tombstone } from '../../core/types.js';
import type { FeedEntry, LinkRow, MemoryRow, NamespaceStats, TombstoneRow } from './schema.js';
import type { TextPlace } from './text-writer.js';

export function toMemoryRow({ memory, clocks }: MemoryRecord, place: TextPlace, feed: FeedEntry): MemoryRow {
  const { embedding, ...rest } = memory;
  const tagKeys = memory.tags.map((tag): [string, string] => [memory.namespace, tag]);
  const row: MemoryRow = { memory: rest, clocks, tagKeys, ...place, seq: feed.seq, origin: feed.origin };
  if (embedding !== undefined) row.hasVector = true;
  return row;
}

export const toLinkRecord = ({ link, clocks }: LinkRow): LinkRecord => ({ link, clocks });

export const toTombstone = ({ entity, id, namespace, clock }: TombstoneRow): Tombstone => ({
  entity,
  id,
  namespace,
  clock,
});

export const emptyStats = (): NamespaceStats => ({
  docs: 0,
  tokens: 0,
  seq: 0,
  openGroup: 0,
  openGroupSlots: 0,
});
