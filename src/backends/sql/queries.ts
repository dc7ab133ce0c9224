import { validAt } from '../../core/filter.js';
import type { CountQuery, ListQuery } from '../../core/store-contract.js';
import { WORD_MARK } from '../../core/text/index.js';
import type { SqlDialect } from './dialect.js';
import type { SqlParam, Statement } from './executor.js';
import { pairKeyOf, pairPrefixOf, pairsRows, resolvingSelect } from './paired-words.js';
import { bucketOf, STEM_BUCKET_RANGE, WORD_BUCKET_CHARS } from './pending-postings.js';
import { epochMs, memorySelectAs } from './rows.js';

/** The memory columns qualified by the `m` alias the list query gives engram_memories. */
const MEMORY_SELECT_QUALIFIED = memorySelectAs('m');

/**
 * The WHERE clause of `list` and `count`, every filter in SQL reproducing core's `matchesListQuery`:
 * instants compare as epoch milliseconds like `Date.parse`, and a bound that does not parse excludes
 * nothing, as NaN does in core.
 */
export function listWhere(
  dialect: SqlDialect,
  namespace: string,
  query: CountQuery & Pick<ListQuery, 'beforeId'>,
) {
  const where = ['m.ns = ?'];
  const params: SqlParam[] = [namespace];
  const add = (sql: string, ...values: SqlParam[]) => {
    where.push(sql);
    params.push(...values);
  };
  if (query.beforeId !== undefined) add('m.id < ?', query.beforeId);
  if (query.kind !== undefined) add('m.kind = ?', query.kind);
  const since = epochMs(query.since);
  if (since !== null) add('(m.created_ms IS NULL OR m.created_ms >= ?)', since);
  const until = epochMs(query.until);
  if (until !== null) add('(m.created_ms IS NULL OR m.created_ms < ?)', until);
  for (const [sql, value] of liveAt('m.', query.now, validAt(query))) add(sql, value);
  const tags = [...new Set(query.tags ?? [])];
  if (tags.length > 0) {
    const held = dialect.holdsTags('m.tags', tags, query.tagMode);
    add(held.sql, ...held.params);
  }
  return { where: where.join(' AND '), params };
}

/**
 * The conditions of core's `isExpired` and `isValidAt` (filter.ts) on the epoch-millisecond mirrors:
 * not expired at `now`, valid at `validAt`. An instant that does not parse adds no condition (it
 * excludes nothing in SQL, where core may exclude more: core's own filter still runs after).
 */
export function liveAt(
  alias: string,
  now: string,
  validAt: string | undefined,
): Array<[sql: string, value: number]> {
  const out: Array<[string, number]> = [];
  const nowMs = epochMs(now);
  if (nowMs !== null) out.push([`(${alias}expires_ms IS NULL OR ${alias}expires_ms > ?)`, nowMs]);
  const valid = epochMs(validAt);
  if (valid !== null) {
    out.push([`(${alias}valid_from_ms IS NULL OR ${alias}valid_from_ms <= ?)`, valid]);
    out.push([`(${alias}valid_to_ms IS NULL OR ${alias}valid_to_ms > ?)`, valid]);
  }
  return out;
}

export function listStatement(dialect: SqlDialect, namespace: string, query: ListQuery): Statement {
  const { where, params } = listWhere(dialect, namespace, query);
  const sql = `SELECT ${MEMORY_SELECT_QUALIFIED} FROM engram_memories m WHERE ${where} ORDER BY m.id DESC LIMIT ?`;
  // MEMORY_SELECT's own parameter, the namespace, first.
  return { sql: dialect.native(sql), params: [namespace, ...params, query.limit] };
}

/** `count(filter)` in one statement: the list query without order or limit. */
export function countStatement(dialect: SqlDialect, namespace: string, query: CountQuery): Statement {
  const { where, params } = listWhere(dialect, namespace, query);
  return { sql: dialect.native(`SELECT count(*) AS n FROM engram_memories m WHERE ${where}`), params };
}

/**
 * Posting blocks of exact terms, then of each prefix as a key range [prefix, successor): one index range
 * per clause, never a scan of the namespace. Duplicates across clauses are fine: core keeps one per term and id.
 * On Postgres each clause also reads the pending list (pending-postings.ts), in the same statement so that
 * a merge committing meanwhile cannot make a posting appear twice or not at all; and with `withStats`, the
 * namespace's BM25 statistics come first, as a row marked `pending = 2` (one round trip for a search).
 * Postgres sends one row per term (or pending bucket): its rows' bytes joined by `string_agg`, with their
 * sizes in `sizes` to cut them apart again. At a million memories a search's terms have ~750 blocks, and
 * one row each cost the driver twice the server's time to parse (posting-reads.ts). The sizes come as
 * comma-separated text, not an array: a postgres.js client made with `fetch_types: false` (the Worker's)
 * hands arrays back unparsed.
 */
export function postingsStatement(
  dialect: SqlDialect,
  namespace: string,
  terms: readonly string[],
  prefixes: readonly string[],
  withStats = false,
): Statement | null {
  const selects: string[] = [];
  const params: SqlParam[] = [];
  const postgres = dialect.name === 'postgres';
  const stats = postgres && withStats;
  // Postgres: block rows say `pending = 0`; a pending row (`pending = 1`) holds its bucket's every entry.
  // Both aggregates of a group are fed its rows in the same order, so `sizes` follows `data`.
  const clause = (table: string, key: string, kind: number, where: string) =>
    postgres
      ? `SELECT ${key === 'term' ? key : `${key} AS term`}, string_agg(data, ''::bytea) AS data, string_agg(length(data)::text, ',') AS sizes, ` +
        `${kind} AS pending${stats ? ', NULL, NULL' : ''} FROM ${table} WHERE ns = ? AND ${where} GROUP BY ${key}`
      : `SELECT term, grp, data FROM ${table} WHERE ns = ? AND ${where}`;
  // SQLite word rows may be references to stem rows (paired-words.ts), read as the rows they name.
  const resolving = (where: string) => `${resolvingSelect(false)} WHERE p.ns = ? AND ${where}`;
  const range = (key: string, end: string | null) =>
    end === null ? `${key} >= ?` : `${key} >= ? AND ${key} < ?`;
  // One range as always, several as a parenthesized OR of them.
  const ranges = (key: string, group: readonly (readonly [string, string | null])[]) =>
    group.length === 1
      ? range(key, group[0]![1])
      : `(${group.map(([, end]) => `(${range(key, end)})`).join(' OR ')})`;
  if (stats) {
    selects.push(
      'SELECT NULL AS term, NULL AS data, NULL AS sizes, 2 AS pending, docs, tokens FROM engram_namespaces WHERE ns = ?',
    );
    params.push(namespace);
  }
  // SQLite: a paired row (paired-words.ts) may hold any term's row, and a prefix's paired rows are one
  // more range.
  const paired = pairsRows(dialect);
  const keys = paired ? [...new Set([...terms, ...terms.map(pairKeyOf)])] : terms;
  const starts = paired
    ? [...new Set([...prefixes, ...prefixes.map(pairPrefixOf).filter((p) => p !== undefined)])]
    : prefixes;
  const words = paired ? keys.filter((key) => key.startsWith(WORD_MARK)) : [];
  const others = words.length > 0 ? keys.filter((key) => !key.startsWith(WORD_MARK)) : keys;
  if (others.length > 0) {
    const list = dialect.inList('term', others);
    selects.push(clause('engram_postings', 'term', 0, list.sql));
    params.push(namespace, ...list.params);
  }
  if (words.length > 0) {
    const list = dialect.inList('p.term', words);
    selects.push(resolving(list.sql));
    params.push(namespace, ...list.params);
  }
  for (const group of rangeGroups(starts.map((prefix) => [prefix, prefixEnd(prefix)] as const))) {
    // A range that may hold word rows: over words as written, or everything ('').
    const wordRows = paired && group.some(([start]) => start === '' || start.startsWith(WORD_MARK));
    selects.push(
      wordRows
        ? resolving(ranges('p.term', group))
        : clause('engram_postings', 'term', 0, ranges('term', group)),
    );
    params.push(namespace, ...group.flatMap(([start, end]) => (end === null ? [start] : [start, end])));
  }
  if (terms.length === 0 && prefixes.length === 0) return null;
  if (postgres) {
    const pending = pendingBuckets(terms, prefixes);
    if (pending.buckets.length > 0) {
      const list = dialect.inList('bucket', pending.buckets);
      selects.push(clause('engram_pending', 'bucket', 1, list.sql));
      params.push(namespace, ...list.params);
    }
    for (const group of rangeGroups(pending.ranges)) {
      selects.push(clause('engram_pending', 'bucket', 1, ranges('bucket', group)));
      params.push(namespace, ...group.flatMap(([start, end]) => (end === null ? [start] : [start, end])));
    }
  }
  return { sql: dialect.native(selects.join(' UNION ALL ')), params };
}

/**
 * Key ranges [start, end) as the clauses of a statement: one each up to RANGES_ALONE (a query's few
 * prefixes, each its own index range, as always), else RANGES_PER_CLAUSE to a clause as an OR of ranges,
 * which both databases still read as index ranges. A query of hundreds of one-character CJK words has as
 * many prefixes: one clause each exceeded SQLite's 500 terms of a compound SELECT, and took PGlite past
 * what it prepares.
 */
function rangeGroups<T extends readonly [string, string | null]>(ranges: readonly T[]): T[][] {
  if (ranges.length <= RANGES_ALONE) return ranges.map((r) => [r]);
  const out: T[][] = [];
  for (let i = 0; i < ranges.length; i += RANGES_PER_CLAUSE) out.push(ranges.slice(i, i + RANGES_PER_CLAUSE));
  return out;
}

const RANGES_ALONE = 16;
const RANGES_PER_CLAUSE = 32;

/**
 * The pending-list buckets (pending-postings.ts) that can hold the terms and the terms with the prefixes:
 * one per term; one per prefix over words as written, or the range of buckets it begins when shorter than
 * a bucket's key; every stem bucket for a prefix not over words as written (everything for '').
 */
function pendingBuckets(
  terms: readonly string[],
  prefixes: readonly string[],
): { buckets: string[]; ranges: [string, string | null][] } {
  const buckets = new Set(terms.map(bucketOf));
  const ranges = new Map<string, [string, string | null]>();
  for (const prefix of prefixes) {
    if (prefix === '') ranges.set('', ['', null]);
    else if (!prefix.startsWith(WORD_MARK)) ranges.set(STEM_BUCKET_RANGE[0], [...STEM_BUCKET_RANGE]);
    else if ([...prefix].length < WORD_BUCKET_CHARS) ranges.set(prefix, [prefix, prefixEnd(prefix)]);
    else buckets.add(bucketOf(prefix));
  }
  return { buckets: [...buckets], ranges: [...ranges.values()] };
}

/**
 * The least string above every string starting with `prefix`, in code point order (the order of SQLite's
 * BINARY and Postgres' "C" collation on UTF-8); null when there is none.
 */
export function prefixEnd(prefix: string): string | null {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) return points.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1);
  }
  return null;
}
