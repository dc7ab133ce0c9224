import { isExpired } from './filter.js';
import type { Direction } from './model.js';
import type { LinkRecord, MemoryRecord, MemoryStore } from './store-contract.js';

export interface WalkOptions {
  direction: Direction;
  type?: string;
  now: string;
}

/** The far end of `link` when walked from `from` in `direction`, or undefined when the link does not lead away. */
function farEnd(link: LinkRecord['link'], from: string, direction: Direction): string | undefined {
  if (direction !== 'in' && link.from === from) return link.to;
  if (direction !== 'out' && link.to === from) return link.from;
  return undefined;
}

/**
 * One breadth-first step from a whole frontier: a single `linksOf` call per level (no N+1), then one
 * batched read of the memories reached. Expired memories are neither returned nor walked through.
 * Children are returned in ascending id order per parent, parents in ascending id order, so every store
 * discovers the same shortest path.
 */
async function expand(
  store: MemoryStore,
  namespace: string,
  frontier: readonly string[],
  seen: Set<string>,
  options: WalkOptions,
): Promise<{ parentOf: Map<string, string>; reached: MemoryRecord[] }> {
  const links = await store.linksOf(namespace, frontier, {
    direction: options.direction,
    type: options.type,
  });
  // Each link is matched against the frontier by its two ends, not against every frontier id: a level of
  // n memories and m links costs n + m, not n × m (a hub's thousands of neighbours are the next frontier).
  const inFrontier = new Set(frontier);
  const childrenOf = new Map<string, string[]>();
  for (const { link } of links) {
    for (const parent of link.from === link.to ? [link.from] : [link.from, link.to]) {
      if (!inFrontier.has(parent)) continue;
      const child = farEnd(link, parent, options.direction);
      if (child === undefined || seen.has(child)) continue;
      const list = childrenOf.get(parent) ?? [];
      list.push(child);
      childrenOf.set(parent, list);
    }
  }
  const parentOf = new Map<string, string>();
  for (const parent of [...frontier].sort()) {
    for (const child of (childrenOf.get(parent) ?? []).sort())
      if (!parentOf.has(child)) parentOf.set(child, parent);
  }
  const records = await store.getMemories(namespace, [...parentOf.keys()]);
  const reached = records.filter((r) => !isExpired(r.memory, options.now));
  const live = new Set(reached.map((r) => r.memory.id));
  for (const child of parentOf.keys()) if (!live.has(child)) parentOf.delete(child);
  return { parentOf, reached };
}

/** Memories within `depth` hops, nearest first, then by id descending; the start is excluded. */
export async function walkNeighbors(
  store: MemoryStore,
  namespace: string,
  start: string,
  depth: number,
  options: WalkOptions,
): Promise<MemoryRecord[]> {
  const seen = new Set([start]);
  const result: MemoryRecord[] = [];
  let frontier = [start];
  for (let level = 0; level < depth && frontier.length > 0; level++) {
    const { reached } = await expand(store, namespace, frontier, seen, options);
    reached.sort((a, b) => (a.memory.id < b.memory.id ? 1 : -1));
    for (const record of reached) seen.add(record.memory.id);
    result.push(...reached);
    frontier = reached.map((r) => r.memory.id);
  }
  return result;
}

/** Shortest path by breadth-first search, endpoints included; null when none within `maxDepth` hops. */
export async function findPath(
  store: MemoryStore,
  namespace: string,
  from: MemoryRecord,
  to: string,
  maxDepth: number,
  options: WalkOptions,
): Promise<MemoryRecord[] | null> {
  if (from.memory.id === to) return [from];
  const seen = new Set([from.memory.id]);
  const byId = new Map([[from.memory.id, from]]);
  const parents = new Map<string, string>();
  let frontier = [from.memory.id];
  for (let level = 0; level < maxDepth && frontier.length > 0; level++) {
    const { parentOf, reached } = await expand(store, namespace, frontier, seen, options);
    for (const record of reached) {
      seen.add(record.memory.id);
      byId.set(record.memory.id, record);
    }
    for (const [child, parent] of parentOf) parents.set(child, parent);
    if (parentOf.has(to)) {
      const path: MemoryRecord[] = [];
      for (let at: string | undefined = to; at !== undefined; at = parents.get(at))
        path.unshift(byId.get(at)!);
      return path;
    }
    frontier = [...parentOf.keys()];
  }
  return null;
}
