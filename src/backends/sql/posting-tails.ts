import { BulkWriter } from './bulk.js';
import type { SqlDialect } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';

/** A posting row of a namespace's newest group as the store holds it: its bytes and their last document. */
export interface TailRow {
  bytes: Uint8Array;
  last: number;
}

/**
 * The rows of a namespace's newest group as this store last wrote them, for a store that alone writes its
 * database (sql.js): a bulk add then appends to them without reading them back. `docnos` is the namespace's
 * counter after that write; a batch that finds another value, or that edits or deletes texts, drops the
 * cache. `data` maps a term to its row, or to null when the row is known not to exist; `complete`: every
 * row of the group is in `data` (the group was started by a cached write), so a term not in it has no row.
 * `pending`: terms whose row in `data` is newer than the database's, a write buffer like FTS4's pending
 * terms: a batch of 1000 memories touches ~13K rows of the newest group, and each row is written once
 * when the group is left or before anything reads the postings, instead of once per batch.
 */
export interface TailBlocks {
  grp: number;
  docnos: number;
  complete: boolean;
  data: Map<string, TailRow | null>;
  pending: Set<string>;
}

const POSTING_UPSERT = ' ON CONFLICT (ns, term, grp) DO UPDATE SET data = excluded.data';

/**
 * The newest posting rows per namespace, with the writes deferred to them. What a transaction changes is
 * staged and becomes the store's state only when the transaction commits (`commit`, called by the
 * executor after COMMIT); a rolled-back transaction's changes are dropped (`rollback`), so the cache and
 * its pending rows always match the database's committed rows.
 */
export class PostingTails {
  private readonly tails = new Map<string, TailBlocks>();
  private staged: (() => void)[] = [];

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
    for (const change of staged) change();
  }

  rollback(): void {
    this.staged = [];
  }

  /** Whether some namespace has rows newer than the database's. */
  get hasPending(): boolean {
    for (const tail of this.tails.values()) if (tail.pending.size > 0) return true;
    return false;
  }

  /** Writes every pending row, in the caller's transaction; they count as written once it commits. */
  async flush(db: SqlQueries, dialect: SqlDialect): Promise<void> {
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
    });
  }
}
