import { useMemo, useRef, useSyncExternalStore } from 'react';
import type { Engram } from '../core/engram.js';
import type { ListOptions, ListResult, SearchHit, SearchOptions } from '../core/model.js';
import type { SyncStatus } from '../core/sync/engine.js';
import type { WatchQuery, WatchResult } from '../core/watch.js';
import { StatusSnapshot } from './sync-status.js';
import { type QueryState, WatchedQuery } from './watched-query.js';

export type { QueryState } from './watched-query.js';

/** A memory that is still being created (`null`/`undefined`) reads as loading. */
type MaybeMemory = Engram | null | undefined;

const LOCAL: SyncStatus = { state: 'local', pending: 0, lastSyncAt: null };
const statusSnapshots = new WeakMap<Engram, StatusSnapshot>();
const noSubscription = () => () => {};

function useWatch<Q extends WatchQuery>(mem: MaybeMemory, query: Q | null): QueryState<WatchResult<Q>> {
  // Options are usually object literals, new on every render: the query is keyed by its content.
  const key = query === null ? '' : JSON.stringify(query);
  // The previous results of the same memory stay on screen while a changed query loads; another
  // memory's (another namespace's) never do.
  const last = useRef<{ mem: MaybeMemory; data: WatchResult<Q> } | undefined>(undefined);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `query`'s content
  const watched = useMemo(() => {
    const previous = last.current;
    const kept = previous !== undefined && previous.mem === mem ? previous.data : undefined;
    return new WatchedQuery(mem, query, kept);
  }, [mem, key]);
  const state = useSyncExternalStore(watched.subscribe, watched.getSnapshot, watched.getSnapshot);
  if (state.data !== undefined) last.current = { mem, data: state.data };
  return state;
}

/**
 * The `list` page for these options, kept current: re-renders after every change that alters it
 * (this tab, other tabs, sync).
 *
 * @example
 * const { data, loading, error } = useMemories(mem, { tags: ['todo'], limit: 20 });
 * return loading ? <Spinner /> : <ul>{data?.items.map((m) => <li key={m.id}>{m.content}</li>)}</ul>;
 */
export function useMemories(mem: MaybeMemory, options: ListOptions = {}): QueryState<ListResult> {
  return useWatch(mem, { list: options });
}

/**
 * Ranked search hits for `query`, kept current. A blank text query is no search at all: `data` is `[]`.
 *
 * @example
 * const { data: hits = [] } = useSearch(mem, text, { limit: 10 });
 */
export function useSearch(
  mem: MaybeMemory,
  query: string,
  options: SearchOptions = {},
): QueryState<SearchHit[]> {
  const blank = typeof query === 'string' && query.trim() === '' && !options.vector;
  const state = useWatch(mem, blank ? null : { search: query, ...options });
  return blank ? BLANK_SEARCH : state;
}

const BLANK_SEARCH: QueryState<SearchHit[]> = Object.freeze({ data: [], loading: false, error: undefined });

/**
 * `mem.status`, re-rendering when it changes: `local`, `online`, `syncing`, `offline` (with `pending`)
 * or `error`.
 *
 * @example
 * const { state, pending } = useSyncStatus(mem);
 */
export function useSyncStatus(mem: MaybeMemory): SyncStatus {
  let snapshot: StatusSnapshot | undefined;
  if (mem) {
    snapshot = statusSnapshots.get(mem);
    if (!snapshot) {
      snapshot = new StatusSnapshot(mem);
      statusSnapshots.set(mem, snapshot);
    }
  }
  const subscribe = snapshot?.subscribe ?? noSubscription;
  const getSnapshot = snapshot?.getSnapshot ?? (() => LOCAL);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
