export {
  type PgvectorHnswOptions,
  type PostgresDriver,
  PostgresStore,
  type PostgresStoreOptions,
  type PostgresVectorOptions,
  pglite,
  postgresJs,
} from '../backends/postgres/index.js';
export type { PulledChange, SyncRequest, SyncResponse } from '../core/sync/protocol.js';
export { pullChanges, serveSync } from '../core/sync/server.js';
export { type CorsOptions, createEdgeApp, type EdgeAppOptions, type StoreFactory } from './app.js';
export type { DemoConfig, DemoPage } from './demo.js';
export type { EdgeEnv } from './env.js';
export type { ErrorBody } from './errors.js';
export type { HealthOptions } from './health.js';
export { type LiveHub, type LiveStreamRequest, LocalHub } from './live/hub.js';
export { NOTIFY_CHANNEL, PostgresHub, postgresHub } from './live/postgres-hub.js';
export type { RequestLogEntry, RequestLogger } from './logger.js';
export type { QuotaOptions } from './quota.js';
export { memoryRateLimiter, type RateLimiter, type RateLimitOptions } from './rate-limit.js';
export { type MintTokenOptions, mintToken, parseTtl } from './token.js';
