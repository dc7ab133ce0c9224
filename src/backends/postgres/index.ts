export type { PostgresDriver } from './driver.js';
export { pglite } from './pglite.js';
export { postgresJs } from './postgres-js.js';
export { PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
export type { PgvectorHnswOptions, PostgresVectorOptions } from './vectors.js';
