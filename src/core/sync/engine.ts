import { readChangeStates } from '../change-states.js';
import { EngramError, isEngramError } from '../errors.js';
import type { HybridLogicalClock } from '../hlc.js';
import type { ChangeEntry, LinkWrite, MemoryStore, MemoryWrite, Tombstone } from '../store-contract.js';
import type { SyncRequest } from './protocol.js';
import { changesToBatch, linkRecordToWrite, memoryRecordToWrite, stampsOf } from './records.js';
import type { SyncTransport } from './transport.js';

export type SyncState = 'local' | 'online' | 'syncing' | 'offline' | 'error';

export interface SyncStatus {
  state: SyncState;
  pending: number;
  lastSyncAt: string | null;
  error?: string;
}

export interface SyncResult {
  pushed: number;
  pulled: number;
}

export interface SyncEngineOptions {
  store: MemoryStore;
  namespace: string;
  transport: SyncTransport;
  clock: HybridLogicalClock;
  /** Background pull period; 0 disables it. */
  intervalMs?: number;
  /** Delay between a local write and the push it triggers, so bursts go out as one batch. */
  debounceMs?: number;
  backoff?: { baseMs?: number; maxMs?: number };
  random?: () => number;
  onStatus(status: SyncStatus): void;
  onPulled(ids: string[]): void;
}

const PAGE = 500;
/** Pushes are cut into requests of about this many bytes, well under the edge's body limit. */
const PUSH_BYTES = 256 * 1024;
const KEYS = { pushed: 'sync.pushedSeq', cursor: 'sync.cursor', lastSyncAt: 'sync.lastSyncAt' } as const;

type Timer = ReturnType<typeof setTimeout>;

function unref(timer: Timer): Timer {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/**
 * Local-first replication of one namespace: pushes the outbox (local entries of the change feed after
 * the acknowledged sequence number), then pulls the server's feed after the stored cursor. Cursors are
 * written in the same transaction as the data they cover, so a crash at any point loses nothing and
 * repeats nothing harmful (pushes and pulls are idempotent merges).
 */
export class SyncEngine {
  private current: SyncStatus = { state: 'online', pending: 0, lastSyncAt: null };
  private running: Promise<SyncResult> | null = null;
  private rerun = false;
  private timer: Timer | undefined;
  private interval: ReturnType<typeof setInterval> | undefined;
  private attempt = 0;
  private stopped = false;
  private readonly onOnline = () => this.trigger(0);
  private readonly onOffline = () => this.setStatus({ state: 'offline' });

  constructor(private readonly options: SyncEngineOptions) {}

  get status(): SyncStatus {
    return { ...this.current };
  }

  async start(): Promise<void> {
    const last = await this.options.store.getMeta(this.options.namespace, KEYS.lastSyncAt);
    this.setStatus({
      lastSyncAt: typeof last === 'string' ? last : null,
      pending: await this.countPending(),
    });
    const target = globalThis as { addEventListener?: (type: string, fn: () => void) => void };
    target.addEventListener?.('online', this.onOnline);
    target.addEventListener?.('offline', this.onOffline);
    const every = this.options.intervalMs ?? 30_000;
    if (every > 0) this.interval = setInterval(() => this.trigger(0), every);
    (this.interval as { unref?: () => void } | undefined)?.unref?.();
    this.trigger(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.interval);
    const target = globalThis as { removeEventListener?: (type: string, fn: () => void) => void };
    target.removeEventListener?.('online', this.onOnline);
    target.removeEventListener?.('offline', this.onOffline);
  }

  /** Called after every local write: counts it as pending and schedules a push. */
  noteLocalWrite(changed: number): void {
    this.setStatus({ pending: this.current.pending + changed });
    // Offline, the backoff timer decides when to try; in error, a person must act first.
    if (this.current.state === 'online' || this.current.state === 'syncing')
      this.trigger(this.options.debounceMs ?? 50);
  }

  /** Live sync's news that the edge's feed moved: a round soon (queued behind one in flight), errors via status. */
  pullSoon(): void {
    this.trigger(0);
  }

  /** An explicit sync: runs now and rejects (OFFLINE, UNAUTHORIZED, ...) when it fails. */
  async sync(): Promise<SyncResult> {
    if (this.stopped) throw new EngramError('STORAGE', 'sync: this memory is closed');
    clearTimeout(this.timer);
    while (this.running) await this.running.catch(() => undefined);
    return this.runOnce();
  }

  private trigger(delayMs: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = unref(setTimeout(() => this.runInBackground(), delayMs));
  }

  /** Timers land here: a round never overlaps another, it is queued behind it instead. */
  private runInBackground(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.runOnce().catch(() => undefined);
  }

  private runOnce(): Promise<SyncResult> {
    const run = this.exchangeAll().finally(() => {
      this.running = null;
      if (this.rerun && !this.stopped) {
        this.rerun = false;
        this.trigger(0);
      }
    });
    this.running = run;
    return run;
  }

  private async exchangeAll(): Promise<SyncResult> {
    this.setStatus({ state: 'syncing' });
    try {
      const pushed = await this.pushOutbox();
      const pulled = await this.pullChanges();
      const lastSyncAt = new Date().toISOString();
      await this.options.store.apply(this.options.namespace, { meta: { [KEYS.lastSyncAt]: lastSyncAt } });
      this.attempt = 0;
      // A retry scheduled by an earlier failure is moot; writes made meanwhile set `rerun` instead.
      clearTimeout(this.timer);
      this.setStatus({ state: 'online', lastSyncAt, pending: await this.countPending(), error: undefined });
      return { pushed, pulled };
    } catch (error) {
      await this.fail(error);
      throw error;
    }
  }

  private async fail(error: unknown): Promise<void> {
    const pending = await this.countPending().catch(() => this.current.pending);
    const message = error instanceof Error ? error.message : String(error);
    if (isEngramError(error, 'OFFLINE') || isEngramError(error, 'RATE_LIMITED')) {
      this.setStatus({ state: 'offline', pending, error: message });
      this.scheduleRetry();
    } else {
      // 401/403 and rejected data need a person, not a retry loop; the interval or `online` tries again.
      this.setStatus({ state: 'error', pending, error: message });
    }
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const base = this.options.backoff?.baseMs ?? 1000;
    const max = this.options.backoff?.maxMs ?? 60_000;
    const ceiling = Math.min(max, base * 2 ** this.attempt);
    this.attempt++;
    const delay = ceiling / 2 + (this.options.random ?? Math.random)() * (ceiling / 2);
    clearTimeout(this.timer);
    this.timer = unref(setTimeout(() => this.runInBackground(), delay));
  }

  private async meta(key: string): Promise<number> {
    const value = await this.options.store.getMeta(this.options.namespace, key);
    return typeof value === 'number' ? value : 0;
  }

  private async countPending(): Promise<number> {
    const { store, namespace } = this.options;
    let count = 0;
    for (let after = await this.meta(KEYS.pushed); ; ) {
      const page = await store.changes(namespace, after, PAGE);
      count += page.filter((e) => e.origin === 'local').length;
      if (page.length < PAGE) return count;
      after = page[page.length - 1]!.seq;
    }
  }

  private async pushOutbox(): Promise<number> {
    const { store, namespace, transport } = this.options;
    let pushed = 0;
    for (let after = await this.meta(KEYS.pushed); ; ) {
      const page = await store.changes(namespace, after, PAGE);
      if (page.length === 0) return pushed;
      const local = page.filter((e) => e.origin === 'local');
      for (const request of chunkPush(await this.loadWrites(local))) {
        await transport.exchange(request);
      }
      pushed += local.length;
      after = page[page.length - 1]!.seq;
      await store.apply(namespace, { meta: { [KEYS.pushed]: after } });
      if (page.length < PAGE) return pushed;
    }
  }

  private async loadWrites(entries: ChangeEntry[]) {
    const states = await readChangeStates(this.options.store, this.options.namespace, entries);
    return {
      memories: states.flatMap((s) => (s.memory && !s.tombstone ? [memoryRecordToWrite(s.memory)] : [])),
      links: states.flatMap((s) => (s.link && !s.tombstone ? [linkRecordToWrite(s.link)] : [])),
      tombstones: states.flatMap((s) => (s.tombstone ? [s.tombstone] : [])),
    };
  }

  private async pullChanges(): Promise<number> {
    const { store, namespace, transport, clock } = this.options;
    let pulled = 0;
    for (let after = await this.meta(KEYS.cursor); ; ) {
      const response = await transport.exchange({ pull: { after, limit: PAGE } });
      const page = response.pull;
      if (!page) throw new EngramError('OFFLINE', 'sync: the edge answered a pull without changes');
      if (page.cursor < after) {
        // The edge's feed ends before our cursor: its database was reset or restored. Without this, every
        // pull would ask for changes past a position the feed has not reached and find none, for ever.
        after = 0;
        await store.apply(namespace, { meta: { [KEYS.cursor]: 0 } });
        continue;
      }
      if (page.changes.length > 0 || page.cursor !== after) {
        const batch = changesToBatch(page.changes);
        for (const stamp of stampsOf(batch)) clock.observe(stamp);
        await store.apply(namespace, { ...batch, origin: 'remote', meta: { [KEYS.cursor]: page.cursor } });
        pulled += page.changes.length;
        if (page.changes.length > 0) this.options.onPulled(page.changes.map((c) => c.id));
      }
      after = page.cursor;
      if (!page.hasMore) return pulled;
    }
  }

  private setStatus(patch: Partial<SyncStatus>): void {
    const next: SyncStatus = { ...this.current, ...patch };
    if (next.error === undefined) delete next.error;
    if (JSON.stringify(next) === JSON.stringify(this.current)) return;
    this.current = next;
    this.options.onStatus({ ...next });
  }
}

/** Splits a push into requests of bounded size; each is an idempotent merge on the server. */
function* chunkPush(writes: {
  memories: MemoryWrite[];
  links: LinkWrite[];
  tombstones: Tombstone[];
}): Generator<SyncRequest> {
  let push: Required<NonNullable<SyncRequest['push']>> = { memories: [], links: [], tombstones: [] };
  let bytes = 0;
  let count = 0;
  const add = (kind: 'memories' | 'links' | 'tombstones', item: MemoryWrite | LinkWrite | Tombstone) => {
    (push[kind] as unknown[]).push(item);
    bytes += JSON.stringify(item).length;
    count++;
  };
  // Memories before links, so a link's endpoints reach the server first; tombstones last.
  const items = [
    ...writes.memories.map((w) => ['memories', w] as const),
    ...writes.links.map((w) => ['links', w] as const),
    ...writes.tombstones.map((t) => ['tombstones', t] as const),
  ];
  for (const [kind, item] of items) {
    add(kind, item);
    if (bytes >= PUSH_BYTES || count >= PAGE) {
      yield { push };
      push = { memories: [], links: [], tombstones: [] };
      bytes = 0;
      count = 0;
    }
  }
  if (count > 0) yield { push };
}
