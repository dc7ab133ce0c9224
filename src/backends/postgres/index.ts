export type { PostgresDriver } from './driver.js';
export { pglite } from './pglite.js';
export { postgresJs } from './postgres-js.js';
export { PostgresStore } from './postgres-store.js';
