import type { Database } from 'sql.js';

/**
 * Turns a database written by today's SqlJsStore back into schema version 1 (what the first release
 * wrote), with the raw library: stems only in the text index, no embedding_model (v3) or validity (v4)
 * columns, version rows above 1 gone. Each upgrade test then opens it and checks every step runs.
 */
export function downgradeToVersion1(db: Database): void {
  db.run("DELETE FROM engram_terms WHERE term LIKE '~%'");
  for (const column of ['embedding_model', 'valid_from', 'valid_to', 'valid_from_ms', 'valid_to_ms']) {
    db.run(`ALTER TABLE engram_memories DROP COLUMN ${column}`);
  }
  db.run('DELETE FROM engram_schema_version WHERE version > 1');
}

/**
 * The schema version today's code migrates to (SQL migrations: v2 reindex, v3 embedding_model, v4 validity,
 * v5 Postgres vector columns, a no-op on SQLite).
 */
export const CURRENT_SQL_VERSION = 5;
