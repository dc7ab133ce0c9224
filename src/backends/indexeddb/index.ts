export { IndexedDBStore } from './indexeddb-store.js';
export type { IndexedDBStoreOptions } from './options.js';
export { clearSentinel } from './storage-keeping.js';
