import { decodeCursor, encodeCursor } from './cursor.js';
import { isExpired } from './filter.js';
import { findPath, walkNeighbors } from './graph.js';
import { countByListing } from './lifecycle.js';
import { type NamespaceView, requireLive, requireLivePair } from './live-records.js';
import type {
  CountOptions,
  Link,
  LinksOptions,
  ListOptions,
  ListResult,
  Memory,
  NeighborsOptions,
  PathOptions,
} from './model.js';
import type { CountQuery } from './store-contract.js';

// The façade's reads other than search (memory-search.ts), after their input is validated.

const DEFAULT_LIST_LIMIT = 50;
const DEFAULT_DEPTH = 1;
const DEFAULT_PATH_DEPTH = 6;

/** The filters `list` and `count` share, as the store reads them, judged at the view's instant. */
function filterQuery(view: NamespaceView, parsed: CountOptions): CountQuery {
  return {
    kind: parsed.kind,
    tags: parsed.tags,
    tagMode: parsed.tagMode ?? 'any',
    since: parsed.since,
    until: parsed.until,
    metadata: parsed.metadata,
    now: view.nowIso(),
    asOf: parsed.asOf,
    history: parsed.history,
  };
}

/** One page of `list`, newest first, with the cursor of the next page. */
export async function listPage(view: NamespaceView, parsed: ListOptions): Promise<ListResult> {
  const limit = parsed.limit ?? DEFAULT_LIST_LIMIT;
  const records = await view.store.list(view.namespace, {
    ...filterQuery(view, parsed),
    beforeId: parsed.cursor ? decodeCursor(parsed.cursor) : undefined,
    limit: limit + 1,
  });
  const items = records.slice(0, limit).map((r) => r.memory);
  const last = items[items.length - 1];
  return { items, cursor: records.length > limit && last ? encodeCursor(last.id) : null };
}

/** How many memories `list` would return for these filters, without paging. */
export async function countMemories(view: NamespaceView, parsed: CountOptions): Promise<number> {
  const query = filterQuery(view, parsed);
  return view.store.count
    ? view.store.count(view.namespace, query)
    : countByListing(view.store, view.namespace, query);
}

/** Links of a live memory whose other end is live, ordered by id descending. */
export async function liveLinks(view: NamespaceView, id: string, parsed: LinksOptions): Promise<Link[]> {
  await requireLive(view, id, 'links.id');
  const records = await view.store.linksOf(view.namespace, [id], {
    direction: parsed.direction ?? 'both',
    type: parsed.type,
  });
  const others = [...new Set(records.map((r) => (r.link.from === id ? r.link.to : r.link.from)))];
  const now = view.nowIso();
  const live = new Set(
    (await view.store.getMemories(view.namespace, others))
      .filter((r) => !isExpired(r.memory, now))
      .map((r) => r.memory.id),
  );
  return records
    .filter((r) => live.has(r.link.from === id ? r.link.to : r.link.from))
    .map((r) => r.link)
    .sort((a, b) => (a.id < b.id ? 1 : -1));
}

/** Memories within `depth` hops (default 1) of a live memory, nearest first, then by id descending. */
export async function neighborsOf(
  view: NamespaceView,
  id: string,
  parsed: NeighborsOptions,
): Promise<Memory[]> {
  await requireLive(view, id, 'neighbors.id');
  const walk = { direction: parsed.direction ?? 'both', type: parsed.type, now: view.nowIso() } as const;
  const depth = parsed.depth ?? DEFAULT_DEPTH;
  const records = view.store.neighbors
    ? await view.store.neighbors(view.namespace, id, { ...walk, depth })
    : await walkNeighbors(view.store, view.namespace, id, depth, walk);
  return records.map((r) => r.memory);
}

/** The shortest path between two live memories, endpoints included (forward links unless told). */
export async function pathBetween(
  view: NamespaceView,
  fromId: string,
  toId: string,
  parsed: PathOptions,
): Promise<Memory[] | null> {
  const [from] = await requireLivePair(view, [fromId, 'path.from'], [toId, 'path.to']);
  const walk = { direction: parsed.direction ?? 'out', type: parsed.type, now: view.nowIso() } as const;
  const maxDepth = parsed.maxDepth ?? DEFAULT_PATH_DEPTH;
  const records = view.store.path
    ? await view.store.path(view.namespace, fromId, toId, { ...walk, maxDepth })
    : await findPath(view.store, view.namespace, from, toId, maxDepth, walk);
  return records?.map((r) => r.memory) ?? null;
}
