export { createHttpTransport, type SyncTransport } from '../../core/sync/transport.js';
export type { FetchLike, TokenSource } from './http.js';
export { RemoteStore, type RemoteStoreOptions } from './remote-store.js';
