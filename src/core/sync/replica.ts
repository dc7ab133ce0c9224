import type { SyncOptions } from '../engram-options.js';
import { EngramError } from '../errors.js';
import type { HybridLogicalClock } from '../hlc.js';
import type { MemoryStore } from '../store-contract.js';
import type { ClockOffset } from './clock-offset.js';
import { resumeClock, SyncEngine, type SyncResult, type SyncStatus } from './engine.js';
import { LiveConnection, type LiveState } from './live.js';
import type { RejectedChange } from './quarantine.js';
import { TabLeader } from './tab-leader.js';
import { createHttpTransport, plaintextTransport, type SyncTransport } from './transport.js';

/** What the façade drives: the engine itself, or a tab that lets another tab's engine do the work. */
export interface Replication {
  readonly status: SyncStatus;
  /** Live stream state of this replica (`off` in a follower tab or with `live: false`). */
  readonly live: LiveState;
  sync(): Promise<SyncResult>;
  noteLocalWrite(changed: number): void;
  /** Stops syncing; resolves once a round in flight has settled (it gives up its request at once). */
  stop(): Promise<void>;
}

export interface ReplicationOptions {
  store: MemoryStore;
  namespace: string;
  clock: HybridLogicalClock;
  /** The edge's time as learned from its answers (see clock-offset.ts). */
  offset: ClockOffset;
  sync: SyncOptions;
  /** Wraps the HTTP transport, e.g. to seal what it sends (end-to-end encryption). */
  seal?: (inner: SyncTransport) => SyncTransport;
  onStatus(status: SyncStatus): void;
  onPulled(ids: string[]): void;
  onRejected(change: RejectedChange): void;
  /** The namespace's index language (see SyncRequest.language). */
  language?: string;
}

/** The engine plus, unless `live: false`, the event stream that tells it when to pull. */
class EngineReplica implements Replication {
  private readonly liveConnection: LiveConnection | undefined;

  constructor(
    readonly engine: SyncEngine,
    options: ReplicationOptions,
  ) {
    const { sync, store, namespace } = options;
    if (sync.live === false) return;
    const cursor = async () => {
      const value = await store.getMeta(namespace, 'sync.cursor').catch(() => undefined);
      return typeof value === 'number' ? value : 0;
    };
    this.liveConnection = new LiveConnection({
      url: sync.url,
      token: sync.token,
      namespace,
      fetch: sync.fetch,
      backoff: sync.backoff,
      cursor,
      onChange: (seq) => {
        if (seq === undefined) {
          engine.pullSoon();
          return;
        }
        // News of a position already pulled (our own push, echoed back) costs no request.
        void cursor().then((at) => {
          if (seq > at) engine.pullSoon();
        });
      },
    });
  }

  get status(): SyncStatus {
    return this.engine.status;
  }

  get live(): LiveState {
    return this.liveConnection?.state ?? 'off';
  }

  async start(): Promise<void> {
    await this.engine.start();
    this.liveConnection?.start();
  }

  sync(): Promise<SyncResult> {
    return this.engine.sync();
  }

  noteLocalWrite(changed: number): void {
    this.engine.noteLocalWrite(changed);
  }

  /** A sync round succeeded: the edge is up, so a stream backing off reconnects at once. */
  edgeAnswered(): void {
    this.liveConnection?.reconnectNow();
  }

  stop(): Promise<void> {
    void this.liveConnection?.stop();
    return this.engine.stop();
  }
}

/**
 * Starts replication of one namespace. A store shared between tabs (IndexedDB) with Web Locks and
 * BroadcastChannel available gets one syncing tab per (store, namespace) — see {@link TabLeader};
 * everywhere else this replica syncs by itself.
 */
export async function startReplication(options: ReplicationOptions): Promise<Replication> {
  // Before the first write of this session, in every tab (a follower's writes are pushed by the leader).
  await resumeClock(options.store, options.namespace, options.clock);
  let leader: TabLeader | undefined;
  const sealed = (inner: SyncTransport) =>
    options.seal?.(inner) ?? plaintextTransport(inner, options.namespace);
  const makeEngine = () => {
    const closing = new AbortController();
    const replica: EngineReplica = new EngineReplica(
      new SyncEngine({
        store: options.store,
        namespace: options.namespace,
        language: options.language,
        clock: options.clock,
        offset: options.offset,
        // The engine never reads the merged records a push is answered with (nor does the sealing transport).
        transport: sealed(
          createHttpTransport({
            ...options.sync,
            namespace: options.namespace,
            pushAnswer: 'ids',
            // The engine aborts it on stop: the request in flight is cancelled, not left to time out.
            signal: closing.signal,
          }),
        ),
        intervalMs: options.sync.intervalMs,
        debounceMs: options.sync.debounceMs,
        backoff: options.sync.backoff,
        onStatus: (status) => {
          options.onStatus(status);
          leader?.announce(status);
          // Never during construction: 'online' follows a round.
          if (status.state === 'online') replica.edgeAnswered();
          // The lock must not stay with a tab that can no longer read the store: no tab would sync.
          if (status.state === 'error' && leader) {
            void upgradedByNewerRelease(options.store, options.namespace).then((yes) => {
              if (yes) leader?.stepDown(status);
            });
          }
        },
        onPulled: options.onPulled,
        onRejected: options.onRejected,
        // A token given as a string cannot be renewed here: another tab may hold one the edge takes.
        onRefused: (error) => {
          if (typeof options.sync.token === 'string') void leader?.handOver(replica.status, error);
        },
        closing,
      }),
      options,
    );
    return replica;
  };
  const lockName = TabLeader.lockName(options.store, options.namespace);
  if (lockName) {
    leader = new TabLeader(lockName, makeEngine, options.onStatus);
    leader.start();
    return leader;
  }
  const replica = makeEngine();
  await replica.start();
  return replica;
}

/** The store refuses to open because a newer release upgraded it (IndexedDB's VersionError). */
async function upgradedByNewerRelease(store: MemoryStore, namespace: string): Promise<boolean> {
  try {
    await store.getMeta(namespace, 'sync.cursor');
    return false;
  } catch (error) {
    return (error as { cause?: { name?: unknown } }).cause?.name === 'VersionError';
  }
}

export function closedError(): EngramError {
  return new EngramError('STORAGE', 'sync: this memory is closed');
}
