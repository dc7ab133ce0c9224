export { InMemoryStore } from './backends/memory/memory-store.js';
export { createMemory } from './core/create-memory.js';
export { EngramError, type ErrorCode, isEngramError } from './core/errors.js';
export { compareIdsDesc, isExpired, matchesFilter, matchesListQuery } from './core/filter.js';
export { formatHlc, HybridLogicalClock, hlcToIso, parseHlc } from './core/hlc.js';
export { uuidv7 } from './core/ids.js';
export type { Engram } from './core/memory.js';
export type {
  ChangeEvent,
  ChangeKind,
  CreateMemoryOptions,
  MemoryEvents,
  SyncOptions,
} from './core/memory-types.js';
export { mergeBatch, mergeLink, mergeMemory, type StoreTransaction } from './core/merge.js';
export { searchStore } from './core/search.js';
export { createSerialQueue } from './core/serial.js';
export type { SyncResult, SyncState, SyncStatus } from './core/sync/engine.js';
export type { PulledChange, SyncRequest, SyncResponse } from './core/sync/protocol.js';
export { pullChanges, serveSync } from './core/sync/server.js';
export { createHttpTransport, type SyncTransport } from './core/sync/transport.js';
export { indexText, tokenize } from './core/text/index.js';
export {
  canonicalJson,
  exportEntries,
  exportJsonl,
  importEntries,
  importJsonl,
  migrate,
  type TransferEntry,
  type TransferOptions,
} from './core/transfer.js';
export * from './core/types.js';
