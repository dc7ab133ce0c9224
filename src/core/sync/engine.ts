import { untilAborted } from '../abort.js';
import { feedPages } from '../change-states.js';
import { EngramError, errorMessage, isEngramError } from '../errors.js';
import { ceilingStamp, clientOfNode, isHlc } from '../hlc.js';
import { randomHex } from '../ids.js';
import { ClockOffset } from './clock-offset.js';
import type { SyncEngineOptions, SyncResult, SyncStatus } from './engine-options.js';
import { type PullHost, pullFeed, setAsideUnreadable } from './feed-pull.js';
import { type OutboxHost, OutboxPush } from './outbox-push.js';
import { PULL_LIMIT_MAX, type SyncRequest, type SyncResponse } from './protocol.js';
import { isClockRefusal, readRejected } from './quarantine.js';
import { RESYNC_KEYS, ResyncNeeded, resyncFully } from './resync.js';
import { KEYS } from './sync-meta.js';
import { readWitness, WITNESS_KEY } from './witness.js';

export type { SyncEngineOptions, SyncResult, SyncState, SyncStatus } from './engine-options.js';
export { resumeClock } from './sync-meta.js';

/** Outbox entries counted at a time (`countPending`). */
const PAGE = 500;
/**
 * Changes asked for per pull page: the edge's most (PULL_LIMIT_MAX). A page also ends at about 4 MiB of
 * JSON (docs/sync.md), so a larger limit never makes a page slower to arrive than that; a 10K catch-up on
 * Postgres took 0.84x the time of pages of 500 (10 requests instead of 20).
 */
const PULL_PAGE = PULL_LIMIT_MAX;
/**
 * How far the first answer must move the offset forward before this session's earlier stamps are moved
 * with it: beyond the error of one measurement (half a round trip), and of a stored offset that was right.
 */
const MOVED_MIN_MS = 2000;

type Timer = ReturnType<typeof setTimeout>;

/** The error of a round, and its `sync()`, that `stop` (the memory's `close()`) cut short. */
function closedMidRound(cause?: unknown): EngramError {
  return new EngramError(
    'STORAGE',
    'sync: this memory was closed before the sync finished; changes not pushed stay in the outbox for the next session',
    cause === undefined ? {} : { cause },
  );
}

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
  // Not `online` until a round has succeeded: the first one starts at once.
  private current: SyncStatus = { state: 'syncing', pending: 0, lastSyncAt: null };
  private running: Promise<SyncResult> | null = null;
  private rerun = false;
  private timer: Timer | undefined;
  private interval: ReturnType<typeof setInterval> | undefined;
  private attempt = 0;
  /** The edge asked us to wait this long (a 429's Retry-After) before the next try. */
  private retryAfterMs = 0;
  private stopped = false;
  /** Aborted by `stop`: a round in flight gives up its request instead of outliving the memory. */
  private readonly closing: AbortController;
  private readonly onOnline = () => this.trigger(0);
  private readonly onOffline = () => this.setStatus({ state: 'offline' });

  private readonly options: SyncEngineOptions & { offset: ClockOffset };
  /** The pull cursor at the start of the round, sent with pushes so the edge can tell a replica behind its horizon. */
  private cursor = 0;
  /** Whether this session has heard the edge's time once (the first answer may find the clock behind). */
  private heard = false;
  /** The edge's last answer said it takes lone stamps: pushes are cut to their size (lone-stamps.ts). */
  private loneStamps = false;
  /** The push half of each round; it holds the stamps the first answer found behind or ahead (noteMoved). */
  private readonly outbox: OutboxPush;
  /** What the push and the pull halves of a round need of this engine. */
  private readonly host: OutboxHost & PullHost;

  constructor(options: SyncEngineOptions) {
    this.options = { ...options, offset: options.offset ?? new ClockOffset(Date.now) };
    this.closing = options.closing ?? new AbortController();
    this.host = {
      options: this.options,
      meta: (key) => this.meta(key),
      exchange: (request) => this.exchange(request),
      pending: () => this.current.pending,
      loneStamps: () => this.loneStamps,
      rejected: () => this.current.rejected,
      setStatus: (patch) => this.setStatus(patch),
    };
    this.outbox = new OutboxPush(this.host);
  }

  get status(): SyncStatus {
    return { ...this.current };
  }

  async start(): Promise<void> {
    const { store, namespace, offset } = this.options;
    const last = await store.getMeta(namespace, KEYS.lastSyncAt);
    const knownOffset = await store.getMeta(namespace, KEYS.clockOffset);
    const knownSkew = await store.getMeta(namespace, KEYS.maxClockSkew);
    if (typeof knownOffset === 'number' && typeof knownSkew === 'number')
      offset.restore(knownOffset, knownSkew);
    const rejected = (await readRejected(store, namespace)).length;
    this.setStatus({
      lastSyncAt: typeof last === 'string' ? last : null,
      pending: await this.countPending(),
      ...(rejected > 0 ? { rejected } : {}),
    });
    const target = globalThis as { addEventListener?: (type: string, fn: () => void) => void };
    target.addEventListener?.('online', this.onOnline);
    target.addEventListener?.('offline', this.onOffline);
    const every = this.options.intervalMs ?? 30_000;
    if (every > 0) this.interval = setInterval(() => this.trigger(0), every);
    (this.interval as { unref?: () => void } | undefined)?.unref?.();
    this.trigger(0);
  }

  /**
   * Stops background work. A round in flight gives up its request at once, leaves the status as it is
   * and rejects (its `sync()` too) saying the memory was closed; what it did not push stays in the outbox.
   * Resolves once that round has settled: await it before closing the store, so that no round is left
   * writing to a closed store.
   */
  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      clearTimeout(this.timer);
      clearInterval(this.interval);
      const target = globalThis as { removeEventListener?: (type: string, fn: () => void) => void };
      target.removeEventListener?.('online', this.onOnline);
      target.removeEventListener?.('offline', this.onOffline);
      this.closing.abort(closedMidRound());
    }
    return (this.running ?? Promise.resolve()).then(
      () => undefined,
      () => undefined,
    );
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
    if (this.stopped) throw closedMidRound();
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
      const { offset, clock } = this.options;
      // Hear the edge's time before pushing anything stamped by an uncorrected clock.
      if (!offset.calibrated) await this.exchange({});
      clock.rewind();
      // Stamps from a clock found ahead, and any from the future, move back locally before anything is
      // pushed, so that an edit made while the push is out writes over moved stamps, not ones it would observe.
      await this.outbox.moveBackLocally();
      const { pushed, pulled, pushedAt } = await this.pushAndPull();
      const lastSyncAt = new Date().toISOString();
      await this.options.store.apply(this.options.namespace, {
        meta: {
          // Also when the outbox was empty: the outbox held nothing created before this stamp.
          [RESYNC_KEYS.pushedAt]: pushedAt,
          [KEYS.lastSyncAt]: lastSyncAt,
          [KEYS.clockOffset]: offset.offset,
          [KEYS.maxClockSkew]: offset.maxSkew ?? null,
          [KEYS.clock]: clock.latest() ?? null,
        },
      });
      // Closed as the round ended: it did its work; the store may be closed by now.
      if (this.stopped) return { pushed, pulled };
      this.attempt = 0;
      this.retryAfterMs = 0;
      // A retry scheduled by an earlier failure is moot; writes made meanwhile set `rerun` instead.
      clearTimeout(this.timer);
      this.setStatus({ state: 'online', lastSyncAt, pending: await this.countPending(), error: undefined });
      return { pushed, pulled };
    } catch (error) {
      // Closed meanwhile (the store perhaps too): the round is abandoned, not failed.
      if (this.stopped) throw error === this.closing.signal.reason ? error : closedMidRound(error);
      // A store that fails here too leaves the window open, for the next round to move.
      await this.outbox.moveBackLocally().catch(() => undefined);
      await this.fail(error);
      throw error;
    }
  }

  /**
   * Pushes the outbox, then pulls. When the edge says this replica is behind its tombstone horizon (or a
   * re-sync was interrupted), the replica first re-syncs in full, then pushes what is left of its outbox.
   */
  private async pushAndPull(): Promise<SyncResult & { pushedAt: string }> {
    const { store, namespace, clock } = this.options;
    let resynced = 0;
    if (await this.pushedButNeverPulled()) {
      await store.apply(namespace, { meta: { [RESYNC_KEYS.pending]: true } });
    }
    for (let attempt = 0; ; attempt++) {
      try {
        if ((await store.getMeta(namespace, RESYNC_KEYS.pending)) === true) {
          const ids = await resyncFully({
            store,
            namespace,
            clock,
            exchange: (request) => this.exchange(request),
            pageSize: PULL_PAGE,
            cursorKey: KEYS.cursor,
            pushedKey: KEYS.pushed,
          });
          resynced += ids.length;
          if (ids.length > 0) this.options.onPulled(ids);
        }
        this.cursor = await this.meta(KEYS.cursor);
        // Every local stamp so far sorts below this one: what the outbox pushes below was created before it.
        const pushedAt = clock.tick();
        const witness = readWitness(await store.getMeta(namespace, WITNESS_KEY));
        await this.outbox.loadStoredEchoes();
        const pushed = await this.outbox.pushOutbox(pushedAt);
        const pulled = await pullFeed(this.host, PULL_PAGE, witness, this.outbox.echoes);
        // An edge that forgot what this replica pulled gets everything it holds again (witness.ts).
        await this.outbox.pushAll();
        // A pull can leave changes to send: a delete held here that a pulled write met (pushed back), a
        // field of ours that won over the pulled one, a write made meanwhile. They go in this round, not
        // the next, so that every replica that synced holds what the edge holds. Reading the pulled part of
        // the feed here spares the next round's push from reading it.
        const sentAt = clock.tick();
        const sentAfter = await this.outbox.pushOutbox(sentAt);
        return { pushed: pushed + sentAfter, pulled: pulled + resynced, pushedAt: sentAt };
      } catch (error) {
        if (!(error instanceof ResyncNeeded) || attempt >= 2) throw error;
        await store.apply(namespace, { meta: { [RESYNC_KEYS.pending]: true } });
      }
    }
  }

  private async fail(error: unknown): Promise<void> {
    const pending = await this.countPending().catch(() => this.current.pending);
    const message = errorMessage(error);
    if (isEngramError(error, 'OFFLINE') || isEngramError(error, 'RATE_LIMITED')) {
      this.retryAfterMs = isEngramError(error) ? (error.retryAfterMs ?? 0) : 0;
      this.setStatus({ state: 'offline', pending, error: message });
      this.scheduleRetry();
    } else if (isClockRefusal(error)) {
      // Not retried at once (that would loop): the next round asks the edge's time again first.
      this.options.offset.forget();
      this.setStatus({
        state: 'error',
        pending,
        error: `sync: the edge refused a change because this device's clock is wrong (${message})`,
      });
    } else {
      // 401/403 and rejected data need a person, not a retry loop; the interval or `online` tries again.
      this.setStatus({ state: 'error', pending, error: message });
      if (isEngramError(error, 'UNAUTHORIZED') || isEngramError(error, 'FORBIDDEN')) {
        this.options.onRefused?.(error);
      }
    }
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const base = this.options.backoff?.baseMs ?? 1000;
    const max = this.options.backoff?.maxMs ?? 60_000;
    const ceiling = Math.min(max, base * 2 ** this.attempt);
    this.attempt++;
    const jittered = ceiling / 2 + (this.options.random ?? Math.random)() * (ceiling / 2);
    const delay = Math.max(jittered, this.retryAfterMs);
    clearTimeout(this.timer);
    this.timer = unref(setTimeout(() => this.runInBackground(), delay));
  }

  /**
   * Whether this replica's writes reached the edge in an earlier round but no pull page ever came back (the
   * network dropped after the push). Its pull starts at 0 and sends no cursor, so the edge cannot tell it
   * that deletions of records it pushed were collected meanwhile: it re-syncs in full instead, once (the
   * re-sync stores a cursor), which forgets them as a re-sync the edge asks for would.
   */
  private async pushedButNeverPulled(): Promise<boolean> {
    const cursor = await this.options.store.getMeta(this.options.namespace, KEYS.cursor);
    return typeof cursor !== 'number' && (await this.meta(KEYS.pushed)) > 0;
  }

  private async meta(key: string): Promise<number> {
    const value = await this.options.store.getMeta(this.options.namespace, key);
    return typeof value === 'number' ? value : 0;
  }

  private async countPending(): Promise<number> {
    const { store, namespace } = this.options;
    let count = 0;
    for await (const page of feedPages(store, namespace, await this.meta(KEYS.pushed), PAGE)) {
      count += page.filter((e) => e.origin === 'local').length;
    }
    return count;
  }

  /** One request to the edge; its answer's `serverTime` corrects this replica's clock. */
  private async exchange(request: SyncRequest): Promise<SyncResponse> {
    const { offset, transport } = this.options;
    const sentAt = offset.device();
    const { language } = this.options;
    const sent = request.push && this.cursor > 0 ? { ...request, cursor: this.cursor } : request;
    const response = await untilAborted(
      transport.exchange(language === undefined ? sent : { ...sent, language }),
      this.closing.signal,
    );
    this.loneStamps = response.loneStamps === true;
    if (response.unreadable) await setAsideUnreadable(this.host, response.unreadable);
    if (typeof response.serverTime === 'number' && typeof response.maxClockSkewMs === 'number') {
      // Read as the answer lands: a stamp issued while the request was out is under the old offset too.
      const before = this.heard ? undefined : this.stampedSoFar();
      offset.learn(response.serverTime, response.maxClockSkewMs, sentAt, offset.device());
      if (before) await this.noteMoved(offset.offset - before.offsetMs, before.upTo);
    }
    if (response.resync) throw new ResyncNeeded(response.resync.collectedSeq);
    return response;
  }

  /**
   * Before the session's first answer: the offset its stamps were issued under, and the greatest of them,
   * the clock's, or (a session that issued none yet, with earlier sessions' edits in its store) any up to
   * the corrected now.
   */
  private stampedSoFar(): { offsetMs: number; upTo: string } {
    const { offset, clock } = this.options;
    const latest = clock.latest();
    const corrected = ceilingStamp(offset.now());
    return { offsetMs: offset.offset, upTo: latest !== undefined && latest > corrected ? latest : corrected };
  }

  /**
   * At the session's first answer: when it moved the offset by more than its error, the stamps issued
   * since the last round, up to now, came from a clock that ran behind (moved forward) or ahead (moved
   * back), and they move by as much (restamp.ts: those of a clock found ahead before the round pushes,
   * OutboxPush.moveBackLocally; the others in its push). A stored offset that was right, or a first round
   * of a right clock, moves none of this session's. Whatever it found, stamps still later than now (an
   * earlier session's clock ran ahead) move back before the push too (restampStale).
   */
  private async noteMoved(deltaMs: number, upTo: string): Promise<void> {
    this.heard = true;
    const stored = await this.options.store.getMeta(this.options.namespace, KEYS.clock);
    const after = isHlc(stored) ? stored : undefined;
    const { clock } = this.options;
    this.outbox.stale = { after, moved: new Set() };
    if (Math.abs(deltaMs) <= MOVED_MIN_MS) return;
    if (deltaMs >= 0) {
      this.outbox.window = { after, upTo, deltaMs, moved: new Set() };
      return;
    }
    // A clock that ran ahead comes back now, not when the push ends: an edit made while the push is out
    // must not carry the time it ran ahead to. Its stamps come from a node of their own (the same client,
    // as at each opening, create-memory.ts), which tells them from the window's whatever their times.
    clock.stampAs(`${clientOfNode(clock.node)}.${randomHex(4)}`);
    clock.rewindTo(after);
    this.outbox.window = { after, upTo, deltaMs, moved: new Set(), since: clock.node };
  }

  private setStatus(patch: Partial<SyncStatus>): void {
    // A closed memory's status stays as it was; a round abandoned by `stop` must not turn it to an error.
    if (this.stopped) return;
    const next: SyncStatus = { ...this.current, ...patch };
    if (next.error === undefined) delete next.error;
    if (!next.rejected) delete next.rejected;
    if (JSON.stringify(next) === JSON.stringify(this.current)) return;
    this.current = next;
    this.options.onStatus({ ...next });
  }
}
