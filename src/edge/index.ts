export { type PostgresDriver, PostgresStore, pglite, postgresJs } from '../backends/postgres/index.js';
export { type CorsOptions, createEdgeApp, type EdgeAppOptions, type StoreFactory } from './app.js';
export type { DemoConfig, DemoPage } from './demo.js';
export type { EdgeEnv } from './env.js';
export type { ErrorBody } from './errors.js';
export type { HealthOptions } from './health.js';
export type { RequestLogEntry, RequestLogger } from './logger.js';
export { memoryRateLimiter, type RateLimiter, type RateLimitOptions } from './rate-limit.js';
export { type MintTokenOptions, mintToken, parseTtl } from './token.js';
