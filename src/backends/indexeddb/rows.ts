import {
  type FieldClocks,
  type LinkRecord,
  loneStamp,
  type MemoryRecord,
  stampEveryField,
  type Tombstone,
} from '../../core/store-contract.js';
import { labelKey } from './keys.js';
import type { LinkRow, MemoryRow, NamespaceStats, TombstoneRow } from './schema.js';
import type { TextPlace } from './text-writer.js';

/** A memory row as written since schema v6: its feed entry (`seq`) is in its transaction's feed block. */
export function toMemoryRow({ memory, clocks }: MemoryRecord, place: TextPlace, seq: number): MemoryRow {
  const { embedding, ...rest } = memory;
  const { namespace } = memory;
  const row: MemoryRow = {
    memory: rest,
    seq,
    clocks: packClocks(clocks),
    kindKey: labelKey(namespace, memory.kind),
    tagKeys: memory.tags.map((tag) => labelKey(namespace, tag)),
    ...place,
  };
  if (embedding !== undefined) row.hasVector = true;
  return row;
}

/**
 * A memory written once carries one stamp on every field: stored as that one string, the row loses
 * seven repeated stamps (about 300 bytes, as much as a typical content).
 */
function packClocks(clocks: FieldClocks): FieldClocks | string {
  return loneStamp(clocks) ?? clocks;
}

export function unpackClocks(clocks: FieldClocks | string): FieldClocks {
  return typeof clocks === 'string' ? stampEveryField(clocks) : clocks;
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
