import type { VectorOptions } from '../../core/vector/vector-options.js';

export interface IndexedDBStoreOptions {
  /** The database name; stores with the same name share data (and hear of each other's writes). */
  name: string;
  /** How long `open` waits for another tab holding an older schema version open before failing. Default 10 s. */
  blockedTimeoutMs?: number;
  /**
   * Durability of write transactions: 'relaxed' commits without waiting for the disk to flush (faster;
   * a write can be lost to an OS crash, not to a reload). Default: the browser's default.
   */
  durability?: IDBTransactionDurability;
  /**
   * Memories per text-index group (default 2048). Larger groups mean fewer rows read per search term
   * and costlier edits; changing it later is harmless (it only decides when the next group starts).
   */
  textGroupSize?: number;
  /**
   * Ask the browser for persistent storage (`navigator.storage.persist()`) on open, so the database is
   * not evicted under storage pressure. The answer is in {@link IndexedDBStore.persisted}.
   */
  persist?: boolean;
  /**
   * Called on open when the database existed before and is gone (evicted by the browser, or deleted behind
   * the store's back), and when it is deleted while the store is open (another tab's `deleteDatabase`: the
   * store's next operation finds it empty): local data and unsynced writes were lost, and the replica
   * starts over from the server. Also readable as {@link IndexedDBStore.evicted}. Not called for a
   * delete on purpose, after `clearSentinel(name)`.
   */
  onEvicted?: () => void;
  /**
   * Opt-in vector index, as on the in-memory store: `{ index: 'hnsw' | 'ivf' }` and/or
   * `{ quantize: 'int8' }`.
   * It lives in memory, built from IndexedDB on a namespace's first vector search and kept current by
   * this tab's writes and other tabs' (see docs/embeddings.md). Default: exact search in core.
   */
  vectors?: VectorOptions;
}
