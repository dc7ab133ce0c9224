export { EngramStore, type EngramStoreOptions } from './engram-store.js';
