import { visitIndexTerms } from '../../core/text/index.js';
import { BulkWriter } from './bulk.js';
import type { SqlDialect } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';
import { deleteTwins, type GroupPairing, pairingOf, pairingRows, pairsRows } from './paired-words.js';
import { BLOCK_DOCS, blockOf } from './posting-blocks.js';
import { ByteArena, type TailBlocks, TailRow } from './tail-rows.js';

const POSTING_UPSERT = ' ON CONFLICT (ns, term, grp) DO UPDATE SET data = excluded.data';

/** What the current transaction appended to a committed tail's rows, undone if it rolls back. */
interface UndoLog {
  tail: TailBlocks;
  rows: TailRow[];
  terms: string[];
  sizes: number[];
  lasts: number[];
  /** 1: the row was made by the transaction, 2: the transaction made it pending, 0: neither. */
  made: number[];
}

/**
 * The terms of one text and their counts, the first `textSize` of each array: reused from text to text
 * at the size they grew to (emptied with `length = 0`, an array gives its storage back and grows again
 * push by push, text after text).
 */
const textTerms: string[] = [];
const textCounts: number[] = [];
let textSize = 0;
let textLength = 0;
const collect = (term: string, count: number, length: number) => {
  textTerms[textSize] = term;
  textCounts[textSize] = count;
  textSize += 1;
  textLength = length;
};

/**
 * The newest posting rows per namespace, with the writes deferred to them. What a transaction changes is
 * staged and becomes the store's state only when the transaction commits (`commit`, called by the
 * executor after COMMIT); a rolled-back transaction's changes are dropped (`rollback`), so the cache and
 * its pending rows always match the database's committed rows.
 */
export class PostingTails {
  private readonly tails = new Map<string, TailBlocks>();
  private staged: (() => void)[] = [];
  private undo: UndoLog[] = [];
  private batches = 0;
  /** Rows of groups bulk adds left, not yet written (`hold`): committed, and the current transaction's. */
  private held: HeldRows = { rows: [], bytes: 0 };
  private heldNow: HeldRows = { rows: [], bytes: 0 };
  /** Which committed held rows the current transaction wrote (they go once it commits). */
  private heldWritten: ((row: SqlParam[]) => boolean)[] = [];
  /** Held rows are written once their postings are over this many bytes (HELD_BYTES). */
  heldBytes = HELD_BYTES;

  /** The namespace's committed tail; callers never change it, they `stage` what their write does to it. */
  get(namespace: string): TailBlocks | undefined {
    return this.tails.get(namespace);
  }

  /** Applied when the current transaction commits. */
  stage(change: () => void): void {
    this.staged.push(change);
  }

  /** The namespace's tail becomes `tail` (undefined: none) once the current transaction commits. */
  replace(namespace: string, tail: TailBlocks | undefined): void {
    this.stage(() => {
      if (tail === undefined) this.tails.delete(namespace);
      else this.tails.set(namespace, tail);
    });
  }

  commit(): void {
    const staged = this.staged;
    this.staged = [];
    this.undo = [];
    for (const change of staged) change();
    const now = this.heldNow;
    this.heldNow = { rows: [], bytes: 0 };
    for (const written of this.heldWritten) this.held = keptRows(this.held, written);
    this.heldWritten = [];
    for (const row of now.rows) this.held.rows.push(row);
    this.held.bytes += now.bytes;
  }

  rollback(): void {
    this.staged = [];
    this.heldNow = { rows: [], bytes: 0 };
    this.heldWritten = [];
    for (const log of this.undo.reverse()) {
      for (let i = log.rows.length - 1; i >= 0; i--) {
        const row = log.rows[i]!;
        row.size = log.sizes[i]!;
        row.last = log.lasts[i]!;
        if (log.made[i] === 1) log.tail.data.delete(log.terms[i]!);
        if (log.made[i]! > 0) log.tail.pending.delete(log.terms[i]!);
      }
    }
    this.undo = [];
  }

  /**
   * Files a bulk add's postings, in the caller's transaction: `texts` are new memories numbered from
   * `first` up. Each posting is appended to its row's bytes in place; only rows of groups the batch
   * leaves are written now, the newest group's wait (pending). Returns undefined, doing nothing, when the
   * cache cannot take the batch alone (rows of its group it does not hold may exist): the caller's
   * general path then reads them back. The rows come out byte for byte as that path writes them.
   */
  async appendTexts(
    db: SqlQueries,
    dialect: SqlDialect,
    namespace: string,
    first: number,
    texts: readonly string[],
    language: unknown,
  ): Promise<{ docs: number; tokens: number } | undefined> {
    const committed = this.tails.get(namespace);
    // Numbers from `first` up were never handed out: a group starting there has no rows yet.
    const usable = committed ? committed.docnos === first && committed.complete : first % BLOCK_DOCS === 0;
    if (!usable) {
      // The general path reads the rows it lacks: every row of the namespace must be in the database.
      await this.writeHeld(db, dialect, namespace);
      return undefined;
    }
    const stamp = ++this.batches;
    const fresh = (grp: number): TailBlocks => ({
      grp,
      docnos: 0,
      complete: true,
      data: new Map(),
      pending: new Set(),
    });
    let tail = committed ?? fresh(blockOf(first));
    const log: UndoLog | undefined = committed && {
      tail: committed,
      rows: [],
      terms: [],
      sizes: [],
      lasts: [],
      made: [],
    };
    if (log) this.undo.push(log);
    let tokens = 0;
    for (let i = 0; i < texts.length; i++) {
      const doc = first + i;
      if (blockOf(doc) !== tail.grp) {
        // The batch leaves the group: its rows are written now, and the cache moves to the next one.
        await this.writeRows(db, dialect, namespace, tail);
        const room = tail.arena?.buffer.length;
        tail = fresh(blockOf(doc));
        // The next group of a bulk add takes about as many bytes: its arena starts at the size the last
        // one grew to, rather than doubling up from 1 KiB (copying each size into the next) once more.
        if (room !== undefined) tail.arena = new ByteArena(new Uint8Array(room));
      }
      textSize = 0;
      textLength = 0;
      visitIndexTerms(texts[i]!, language, collect);
      const { data, pending } = tail;
      const logged = tail === committed ? log : undefined;
      for (let t = 0; t < textSize; t++) {
        const term = textTerms[t]!;
        let row = data.get(term);
        // null: known not to exist, as in a complete tail a term it does not name.
        if (row == null) {
          tail.arena ??= new ByteArena();
          row = TailRow.empty(tail.arena);
          data.set(term, row);
          pending.add(term);
          if (logged) record(logged, term, row, 1);
        } else if (row.stamp !== stamp) {
          if (logged) record(logged, term, row, pending.has(term) ? 0 : 2);
          pending.add(term);
        }
        row.stamp = stamp;
        row.append(doc, textCounts[t]!, textLength);
      }
      tokens += textLength;
    }
    const docnos = first + texts.length;
    if (tail === committed) {
      this.stage(() => {
        committed.docnos = docnos;
      });
    } else {
      tail.docnos = docnos;
      this.replace(namespace, tail);
    }
    return { docs: texts.length, tokens };
  }

  /**
   * Writes every pending row of `tail` (a group being left: it gets no new documents), in the caller's
   * transaction. On SQLite the group's word and stem rows that hold the same bytes are written as one
   * paired row (paired-words.ts), and the two rows a flush wrote before go; a word row holding the
   * bytes of another stem's row is written as a reference to it.
   */
  private async writeRows(db: SqlQueries, dialect: SqlDialect, namespace: string, tail: TailBlocks) {
    const pairing = pairsRows(dialect) && tail.complete ? pairingOf(rowBytes(tail)) : NO_PAIRING;
    const { twins, references } = pairing;
    // Rows a flush wrote are stored: those a pair replaces go.
    if (tail.flushed) await deleteTwins(db, namespace, tail.grp, twins);
    const rows = pairingRows(namespace, tail.grp, pairing);
    for (const term of tail.pending) {
      if (!twins.has(term) && !references.has(term)) {
        rows.push([namespace, term, tail.grp, tail.data.get(term)!.bytes]);
      }
    }
    if (!tail.flushed) {
      await this.hold(db, dialect, rows);
      return;
    }
    await insertRows(db, dialect, rows);
  }

  /**
   * Keeps the rows of a group a bulk add left, to be written with those of the groups it leaves next
   * (copied out of the group's arena, which then goes). Each write of a group's rows lands all over the
   * postings tree, keyed (ns, term, grp): SQLite rewrites most of its pages for each group, ~12 times
   * over at 100K memories. Written together, a term's rows of several groups are neighbours, and a page
   * is rewritten once per write. Written when over HELD_BYTES, and, as pending rows are, before postings
   * are read or the database is exported or saved, and before a batch the cache cannot take alone.
   */
  private async hold(db: SqlQueries, dialect: SqlDialect, rows: SqlParam[][]): Promise<void> {
    let size = 0;
    for (const row of rows) size += (row[3] as Uint8Array).length;
    const copy = new Uint8Array(size);
    let at = 0;
    for (const row of rows) {
      const bytes = row[3] as Uint8Array;
      copy.set(bytes, at);
      row[3] = copy.subarray(at, at + bytes.length);
      at += bytes.length;
    }
    for (const row of rows) this.heldNow.rows.push(row);
    this.heldNow.bytes += size;
    const committed = this.heldWritten.length > 0 ? 0 : this.held.bytes;
    if (committed + this.heldNow.bytes > this.heldBytes) await this.writeHeld(db, dialect);
  }

  /**
   * Writes the held rows (of `namespace` only, when given), in the caller's transaction: those held before
   * it count as written once it commits (`commit`), its own at once (a rollback drops them with it).
   */
  private async writeHeld(db: SqlQueries, dialect: SqlDialect, namespace?: string): Promise<void> {
    // Every namespace's were written in this transaction and none held since (`flush`, then each
    // namespace's `flushNamespace`): nothing to look for.
    if (this.heldWritten.includes(EVERY_ROW) && this.heldNow.rows.length === 0) return;
    const mine = namespace === undefined ? EVERY_ROW : (row: SqlParam[]) => row[0] === namespace;
    // Rows written once in this transaction are not written again: a general path may have changed them since.
    const unwritten = (row: SqlParam[]) => mine(row) && !this.heldWritten.some((written) => written(row));
    const rows = this.held.rows.filter(unwritten);
    for (const row of this.heldNow.rows) if (mine(row)) rows.push(row);
    if (rows.length === 0) return;
    await insertRows(db, dialect, rows);
    this.heldNow = keptRows(this.heldNow, mine);
    this.heldWritten.push(mine);
  }

  /** Whether rows of groups bulk adds left wait to be written. */
  get hasHeld(): boolean {
    return this.held.rows.length > 0;
  }

  /** Writes the held rows of every namespace, in the caller's transaction. */
  writeHeldRows(db: SqlQueries, dialect: SqlDialect): Promise<void> {
    return this.writeHeld(db, dialect);
  }

  /** Whether some namespace has rows newer than the database's. */
  get hasPending(): boolean {
    if (this.hasHeld) return true;
    for (const tail of this.tails.values()) if (tail.pending.size > 0) return true;
    return false;
  }

  /** Writes every pending row, in the caller's transaction; they count as written once it commits. */
  async flush(db: SqlQueries, dialect: SqlDialect): Promise<void> {
    await this.writeHeld(db, dialect);
    for (const [namespace, tail] of this.tails) await this.flushNamespace(db, dialect, namespace, tail);
  }

  /**
   * Writes the pending rows of one namespace's tail, except the terms in `skip` (the caller writes
   * those itself), in the caller's transaction.
   */
  async flushNamespace(
    db: SqlQueries,
    dialect: SqlDialect,
    namespace: string,
    tail: TailBlocks,
    skip?: ReadonlySet<string>,
  ): Promise<void> {
    await this.writeHeld(db, dialect, namespace);
    if (tail.pending.size === 0) return;
    const rows: SqlParam[][] = [];
    for (const term of [...tail.pending].sort()) {
      if (skip?.has(term)) continue;
      const row = tail.data.get(term);
      if (row) rows.push([namespace, term, tail.grp, row.bytes]);
    }
    await new BulkWriter(db, dialect).insert(
      'engram_postings',
      ['ns', 'term', 'grp', 'data'],
      rows,
      POSTING_UPSERT,
    );
    const written = [...tail.pending];
    this.stage(() => {
      for (const term of written) tail.pending.delete(term);
      tail.flushed = true;
    });
  }
}

/** `writeHeld` of every namespace: one function, so that a transaction can tell it already ran. */
const EVERY_ROW = (_row: SqlParam[]): boolean => true;

/** Rows held (`PostingTails.hold`) and the bytes of their data. */
interface HeldRows {
  rows: SqlParam[][];
  bytes: number;
}

/**
 * Held rows are written once over this many bytes of postings: ~11 groups of 4096 memories of the bench
 * corpus, written in two goes over a bulk add of 100K (and the rest before a search or a save).
 */
const HELD_BYTES = 8 * 1024 * 1024;

/** The rows of `held` that `written` does not take, and their bytes. */
function keptRows(held: HeldRows, written: (row: SqlParam[]) => boolean): HeldRows {
  const rows = held.rows.filter((row) => !written(row));
  let bytes = 0;
  for (const row of rows) bytes += (row[3] as Uint8Array).length;
  return { rows, bytes };
}

/** Posting rows upserted in key order (ns, term, grp), which SQLite inserts fastest. */
async function insertRows(db: SqlQueries, dialect: SqlDialect, rows: SqlParam[][]): Promise<void> {
  rows.sort((a, b) => {
    if (a[0] !== b[0]) return (a[0] as string) < (b[0] as string) ? -1 : 1;
    if (a[1] !== b[1]) return (a[1] as string) < (b[1] as string) ? -1 : 1;
    return (a[2] as number) - (b[2] as number);
  });
  await new BulkWriter(db, dialect).insert(
    'engram_postings',
    ['ns', 'term', 'grp', 'data'],
    rows,
    POSTING_UPSERT,
  );
}

const NO_PAIRING: GroupPairing = { pairs: [], twins: new Set(), references: new Map() };

/** Every row of a tail by term, as its bytes. */
function rowBytes(tail: TailBlocks): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  tail.data.forEach((row, term) => {
    if (row) out.set(term, row.bytes);
  });
  return out;
}

function record(log: UndoLog, term: string, row: TailRow, made: number): void {
  log.rows.push(row);
  log.terms.push(term);
  log.sizes.push(row.size);
  log.lasts.push(row.last);
  log.made.push(made);
}
