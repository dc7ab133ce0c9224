import type { ChangeEvent } from './engram-options.js';
import { EngramError } from './errors.js';
import type { CountOptions, ListOptions, ListResult, Memory, SearchHit, SearchOptions } from './model.js';
import type { MemoryRecord } from './store-contract.js';
import { MAX_TIMER_MS } from './validate.js';
import { ChangedMemory, type CompiledWatch, compileWatch } from './watch-query.js';
import { ValidityBoundaries } from './watch-validity.js';

export type { ListWatch, SearchWatch, WatchQuery, WatchResult } from './watch-query.js';

export interface WatchOptions {
  /**
   * Called when re-running the query fails (the store closed, a vector of the wrong length, ...). The
   * watch goes on and tries again at the next change. Without it the error goes to `reportError`.
   */
  onError?: (error: unknown) => void;
}

/** What watches need from the façade. */
export interface WatchSource {
  list(options: ListOptions): Promise<ListResult>;
  search(query: string, options: SearchOptions): Promise<SearchHit[]>;
  onChange(listener: (event: ChangeEvent) => void): () => void;
  /** Live records of these ids (links and deleted ids are simply absent). */
  readMemories(ids: string[]): Promise<MemoryRecord[]>;
  /** `mem.count`: lets the first walk of validity boundaries be skipped when there can be none. */
  count?(options: CountOptions): Promise<number>;
  now(): number;
  reportError(error: unknown): void;
  /** The namespace's index language (default English). */
  language?: string;
  /** True when the memory embeds queries itself (an embedder given to createMemory). */
  hasEmbedder?(): boolean;
}

type Results = ListResult | SearchHit[];

/** Changes that can only touch links never alter a memory list or search. */
const LINK_ONLY = new Set<ChangeEvent['type']>(['link', 'unlink']);

/**
 * Calls `fire` once `now()` reaches an instant. A timer may wake a little early, or be capped at
 * setTimeout's ceiling (~24.8 days): then it waits again. Unref'd, so a pending instant never keeps a
 * process alive; `clear` (or a new `at`) cancels it.
 */
class InstantTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly now: () => number) {}

  at(instant: number, fire: () => void): void {
    this.clear();
    if (!Number.isFinite(instant)) return;
    const delay = Math.min(Math.max(1, instant - this.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.now() >= instant) fire();
      else this.at(instant, fire);
    }, delay);
    (this.timer as { unref?: () => void }).unref?.();
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function resultIds(results: Results): string[] {
  return Array.isArray(results) ? results.map((h) => h.memory.id) : results.items.map((m) => m.id);
}

/** Equal signatures mean the listener would see nothing new. */
function signature(results: Results): string {
  if (Array.isArray(results))
    return JSON.stringify(results.map((h) => [h.memory.id, h.memory.updatedAt, h.score]));
  return JSON.stringify([results.items.map((m) => [m.id, m.updatedAt]), results.cursor]);
}

/**
 * How long a search waits to re-rank after changes that only move BM25's corpus statistics (a write
 * holding none of its words): a burst of writes, an import, costs one re-run, not one per write; a change
 * that may add or remove a hit still re-runs at once.
 */
export const RERANK_DELAY_MS = 300;

/** One watched query: re-run when a change may alter it, delivered only when it did. */
class Watch {
  private current: Results | undefined;
  private delivered: string | undefined;
  private running = false;
  private dirty = false;
  private stopped = false;
  private readonly expiryTimer: InstantTimer;
  private rerankTimer: ReturnType<typeof setTimeout> | undefined;
  private currentIds = new Set<string>();

  constructor(
    private readonly source: WatchSource,
    readonly query: CompiledWatch,
    private readonly listener: (results: Results) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.expiryTimer = new InstantTimer(() => source.now());
  }

  stop(): void {
    this.stopped = true;
    this.expiryTimer.clear();
    clearTimeout(this.rerankTimer);
    this.rerankTimer = undefined;
  }

  /** Decides from the changed ids (and the records still live) whether to re-run. */
  consider(ids: readonly string[], changed: ReadonlyMap<string, ChangedMemory>): void {
    if (this.stopped) return;
    // While a run is in flight its results are unknown: any change may make them stale.
    if (this.running || this.current === undefined || ids.some((id) => this.mayAlter(id, changed))) {
      this.refresh();
    } else if (this.query.reranksOnAnyChange?.(this.current)) {
      this.rerankSoon();
    }
  }

  private rerankSoon(): void {
    if (this.rerankTimer !== undefined) return;
    this.rerankTimer = setTimeout(() => {
      this.rerankTimer = undefined;
      this.refresh();
    }, RERANK_DELAY_MS);
    (this.rerankTimer as { unref?: () => void }).unref?.();
  }

  private mayAlter(id: string, changed: ReadonlyMap<string, ChangedMemory>): boolean {
    if (this.currentIds.has(id)) return true;
    const memory = changed.get(id);
    if (memory === undefined) return this.query.mayLeave?.(id, this.current) ?? false;
    return this.query.mayEnter(memory, this.nowIso(), this.current);
  }

  private nowIso(): string {
    return new Date(this.source.now()).toISOString();
  }

  /** Runs the query until no change arrived meanwhile, then delivers once if the results differ. */
  refresh(): void {
    if (this.stopped) return;
    // This run re-ranks too: a re-rank waiting for its moment is covered.
    clearTimeout(this.rerankTimer);
    this.rerankTimer = undefined;
    this.dirty = true;
    if (this.running) return;
    this.running = true;
    void this.runUntilSettled();
  }

  private async runUntilSettled(): Promise<void> {
    let results: Results | undefined;
    let expiry = Number.POSITIVE_INFINITY;
    let failure: { error: unknown } | undefined;
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      try {
        results = await this.query.run(this.source);
        expiry = await this.firstExpiry(results);
        failure = undefined;
      } catch (error) {
        failure = { error };
      }
    }
    this.running = false;
    if (this.stopped) return;
    if (failure) {
      // The results are unknown now (the change the failed run was for may have altered them): the next
      // change, whatever it is, runs the query again rather than being judged against outdated results.
      this.current = undefined;
      this.delivered = undefined;
      this.onError(failure.error);
      return;
    }
    if (!results) return;
    this.current = results;
    this.currentIds = new Set(resultIds(results));
    this.expiryTimer.at(expiry, () => this.refresh());
    const next = signature(results);
    if (next === this.delivered) return;
    this.delivered = next;
    try {
      this.listener(results);
    } catch (error) {
      this.onError(error);
    }
  }

  /**
   * A memory past its `expiresAt` leaves the results without any write, and the first memory after a
   * page may take the page's cursor with it: re-run at the first such expiry. (Validity bounds, `validTo`
   * of a result or `validFrom` of a memory to come, are the hub's: see ValidityBoundaries.)
   */
  private async firstExpiry(results: Results): Promise<number> {
    const memories = Array.isArray(results) ? results.map((h) => h.memory) : results.items;
    let first = (await this.query.expiryAfter?.(this.source, results)) ?? Number.POSITIVE_INFINITY;
    for (const m of memories) if (m.expiresAt) first = Math.min(first, Date.parse(m.expiresAt));
    return first;
  }
}

/**
 * Every watch of one façade. Changes are gathered for the rest of the task and looked at once: the
 * changed records are read once for all watches, and only the watches they may alter re-run.
 *
 * The hub also keeps the namespace's validity bounds ahead (ValidityBoundaries): found when the first
 * watch opens (three counts, or a walk when they show any), then kept from the changes it sees, until
 * the last watch stops.
 */
export class WatchHub {
  private readonly watches = new Set<Watch>();
  private pendingIds = new Set<string>();
  /** Memories this façade just wrote (null: removed), so a local burst needs no read at all. */
  private written = new Map<string, Memory | null>();
  /** Ids another tab or sync changed in this burst: what this façade wrote of them may be outdated. */
  private changedElsewhere = new Set<string>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Validity bounds ahead in the namespace, and the timer for the first of them. */
  private readonly validity = new ValidityBoundaries();
  private readonly validityTimer: InstantTimer;
  /** The bounds may miss some: walk again before the next watch relies on them. */
  private validityStale = true;
  /** The last walk failed: the bounds it reset are unknown until the next walk. */
  private walkFailed = false;

  constructor(private readonly source: WatchSource) {
    this.validityTimer = new InstantTimer(() => source.now());
  }

  watch(query: unknown, listener: (results: Results) => void, options: WatchOptions = {}): () => void {
    const compiled = compileWatch(query, {
      language: this.source.language,
      hasEmbedder: this.source.hasEmbedder?.() ?? false,
    });
    if (typeof listener !== 'function') {
      throw new EngramError(
        'VALIDATION',
        `watch.listener: expected a function called with the results, got ${listener === null ? 'null' : typeof listener}`,
        { field: 'watch.listener' },
      );
    }
    if (typeof options !== 'object' || options === null) {
      throw new EngramError('VALIDATION', 'watch.options: expected an object such as { onError }', {
        field: 'watch.options',
      });
    }
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw new EngramError('VALIDATION', 'watch.options.onError: expected a function', {
        field: 'watch.options.onError',
      });
    }
    const watch = new Watch(this.source, compiled, listener, options.onError ?? this.source.reportError);
    this.watches.add(watch);
    this.unsubscribe ??= this.source.onChange((event) => this.note(event));
    if (this.validityStale) this.scanValidity();
    watch.refresh();
    return () => {
      if (!this.watches.delete(watch)) return;
      watch.stop();
      if (this.watches.size === 0) this.detach();
    };
  }

  /** Stops every watch (the façade is closing). */
  stop(): void {
    for (const watch of this.watches) watch.stop();
    this.watches.clear();
    this.detach();
  }

  /** No watch left: stop looking at changes; the next watch finds the validity bounds afresh. */
  private detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.validityTimer.clear();
    this.validity.reset();
    this.validityStale = true;
    this.walkFailed = false;
    this.pendingIds = new Set();
    this.written = new Map();
    this.changedElsewhere = new Set();
  }

  /** The façade hands over what a local write left in the store, just before its change event. */
  noteWritten(records: readonly MemoryRecord[]): void {
    if (this.watches.size === 0) return;
    for (const record of records) this.written.set(record.memory.id, record.memory);
  }

  private note(event: ChangeEvent): void {
    if (LINK_ONLY.has(event.type)) return;
    for (const id of event.ids) {
      this.pendingIds.add(id);
      if (event.type === 'remove') this.written.set(id, null);
      else if (event.type === 'sync' || event.type === 'external') this.changedElsewhere.add(id);
    }
    this.flushTimer ??= setTimeout(() => void this.flush(), 0);
  }

  private async flush(): Promise<void> {
    this.flushTimer = undefined;
    const ids = [...this.pendingIds];
    const { written, changedElsewhere } = this;
    this.pendingIds = new Set();
    this.written = new Map();
    this.changedElsewhere = new Set();
    if (ids.length === 0 || this.watches.size === 0) return;
    const changed = new Map<string, ChangedMemory>();
    const unknown: string[] = [];
    for (const id of ids) {
      const memory = changedElsewhere.has(id) ? undefined : written.get(id);
      if (memory) changed.set(id, new ChangedMemory(memory, this.source.language));
      else if (memory === undefined) unknown.push(id);
    }
    try {
      const records = unknown.length > 0 ? await this.source.readMemories(unknown) : [];
      for (const r of records) changed.set(r.memory.id, new ChangedMemory(r.memory, this.source.language));
    } catch {
      // Without the records nothing can be ruled out: every watch re-runs and reports its own error, and
      // the validity bounds are walked again (by the next watch, if the last one left meanwhile).
      for (const watch of this.watches) watch.refresh();
      if (this.watches.size > 0) this.scanValidity();
      return;
    }
    // The last watch left while the records were read: its detach reset the bounds for the next watch
    // to walk; walking now, with nothing subscribed, would make that watch trust a stale walk.
    if (this.watches.size === 0) return;
    this.noteValidity(ids, changed);
    if (this.validityStale) this.scanValidity();
    else this.scheduleValidity();
    for (const watch of this.watches) watch.consider(ids, changed);
  }

  private noteValidity(ids: readonly string[], changed: ReadonlyMap<string, ChangedMemory>): void {
    const now = this.source.now();
    for (const id of ids) this.validity.note(id, changed.get(id)?.memory, now);
  }

  /**
   * Walks the namespace for the validity bounds ahead (those of memories written before the hub looked),
   * then waits for the first. Changes noted meanwhile add to what the walk finds.
   */
  private scanValidity(): void {
    this.validityStale = false;
    // The walk starts afresh: a bound that passed before its timer could fire is owed its re-run now, and
    // so is any a failed walk forgot (it reset the bounds it knew), which may have passed since.
    if (this.walkFailed || this.validity.next(this.source.now()).passed) this.refreshValidityWatches();
    this.walkFailed = false;
    this.validity.reset();
    this.validity
      .scan(
        (options) => this.source.list(options),
        () => this.source.now(),
        () => noBoundaryAhead(this.source),
      )
      .then(
        () => this.scheduleValidity(),
        // The store is closing or failing: the watches' own runs report it. The next change walks again.
        () => {
          this.validityStale = true;
          this.walkFailed = true;
          this.scheduleValidity();
        },
      );
  }

  /**
   * When the first validity bound ahead passes, every watch of what is valid now re-runs. A bound can
   * pass while the event loop is busy, before its timer fires; a flush that runs first finds it passed
   * here (and re-arming cancels that timer), so the re-run happens here rather than never.
   */
  private scheduleValidity(): void {
    if (this.watches.size === 0) return;
    const { at, passed } = this.validity.next(this.source.now());
    if (passed) this.refreshValidityWatches();
    this.validityTimer.at(at, () => this.scheduleValidity());
  }

  private refreshValidityWatches(): void {
    for (const watch of this.watches) if (watch.query.followsValidity) watch.refresh();
  }
}

/**
 * True when no memory of the namespace can have a validity boundary ahead, known from three counts
 * (cheap on every store) rather than a walk: every memory (`history`) is valid now, and all of them are
 * still valid at the end of year 9999, so none starts later and none ends before then.
 */
async function noBoundaryAhead(source: WatchSource): Promise<boolean> {
  if (!source.count) return false;
  const [all, now, last] = await Promise.all([
    source.count({ history: true }),
    source.count({}),
    source.count({ asOf: '9999-12-31T23:59:59.999Z' }),
  ]);
  return all === now && now === last;
}
