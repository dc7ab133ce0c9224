import { EngramError, errorMessage } from '../errors.js';
import type { MemoryStore } from '../store-contract.js';
import type { SyncResult, SyncStatus } from './engine.js';
import type { LiveState } from './live.js';

/** The syncing half, made only in the tab that wins the lock. */
export interface LeaderReplica {
  readonly status: SyncStatus;
  readonly live: LiveState;
  start(): Promise<void>;
  sync(): Promise<SyncResult>;
  noteLocalWrite(changed: number): void;
  /** Resolves once a round in flight has settled. */
  stop(): Promise<void> | void;
}

type Message =
  | { type: 'hello' }
  /** A tab has just taken the lock: requests made of the one before, unanswered, go to it again. */
  | { type: 'leader' }
  | { type: 'status'; status: SyncStatus }
  | { type: 'write'; changed: number }
  | { type: 'sync'; id: string }
  | { type: 'synced'; id: string; result?: SyncResult; error?: { code: string; message: string } };

interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<void>;
  query?(): Promise<{ pending?: { name?: string }[] }>;
}

function lockManager(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks;
}

/** How long a follower waits for the leader to answer an explicit `sync()`. */
const SYNC_ANSWER_MS = 60_000;

/**
 * One syncing tab per (store, namespace) in a browser. Every tab asks for the Web Lock
 * `engram-sync:<store>:<name>:<namespace>`; the holder runs the sync engine and the live stream, and
 * tells the others its status over a BroadcastChannel of the same name. A follower's local writes land
 * in the shared store (IndexedDB) and a `write` message makes the leader push them; a follower's
 * `sync()` asks the leader to run a round and gets its result. Pulled changes reach followers the way
 * every IndexedDB write does (the store's change channel). The browser frees the lock when the leader
 * tab closes or crashes, and the next follower in the lock's queue takes over at once; it says so
 * (`leader`), and the other followers ask it again what the closed tab left unanswered.
 */
export class TabLeader {
  private replica: LeaderReplica | undefined;
  private current: SyncStatus = { state: 'syncing', pending: 0, lastSyncAt: null };
  private readonly channel: BroadcastChannel;
  private readonly abort = new AbortController();
  private release: (() => void) | undefined;
  private stopped = false;
  /** Stepped down for a newer release's upgrade: keeps its own error rather than follow the new leader. */
  private outdated = false;
  /** Handed the lock on because the edge refused this tab's token; cleared when another tab leads. */
  private refused: EngramError | undefined;
  private seq = 0;
  private readonly waiting = new Map<
    string,
    { resolve(result: SyncResult): void; reject(error: unknown): void; timer: ReturnType<typeof setTimeout> }
  >();

  /** The lock name for a store shared between tabs, or undefined where this cannot work. */
  static lockName(store: MemoryStore, namespace: string): string | undefined {
    const name = (store as { name?: unknown }).name;
    if (!store.capabilities.shared || typeof name !== 'string') return undefined;
    if (!lockManager() || typeof BroadcastChannel === 'undefined') return undefined;
    return `engram-sync:${store.kind}:${name}:${namespace}`;
  }

  constructor(
    private readonly name: string,
    private readonly makeReplica: () => LeaderReplica,
    private readonly onStatus: (status: SyncStatus) => void,
  ) {
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (event: MessageEvent<Message>) => this.receive(event.data);
  }

  /** True while this tab holds the lock and syncs. */
  get leading(): boolean {
    return this.replica !== undefined;
  }

  get status(): SyncStatus {
    return this.replica?.status ?? { ...this.current };
  }

  get live(): LiveState {
    return this.replica?.live ?? 'off';
  }

  start(): void {
    this.post({ type: 'hello' });
    lockManager()!
      .request(this.name, { signal: this.abort.signal }, () => this.lead())
      .catch(() => undefined);
  }

  /** The leader's engine reports a status: followers hear it too. */
  announce(status: SyncStatus): void {
    this.post({ type: 'status', status });
  }

  noteLocalWrite(changed: number): void {
    if (this.replica) {
      this.replica.noteLocalWrite(changed);
      return;
    }
    this.follow({ ...this.current, pending: this.current.pending + changed });
    this.post({ type: 'write', changed });
  }

  sync(): Promise<SyncResult> {
    if (this.stopped) return Promise.reject(new EngramError('STORAGE', 'sync: this memory is closed'));
    if (this.replica) return this.replica.sync();
    // No tab has taken the lock since this one handed it on: no one would answer.
    if (this.refused) return Promise.reject(this.refused);
    const id = `${Date.now().toString(36)}-${++this.seq}-${Math.random().toString(36).slice(2)}`;
    return new Promise<SyncResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(
          new EngramError('OFFLINE', `sync: the syncing tab did not answer within ${SYNC_ANSWER_MS} ms`),
        );
      }, SYNC_ANSWER_MS);
      this.waiting.set(id, { resolve, reject, timer });
      this.post({ type: 'sync', id });
    });
  }

  stop(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    this.abort.abort();
    const stopping = this.replica?.stop() ?? Promise.resolve();
    this.release?.();
    this.channel.close();
    for (const [id, wait] of this.waiting) {
      clearTimeout(wait.timer);
      wait.reject(new EngramError('STORAGE', 'sync: this memory is closed'));
      this.waiting.delete(id);
    }
    return stopping;
  }

  /**
   * Gives up leading for good: a newer release upgraded the store under this tab, whose code can no
   * longer read it. The lock goes to the next tab (the one running that release can sync); this one
   * keeps `error`, the status its engine reported (reload the page), instead of following the new leader.
   */
  stepDown(error: SyncStatus): void {
    if (!this.replica || this.stopped) return;
    this.outdated = true;
    this.leave(error);
  }

  /**
   * The edge refused this tab's token, a fixed string (a token function could renew it). When another
   * tab is waiting for the lock (opened later, with a token of its own), this one hands the lock on and
   * follows it, without asking for the lock again: two tabs with refused tokens would pass it back and
   * forth, a refused request each time. With no tab waiting it keeps leading and retrying as before (the
   * edge may take the token again). Reloading the page gives a tab a new token.
   */
  async handOver(status: SyncStatus, error: EngramError): Promise<void> {
    if (!this.replica || this.stopped) return;
    const waiting = await lockManager()
      ?.query?.()
      .then((state) => state.pending?.some((lock) => lock.name === this.name) ?? false)
      .catch(() => false);
    if (!waiting || !this.replica || this.stopped) return;
    this.refused = error;
    this.leave(status);
  }

  /** Stops this tab's engine and frees the lock (the next tab in its queue leads); `status` is shown here. */
  private leave(status: SyncStatus): void {
    void this.replica?.stop();
    this.replica = undefined;
    this.release?.();
    this.current = { ...status };
    this.onStatus({ ...status });
  }

  /** Holds the lock for as long as this tab lives (or until `stop`, `stepDown` or `handOver`). */
  private async lead(): Promise<void> {
    if (this.stopped) return;
    const held = new Promise<void>((resolve) => {
      this.release = resolve;
    });
    const replica = this.makeReplica();
    this.replica = replica;
    await replica.start();
    // Requests a follower made of the previous leader, unanswered when it went away, are ours now.
    for (const [id, wait] of this.waiting) {
      this.waiting.delete(id);
      clearTimeout(wait.timer);
      replica.sync().then(wait.resolve, wait.reject);
    }
    this.post({ type: 'leader' });
    this.post({ type: 'status', status: replica.status });
    await held;
  }

  private follow(status: SyncStatus): void {
    if (JSON.stringify(status) === JSON.stringify(this.current)) return;
    this.current = status;
    this.onStatus({ ...status });
  }

  private receive(message: Message): void {
    if (this.stopped || typeof message !== 'object' || message === null) return;
    const replica = this.replica;
    switch (message.type) {
      case 'hello':
        if (replica) this.post({ type: 'status', status: replica.status });
        return;
      case 'leader':
        this.refused = undefined;
        // The tab that had our requests went away mid-round (or before hearing them): ask the new one.
        // One it did answer is no longer waiting; one asked twice runs a round twice, which is harmless.
        for (const id of this.waiting.keys()) this.post({ type: 'sync', id });
        return;
      case 'status':
        // Only a leader announces its status.
        this.refused = undefined;
        if (!replica && !this.outdated) this.follow(message.status);
        return;
      case 'write':
        replica?.noteLocalWrite(message.changed);
        return;
      case 'sync':
        if (!replica) return;
        replica.sync().then(
          (result) => this.post({ type: 'synced', id: message.id, result }),
          (error: unknown) =>
            this.post({
              type: 'synced',
              id: message.id,
              error: {
                code: (error as { code?: string }).code ?? 'OFFLINE',
                message: errorMessage(error),
              },
            }),
        );
        return;
      case 'synced': {
        const wait = this.waiting.get(message.id);
        if (!wait) return;
        this.waiting.delete(message.id);
        clearTimeout(wait.timer);
        if (message.result) wait.resolve(message.result);
        else
          wait.reject(
            new EngramError(
              (message.error?.code ?? 'OFFLINE') as ConstructorParameters<typeof EngramError>[0],
              message.error?.message ?? 'sync failed in the syncing tab',
            ),
          );
        return;
      }
    }
  }

  private post(message: Message): void {
    if (this.stopped) return;
    try {
      this.channel.postMessage(message);
    } catch {
      // A closed channel (the tab is going away): nothing to tell.
    }
  }
}
