import { validationError } from '../../core/errors.js';
import type { MemoryFilter } from '../../core/filter.js';
import type {
  ApplyResult,
  DocPostingList,
  NativeSearchHit,
  StoreCapabilities,
  TextStats,
  WriteBatch,
} from '../../core/store-contract.js';
import { describe } from '../../core/validate.js';
import { postgresDialect } from '../sql/dialect.js';
import type { SqlExecutor, SqlQueries } from '../sql/executor.js';
import { readSearchPostings } from '../sql/posting-reads.js';
import { SqlStore } from '../sql/sql-store.js';
import { refreshUnitVectors } from '../sql/vector-columns.js';
import { checkStoreOptions, parsedElsewhere } from '../store-options.js';
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

  constructor(
    private readonly db: PostgresDriver,
    options: PostgresStoreOptions = {},
  ) {
    super(postgresDialect);
    if (typeof db?.transaction !== 'function' || typeof db.all !== 'function') {
      const got = typeof db === 'string' ? 'a string (a URL? pass postgresJs(url))' : describe(db);
      throw validationError('PostgresStore.db', 'a driver: postgresJs(url) or pglite(dir)', got);
    }
    checkStoreOptions(options, { vectors: parsedElsewhere }, 'PostgresStore');
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

  /** A search's statistics and postings in one statement (one round trip, one snapshot). */
  docPostingsWithStats(
    namespace: string,
    terms: readonly string[],
    prefixes: readonly string[],
  ): Promise<{ stats: TextStats; lists: DocPostingList[] }> {
    return this.use('docPostingsWithStats', (db) =>
      readSearchPostings(db, this.dialect, namespace, terms, prefixes, true),
    );
  }

  /** A query vector without a model is ranked in SQL too, over every embedding of its length. */
  readonly nearestAnyModel = true;

  nearestVectors(
    namespace: string,
    query: { vector: readonly number[]; model?: string; limit: number; filter: MemoryFilter },
  ): Promise<{ hits: NativeSearchHit[]; otherModels: number }> {
    return this.use('nearestVectors', (db) => this.vectorSearch.nearest(db, namespace, query));
  }
}
