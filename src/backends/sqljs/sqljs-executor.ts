import type { Database, SqlValue, Statement } from 'sql.js';
import { createSerialQueue } from '../../core/serial.js';
import type { SqlExecutor, SqlParam, SqlQueries } from '../sql/executor.js';

/** Enough for every statement text the store issues on a hot path; the rest are prepared again. */
const CACHED_STATEMENTS = 64;

/**
 * The SQL seam over one sql.js database. sql.js is synchronous and has a single connection, so calls are
 * queued: a transaction holds the queue from BEGIN to COMMIT and nothing else reads its uncommitted rows.
 */
export class SqlJsExecutor implements SqlExecutor {
  private readonly serial = createSerialQueue();
  private readonly statements = new Map<string, Statement>();
  private readonly direct: SqlQueries = {
    all: async <T extends object>(sql: string, params: readonly SqlParam[]) => this.allNow<T>(sql, params),
    run: async (sql: string, params: readonly SqlParam[]) => this.runNow(sql, params),
  };

  constructor(
    private readonly db: Database,
    /** Told after each transaction's COMMIT, or after its ROLLBACK, before the next queued call runs. */
    private readonly hooks: { committed?: () => void; rolledBack?: () => void } = {},
  ) {}

  all<T extends object>(sql: string, params: readonly SqlParam[]): Promise<T[]> {
    return this.serial(async () => this.allNow<T>(sql, params));
  }

  run(sql: string, params: readonly SqlParam[]): Promise<void> {
    return this.serial(async () => this.runNow(sql, params));
  }

  transaction<T>(fn: (tx: SqlQueries) => Promise<T>): Promise<T> {
    return this.serial(() => this.transactionNow(fn));
  }

  /**
   * Runs `task` between queued calls, never inside a transaction (sql.js cannot export during one); `first`,
   * when given, runs in a transaction of its own just before, in the same turn of the queue.
   */
  exclusive<T>(task: (db: Database) => T, first?: (tx: SqlQueries) => Promise<void>): Promise<T> {
    return this.serial(async () => {
      if (first) await this.transactionNow(first);
      return task(this.db);
    });
  }

  private async transactionNow<T>(fn: (tx: SqlQueries) => Promise<T>): Promise<T> {
    this.db.run('BEGIN');
    let result: T;
    try {
      result = await fn(this.direct);
      this.db.run('COMMIT');
    } catch (error) {
      // SQLite may already have rolled back after some errors; the original error is the one to report.
      try {
        this.db.run('ROLLBACK');
      } catch {}
      this.hooks.rolledBack?.();
      throw error;
    }
    this.hooks.committed?.();
    return result;
  }

  close(): Promise<void> {
    return this.exclusive((db) => {
      for (const statement of this.statements.values()) statement.free();
      this.statements.clear();
      db.close();
    });
  }

  private allNow<T extends object>(sql: string, params: readonly SqlParam[]): T[] {
    const statement = this.prepare(sql, params);
    try {
      const columns = statement.getColumnNames();
      const rows: T[] = [];
      while (statement.step()) {
        const values = statement.get();
        const row: Record<string, SqlValue> = {};
        for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i]!;
        rows.push(row as T);
      }
      return rows;
    } finally {
      statement.reset();
    }
  }

  private runNow(sql: string, params: readonly SqlParam[]): void {
    const statement = this.prepare(sql, params);
    try {
      statement.step();
    } finally {
      statement.reset();
    }
  }

  private prepare(sql: string, params: readonly SqlParam[]): Statement {
    let statement = this.statements.get(sql);
    if (statement) {
      this.statements.delete(sql);
    } else {
      statement = this.db.prepare(sql);
      if (this.statements.size >= CACHED_STATEMENTS) {
        const [oldest, stale] = this.statements.entries().next().value!;
        this.statements.delete(oldest);
        stale.free();
      }
    }
    this.statements.set(sql, statement);
    statement.bind([...params]);
    return statement;
  }
}
