import type { Engram } from '../core/engram.js';
import type { WatchQuery, WatchResult } from '../core/watch.js';

/** What `useMemories` and `useSearch` return. */
export interface QueryState<T> {
  /** The latest results; while a changed query loads, the previous query's results stay here. */
  data: T | undefined;
  /** True until the first results of the current query arrive. */
  loading: boolean;
  /** The query was refused (VALIDATION) or its last run failed; cleared by the next results. */
  error: unknown;
}

/**
 * One query followed through `mem.watch`, shaped for `useSyncExternalStore`: the watch starts on
 * subscribe and stops on unsubscribe, so StrictMode's double subscribe and an unmount leave no watch
 * behind, and a snapshot object changes only when the results or the error do.
 */
export class WatchedQuery<Q extends WatchQuery> {
  private state: QueryState<WatchResult<Q>>;

  constructor(
    private readonly mem: Engram | null | undefined,
    private readonly query: Q | null,
    previous: WatchResult<Q> | undefined,
  ) {
    this.state = { data: previous, loading: query !== null, error: undefined };
  }

  readonly subscribe = (onChange: () => void): (() => void) => {
    const { mem, query } = this;
    if (mem == null || query === null) return () => {};
    const set = (next: QueryState<WatchResult<Q>>) => {
      this.state = next;
      onChange();
    };
    try {
      return mem.watch(query, (data) => set({ data, loading: false, error: undefined }), {
        onError: (error) => set({ data: this.state.data, loading: false, error }),
      });
    } catch (error) {
      set({ data: undefined, loading: false, error });
      return () => {};
    }
  };

  readonly getSnapshot = (): QueryState<WatchResult<Q>> => this.state;
}
