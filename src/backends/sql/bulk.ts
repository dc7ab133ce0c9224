import { placeholders, type SqlDialect, slices } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';

/** Multi-row statements, split only where the dialect's parameter limit forces it. */
export class BulkWriter {
  constructor(
    private readonly db: SqlQueries,
    private readonly dialect: SqlDialect,
  ) {}

  /** `conflict` is appended as is: `ON CONFLICT (…) DO UPDATE SET …`, or empty for a plain insert. */
  async insert(
    table: string,
    columns: readonly string[],
    rows: readonly SqlParam[][],
    conflict = '',
  ): Promise<void> {
    if (rows.length === 0) return;
    if (this.dialect.insertRows) {
      const { sql, params } = this.dialect.insertRows(table, columns, rows, conflict);
      await this.db.run(sql, params);
      return;
    }
    for (const slice of slices(rows, this.dialect.maxParams / columns.length)) {
      const values = placeholders(slice.length, columns.length);
      const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}${conflict}`;
      await this.db.run(this.dialect.native(sql), flatten(slice));
    }
  }

  async deleteIds(table: string, namespace: string, ids: readonly string[]): Promise<void> {
    for (const slice of slices(ids, this.dialect.maxParams - 1)) {
      const list = this.dialect.inList('id', slice);
      const sql = `DELETE FROM ${table} WHERE ns = ? AND ${list.sql}`;
      await this.db.run(this.dialect.native(sql), [namespace, ...list.params]);
    }
  }
}

/** `ON CONFLICT (keys) DO UPDATE` that overwrites every other column with the incoming row. */
export function upsertOn(keys: readonly string[], columns: readonly string[]): string {
  const updates = columns.filter((c) => !keys.includes(c)).map((c) => `${c} = excluded.${c}`);
  return ` ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${updates.join(', ')}`;
}

/** `rows.flat()` without its cost, which dominates a bulk insert in V8. */
function flatten(rows: readonly (readonly SqlParam[])[]): SqlParam[] {
  const out: SqlParam[] = [];
  for (const row of rows) for (const value of row) out.push(value);
  return out;
}
