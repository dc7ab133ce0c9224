import type { SqlDialect } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';
import {
  danglingReference,
  isPairKey,
  isReference,
  pairedTerms,
  pairKeyOf,
  pairsRows,
  resolvingSelect,
} from './paired-words.js';
import { blockOf, type Triples } from './posting-blocks.js';
import type { TermGroupPostings } from './posting-columns.js';

const NO_POSTINGS: Triples = [];

/** What one (term, group) row loses and gains. */
export interface BlockChange {
  term: string;
  grp: number;
  removed: Set<number> | null;
  /** The postings added, flat as (doc, tf, len) triples in document order. */
  added: Triples;
}

/**
 * What each (term, group) row gains and loses, in key order (term, group), which SQLite inserts fastest.
 * `added` comes in that order; only edits and deletes remove postings.
 */
export function blockChanges(
  added: readonly TermGroupPostings[],
  removals: readonly [term: string, doc: number][],
): BlockChange[] {
  if (removals.length === 0)
    return added.map(({ term, grp, added }) => ({ term, grp, removed: null, added }));
  // By term, then a short list of groups (mostly one): cheaper than a key string per block.
  const blocks = new Map<string, BlockChange[]>();
  const blockChange = (term: string, grp: number) => {
    let list = blocks.get(term);
    if (list === undefined) {
      list = [];
      blocks.set(term, list);
    }
    for (let i = 0; i < list.length; i++) if (list[i]!.grp === grp) return list[i]!;
    const change: BlockChange = { term, grp, removed: null, added: NO_POSTINGS };
    list.push(change);
    return change;
  };
  for (const group of added) blockChange(group.term, group.grp).added = group.added;
  for (const [term, doc] of removals) {
    const change = blockChange(term, blockOf(doc));
    change.removed ??= new Set();
    change.removed.add(doc);
  }
  const ordered: BlockChange[] = [];
  for (const term of [...blocks.keys()].sort()) {
    const list = blocks.get(term)!;
    if (list.length > 1) list.sort((x, y) => x.grp - y.grp);
    for (const change of list) ordered.push(change);
  }
  return ordered;
}

/**
 * The current postings of the given (term, group) rows that exist, by term then group, and the paired
 * rows among them (SQLite, paired-words.ts), each read as both of its terms. Read by term from the
 * lowest group wanted up, an index range per term on both databases (a row-value IN over VALUES is
 * not: SQLite scans the table for it); the few rows of other groups that come along are dropped.
 */
export async function readBlocks(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  wanted: readonly BlockChange[],
): Promise<{
  rows: Map<string, Map<number, Uint8Array>>;
  pairs: [string, number][];
  references: [word: string, grp: number, stem: string][];
}> {
  const out = new Map<string, Map<number, Uint8Array>>();
  const pairs: [string, number][] = [];
  const references: [string, number, string][] = [];
  if (wanted.length === 0) return { rows: out, pairs, references };
  let lowest = wanted[0]!.grp;
  for (const { grp } of wanted) lowest = Math.min(lowest, grp);
  const named = [...new Set(wanted.map((b) => b.term))];
  const paired = pairsRows(dialect);
  const terms = paired ? [...new Set([...named, ...named.map(pairKeyOf)])] : named;
  const touched = new Set(paired ? wanted.map((b) => `${b.grp} ${b.term}`) : []);
  // One parameter for the whole list (SQLite: a JSON array, Postgres: an array): no statement with
  // thousands of placeholders to prepare.
  const list =
    dialect.name === 'postgres'
      ? dialect.inList('term', terms)
      : { sql: 'term IN (SELECT value FROM json_each(?))', params: [JSON.stringify(terms)] };
  // SQLite reads references as the rows they name (paired-words.ts).
  const sql = paired
    ? `${resolvingSelect(true)} WHERE p.ns = ? AND p.${list.sql} AND p.grp >= ?`
    : `SELECT term, grp, data FROM engram_postings WHERE ns = ? AND ${list.sql} AND grp >= ?`;
  const params = [namespace, ...list.params, lowest];
  type Row = { term: string; grp: number | string; data: Uint8Array; target?: string | null };
  for (const row of await db.all<Row>(dialect.native(sql), params)) {
    const grp = Number(row.grp);
    if (paired && isReference(row.data)) throw danglingReference(row.term, grp, row.data);
    if (row.target != null) references.push([row.term, grp, row.target]);
    const held = isPairKey(row.term) ? pairedTerms(row.term) : [row.term];
    if (held.length === 2) {
      // A pair of a group the batch does not touch (it came along in the range) stays as it is.
      if (!held.some((term) => touched.has(`${grp} ${term}`))) continue;
      pairs.push([row.term, grp]);
    }
    for (const term of held) {
      let groups = out.get(term);
      if (groups === undefined) {
        groups = new Map();
        out.set(term, groups);
      }
      groups.set(grp, row.data);
    }
  }
  return { rows: out, pairs, references };
}

/**
 * A batch touching a term of a paired row (paired-words.ts) splits it: the pair goes, and each of its
 * two terms gets a row of its own, the batch's new bytes or, for a term the batch leaves alone, the
 * pair's. A split is not paired again: a group is paired once, when it is left (posting-tails.ts,
 * `pairGroup`, which leaves a group holding a pair alone). A reference whose stem row changes gets the
 * bytes it named, should the batch leave it alone (an edit changes both, as they hold the same documents).
 */
export function splitPairs(
  pairs: readonly [key: string, grp: number][],
  references: readonly [word: string, grp: number, stem: string][],
  ordered: readonly BlockChange[],
  existing: ReadonlyMap<string, ReadonlyMap<number, Uint8Array>>,
  namespace: string,
  upserts: SqlParam[][],
  emptied: [string, number][],
): void {
  const changed = new Set(ordered.map((b) => `${b.grp} ${b.term}`));
  for (const [key, grp] of pairs) {
    emptied.push([key, grp]);
    for (const term of pairedTerms(key)) {
      if (!changed.has(`${grp} ${term}`)) upserts.push([namespace, term, grp, existing.get(term)!.get(grp)!]);
    }
  }
  for (const [word, grp, stem] of references) {
    if (changed.has(`${grp} ${stem}`) && !changed.has(`${grp} ${word}`)) {
      upserts.push([namespace, word, grp, existing.get(word)!.get(grp)!]);
    }
  }
}
