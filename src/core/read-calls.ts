import { renderContext } from './lifecycle.js';
import { liveRecord, type NamespaceView } from './live-records.js';
import { countMemories, listPage, liveLinks, neighborsOf, pathBetween } from './memory-reads.js';
import { type SearchHost, searchMemories } from './memory-search.js';
import type {
  ContextOptions,
  CountOptions,
  Link,
  LinksOptions,
  ListOptions,
  ListResult,
  Memory,
  NeighborsOptions,
  PathOptions,
  SearchHit,
  SearchOptions,
} from './model.js';
import * as schema from './validate.js';

// Engram's read calls as it is given them: each checks its arguments, errors naming the call's fields,
// then reads (the caller has checked the memory is open).

const DEFAULT_CONTEXT_CHARS = 4000;
const DEFAULT_CONTEXT_LIMIT = 20;

/** What `context` reads through: the façade's own search and list, which check what they are given. */
export interface ContextReads {
  search(query: string, options: SearchOptions): Promise<SearchHit[]>;
  list(options: ListOptions): Promise<ListResult>;
}

/** See Engram.count. */
export function count(view: NamespaceView, filter: CountOptions): Promise<number> {
  const parsed = schema.parse(schema.countOptionsSchema, filter, 'count');
  return countMemories(view, parsed);
}

/** See Engram.context. */
export async function context(reads: ContextReads, query: string, options: ContextOptions): Promise<string> {
  query = schema.parse(schema.querySchema, query, 'context.query');
  const { maxChars, ...rest } = schema.parse(schema.contextOptionsSchema, options, 'context');
  const limit = rest.limit ?? DEFAULT_CONTEXT_LIMIT;
  const hits: SearchHit[] = query.trim()
    ? await reads.search(query, { ...rest, limit })
    : (
        await reads.list({
          kind: rest.kind,
          tags: rest.tags,
          tagMode: rest.tagMode,
          metadata: rest.metadata,
          asOf: rest.asOf,
          history: rest.history,
          since: rest.since,
          until: rest.until,
          limit,
        })
      ).items.map((memory) => ({ memory, score: 0 }));
  return renderContext(hits, maxChars ?? DEFAULT_CONTEXT_CHARS);
}

/** See Engram.get. */
export async function get(view: NamespaceView, id: string): Promise<Memory | null> {
  schema.parse(schema.idSchema, id, 'get.id');
  return (await liveRecord(view, id))?.memory ?? null;
}

/** See Engram.list. */
export function list(view: NamespaceView, options: ListOptions): Promise<ListResult> {
  const parsed = schema.parse(schema.listOptionsSchema, options, 'list');
  return listPage(view, parsed);
}

/** See Engram.search. */
export function search(host: SearchHost, query: string, options: SearchOptions): Promise<SearchHit[]> {
  query = schema.parse(schema.querySchema, query, 'search.query');
  const parsed = schema.parse(schema.searchOptionsSchema, options, 'search');
  return searchMemories(host, query, parsed);
}

/** See Engram.links. */
export function links(view: NamespaceView, id: string, options: LinksOptions): Promise<Link[]> {
  schema.parse(schema.idSchema, id, 'links.id');
  const parsed = schema.parse(schema.linksOptionsSchema, options, 'links.options');
  return liveLinks(view, id, parsed);
}

/** See Engram.neighbors. */
export function neighbors(view: NamespaceView, id: string, options: NeighborsOptions): Promise<Memory[]> {
  schema.parse(schema.idSchema, id, 'neighbors.id');
  const parsed = schema.parse(schema.neighborsOptionsSchema, options, 'neighbors.options');
  return neighborsOf(view, id, parsed);
}

/** See Engram.path. */
export function path(
  view: NamespaceView,
  fromId: string,
  toId: string,
  options: PathOptions,
): Promise<Memory[] | null> {
  schema.parse(schema.idSchema, fromId, 'path.from');
  schema.parse(schema.idSchema, toId, 'path.to');
  const parsed = schema.parse(schema.pathOptionsSchema, options, 'path.options');
  return pathBetween(view, fromId, toId, parsed);
}
