import { hlcToIso } from './hlc.js';
import type { Json } from './model.js';
import {
  type FieldClocks,
  LINK_FIELDS,
  type LinkRecord,
  type LinkWrite,
  MEMORY_FIELDS,
  type MemoryRecord,
  type MemoryWrite,
} from './store-contract.js';

// One record's merge: field-wise last-writer-wins by HLC stamp. mergeBatch (merge.ts) applies it to a batch.

export function maxClock(clocks: FieldClocks): string {
  let max = '';
  for (const stamp of Object.values(clocks)) if (stamp > max) max = stamp;
  return max;
}

export function minClock(clocks: FieldClocks): string {
  let min: string | undefined;
  for (const stamp of Object.values(clocks)) if (min === undefined || stamp < min) min = stamp;
  return min ?? '';
}

export function sameClocks(a: FieldClocks, b: FieldClocks): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => a[k] === b[k]);
}

const createdAtOf = (r: MemoryRecord | LinkRecord) => ('memory' in r ? r.memory.createdAt : r.link.createdAt);

/**
 * Whether a merge left a record as it was: the same stamps and the same `createdAt`. Two replicas that
 * created one id apart merge to the earlier `createdAt`, which can change while every stamp stays.
 */
export function unchangedBy(previous: MemoryRecord | LinkRecord, merged: MemoryRecord | LinkRecord): boolean {
  return sameClocks(previous.clocks, merged.clocks) && createdAtOf(previous) === createdAtOf(merged);
}

/**
 * True when the merged record holds what the incoming write lacks: a field stamped otherwise, or an
 * earlier `createdAt` (this replica's own creation of the id, which the writer never merged, or dropped
 * with a delete it saw and this replica did not). Pulled, such a record is pushed back, so the edge and
 * every replica end with the same `createdAt`, the earliest.
 */
export function keepsLocal(merged: MemoryRecord | LinkRecord, incoming: MemoryWrite | LinkWrite): boolean {
  if (incoming.create && createdAtOf(merged) !== incoming.create.createdAt) return true;
  return Object.keys(merged.clocks).some((k) => merged.clocks[k] !== incoming.clocks[k]);
}

function mergeFields<T extends object>(
  target: T,
  clocks: FieldClocks,
  fields: readonly string[],
  values: Partial<T>,
  incoming: FieldClocks,
  ceiling: string | undefined,
): void {
  const bag = target as Record<string, unknown>;
  const source = values as Record<string, unknown>;
  for (const field of fields) {
    const stamp = incoming[field];
    if (stamp === undefined) continue;
    const current = clocks[field];
    // A stored stamp above the ceiling came from a clock that ran ahead: it must not freeze the field.
    if (current !== undefined && current >= stamp && !(ceiling !== undefined && current > ceiling)) continue;
    clocks[field] = stamp;
    const value = source[field];
    if (value === undefined || value === null) delete bag[field];
    else bag[field] = value;
  }
}

/**
 * What a field every record has holds before a write stamps it: mergeMemory and mergeLink start a record
 * created by a write that leaves the field out with these, and a replica sends them back unstamped.
 */
export const UNSTAMPED_VALUES: { memory: Record<string, Json>; link: Record<string, Json> } = {
  memory: { content: '', kind: 'note', tags: [], metadata: {} },
  link: { type: 'related_to', metadata: {} },
};

/** Field-wise last-writer-wins; `null` when the write would create a record without its immutable part. */
export function mergeMemory(
  existing: MemoryRecord | undefined,
  write: MemoryWrite,
  ceiling?: string,
): MemoryRecord | null {
  if (!existing && !write.create) return null;
  const memory = existing
    ? structuredClone(existing.memory)
    : {
        id: write.id,
        namespace: write.create!.namespace,
        content: '',
        kind: 'note',
        tags: [],
        metadata: {},
        createdAt: write.create!.createdAt,
        updatedAt: write.create!.createdAt,
      };
  const clocks = { ...existing?.clocks };
  mergeFields(memory, clocks, MEMORY_FIELDS, write.values, write.clocks, ceiling);
  if (existing && write.create && write.create.createdAt < memory.createdAt) {
    memory.createdAt = write.create.createdAt;
  }
  const updatedAt = hlcToIso(maxClock(clocks));
  // Share the string when equal: a store of 100K fresh memories keeps one timestamp string each, not two.
  memory.updatedAt = updatedAt === memory.createdAt ? memory.createdAt : updatedAt;
  return { memory, clocks };
}

export function mergeLink(
  existing: LinkRecord | undefined,
  write: LinkWrite,
  ceiling?: string,
): LinkRecord | null {
  if (!existing && !write.create) return null;
  const link = existing
    ? structuredClone(existing.link)
    : {
        id: write.id,
        namespace: write.create!.namespace,
        from: write.create!.from,
        to: write.create!.to,
        type: 'related_to',
        metadata: {},
        createdAt: write.create!.createdAt,
        updatedAt: write.create!.createdAt,
      };
  const clocks = { ...existing?.clocks };
  mergeFields(link, clocks, LINK_FIELDS, write.values, write.clocks, ceiling);
  if (existing && write.create && write.create.createdAt < link.createdAt) {
    link.createdAt = write.create.createdAt;
  }
  link.updatedAt = hlcToIso(maxClock(clocks));
  return { link, clocks };
}
