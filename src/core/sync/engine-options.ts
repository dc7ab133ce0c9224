import type { EngramError } from '../errors.js';
import type { HybridLogicalClock } from '../hlc.js';
import type { MemoryStore } from '../store-contract.js';
import type { ClockOffset } from './clock-offset.js';
import type { RejectedChange } from './quarantine.js';
import type { SyncTransport } from './transport.js';

export type SyncState = 'local' | 'online' | 'syncing' | 'offline' | 'error';

export interface SyncStatus {
  state: SyncState;
  pending: number;
  lastSyncAt: string | null;
  error?: string;
  /** Local changes the edge refused, set aside out of the outbox (see `Engram.rejected()`). */
  rejected?: number;
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
  /** The edge's time as this replica knows it; `clock` should run on `offset.now`. */
  offset?: ClockOffset;
  /** Background pull period; 0 disables it. */
  intervalMs?: number;
  /** Delay between a local write and the push it triggers, so bursts go out as one batch. */
  debounceMs?: number;
  backoff?: { baseMs?: number; maxMs?: number };
  random?: () => number;
  onStatus(status: SyncStatus): void;
  onPulled(ids: string[]): void;
  onRejected?(change: RejectedChange): void;
  /** The edge refused the token (UNAUTHORIZED or FORBIDDEN): called after the status turns to `error`. */
  onRefused?(error: EngramError): void;
  /** The namespace's index language, sent with every request (see SyncRequest). */
  language?: string;
  /**
   * Aborted by `stop`. Given, its signal can also cancel the transport's requests (the replica hands it
   * to the HTTP transport), so a request in flight at close is not left to run until its timeout.
   */
  closing?: AbortController;
}
