export { InMemoryStore } from './backends/in-memory/in-memory-store.js';
export type { Engram } from './core/engram.js';
export type {
  ChangeEvent,
  ChangeKind,
  CreateMemoryOptions,
  MemoryEvents,
  SyncOptions,
} from './core/engram-options.js';
export { EngramError, type ErrorCode, isEngramError } from './core/errors.js';
export * from './core/model.js';
export * from './core/store-contract.js';
export type { SyncResult, SyncState, SyncStatus } from './core/sync/engine.js';
export type { PulledChange, SyncRequest, SyncResponse } from './core/sync/protocol.js';
export type { SyncTransport } from './core/sync/transport.js';
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
export { createMemory } from './create-memory.js';
