import type { EncryptionOptions } from './crypto/cipher.js';
import type { MemoryStore } from './store-contract.js';
import type { SyncStatus } from './sync/engine.js';

export type ChangeKind = 'add' | 'update' | 'remove' | 'link' | 'unlink' | 'sync' | 'external';

export interface ChangeEvent {
  type: ChangeKind;
  namespace: string;
  /** Memory or link ids the change touched. */
  ids: string[];
}

export interface MemoryEvents extends Record<string, unknown> {
  change: ChangeEvent;
  status: SyncStatus;
}

export interface SyncOptions {
  /** The edge's base URL, e.g. `https://engram.example.workers.dev`. */
  url: string;
  /** A token whose `ns` claim includes this namespace (see `mintToken`). */
  token: string;
  /** Background pull period in ms (default 30 000; 0 turns it off). */
  intervalMs?: number;
  fetch?: typeof fetch;
  /** A request slower than this counts as offline (default 15 000 ms). */
  timeoutMs?: number;
  /** Retry delays when the edge is unreachable: exponential from `baseMs`, capped at `maxMs`, with jitter. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Delay between a local write and the push it triggers (default 50 ms). */
  debounceMs?: number;
}

export interface CreateMemoryOptions {
  store?: MemoryStore;
  namespace?: string;
  sync?: SyncOptions;
  /**
   * End-to-end encryption of what sync sends (docs/security.md): `{ passphrase }` (PBKDF2-SHA256,
   * 600 000 iterations by default) or `{ key }` (an AES-GCM CryptoKey). The local store keeps
   * plaintext; the edge only ever receives ciphertext of content, tags, metadata and embeddings.
   */
  encryption?: EncryptionOptions;
  /** The wall clock, injectable for tests of TTL and clocks. */
  now?: () => number;
}
