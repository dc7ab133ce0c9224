import type { MemoryFilter } from '../../core/filter.js';
import type {
  ApplyResult,
  DocPostingList,
  NativeSearchHit,
  StoreCapabilities,
  TextStats,
  WriteBatch,
} from '../../core/store-contract.js';
import { postgresDialect } from '../sql/dialect.js';
import type { SqlExecutor, SqlQueries } from '../sql/executor.js';
import { readSearchPostings } from '../sql/posting-reads.js';
import { SqlStore } from '../sql/sql-store.js';
import { refreshUnitVectors } from '../sql/vector-columns.js';
import type { PostgresDriver } from './driver.js';
import { type PostgresVectorOptions, PostgresVectors, parsePostgresVectors } from './vectors.js';

export interface PostgresStoreOptions {
  /**
   * Vector search, as on the other stores: `{ index: 'exact' }` (default, same results as every store) or
   * `{ index: 'hnsw', hnsw?: { m?, efConstruction?, efSearch? } }`, pgvector's approximate index (needs
   * the extension). See docs/embeddings.md.
   */
  vectors?: PostgresVectorOptions;
}

/**
 * Postgres (a server through postgres.js, or embedded PGlite). Several processes may share one database:
 * writers of a namespace take turns on its counter row, so the change feed numbers changes in commit
 * order and a sync pull never skips one. Vector search ranks in SQL (pgvector when installed). `close()`
 * closes the driver.
 *
 * @example
 * import { createMemory } from 'engram';
 * import { PostgresStore, postgresJs } from 'engram/edge';
 * const mem = await createMemory({ store: new PostgresStore(postgresJs(process.env.DATABASE_URL!)) });
 */
export class PostgresStore extends SqlStore {
  readonly kind: string;
  readonly capabilities: StoreCapabilities;
  private readonly vectorSearch: PostgresVectors;
  /** `textStats` calls of the current turn by namespace, which a `docPostings` begun in the same turn answers. */
  private readonly statsWanted = new Map<string, ((stats: Promise<TextStats>) => void)[]>();

  constructor(
    private readonly db: PostgresDriver,
    options: PostgresStoreOptions = {},
  ) {
    super(postgresDialect);
    this.kind = db.name ?? 'postgres';
    this.capabilities = { persistent: db.persistent, shared: true };
    this.vectorSearch = new PostgresVectors(postgresDialect, parsePostgresVectors(options.vectors));
  }

  protected override async connect(): Promise<SqlExecutor> {
    return this.db;
  }

  protected override async afterMerge(
    tx: SqlQueries,
    namespace: string,
    batch: WriteBatch,
    merged: ApplyResult,
  ): Promise<void> {
    const written = new Set((batch.memories ?? []).flatMap((w) => ('embedding' in w.values ? [w.id] : [])));
    if (written.size > 0) await refreshUnitVectors(tx, namespace, written, merged.memories);
  }

  /**
   * A search asks for the statistics and the postings at once (core's textCandidates): when a
   * `docPostings` of the namespace follows in the same turn, one statement answers both, so the search
   * waits for one round trip, not two side by side, and both come from one snapshot. Otherwise the
   * statistics are read alone, as soon as the turn ends.
   */
  override textStats(namespace: string): Promise<TextStats> {
    return new Promise((resolve) => {
      let waiting = this.statsWanted.get(namespace);
      if (waiting === undefined) {
        const mine: ((stats: Promise<TextStats>) => void)[] = [];
        this.statsWanted.set(namespace, mine);
        queueMicrotask(() => {
          if (this.statsWanted.get(namespace) !== mine) return;
          this.statsWanted.delete(namespace);
          const stats = super.textStats(namespace);
          for (const answer of mine) answer(stats);
        });
        waiting = mine;
      }
      waiting.push(resolve);
    });
  }

  override docPostings(
    namespace: string,
    terms: readonly string[],
    prefixes: readonly string[],
  ): Promise<DocPostingList[]> {
    const waiting = this.statsWanted.get(namespace);
    this.statsWanted.delete(namespace);
    const read = this.use('docPostings', (db) =>
      readSearchPostings(db, this.dialect, namespace, terms, prefixes, waiting !== undefined),
    );
    if (waiting !== undefined) {
      const stats = read.then((found) => found.stats);
      for (const answer of waiting) answer(stats);
    }
    return read.then((found) => found.lists);
  }

  nearestVectors(
    namespace: string,
    query: { vector: readonly number[]; model: string; limit: number; filter: MemoryFilter },
  ): Promise<{ hits: NativeSearchHit[]; otherModels: number }> {
    return this.use('nearestVectors', (db) => this.vectorSearch.nearest(db, namespace, query));
  }
}
