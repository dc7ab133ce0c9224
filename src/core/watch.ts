import type { ChangeEvent } from './engram-options.js';
import { EngramError } from './errors.js';
import type { ListOptions, ListResult, Memory, SearchHit, SearchOptions } from './model.js';
import type { MemoryRecord } from './store-contract.js';
import { ChangedMemory, type CompiledWatch, compileWatch } from './watch-query.js';

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
  now(): number;
  reportError(error: unknown): void;
  /** The namespace's index language (default English). */
  language?: string;
}

type Results = ListResult | SearchHit[];

/** Changes that can only touch links never alter a memory list or search. */
const LINK_ONLY = new Set<ChangeEvent['type']>(['link', 'unlink']);
/** setTimeout's ceiling; a later expiry is looked at again after this long. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function resultIds(results: Results): string[] {
  return Array.isArray(results) ? results.map((h) => h.memory.id) : results.items.map((m) => m.id);
}

/** Equal signatures mean the listener would see nothing new. */
function signature(results: Results): string {
  if (Array.isArray(results))
    return JSON.stringify(results.map((h) => [h.memory.id, h.memory.updatedAt, h.score]));
  return JSON.stringify([results.items.map((m) => [m.id, m.updatedAt]), results.cursor]);
}

/** One watched query: re-run when a change may alter it, delivered only when it did. */
class Watch {
  private current: Results | undefined;
  private delivered: string | undefined;
  private running = false;
  private dirty = false;
  private stopped = false;
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;
  private currentIds = new Set<string>();

  constructor(
    private readonly source: WatchSource,
    private readonly query: CompiledWatch,
    private readonly listener: (results: Results) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  stop(): void {
    this.stopped = true;
    clearTimeout(this.expiryTimer);
  }

  /** Decides from the changed ids (and the records still live) whether to re-run. */
  consider(ids: readonly string[], changed: ReadonlyMap<string, ChangedMemory>): void {
    if (this.stopped) return;
    // While a run is in flight its results are unknown: any change may make them stale.
    if (this.running || this.current === undefined || ids.some((id) => this.mayAlter(id, changed))) {
      this.refresh();
    }
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
    this.dirty = true;
    if (this.running) return;
    this.running = true;
    void this.runUntilSettled();
  }

  private async runUntilSettled(): Promise<void> {
    let results: Results | undefined;
    let failure: { error: unknown } | undefined;
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      try {
        results = await this.query.run(this.source);
        failure = undefined;
      } catch (error) {
        failure = { error };
      }
    }
    this.running = false;
    if (this.stopped) return;
    if (failure) {
      this.delivered = undefined;
      this.onError(failure.error);
      return;
    }
    if (!results) return;
    this.current = results;
    this.currentIds = new Set(resultIds(results));
    this.scheduleExpiry(results);
    const next = signature(results);
    if (next === this.delivered) return;
    this.delivered = next;
    try {
      this.listener(results);
    } catch (error) {
      this.source.reportError(error);
    }
  }

  /** A memory past its `expiresAt` leaves the results without any write: re-run at the first expiry. */
  private scheduleExpiry(results: Results): void {
    clearTimeout(this.expiryTimer);
    const memories = Array.isArray(results) ? results.map((h) => h.memory) : results.items;
    let first = Number.POSITIVE_INFINITY;
    for (const m of memories) if (m.expiresAt) first = Math.min(first, Date.parse(m.expiresAt));
    if (first === Number.POSITIVE_INFINITY) return;
    const delay = Math.min(Math.max(0, first - this.source.now()), MAX_TIMER_MS);
    this.expiryTimer = setTimeout(() => this.refresh(), delay);
    (this.expiryTimer as { unref?: () => void }).unref?.();
  }
}

/**
 * Every watch of one façade. Changes are gathered for the rest of the task and looked at once: the
 * changed records are read once for all watches, and only the watches they may alter re-run.
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

  constructor(private readonly source: WatchSource) {}

  watch(query: unknown, listener: (results: Results) => void, options: WatchOptions = {}): () => void {
    const compiled = compileWatch(query, this.source.language);
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw new EngramError('VALIDATION', 'watch.options.onError: expected a function', {
        field: 'watch.options.onError',
      });
    }
    const watch = new Watch(this.source, compiled, listener, options.onError ?? this.source.reportError);
    this.watches.add(watch);
    this.unsubscribe ??= this.source.onChange((event) => this.note(event));
    watch.refresh();
    return () => {
      watch.stop();
      this.watches.delete(watch);
      if (this.watches.size === 0) this.detach();
    };
  }

  /** Stops every watch (the façade is closing). */
  stop(): void {
    for (const watch of this.watches) watch.stop();
    this.watches.clear();
    this.detach();
  }

  private detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
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
      // Without the records nothing can be ruled out: every watch re-runs and reports its own error.
      for (const watch of this.watches) watch.refresh();
      return;
    }
    for (const watch of this.watches) watch.consider(ids, changed);
  }
}
