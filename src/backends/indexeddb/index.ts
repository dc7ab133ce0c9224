export { IndexedDBStore, type IndexedDBStoreOptions } from './indexeddb-store.js';
