import type { EncryptionOptions } from './crypto/cipher.js';
import type { Embedder, EmbeddingOptions } from './embedding/embedder.js';
import type { MaintenanceOptions } from './maintenance.js';
import type { MemoryStore } from './store-contract.js';
import type { SyncStatus } from './sync/engine.js';
import type { RejectedChange } from './sync/quarantine.js';
import type { Language } from './text/index.js';

export type ChangeKind =
  | 'add'
  | 'update'
  | 'remove'
  | 'link'
  | 'unlink'
  | 'sync'
  | 'external'
  | 'supersede'
  | 'clear';

export interface ChangeEvent {
  type: ChangeKind;
  namespace: string;
  /** Memory or link ids the change touched. */
  ids: string[];
}

/** Sync status plus the background embedding queue. */
export interface MemoryStatus extends SyncStatus {
  /** Memories saved without an embedding that are waiting for the embedder. */
  pendingEmbeddings: number;
  /** Why the last embedder call failed, until one succeeds (it is retried with backoff). */
  embeddingError?: string;
  /**
   * Memories whose text the embedder refused (VALIDATION, PAYLOAD_TOO_LARGE: e.g. too long for the
   * model): not asked again until their content changes or the memory is opened again. Absent when none.
   */
  rejectedEmbeddings?: number;
}

/** Something the caller may want to know that is not an error of the call itself. */
export interface WarningEvent {
  code: 'EMBEDDING_MODEL_MISMATCH' | 'EMBEDDER_FAILED' | 'EMBEDDING_FAILED' | 'MAINTENANCE_FAILED';
  message: string;
  /** For EMBEDDING_MODEL_MISMATCH: how many embeddings of another model were skipped. */
  count?: number;
}

export interface MemoryEvents extends Record<string, unknown> {
  change: ChangeEvent;
  status: MemoryStatus;
  warning: WarningEvent;
  /** A local change the edge refused and sync set aside (see `Engram.rejected()`). */
  rejected: RejectedChange;
}

export interface SyncOptions {
  /** The edge's base URL, e.g. `https://engram.example.workers.dev`. */
  url: string;
  /**
   * A token whose `ns` claim includes this namespace (see `mintToken`), or a function giving one, called
   * before every request with the namespace: return a renewed token when yours expires (cache it there).
   */
  token: string | ((namespace: string) => string | Promise<string>);
  /** Background pull period in ms (default 30 000; 0 turns it off). */
  intervalMs?: number;
  fetch?: typeof fetch;
  /** A request slower than this counts as offline (default 15 000 ms). */
  timeoutMs?: number;
  /** Retry delays when the edge is unreachable: exponential from `baseMs`, capped at `maxMs`, with jitter. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Delay between a local write and the push it triggers (default 50 ms). */
  debounceMs?: number;
  /**
   * Live sync (default true): keep one `GET /v1/ns/:ns/events` stream open and pull within a moment of
   * another client's write; falls back to polling on `intervalMs` by itself where streaming fails.
   */
  live?: boolean;
}

export interface CreateMemoryOptions {
  store?: MemoryStore;
  namespace?: string;
  /**
   * The namespace's index language: its stemmer and stop words (docs/search.md). One of 'english'
   * (default), 'german', 'french', 'spanish', 'italian', 'portuguese', 'dutch'. Fixed when the
   * namespace gets its first memory; opening it with another is a VALIDATION error naming both.
   */
  language?: Language;
  sync?: SyncOptions;
  /**
   * End-to-end encryption of what sync sends (docs/security.md): `{ passphrase }` (PBKDF2-SHA256,
   * 600 000 iterations by default) or `{ key }` (an AES-GCM CryptoKey). The local store keeps
   * plaintext; the edge only ever receives ciphertext of content, tags, metadata and embeddings.
   */
  encryption?: EncryptionOptions;
  /** The wall clock, injectable for tests of TTL and clocks. */
  now?: () => number;
  /** Embeds content written without an `embedding`, in the background (see docs/embeddings.md). */
  embedder?: Embedder;
  /** Batch size and retry backoff of the background embedding queue. */
  embedding?: EmbeddingOptions;
  /**
   * Purge of expired memories and collection of old tombstones (docs/lifecycle.md): the tombstone horizon
   * (default 30 days) and how often it runs by itself (default every 60 s of writes; 0: only `maintain()`).
   */
  maintenance?: MaintenanceOptions;
}
