/** A value bound to a placeholder. */
export type SqlParam = string | number | null | Uint8Array;

/** A statement with `?` placeholders and its parameters, before the dialect rewrites them. */
export interface Statement {
  sql: string;
  params: SqlParam[];
}

/** The two calls every driver can answer, inside or outside a transaction. */
export interface SqlQueries {
  /** Runs a query and returns its rows as objects keyed by column name. */
  all<T extends object>(sql: string, params: readonly SqlParam[]): Promise<T[]>;
  run(sql: string, params: readonly SqlParam[]): Promise<void>;
}

/**
 * The seam between the shared SQL layer and a driver (sql.js, postgres.js, PGlite). SQL arrives already in
 * the driver's placeholder style. `transaction` commits when `fn` resolves and rolls back when it throws.
 */
export interface SqlExecutor extends SqlQueries {
  transaction<T>(fn: (tx: SqlQueries) => Promise<T>): Promise<T>;
  /** Releases what the driver owns; a borrowed connection is left open. */
  close?(): Promise<void>;
}
