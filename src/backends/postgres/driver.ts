import type { SqlExecutor } from '../sql/executor.js';

/** A Postgres connection as PostgresStore uses it: the shared SQL seam, plus whether its data outlives the process. */
export interface PostgresDriver extends SqlExecutor {
  /** False for an in-memory database (PGlite without a directory). */
  readonly persistent: boolean;
  /** What the store calls itself (`kind`, `/health`): `pglite` for embedded PGlite; default `postgres`. */
  readonly name?: string;
}
