export { IndexedDBStore, type IndexedDBStoreOptions } from './indexeddb-store.js';
export { clearSentinel } from './storage-keeping.js';
