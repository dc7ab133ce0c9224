export type { FetchLike, TokenSource } from './http.js';
export { RemoteStore, type RemoteStoreOptions } from './remote-store.js';
