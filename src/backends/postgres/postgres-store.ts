import type { StoreCapabilities } from '../../core/store-contract.js';
import { postgresDialect } from '../sql/dialect.js';
import type { SqlExecutor } from '../sql/executor.js';
import { SqlStore } from '../sql/sql-store.js';
import type { PostgresDriver } from './driver.js';

/**
 * Postgres (a server through postgres.js, or embedded PGlite). Several processes may share one database:
 * writers of a namespace take turns on its counter row, so the change feed numbers changes in commit
 * order and a sync pull never skips one. `close()` closes the driver.
 *
 * @example
 * import { createMemory } from 'engram';
 * import { PostgresStore, postgresJs } from 'engram/edge';
 * const mem = await createMemory({ store: new PostgresStore(postgresJs(process.env.DATABASE_URL!)) });
 */
export class PostgresStore extends SqlStore {
  readonly kind: string;
  readonly capabilities: StoreCapabilities;

  constructor(private readonly db: PostgresDriver) {
    super(postgresDialect);
    this.kind = db.name ?? 'postgres';
    this.capabilities = { persistent: db.persistent, shared: true };
  }

  protected override async connect(): Promise<SqlExecutor> {
    return this.db;
  }
}
