import { BulkWriter } from './bulk.js';
import { type SqlDialect, slices } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';
import {
  type BlockPosting,
  blockOf,
  concatBytes,
  decodeBlock,
  encodeBlock,
  lastDoc,
  textPostings,
} from './posting-blocks.js';

const POSTING_COLUMNS = ['ns', 'term', 'grp', 'data'];
const POSTING_UPSERT = ' ON CONFLICT (ns, term, grp) DO UPDATE SET data = excluded.data';
/** New postings after a row's last: only they are sent, and the database appends them to the row's bytes. */
const POSTING_APPEND =
  ' ON CONFLICT (ns, term, grp) DO UPDATE SET data = engram_postings.data || excluded.data';

/** A memory whose text changes: its content before (undefined: new) and after (undefined: deleted). */
export interface TextChange {
  id: string;
  before: string | undefined;
  after: string | undefined;
}

/** What one (term, group) row loses and gains. */
interface BlockChange {
  term: string;
  grp: number;
  removed: Set<number> | null;
  added: BlockPosting[];
}

/**
 * Rewrites the posting blocks the changes touch, in the caller's transaction: each touched row is read
 * once, merged and written once. Returns the document number of every memory that keeps a text (new
 * memories get fresh numbers; an edited one keeps its own) and the change of the namespace's counters.
 */
export async function writePostings(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  changes: readonly TextChange[],
  language: unknown,
): Promise<{ docOf: Map<string, number>; docs: number; tokens: number }> {
  const docOf = new Map<string, number>();
  if (changes.length === 0) return { docOf, docs: 0, tokens: 0 };
  const stored = await storedDocs(db, dialect, namespace, changes);
  const fresh = changes.filter((c) => c.after !== undefined && stored.get(c.id) === undefined);
  let firstFresh = Number.POSITIVE_INFINITY;
  if (fresh.length > 0) {
    const sql = 'UPDATE engram_namespaces SET docnos = docnos + ? WHERE ns = ? RETURNING docnos';
    const [row] = await db.all<{ docnos: number | string }>(dialect.native(sql), [fresh.length, namespace]);
    firstFresh = Number(row!.docnos) - fresh.length;
    for (const [i, change] of fresh.entries()) docOf.set(change.id, firstFresh + i);
  }
  // By term, then a short list of groups (mostly one): cheaper than a key string per posting.
  const blocks = new Map<string, BlockChange[]>();
  const blockChange = (term: string, doc: number) => {
    const grp = blockOf(doc);
    let list = blocks.get(term);
    if (list === undefined) {
      list = [];
      blocks.set(term, list);
    }
    for (const change of list) if (change.grp === grp) return change;
    const change: BlockChange = { term, grp, removed: null, added: [] };
    list.push(change);
    return change;
  };
  let docs = 0;
  let tokens = 0;
  for (const { id, before, after } of changes) {
    const old = stored.get(id);
    if (before !== undefined && old !== undefined) {
      const { length, terms } = textPostings(before, language);
      for (const term of terms.keys()) {
        const change = blockChange(term, old);
        change.removed ??= new Set();
        change.removed.add(old);
      }
      docs--;
      tokens -= length;
    }
    if (after !== undefined) {
      const doc = old ?? docOf.get(id)!;
      docOf.set(id, doc);
      const { length, terms } = textPostings(after, language);
      for (const [term, tf] of terms) blockChange(term, doc).added.push({ doc, tf, len: length });
      docs++;
      tokens += length;
    }
  }
  const ordered = [...blocks.keys()]
    .sort()
    .flatMap((term) => blocks.get(term)!.sort((x, y) => x.grp - y.grp));
  // Groups wholly above the numbers handed out before this batch cannot hold a row yet.
  const lastOld = blockOf(firstFresh - 1);
  const existing = await readBlocks(
    db,
    dialect,
    namespace,
    ordered.filter((b) => b.grp <= lastOld),
  );
  const upserts: SqlParam[][] = [];
  const appends: SqlParam[][] = [];
  const emptied: [string, number][] = [];
  // Postgres appends in the statement (`data || tail`), so a block's old bytes never travel back.
  const appendInDatabase = dialect.name === 'postgres';
  for (const change of ordered) {
    const current = existing.get(`${change.term} ${change.grp}`);
    if (!isSorted(change.added)) change.added.sort((x, y) => x.doc - y.doc);
    const last = current === undefined ? -1 : lastDoc(current);
    if (change.removed === null && (change.added[0]?.doc ?? -1) > last) {
      // New documents after the block's last: appended to its bytes, the block is not decoded (bulk adds).
      const tail = encodeBlock(change.added, Math.max(last, 0));
      if (current === undefined) upserts.push([namespace, change.term, change.grp, tail]);
      else if (appendInDatabase) appends.push([namespace, change.term, change.grp, tail]);
      else upserts.push([namespace, change.term, change.grp, concatBytes(current, tail)]);
      continue;
    }
    // An edited memory keeps its number: its old posting goes, whether or not it is added again.
    const replaced = new Set(change.removed);
    for (const p of change.added) replaced.add(p.doc);
    const merged = decodeBlock(current ?? new Uint8Array(0))
      .filter((p) => !replaced.has(p.doc))
      .concat(change.added);
    if (!isSorted(merged)) merged.sort((x, y) => x.doc - y.doc);
    if (merged.length > 0) upserts.push([namespace, change.term, change.grp, encodeBlock(merged)]);
    else if (current !== undefined) emptied.push([change.term, change.grp]);
  }
  for (const slice of slices(emptied, (dialect.maxParams - 1) / 2)) {
    const sql = `DELETE FROM engram_postings WHERE ns = ? AND (term, grp) IN (VALUES ${termBlocks(slice.length)})`;
    await db.run(dialect.native(sql), [namespace, ...slice.flat()]);
  }
  const bulk = new BulkWriter(db, dialect);
  await bulk.insert('engram_postings', POSTING_COLUMNS, upserts, POSTING_UPSERT);
  await bulk.insert('engram_postings', POSTING_COLUMNS, appends, POSTING_APPEND);
  return { docOf, docs, tokens };
}

/** The document numbers of the changed memories already stored. */
async function storedDocs(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  changes: readonly TextChange[],
): Promise<Map<string, number>> {
  const ids = changes.filter((c) => c.before !== undefined).map((c) => c.id);
  const out = new Map<string, number>();
  for (const slice of slices(ids, dialect.maxParams - 1)) {
    const list = dialect.inList('id', slice);
    const sql = `SELECT id, doc FROM engram_memories WHERE ns = ? AND ${list.sql} AND doc IS NOT NULL`;
    const rows = await db.all<{ id: string; doc: number | string }>(dialect.native(sql), [
      namespace,
      ...list.params,
    ]);
    for (const row of rows) out.set(row.id, Number(row.doc));
  }
  return out;
}

/**
 * The current postings of the given (term, group) rows that exist, keyed `term group`. Read by term from
 * the lowest group wanted up, an index range per term on both databases (a row-value IN over VALUES is
 * not: SQLite scans the table for it); the few rows of other groups that come along are dropped.
 */
async function readBlocks(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  wanted: readonly BlockChange[],
): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  if (wanted.length === 0) return out;
  const keys = new Set(wanted.map((b) => `${b.term} ${b.grp}`));
  let lowest = wanted[0]!.grp;
  for (const { grp } of wanted) lowest = Math.min(lowest, grp);
  const terms = [...new Set(wanted.map((b) => b.term))];
  // One parameter for the whole list (SQLite: a JSON array, Postgres: an array): no statement with
  // thousands of placeholders to prepare.
  const list =
    dialect.name === 'postgres'
      ? dialect.inList('term', terms)
      : { sql: 'term IN (SELECT value FROM json_each(?))', params: [JSON.stringify(terms)] };
  const sql = `SELECT term, grp, data FROM engram_postings WHERE ns = ? AND ${list.sql} AND grp >= ?`;
  const params = [namespace, ...list.params, lowest];
  for (const row of await db.all<{ term: string; grp: number | string; data: Uint8Array }>(
    dialect.native(sql),
    params,
  )) {
    const key = `${row.term} ${Number(row.grp)}`;
    if (keys.has(key)) out.set(key, row.data);
  }
  return out;
}

/** `(term, group)` rows for a row-value IN; the cast types the group on Postgres, where VALUES would guess text. */
function termBlocks(count: number): string {
  return Array(count).fill('(?, CAST(? AS BIGINT))').join(', ');
}

function isSorted(postings: readonly BlockPosting[]): boolean {
  for (let i = 1; i < postings.length; i++) if (postings[i - 1]!.doc > postings[i]!.doc) return false;
  return true;
}
