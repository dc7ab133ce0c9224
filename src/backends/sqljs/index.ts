export { type FilePersistenceOptions, filePersistence } from './file-persistence.js';
export { indexedDbPersistence } from './indexeddb-persistence.js';
export type { SqlJsPersistence } from './persistence.js';
export { SqlJsStore, type SqlJsStoreOptions } from './sqljs-store.js';
