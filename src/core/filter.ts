import type { Json, Memory, MetadataFilter, TagMode } from './model.js';
import type { ListQuery } from './store-contract.js';

export interface MemoryFilter {
  kind?: string;
  tags?: string[];
  tagMode: TagMode;
  now: string;
  metadata?: MetadataFilter;
  asOf?: string;
  history?: boolean;
  /** Inclusive lower bound on `createdAt`. */
  since?: string;
  /** Exclusive upper bound on `createdAt`. */
  until?: string;
}

export function isExpired(memory: Memory, now: string): boolean {
  return memory.expiresAt !== undefined && Date.parse(memory.expiresAt) <= Date.parse(now);
}

function matchesTags(
  memoryTags: readonly string[],
  wanted: readonly string[] | undefined,
  mode: TagMode,
): boolean {
  if (!wanted || wanted.length === 0) return true;
  return mode === 'all'
    ? wanted.every((t) => memoryTags.includes(t))
    : wanted.some((t) => memoryTags.includes(t));
}

/**
 * The instant a read judges validity at: `asOf`, else `now`; `undefined` with `history` (no validity
 * filter). A memory is valid at `t` when `validFrom <= t < validTo`, an absent bound being open.
 */
export function validAt(query: { now: string; asOf?: string; history?: boolean }): string | undefined {
  return query.history ? undefined : (query.asOf ?? query.now);
}

export function isValidAt(memory: Memory, instant: string | undefined): boolean {
  // Most memories have neither bound: no instant to parse (count, list and search call this per memory).
  if (instant === undefined || (memory.validFrom === undefined && memory.validTo === undefined)) return true;
  const t = Date.parse(instant);
  if (memory.validFrom !== undefined && Date.parse(memory.validFrom) > t) return false;
  return memory.validTo === undefined || Date.parse(memory.validTo) > t;
}

/** The filter semantics every store must reproduce when it pushes filters down into its own queries. */
export function matchesFilter(memory: Memory, filter: MemoryFilter): boolean {
  if (isExpired(memory, filter.now)) return false;
  if (!isValidAt(memory, validAt(filter))) return false;
  if (filter.kind !== undefined && memory.kind !== filter.kind) return false;
  if (filter.since !== undefined && Date.parse(memory.createdAt) < Date.parse(filter.since)) return false;
  if (filter.until !== undefined && Date.parse(memory.createdAt) >= Date.parse(filter.until)) return false;
  if (filter.metadata !== undefined && !matchesMetadata(memory.metadata, filter.metadata)) return false;
  return matchesTags(memory.tags, filter.tags, filter.tagMode);
}

/** JSON equality: numbers by value, objects whatever their key order, arrays element by element. */
export function jsonEqual(a: Json | undefined, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]!))
    );
  }
  const keys = Object.keys(b);
  return (
    keys.length === Object.keys(a).length && keys.every((k) => Object.hasOwn(a, k) && jsonEqual(a[k], b[k]!))
  );
}

/** Every key of `wanted` is a top-level key of `metadata` holding an equal JSON value. */
export function matchesMetadata(metadata: { [k: string]: Json }, wanted: MetadataFilter): boolean {
  for (const key of Object.keys(wanted)) {
    if (!Object.hasOwn(metadata, key) || !jsonEqual(metadata[key], wanted[key]!)) return false;
  }
  return true;
}

export function matchesListQuery(memory: Memory, query: ListQuery): boolean {
  if (query.beforeId !== undefined && !(memory.id < query.beforeId)) return false;
  return matchesFilter(memory, query);
}

/** Descending id order, the order of `list` and the tie-break of every ranking. */
export function compareIdsDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}
