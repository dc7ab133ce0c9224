import type { MemoryEvents } from './engram-options.js';
import { validationError } from './errors.js';
import type { CountOptions, ListOptions, ListResult, SearchHit, SearchOptions } from './model.js';
import type { MemoryStore } from './store-contract.js';
import type { Language } from './text/index.js';
import { WatchHub, type WatchSource } from './watch.js';

// Who hears an Engram's changes: listeners given to `on`, and watches.

/** What a façade's watches re-run and read: its own list, search and count (which check what they are given), its store. */
export interface WatchedMemory {
  readonly store: MemoryStore;
  readonly namespace: string;
  readonly language?: Language;
  list(options: ListOptions): Promise<ListResult>;
  search(query: string, options: SearchOptions): Promise<SearchHit[]>;
  count(options: CountOptions): Promise<number>;
}

/** Where a listener's error goes: the host's `reportError`, else the console; never the emitter's caller. */
export function reportListenerError(error: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (report) report(error);
  else console.error('engram: a change/status listener threw', error);
}

/** See Engram.on: an unknown event or a listener that is no function throws VALIDATION. */
export function assertListener(event: keyof MemoryEvents, listener: unknown): void {
  if (event !== 'change' && event !== 'status' && event !== 'rejected' && event !== 'warning') {
    throw validationError('on.event', `'change', 'status', 'rejected' or 'warning'`, JSON.stringify(event));
  }
  if (typeof listener !== 'function') throw validationError('on.listener', 'a function', typeof listener);
}

/** The hub of a façade's watches, made at its first watch. */
export function watchHubOf(
  memory: WatchedMemory,
  now: () => number,
  onChange: WatchSource['onChange'],
  hasEmbedder: () => boolean,
): WatchHub {
  return new WatchHub({
    list: (o) => memory.list(o),
    search: (q, o) => memory.search(q, o),
    onChange,
    readMemories: (ids) => memory.store.getMemories(memory.namespace, ids),
    count: (o) => memory.count(o),
    now,
    reportError: reportListenerError,
    language: memory.language,
    hasEmbedder,
  });
}
