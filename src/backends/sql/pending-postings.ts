import { WORD_MARK } from '../../core/text/index.js';
import type { SqlDialect } from './dialect.js';
import type { SqlQueries } from './executor.js';
import { mergeKnownPending } from './pending-batches.js';
import {
  BlockRows,
  byteEstimate,
  firstDoc,
  forEachEntry,
  insertPackedBlocks,
  insertPackedPending,
  type MergingBlock,
  NO_TRIPLES,
  PackedRows,
  readPendingRow,
  termName,
} from './pending-rows.js';
import { BLOCK_DOCS, blockOf, lastDoc, type Triples } from './posting-blocks.js';

/**
 * Postgres' pending list of new postings, as GIN keeps one (`fastupdate`). Appending a batch's postings
 * to the posting blocks rewrites a row version of every (term, group) block it touches: ~15,000 rows for
 * a push request of 770 memories (a term per word and per stem), each update leaving a dead row version
 * (and TOAST) behind, and a block was rewritten by every batch until its group filled. New documents'
 * postings go instead to `engram_pending`, one row per batch and *bucket* (a stem's bucket is a hash of
 * it, one of STEM_BUCKETS; a word as written, which prefixes read, is bucketed by its first characters),
 * which searches read beside the blocks (queries.ts, posting-reads.ts) until a merge moves them into the
 * blocks:
 * - when a batch completes a group of document numbers, the group's postings become its blocks, each
 *   inserted once (a filling namespace never updates a block);
 * - when more than PENDING_BATCHES_MAX batches are pending (small writes), everything is merged;
 * - before an edit or a delete of a pending document, or a batch that writes blocks directly.
 * The namespace row says where the list starts: documents numbered from `merged` up have their postings
 * in `engram_pending` only, those below in the blocks only; `pending` counts the batches since.
 * Writers of a namespace hold its row (StagedWrites.lockNamespace), so merges never race; a search is one
 * statement over both tables, so it sees every posting once, before or after a merge.
 */
export const PENDING_BATCHES_MAX = 16;

/** What one (term, group) block gains: postings flat as (doc, tf, len) triples, in document order. */
export interface PendingBlock {
  term: string;
  grp: number;
  added: Triples;
}

/** Where the namespace's pending list starts and how many batches it holds. */
export interface PendingState {
  merged: number;
  pending: number;
}

/**
 * Stems are spread over this many buckets by a hash of the whole term, so that a search reads about
 * 1/256 of a batch's stems per word (a row of a few hundred bytes, kept inline) rather than every stem
 * sharing its first letters.
 */
export const STEM_BUCKETS = 256;

/**
 * Words as written (WORD_MARK + word), which prefixes and typo corrections read, keep ordered buckets: their
 * first this many code points, the mark included, so that a prefix is one bucket or one range of them.
 */
export const WORD_BUCKET_CHARS = 3;

/**
 * The bucket of a term: `#` and two hex digits of its hash for a stem, its first WORD_BUCKET_CHARS code
 * points for a word as written (a surrogate pair is one). The two kinds never share a key: stem buckets
 * start with `#`, word buckets with the mark.
 */
export function bucketOf(term: string): string {
  if (!term.startsWith(WORD_MARK)) return stemBucket(term);
  let end = 0;
  for (let n = 0; n < WORD_BUCKET_CHARS && end < term.length; n++) {
    const unit = term.charCodeAt(end);
    end += unit >= 0xd800 && unit <= 0xdbff && end + 1 < term.length ? 2 : 1;
  }
  return term.slice(0, end);
}

const STEM_BUCKET_NAMES = Array.from(
  { length: STEM_BUCKETS },
  (_, i) => `#${i.toString(16).padStart(2, '0')}`,
);

/** FNV-1a over the UTF-16 code units, reduced to STEM_BUCKETS; stored in every row key, so never changed. */
function stemBucket(term: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < term.length; i++) hash = Math.imul(hash ^ term.charCodeAt(i), 0x01000193);
  return STEM_BUCKET_NAMES[(hash >>> 0) % STEM_BUCKETS]!;
}

/** Every stem bucket, as a key range: what a prefix that is not over words as written reads. */
export const STEM_BUCKET_RANGE: readonly [string, string] = ['#', '$'];

const BLOCK_APPEND =
  ' ON CONFLICT (ns, term, grp) DO UPDATE SET data = engram_postings.data || excluded.data';

/**
 * An append-only batch's new postings (its documents end before `end`): inserted as pending rows, or
 * merged with the pending list into the blocks when the batch completes a group or the list is long.
 * `state` is the namespace's before the batch; `known`, the pending list's batches when this process
 * knows them (pending-batches.ts), spares reading them back. Returns the state after the batch, the
 * pending list's batches then, when known, and the pending rows' insert when it is still running.
 */
export async function appendPending(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  blocks: readonly PendingBlock[],
  state: PendingState,
  end: number,
  known?: readonly (readonly PendingBlock[])[],
): Promise<{
  after: PendingState;
  batches: (readonly PendingBlock[])[] | undefined;
  written?: Promise<void>;
}> {
  const open = blockOf(end) * BLOCK_DOCS;
  const boundary = open > state.merged ? open : state.pending >= PENDING_BATCHES_MAX ? end : undefined;
  if (boundary === undefined) {
    return {
      after: { merged: state.merged, pending: state.pending + 1 },
      batches: known && [...known, blocks],
      // Sent, not awaited: nothing after it needs its answer (see WrittenPostings.written).
      written: insertPending(db, dialect, namespace, blocks),
    };
  }
  if (known !== undefined) {
    const { after, rest } = await mergeKnownPending(db, dialect, namespace, state, boundary, known, blocks);
    return { after, batches: rest.length > 0 ? [rest] : [] };
  }
  return { after: await mergePending(db, dialect, namespace, state, boundary, blocks), batches: undefined };
}

/**
 * Moves the pending postings of documents below `boundary` (a group's first number, or past every
 * document) with those of `batch` into the blocks: a block that cannot exist yet (its group lies wholly
 * at or above `merged`) is inserted whole, one that may exist gets them appended in the statement. What
 * lies at or above the boundary is written back as pending rows.
 */
export async function mergePending(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  state: PendingState,
  boundary: number,
  batch: readonly PendingBlock[] = [],
): Promise<PendingState> {
  // By term, then a short list of groups (mostly one).
  const merged = new Map<string, MergingBlock[]>();
  const blockOfTerm = (term: string, grp: number): MergingBlock => {
    let list = merged.get(term);
    if (list === undefined) {
      list = [];
      merged.set(term, list);
    }
    for (const block of list) if (block.grp === grp) return block;
    const block: MergingBlock = { term, grp, pieces: [], added: NO_TRIPLES };
    list.push(block);
    return block;
  };
  if (state.pending > 0) {
    // Batch after batch, so that each block's postings come in document order.
    const sql = 'SELECT data FROM engram_pending WHERE ns = ? ORDER BY first';
    const rows = await db.all<{ data: Uint8Array }>(dialect.native(sql), [namespace]);
    for (const { data } of rows) readPendingRow(data, blockOfTerm);
    if (rows.length > 0) await removeMergedPending(db, dialect, namespace);
  }
  // The batch's documents come after every pending one (numbers are handed out in commit order).
  for (const { term, grp, added } of batch) blockOfTerm(term, grp).added = added;
  const below: MergingBlock[] = [];
  const rest: MergingBlock[] = [];
  for (const list of merged.values()) {
    for (const block of list) (block.grp * BLOCK_DOCS < boundary ? below : rest).push(block);
  }
  await writeMerged(db, dialect, namespace, state, below.sort(byKey), rest.sort(byKey));
  return { merged: boundary, pending: rest.length > 0 ? 1 : 0 };
}

/**
 * The end of a merge, shared by mergePending and mergeKnownPending (pending-batches.ts): `below` (blocks of
 * documents under the boundary, in key order) into the posting blocks — inserted whole where the block
 * cannot exist yet, appended in the statement where it may — and `rest` (key order) back as pending rows.
 */
export async function writeMerged(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  state: PendingState,
  below: readonly (MergingBlock | PendingBlock)[],
  rest: readonly MergingBlock[] | readonly PendingBlock[],
): Promise<void> {
  // Blocks hold only documents below `merged`: a group above its last one has none yet.
  const lastMergedGroup = state.merged > 0 ? blockOf(state.merged - 1) : -1;
  const existing = await lastDocs(
    db,
    dialect,
    namespace,
    below.filter((b) => b.grp <= lastMergedGroup),
  );
  const inserts = new BlockRows(below.length);
  const appends = new BlockRows(0);
  for (const block of below) {
    const last = existing.get(block.term)?.get(block.grp);
    (last === undefined ? inserts : appends).add(block, last ?? 0);
  }
  await insertPackedBlocks(db, dialect, namespace, inserts.terms, inserts.groups, inserts.packed);
  await insertPackedBlocks(
    db,
    dialect,
    namespace,
    appends.terms,
    appends.groups,
    appends.packed,
    BLOCK_APPEND,
  );
  await insertPending(db, dialect, namespace, rest);
}

/** Deletes the namespace's pending rows, once a merge has read them. */
export async function removeMergedPending(db: SqlQueries, dialect: SqlDialect, namespace: string) {
  await db.run(dialect.native('DELETE FROM engram_pending WHERE ns = ?'), [namespace]);
}

/**
 * Postings as pending rows, one per bucket, keyed by their first document. A row holds entries in term
 * order: the term's UTF-8 length and bytes, then its postings' length and bytes (encodeTriples from 0).
 * `blocks` come in key order (term, group), so a term's groups are adjacent.
 */
async function insertPending(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  blocks: readonly MergingBlock[] | readonly PendingBlock[],
): Promise<void> {
  if (blocks.length === 0) return;
  // Each bucket's terms, as the index of their first block.
  const buckets = new Map<string, number[]>();
  let first = Number.POSITIVE_INFINITY;
  let estimate = 0;
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i]!;
    first = Math.min(first, firstDoc(block));
    estimate += byteEstimate(block);
    if (i > 0 && blocks[i - 1]!.term === block.term) continue;
    const bucket = bucketOf(block.term);
    const starts = buckets.get(bucket);
    if (starts === undefined) buckets.set(bucket, [i]);
    else starts.push(i);
  }
  const packed = new PackedRows(estimate);
  for (const starts of buckets.values()) {
    for (const start of starts) {
      const term = blocks[start]!.term;
      packed.sizedText(term);
      const body = packed.startSized();
      let previous = 0;
      for (let i = start; i < blocks.length && blocks[i]!.term === term; i++) {
        previous = packed.postings(blocks[i]!, previous);
      }
      packed.endSized(body);
    }
    packed.endRow();
  }
  await insertPackedPending(db, dialect, namespace, first, [...buckets.keys()], packed);
}

const UTF8 = new TextEncoder();

/**
 * The entries of a pending row for exact terms and prefixes, as (term, postings) pairs: names are compared
 * as bytes, so only the matching ones are decoded (a row holds its bucket's every term).
 */
export function matchingEntries(
  terms: readonly string[],
  prefixes: readonly string[],
): (data: Uint8Array) => [string, Uint8Array][] {
  const exact = terms.map((term) => UTF8.encode(term));
  const starts = prefixes.map((prefix) => UTF8.encode(prefix));
  const begins = (name: Uint8Array, with_: Uint8Array) => {
    if (name.length < with_.length) return false;
    for (let i = 0; i < with_.length; i++) if (name[i] !== with_[i]) return false;
    return true;
  };
  return (data) => {
    const out: [string, Uint8Array][] = [];
    forEachEntry(data, (name, postings) => {
      const match =
        exact.some((term) => term.length === name.length && begins(name, term)) ||
        starts.some((prefix) => begins(name, prefix));
      if (match) out.push([termName(name), postings]);
    });
    return out;
  };
}

/** The last document of each of these blocks that exists, by term then group (the whole rows travel). */
async function lastDocs(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  wanted: readonly { term: string; grp: number }[],
): Promise<Map<string, Map<number, number>>> {
  const out = new Map<string, Map<number, number>>();
  if (wanted.length === 0) return out;
  const terms = dialect.inList('term', [...new Set(wanted.map((b) => b.term))]);
  const groups = [...new Set(wanted.map((b) => b.grp))];
  const sql = `SELECT term, grp, data FROM engram_postings WHERE ns = ? AND ${terms.sql}
    AND grp >= ? AND grp <= ?`;
  const rows = await db.all<{ term: string; grp: number | string; data: Uint8Array }>(dialect.native(sql), [
    namespace,
    ...terms.params,
    Math.min(...groups),
    Math.max(...groups),
  ]);
  for (const row of rows) {
    let byGroup = out.get(row.term);
    if (byGroup === undefined) {
      byGroup = new Map();
      out.set(row.term, byGroup);
    }
    byGroup.set(Number(row.grp), lastDoc(row.data));
  }
  return out;
}

/** Key order, (term, group): the order of the primary key. */
export function byKey(a: { term: string; grp: number }, b: { term: string; grp: number }): number {
  return a.term < b.term ? -1 : a.term > b.term ? 1 : a.grp - b.grp;
}
