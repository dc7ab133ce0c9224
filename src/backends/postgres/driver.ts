import type { SqlExecutor } from '../sql/executor.js';

/** A Postgres connection as PostgresStore uses it: the shared SQL seam, plus whether its data outlives the process. */
export interface PostgresDriver extends SqlExecutor {
  /** False for an in-memory database (PGlite without a directory). */
  readonly persistent: boolean;
  /** What the store calls itself (`kind`, `/health`): `pglite` for embedded PGlite; default `postgres`. */
  readonly name?: string;
  /**
   * Postgres LISTEN: calls `onPayload` for every NOTIFY on `channel` (from any connection to the same
   * database); resolves with the function that stops listening. Used by live sync's `postgresHub`.
   */
  listen?(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Postgres NOTIFY: `pg_notify(channel, payload)`. */
  notify?(channel: string, payload: string): Promise<void>;
}
