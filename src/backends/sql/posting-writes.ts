import { visitIndexTerms } from '../../core/text/index.js';
import { BulkWriter } from './bulk.js';
import { type SqlDialect, slices } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';
import { pairGroup, pairsRows } from './paired-words.js';
import type { PendingBatches } from './pending-batches.js';
import { appendPending, mergePending, type PendingState } from './pending-postings.js';
import {
  type BlockPosting,
  blockOf,
  concatBytes,
  decodeBlock,
  encodeBlock,
  encodeTriples,
  lastDoc,
  textPostings,
} from './posting-blocks.js';
import { type BlockChange, blockChanges, readBlocks, splitPairs } from './posting-changes.js';
import { PostingColumns } from './posting-columns.js';
import type { PostingTails } from './posting-tails.js';
import { type TailBlocks, TailRow } from './tail-rows.js';

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

/**
 * The document numbers of a batch's texts, handed out before its postings are built: every memory that
 * keeps a text gets one (a new memory a fresh number; an edited one keeps its own), so the caller can send
 * the memory rows while the texts are indexed (`writePostings`).
 */
export interface DocNumbers {
  /** The document number of every memory that keeps a text. */
  docOf: Map<string, number>;
  /** The numbers the changed memories held before the batch. */
  stored: Map<string, number>;
  /** The changes that got a fresh number, in the order of their numbers. */
  fresh: readonly TextChange[];
  /** The first fresh number (infinity when none). */
  firstFresh: number;
  appendOnly: boolean;
  /** Postgres: the namespace's pending list as the counter's row said, when fresh numbers were taken. */
  pending: (PendingState & { docnos: number }) | undefined;
}

/**
 * Reads the stored document numbers of the changed memories (before the rows change) and takes fresh
 * numbers from the namespace's counter for the rest: the first half of writing a batch's postings.
 */
export async function numberDocuments(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  changes: readonly TextChange[],
): Promise<DocNumbers> {
  const docOf = new Map<string, number>();
  const appendOnly = changes.every((c) => c.before === undefined && c.after !== undefined);
  const stored =
    appendOnly || changes.length === 0
      ? new Map<string, number>()
      : await storedDocs(db, dialect, namespace, changes);
  const fresh = changes.filter((c) => c.after !== undefined && stored.get(c.id) === undefined);
  // Postgres keeps new postings in a pending list (pending-postings.ts): where it starts comes with the counter.
  const pendingList = dialect.name === 'postgres';
  let firstFresh = Number.POSITIVE_INFINITY;
  let pending: (PendingState & { docnos: number }) | undefined;
  if (fresh.length > 0) {
    const sql = pendingList
      ? 'UPDATE engram_namespaces SET docnos = docnos + ? WHERE ns = ? RETURNING docnos, merged, pending'
      : 'UPDATE engram_namespaces SET docnos = docnos + ? WHERE ns = ? RETURNING docnos';
    const [row] = await db.all<NamespaceRow>(dialect.native(sql), [fresh.length, namespace]);
    firstFresh = Number(row!.docnos) - fresh.length;
    if (pendingList) {
      pending = { docnos: firstFresh, merged: Number(row!.merged), pending: Number(row!.pending) };
    }
    for (const [i, change] of fresh.entries()) docOf.set(change.id, firstFresh + i);
  }
  for (const { id, after } of changes) {
    const old = stored.get(id);
    if (after !== undefined && old !== undefined) docOf.set(id, old);
  }
  return { docOf, stored, fresh, firstFresh, appendOnly, pending };
}

/**
 * Rewrites the posting blocks the changes touch, in the caller's transaction, with the numbers
 * `numberDocuments` handed out: each touched row is read once, merged and written once. Returns the
 * change of the namespace's counters.
 */
export async function writePostings(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  changes: readonly TextChange[],
  numbers: DocNumbers,
  language: unknown,
  tails?: PostingTails,
  known?: PendingBatches,
): Promise<WrittenPostings> {
  if (changes.length === 0) return { docs: 0, tokens: 0 };
  const { docOf, stored, fresh, firstFresh, appendOnly, pending } = numbers;
  // Never changed here: what this batch does to it is staged, and kept only if the transaction commits.
  const committed = tails?.get(namespace);
  let tail = committed;
  const pendingList = dialect.name === 'postgres';
  if (appendOnly && tails !== undefined) {
    // sql.js: the cache of the newest rows files the batch alone when it holds every row it touches.
    const texts = fresh.map((c) => c.after!);
    const appended = await tails.appendTexts(db, dialect, namespace, firstFresh, texts, language);
    if (appended !== undefined) return appended;
  }
  if (!appendOnly || tail?.docnos !== firstFresh) tail = undefined;
  if (committed !== undefined && tail === undefined) {
    // A cache this batch cannot use goes; its pending rows are written first, so the rows read below are current.
    await tails!.flushNamespace(db, dialect, namespace, committed);
    tails!.replace(namespace, undefined);
  }
  const postings = new PostingColumns();
  const removals: [term: string, doc: number][] = [];
  let docs = 0;
  let tokens = 0;
  for (const { id, before, after } of changes) {
    const old = stored.get(id);
    if (before !== undefined && old !== undefined) {
      const { length, terms } = textPostings(before, language);
      for (const term of terms.keys()) removals.push([term, old]);
      docs--;
      tokens -= length;
    }
    if (after !== undefined) {
      const doc = docOf.get(id)!;
      // Visited rather than collected in a Map per text: a bulk add indexes thousands.
      const length = visitIndexTerms(after, language, (term, tf, len) => postings.add(term, doc, tf, len));
      docs++;
      tokens += length;
    }
  }
  const ordered = blockChanges(postings.groups(), removals);
  if (pendingList) {
    const end = firstFresh + fresh.length;
    if (appendOnly && pending !== undefined) {
      const batches = known?.find(namespace, pending);
      const appended = await appendPending(db, dialect, namespace, ordered, pending, end, batches);
      const committed = known?.stage(namespace, { ...appended.after, docnos: end }, appended.batches);
      return { docs, tokens, committed, pending: appended.after, written: appended.written };
    }
    known?.forget(namespace);
    // Edits, deletes and mixed batches rewrite blocks: the postings they touch must be there first, and
    // their new documents go straight to the blocks, after every pending one.
    const state = pending ?? (await readPending(db, dialect, namespace));
    const touched = fresh.length > 0 || [...stored.values()].some((doc) => doc >= state.merged);
    if (state.pending > 0 && touched) {
      const after = await mergePending(db, dialect, namespace, state, state.docnos);
      if (fresh.length === 0) await setPending(db, dialect, namespace, after);
    }
    if (fresh.length > 0) await setPending(db, dialect, namespace, { merged: end, pending: 0 });
  }
  // Groups wholly above the numbers handed out before this batch cannot hold a row yet; nor can the
  // rows a complete cache of the newest group does not name.
  const lastOld = blockOf(firstFresh - 1);
  const cached = (b: BlockChange) => tail !== undefined && b.grp === tail.grp;
  const unknown = ordered.filter(
    (b) => b.grp <= lastOld && !(cached(b) && (tail!.complete || tail!.data.has(b.term))),
  );
  const { rows: existing, pairs, references } = await readBlocks(db, dialect, namespace, unknown);
  // What the cache holds after this batch: the group of its last document, complete when the batch
  // started that group.
  let next: TailBlocks | undefined;
  if (appendOnly && tails !== undefined) {
    const newest = blockOf(firstFresh + fresh.length - 1);
    next =
      newest === tail?.grp
        ? tail
        : { grp: newest, docnos: 0, complete: newest > lastOld, data: new Map(), pending: new Set() };
  }
  /** Rows of the cached group, new bytes deferred to a later write (posting-tails.ts); staged for commit. */
  const deferred: [string, TailRow][] = [];
  const upserts: SqlParam[][] = [];
  const appends: SqlParam[][] = [];
  const emptied: [string, number][] = [];
  // Postgres appends in the statement (`data || tail`), so a block's old bytes never travel back; not
  // when a newest-rows cache (sql.js) must learn the whole bytes.
  const appendInDatabase = dialect.name === 'postgres' && next === undefined;
  for (const change of ordered) {
    let current: Uint8Array | undefined;
    let last = -1;
    const known = cached(change) ? tail!.data.get(change.term) : undefined;
    if (known) {
      current = known.bytes;
      last = known.last;
    } else {
      current = existing.get(change.term)?.get(change.grp);
      if (current !== undefined) last = lastDoc(current);
    }
    const { added } = change;
    let data: Uint8Array | null;
    if (change.removed === null && (added[0] ?? -1) > last) {
      // New documents after the block's last: appended to its bytes, the block is not decoded (bulk adds).
      const appended = encodeTriples(added, Math.max(last, 0));
      if (current !== undefined && appendInDatabase) {
        appends.push([namespace, change.term, change.grp, appended]);
        continue;
      }
      data = current === undefined ? appended : concatBytes(current, appended);
      if (next !== undefined && change.grp === next.grp) {
        const row = TailRow.of(data, added[added.length - 3]!);
        if (next === tail) deferred.push([change.term, row]);
        else {
          next.data.set(change.term, row);
          next.pending.add(change.term);
        }
        continue;
      }
    } else {
      // An edited memory keeps its number: its old posting goes, whether or not it is added again.
      const replaced = new Set(change.removed);
      const postings: BlockPosting[] = [];
      for (let i = 0; i < added.length; i += 3) {
        replaced.add(added[i]!);
        postings.push({ doc: added[i]!, tf: added[i + 1]!, len: added[i + 2]! });
      }
      const merged = decodeBlock(current ?? new Uint8Array(0))
        .filter((p) => !replaced.has(p.doc))
        .concat(postings);
      if (!isSorted(merged)) merged.sort((x, y) => x.doc - y.doc);
      data = merged.length > 0 ? encodeBlock(merged) : null;
    }
    if (data !== null) upserts.push([namespace, change.term, change.grp, data]);
    else if (current !== undefined) emptied.push([change.term, change.grp]);
  }
  if (pairs.length > 0 || references.length > 0) {
    splitPairs(pairs, references, ordered, existing, namespace, upserts, emptied);
  }
  for (const slice of slices(emptied, (dialect.maxParams - 1) / 2)) {
    const sql = `DELETE FROM engram_postings WHERE ns = ? AND (term, grp) IN (VALUES ${termBlocks(slice.length)})`;
    await db.run(dialect.native(sql), [namespace, ...slice.flat()]);
  }
  const bulk = new BulkWriter(db, dialect);
  await bulk.insert('engram_postings', POSTING_COLUMNS, upserts, POSTING_UPSERT);
  await bulk.insert('engram_postings', POSTING_COLUMNS, appends, POSTING_APPEND);
  if (next !== undefined) {
    const kept = next;
    const docnos = firstFresh + fresh.length;
    if (kept === tail) {
      tails!.stage(() => {
        for (const [term, row] of deferred) {
          kept.data.set(term, row);
          kept.pending.add(term);
        }
        kept.docnos = docnos;
      });
    } else {
      if (tail !== undefined) {
        // The batch leaves the cached group: its pending rows are written now, but for those the batch
        // itself rewrote above (from the cached bytes).
        const rewritten = new Set(ordered.filter((b) => b.grp === tail!.grp).map((b) => b.term));
        await tails!.flushNamespace(db, dialect, namespace, tail, rewritten);
      }
      kept.docnos = docnos;
      tails!.replace(namespace, kept);
    }
  }
  if (pairsRows(dialect) && fresh.length > 0) {
    // Groups this batch left, the cache's never: the one that was newest before it, when full, and any
    // it filled. A bulk add that held their rows paired them as it left them (posting-tails.ts).
    const last = blockOf(firstFresh + fresh.length - 1);
    for (let grp = blockOf(Math.max(firstFresh - 1, 0)); grp < last; grp++) {
      await pairGroup(db, dialect, namespace, grp);
    }
  }
  return { docs, tokens };
}

export interface WrittenPostings {
  /** What the batch adds to the namespace's counters. */
  docs: number;
  tokens: number;
  /** To call once the transaction committed: what PendingBatches learns from it. */
  committed?: () => void;
  /** The namespace's pending list after the batch, for the caller to record with its counters (Postgres). */
  pending?: PendingState;
  /**
   * A last statement sent but not awaited (the pending rows' insert), so that the database runs it while
   * the caller builds its next rows; the caller awaits it before the transaction ends.
   */
  written?: Promise<void>;
}

type NamespaceRow = { docnos: number | string; merged?: number | string; pending?: number | string };

/** The namespace's counter of document numbers and where its pending list starts (pending-postings.ts). */
async function readPending(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
): Promise<PendingState & { docnos: number }> {
  const sql = 'SELECT docnos, merged, pending FROM engram_namespaces WHERE ns = ?';
  const [row] = await db.all<NamespaceRow>(dialect.native(sql), [namespace]);
  return { docnos: Number(row!.docnos), merged: Number(row!.merged), pending: Number(row!.pending) };
}

/** Records where the namespace's pending list starts and how many batches it holds. */
async function setPending(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  { merged, pending }: PendingState,
): Promise<void> {
  const sql = 'UPDATE engram_namespaces SET merged = ?, pending = ? WHERE ns = ?';
  await db.run(dialect.native(sql), [merged, pending, namespace]);
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

/** `(term, group)` rows for a row-value IN; the cast types the group on Postgres, where VALUES would guess text. */
function termBlocks(count: number): string {
  return Array(count).fill('(?, CAST(? AS BIGINT))').join(', ');
}

function isSorted(postings: readonly BlockPosting[]): boolean {
  for (let i = 1; i < postings.length; i++) if (postings[i - 1]!.doc > postings[i]!.doc) return false;
  return true;
}
