import type { Memory, TagMode } from './model.js';
import type { ListQuery } from './store-contract.js';

export interface MemoryFilter {
  kind?: string;
  tags?: string[];
  tagMode: TagMode;
  now: string;
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

/** The filter semantics every store must reproduce when it pushes filters down into its own queries. */
export function matchesFilter(memory: Memory, filter: MemoryFilter): boolean {
  if (isExpired(memory, filter.now)) return false;
  if (filter.kind !== undefined && memory.kind !== filter.kind) return false;
  return matchesTags(memory.tags, filter.tags, filter.tagMode);
}

export function matchesListQuery(memory: Memory, query: ListQuery): boolean {
  if (query.beforeId !== undefined && !(memory.id < query.beforeId)) return false;
  if (query.since !== undefined && Date.parse(memory.createdAt) < Date.parse(query.since)) return false;
  if (query.until !== undefined && Date.parse(memory.createdAt) >= Date.parse(query.until)) return false;
  return matchesFilter(memory, query);
}

/** Descending id order, the order of `list` and the tie-break of every ranking. */
export function compareIdsDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}
