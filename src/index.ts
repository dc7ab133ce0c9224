export { InMemoryStore, type InMemoryStoreOptions } from './backends/in-memory/in-memory-store.js';
export { canonicalJson } from './core/canonical-json.js';
export type { Embedder, EmbeddingOptions } from './core/embedding/embedder.js';
export type { ReembedOptions, ReembedResult } from './core/embedding/reembed.js';
export type { Engram } from './core/engram.js';
export type {
  ChangeEvent,
  ChangeKind,
  CreateMemoryOptions,
  MemoryEvents,
  MemoryStatus,
  SyncOptions,
  WarningEvent,
} from './core/engram-options.js';
export { EngramError, type ErrorCode, isEngramError, NotFoundError } from './core/errors.js';
export { normalizeContent } from './core/lifecycle.js';
export type { MaintenanceOptions, MaintenanceResult } from './core/maintenance.js';
export * from './core/model.js';
export * from './core/store-contract.js';
export type { SyncResult, SyncState, SyncStatus } from './core/sync/engine.js';
export type { LiveState } from './core/sync/live.js';
export type { PulledChange, SyncRequest, SyncResponse } from './core/sync/protocol.js';
export type { RejectedChange } from './core/sync/quarantine.js';
export type { SyncTransport } from './core/sync/transport.js';
export { LANGUAGES, type Language, loadLanguage } from './core/text/analyzer.js';
export {
  exportEntries,
  exportJsonl,
  type ImportResult,
  importEntries,
  importJsonl,
  migrate,
  type TransferEntry,
  type TransferOptions,
} from './core/transfer.js';
// From their own modules, not core/vector/index.ts: that one also holds the IVF/HNSW/int8 code, which the
// stores load on demand (core/vector/approximate.ts) and engram/store exports.
export type { HnswOptions } from './core/vector/hnsw.js';
export type { IvfOptions } from './core/vector/ivf-index.js';
export { VectorMatrix } from './core/vector/vector-matrix.js';
export type { VectorOptions } from './core/vector/vector-options.js';
export type { VectorHit } from './core/vector/vector-rows.js';
export type {
  ListWatch,
  SearchWatch,
  WatchOptions,
  WatchQuery,
  WatchResult,
} from './core/watch.js';
export { createMemory } from './create-memory.js';
