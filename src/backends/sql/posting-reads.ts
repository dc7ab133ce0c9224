import type {
  DocPostingList,
  LiveFilter,
  MemoryRecord,
  TextPosting,
  TextStats,
} from '../../core/store-contract.js';
import type { SqlDialect } from './dialect.js';
import type { DocIdCache } from './doc-id-cache.js';
import type { SqlParam, SqlQueries } from './executor.js';
import { danglingReference, isPairKey, isReference, pairedTerms } from './paired-words.js';
import { matchingEntries } from './pending-postings.js';
import { decodeInto, type PostingArrays } from './posting-blocks.js';
import { liveAt, postingsStatement } from './queries.js';
import { MEMORY_SELECT, type MemoryRow, memoryFromRow } from './rows.js';

/**
 * Postings of exact terms and prefixes by document number, from the posting blocks in one statement:
 * one list per term, its blocks decoded into the same typed arrays (a posting takes at least three bytes,
 * so a third of the blobs' length bounds the count).
 */
export async function readDocPostings(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  terms: readonly string[],
  prefixes: readonly string[],
): Promise<DocPostingList[]> {
  return (await readSearchPostings(db, dialect, namespace, terms, prefixes, false)).lists;
}

/**
 * `readDocPostings`, and with `withStats` (Postgres) the namespace's BM25 statistics read by the same
 * statement: a search then waits for one round trip instead of two side by side.
 */
export async function readSearchPostings(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  terms: readonly string[],
  prefixes: readonly string[],
  withStats: boolean,
): Promise<{ lists: DocPostingList[]; stats: TextStats }> {
  const statement = postingsStatement(dialect, namespace, terms, prefixes, withStats);
  if (!statement) {
    return { lists: [], stats: withStats ? await readTextStats(db, dialect, namespace) : NO_STATS };
  }
  type Row = {
    term: string;
    /** SQLite: the row's group (named by a corrupt reference's error); Postgres rows have none. */
    grp?: number | string;
    data: Uint8Array;
    /** Postgres: the sizes of the rows joined in `data`, in order, comma-separated. */
    sizes?: string | null;
    pending?: number | string;
    docs?: number | string | null;
    tokens?: number | string | null;
  };
  const rows = await db.all<Row>(statement.sql, statement.params);
  // Each term's rows, blocks and pending entries alike (a pending row — Postgres, pending-postings.ts —
  // holds its bucket's every term: the asked ones are kept), decoded into one list sized once.
  const pieces: Array<[string, Uint8Array]> = [];
  let entries: ((data: Uint8Array) => [string, Uint8Array][]) | undefined;
  let stats = NO_STATS;
  let asked: ((key: string) => readonly string[]) | undefined;
  for (const { term, grp, data, sizes, pending, docs, tokens } of rows) {
    const kind = Number(pending ?? 0);
    if (kind === 2) {
      stats = { docs: Number(docs ?? 0), tokens: Number(tokens ?? 0) };
      continue;
    }
    const cuts = typeof sizes === 'string' ? sizes.split(',') : undefined;
    for (let start = 0, at = 0; at < (cuts?.length ?? 1); at++) {
      const end = cuts === undefined ? data.length : start + Number(cuts[at]);
      const piece = data.subarray(start, end);
      start = end;
      if (grp != null) {
        // A SQLite row: a paired row as each asked term it holds (a row two clauses met comes twice, as
        // the same posting under a term and a prefix may: core keeps one per term and document).
        if (isReference(piece)) throw danglingReference(term, Number(grp), piece);
        if (!isPairKey(term)) pieces.push([term, piece]);
        else {
          asked ??= askedOfPair(terms, prefixes);
          for (const held of asked(term)) pieces.push([held, piece]);
        }
      } else if (kind === 0) {
        pieces.push([term, piece]);
      } else {
        entries ??= matchingEntries(terms, prefixes);
        for (const entry of entries(piece)) pieces.push(entry);
      }
    }
  }
  const room = new Map<string, number>();
  for (const [term, data] of pieces) room.set(term, (room.get(term) ?? 0) + Math.floor(data.length / 2));
  const lists = new Map<string, { arrays: PostingArrays; count: number }>();
  for (const [term, size] of room) {
    const arrays = {
      docs: new Float64Array(size),
      tfs: new Uint32Array(size),
      lengths: new Uint32Array(size),
    };
    lists.set(term, { arrays, count: 0 });
  }
  for (const [term, data] of pieces) {
    const list = lists.get(term)!;
    list.count = decodeInto(data, list.arrays, list.count);
  }
  const out = Array.from(lists, ([term, { arrays, count }]) => ({
    term,
    docs: arrays.docs.subarray(0, count),
    tfs: arrays.tfs.subarray(0, count),
    lengths: arrays.lengths.subarray(0, count),
  }));
  return { lists: out, stats };
}

const NO_STATS: TextStats = { docs: 0, tokens: 0 };

/**
 * The terms of a paired row (paired-words.ts) that a read of `terms` and `prefixes` asked for, worked out
 * once per key (a key has a row in each group).
 */
function askedOfPair(
  terms: readonly string[],
  prefixes: readonly string[],
): (key: string) => readonly string[] {
  const exact = new Set(terms);
  const wanted = (term: string) => exact.has(term) || prefixes.some((prefix) => term.startsWith(prefix));
  const known = new Map<string, string[]>();
  return (key) => {
    let held = known.get(key);
    if (held === undefined) {
      held = pairedTerms(key).filter(wanted);
      known.set(key, held);
    }
    return held;
  };
}

/** The namespace's BM25 statistics: its live documents and their tokens (zero before its first write). */
export async function readTextStats(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
): Promise<TextStats> {
  const sql = dialect.native('SELECT docs, tokens FROM engram_namespaces WHERE ns = ?');
  const [row] = await db.all<{ docs: number | string; tokens: number | string }>(sql, [namespace]);
  return { docs: Number(row?.docs ?? 0), tokens: Number(row?.tokens ?? 0) };
}

/**
 * Postings with ids, for callers of `postings` (core ranks on document numbers through
 * `readDocPostings` and `docIdsOf` instead): every matched number is turned into an id.
 */
export async function readPostings(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  terms: readonly string[],
  prefixes: readonly string[],
  cache: DocIdCache,
): Promise<TextPosting[]> {
  const lists = await readDocPostings(db, dialect, namespace, terms, prefixes);
  const all: number[] = [];
  for (const { docs } of lists) for (let at = 0; at < docs.length; at++) all.push(docs[at]!);
  if (all.length === 0) return [];
  const ids = await docIdsOf(db, dialect, namespace, all, cache);
  const out: TextPosting[] = [];
  for (const { term, docs, tfs, lengths } of lists) {
    for (let at = 0; at < docs.length; at++) {
      const id = ids.get(docs[at]!);
      // A memory deleted between the two reads (another connection) is skipped.
      if (id !== undefined) out.push({ term, id, tf: tfs[at]!, length: lengths[at]! });
    }
  }
  return out;
}

/**
 * The id of each document number whose memory still exists. Numbers the cache knows cost nothing (a
 * number names one memory for good: an edit keeps it, a delete retires it, and a new memory always gets
 * a fresh one); the rest are read in one statement, a range scan of the doc index when they are dense,
 * a list of keys bound as one parameter otherwise.
 */
export async function docIdsOf(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  docs: readonly number[],
  cache: DocIdCache,
): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const missing = new Set<number>();
  for (const doc of docs) {
    const id = cache.get(namespace, doc);
    if (id !== undefined) out.set(doc, id);
    else missing.add(doc);
  }
  if (missing.size === 0) return out;
  const unique = [...missing].sort((a, b) => a - b);
  const low = unique[0]!;
  const high = unique[unique.length - 1]!;
  type Row = { doc: number | string; id: string };
  let rows: Row[];
  if (unique.length * 2 >= high - low + 1) {
    const sql = 'SELECT doc, id FROM engram_memories WHERE ns = ? AND doc >= ? AND doc <= ?';
    rows = await db.all<Row>(dialect.native(sql), [namespace, low, high]);
  } else {
    const list = docList(dialect, namespace, unique);
    rows = await db.all<Row>(
      dialect.native(`SELECT doc, id FROM engram_memories WHERE ${list.sql}`),
      list.params,
    );
  }
  for (const row of rows) {
    const doc = Number(row.doc);
    // A range scan also meets numbers nobody asked for: only the asked ones are kept and cached.
    if (!missing.has(doc)) continue;
    out.set(doc, row.id);
    cache.set(namespace, doc, row.id);
  }
  return out;
}

/**
 * The records of document numbers (a search's best candidates), in one statement; their ids are cached.
 * With `live`, rows expired or not valid are left out by the statement, compared on the epoch-ms
 * mirrors the row already holds: a valid-now search over many superseded memories then decodes about
 * the records it returns, not every candidate it examines (docs/lifecycle.md#cost).
 */
export async function docMemoriesOf(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  docs: readonly number[],
  cache: DocIdCache,
  live?: LiveFilter,
): Promise<Map<number, MemoryRecord>> {
  const list = docList(dialect, namespace, [...new Set(docs)]);
  const conditions = live ? liveAt('', live.now, live.validAt) : [];
  const where = [list.sql, ...conditions.map(([sql]) => sql)].join(' AND ');
  // MEMORY_SELECT's own parameter, the namespace, first.
  const params = [namespace, ...list.params, ...conditions.map(([, value]) => value)];
  const sql = `SELECT doc, ${MEMORY_SELECT} FROM engram_memories WHERE ${where}`;
  const out = new Map<number, MemoryRecord>();
  for (const row of await db.all<MemoryRow & { doc: number | string }>(dialect.native(sql), params)) {
    const doc = Number(row.doc);
    out.set(doc, memoryFromRow(namespace, row));
    cache.set(namespace, doc, row.id);
  }
  return out;
}

/**
 * `ns = ? AND doc in the list`, the list bound as one parameter whatever its length (a JSON array with
 * json_each on SQLite, a bigint[] on Postgres): a statement with thousands of placeholders costs more to
 * prepare than to run.
 */
function docList(
  dialect: SqlDialect,
  namespace: string,
  docs: readonly number[],
): { sql: string; params: SqlParam[] } {
  if (dialect.name === 'postgres') {
    return { sql: 'ns = ? AND doc = ANY(?::bigint[])', params: [namespace, `{${docs.join(',')}}`] };
  }
  return {
    sql: 'ns = ? AND doc IN (SELECT value FROM json_each(?))',
    params: [namespace, `[${docs.join(',')}]`],
  };
}
