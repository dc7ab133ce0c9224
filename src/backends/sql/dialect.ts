import type { TagMode } from '../../core/model.js';
import type { SqlParam, Statement } from './executor.js';

/** What differs between SQLite and Postgres for our schema and queries; everything else is shared SQL. */
export interface SqlDialect {
  readonly name: 'sqlite' | 'postgres';
  /** Ids, namespaces and terms compare bytewise, so SQL order is JS string order and prefix ranges hit the index. */
  readonly keyType: string;
  readonly integerType: string;
  readonly realType: string;
  readonly blobType: string;
  /** Appended to narrow tables keyed by their primary key (SQLite stores them in the key's b-tree alone). */
  readonly keyedTable: string;
  /** Most placeholders one statement may carry. */
  readonly maxParams: number;
  /** Taken first in the migration transaction, so that processes starting together migrate one at a time. */
  readonly migrationLock: string | null;
  /** `column IN (…)` for the values, as the dialect binds lists best. */
  inList(column: string, values: readonly string[]): Statement;
  /** A row source of the pairs as columns `a`, `b`, for `WITH p(a, b) AS (…)`: as the dialect binds lists best. */
  pairs(pairs: readonly (readonly [string, string])[]): Statement;
  /** The statement text with `?` placeholders in the driver's own style. */
  native(sql: string): string;
  /** The UTF-8 byte length of a TEXT expression. */
  byteLength(expression: string): string;
  /**
   * A condition on a JSON array of strings held as text (a memory's `tags`): it holds all of `tags`, or
   * any of them. `tags` are distinct and at least one.
   */
  holdsTags(expression: string, tags: readonly string[], mode: TagMode): Statement;
  /**
   * A multi-row INSERT with all rows in one parameter, when the dialect has one (Postgres: a JSON array
   * read by `json_populate_recordset`, typed by the table's own row type): one short statement text
   * whatever the number of rows, so nothing long to send, parse or plan. `conflict` as in BulkWriter.
   */
  insertRows?(
    table: string,
    columns: readonly string[],
    rows: readonly SqlParam[][],
    conflict: string,
  ): Statement;
}

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  keyType: 'TEXT',
  integerType: 'INTEGER',
  realType: 'REAL',
  blobType: 'BLOB',
  keyedTable: ' WITHOUT ROWID',
  maxParams: 4000,
  migrationLock: null,
  inList: (column, values) => ({ sql: `${column} IN (${placeholders(values.length)})`, params: [...values] }),
  pairs: (pairs) => ({
    sql: `VALUES ${pairs.map(() => '(?, ?)').join(', ')}`,
    params: pairs.flat(),
  }),
  native: (sql) => sql,
  byteLength: (expression) => `length(CAST(${expression} AS BLOB))`,
  // The list walks memories in id order and probes each row's own tags: a separate tag table would
  // only be probed per row too, at the cost of a row per tag written beside every memory (schema v7).
  holdsTags: (expression, tags, mode) => {
    const matching = `FROM json_each(${expression}) AS t WHERE t.value IN (${placeholders(tags.length)})`;
    return mode === 'all'
      ? { sql: `(SELECT count(DISTINCT t.value) ${matching}) = ?`, params: [...tags, tags.length] }
      : { sql: `EXISTS (SELECT 1 ${matching})`, params: [...tags] };
  },
};

const numbered = new Map<string, string>();

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  keyType: 'TEXT COLLATE "C"',
  integerType: 'BIGINT',
  realType: 'DOUBLE PRECISION',
  blobType: 'BYTEA',
  keyedTable: '',
  maxParams: 65_000,
  // Keyed by schema, so that stores in different schemas of one database do not wait for each other.
  migrationLock: `SELECT pg_advisory_xact_lock(hashtext('engram:' || current_schema()))`,
  // One array parameter: one statement text whatever the number of ids, and no parameter limit. It is
  // sent as an array literal in a string, so it does not depend on how a driver serialises JS arrays.
  inList: (column, values) => ({ sql: `${column} = ANY(?::text[])`, params: [arrayLiteral(values)] }),
  pairs: (pairs) => ({
    sql: 'SELECT * FROM unnest(?::text[], ?::text[])',
    params: [arrayLiteral(pairs.map(([a]) => a)), arrayLiteral(pairs.map(([, b]) => b))],
  }),
  native: (sql) => {
    let text = numbered.get(sql);
    if (text === undefined) {
      let n = 0;
      text = sql.replace(/\?/g, () => `$${++n}`);
      // Bulk statements are long and vary in length: rewriting them is cheaper than keeping them.
      if (sql.length < 2048 && numbered.size < 1000) numbered.set(sql, text);
    }
    return text;
  },
  byteLength: (expression) => `octet_length(${expression})`,
  // Containment on the tags as jsonb, which the GIN index `engram_memories_by_tags` (v15) answers: the
  // planner reads it for a rare tag and walks the ids for a common one (see docs/stores.md). The
  // parameter goes as text: postgres.js would JSON-encode a value bound as jsonb a second time.
  holdsTags: (expression, tags, mode) => {
    const contains = `${expression}::jsonb @> ?::text::jsonb`;
    return mode === 'all'
      ? { sql: contains, params: [JSON.stringify(tags)] }
      : { sql: `(${tags.map(() => contains).join(' OR ')})`, params: tags.map((t) => JSON.stringify([t])) };
  },
  insertRows: (table, columns, rows, conflict) => {
    const list = columns.join(', ');
    return {
      sql: `INSERT INTO ${table} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${table}, $1::text::json)${conflict}`,
      params: [jsonRows(columns, rows)],
    };
  },
};

/**
 * Rows as a JSON array of objects keyed by column, stringified once. Bytes go as Postgres' hex input
 * (`\\x…`), which the bytea column parses; numbers and strings as JSON has them (a JS number prints exactly).
 * A null is left out: `json_populate_recordset` makes a missing key NULL, and a memory row has about
 * nine null columns (embedding, validity, expiry…), whose keys were a third of a push's 7.6 MB of rows
 * and as much of the server's parsing (10K memory rows: 1.90 → 1.18 s, measured under heavy load).
 */
function jsonRows(columns: readonly string[], rows: readonly SqlParam[][]): string {
  const objects = rows.map((row) => {
    const object: Record<string, string | number> = {};
    for (let i = 0; i < columns.length; i++) {
      const value = row[i];
      if (value === null || value === undefined) continue;
      // JSON has no NaN or Infinity (stringify would write null): refused, as a bound parameter would be.
      if (typeof value === 'number' && !Number.isFinite(value)) {
        throw new Error(`column ${columns[i]}: ${value} is not a finite number`);
      }
      object[columns[i]!] = value instanceof Uint8Array ? `\\x${hex(value)}` : value;
    }
    return object;
  });
  return JSON.stringify(objects);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex(bytes: Uint8Array): string {
  const out = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = HEX[bytes[i]!]!;
  return out.join('');
}

export function placeholders(count: number, width = 1): string {
  const row = width === 1 ? '?' : `(${Array(width).fill('?').join(', ')})`;
  return Array(count).fill(row).join(', ');
}

/** A Postgres text[] literal: every element quoted, so commas, braces and quotes inside stay data. */
function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

/** Consecutive slices of at most `size` items (at least one per slice): what one statement can bind. */
export function slices<T>(items: readonly T[], size: number): T[][] {
  const step = Math.max(1, Math.floor(size));
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += step) out.push(items.slice(start, start + step));
  return out;
}
