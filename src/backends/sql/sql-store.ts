import { EngramError, storageError } from '../../core/errors.js';
import { matchesMetadata } from '../../core/filter.js';
import { mergeBatch } from '../../core/merge.js';
import type { Direction, Json, MetadataFilter } from '../../core/model.js';
import type {
  ApplyResult,
  ChangeEntry,
  CountQuery,
  DocPostingList,
  LinkRecord,
  ListQuery,
  LiveFilter,
  MemoryRecord,
  MemoryStore,
  StoreCapabilities,
  StoreCounts,
  StoreUsage,
  TextPosting,
  TextStats,
  Tombstone,
  TombstoneCollection,
  VectorEntry,
  WriteBatch,
} from '../../core/store-contract.js';
import { readChanges, readLatestSeq } from './change-feed.js';
import type { SqlDialect } from './dialect.js';
import { DocIdCache } from './doc-id-cache.js';
import type { SqlExecutor, SqlQueries } from './executor.js';
import { collectTombstones, expiredIds } from './maintenance.js';
import { readStoreCounts, readUsage } from './namespace-counts.js';
import { type OlderGroups, pairOlderGroups, pairsRows } from './paired-words.js';
import { PendingBatches } from './pending-batches.js';
import { docIdsOf, docMemoriesOf, readDocPostings, readPostings, readTextStats } from './posting-reads.js';
import type { PostingTails } from './posting-tails.js';
import { countStatement, listStatement } from './queries.js';
import { SqlReader } from './reads.js';
import { type Integer, type MemoryRow, memoryFromRow } from './rows.js';
import { migrate } from './schema.js';
import { StagedWrites } from './staged-writes.js';
import { readVectorEntries } from './vector-entries.js';

/** Rows read at a time when metadata is filtered after the query. */
const METADATA_PAGE = 256;

/**
 * `MemoryStore` over any SQL database reached through a `SqlExecutor`: the schema, the merge transaction,
 * the inverted index and the change feed are written once here; a backend supplies the connection and
 * its dialect. Every driver failure surfaces as an EngramError with code STORAGE.
 */
export abstract class SqlStore implements MemoryStore {
  abstract readonly kind: string;
  abstract readonly capabilities: StoreCapabilities;
  private connecting: Promise<SqlExecutor> | undefined;
  private closed = false;
  /** Ids of document numbers read by searches (doc-id-cache.ts says why they never go stale). */
  private readonly docIdCache = new DocIdCache();
  /** The pending lists' batches this store wrote (Postgres), which spare reading them back to merge them. */
  private readonly pendingBatches: PendingBatches | undefined;

  constructor(protected readonly dialect: SqlDialect) {
    this.pendingBatches = dialect.name === 'postgres' ? new PendingBatches() : undefined;
  }

  /** Opens the connection (or database); the schema is migrated afterwards by the store. */
  protected abstract connect(): Promise<SqlExecutor>;

  protected async disconnect(db: SqlExecutor): Promise<void> {
    await db.close?.();
  }

  /** Frees a connection whose schema could not be prepared; by default it is kept for the next attempt. */
  protected async abandon(_db: SqlExecutor): Promise<void> {}

  /** Called in the write transaction once the batch is merged and flushed (Postgres: vector columns). */
  protected async afterMerge(_tx: SqlQueries, _namespace: string, _batch: WriteBatch, _merged: ApplyResult) {}

  /**
   * The newest posting rows this store wrote, per namespace, so that bulk adds need not read them back
   * and may defer writing them (posting-tails.ts): only a store that alone writes its database may keep
   * them, committing and rolling them back with its transactions and writing their pending rows before
   * postings are read or the database leaves the process; none by default.
   */
  protected postingTails(): PostingTails | undefined {
    return undefined;
  }

  /** Called after each committed write: `batch` when it was one of `apply`'s, none after upkeep (collection, compaction). */
  protected afterWrite(_batch?: WriteBatch): void {}

  async open(): Promise<void> {
    await this.connection();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const db = await this.connecting?.catch(() => undefined);
    if (!db) return;
    try {
      await this.disconnect(db);
    } catch (error) {
      throw storageError(`${this.kind}: close`, error);
    }
  }

  private connection(): Promise<SqlExecutor> {
    if (this.closed) return Promise.reject(new EngramError('STORAGE', `${this.kind}: the store is closed`));
    this.connecting ??= (async () => {
      const db = await this.connect();
      try {
        await migrate(db, this.dialect);
      } catch (error) {
        await this.abandon(db).catch(() => {});
        throw error;
      }
      return db;
    })().catch((error: unknown) => {
      this.connecting = undefined;
      throw storageError(`${this.kind}: open`, error);
    });
    return this.connecting;
  }

  /** Runs `work` on the open connection, turning driver errors into STORAGE errors naming the operation. */
  protected async use<T>(operation: string, work: (db: SqlExecutor) => Promise<T>): Promise<T> {
    const db = await this.connection();
    if (this.closed) throw new EngramError('STORAGE', `${this.kind}: the store is closed`);
    try {
      return await work(db);
    } catch (error) {
      throw storageError(`${this.kind}: ${operation}`, error);
    }
  }

  async apply(namespace: string, batch: WriteBatch): Promise<ApplyResult> {
    let staged: StagedWrites | undefined;
    const result = await this.use('apply', (db) =>
      db.transaction(async (tx) => {
        staged = new StagedWrites(tx, this.dialect, namespace, this.postingTails(), this.pendingBatches);
        const seq = await staged.lockNamespace();
        const merged = await mergeBatch(staged, batch);
        const feed = await staged.flush(seq);
        if (batch.reportFeed) merged.feed = feed;
        await this.afterMerge(tx, namespace, batch, merged);
        return merged;
      }),
    );
    staged?.committed();
    this.afterWrite(batch);
    return result;
  }

  getMemories(namespace: string, ids: readonly string[]): Promise<MemoryRecord[]> {
    return this.byIds('getMemories', namespace, ids, (reader) => reader.memories(ids));
  }

  getLinks(namespace: string, ids: readonly string[]): Promise<LinkRecord[]> {
    return this.byIds('getLinks', namespace, ids, (reader) => reader.links(ids));
  }

  getTombstones(namespace: string, ids: readonly string[]): Promise<Tombstone[]> {
    return this.byIds('getTombstones', namespace, ids, (reader) => reader.tombstones(ids));
  }

  /** One statement for all ids; results follow the order of `ids`, absent ones skipped. */
  private async byIds<T>(
    operation: string,
    namespace: string,
    ids: readonly string[],
    read: (reader: SqlReader) => Promise<Map<string, T>>,
  ): Promise<T[]> {
    const found = await this.use(operation, async (db) =>
      ids.length === 0 ? new Map<string, T>() : read(new SqlReader(db, this.dialect, namespace)),
    );
    return ids.flatMap((id) => {
      const value = found.get(id);
      return value === undefined ? [] : [value];
    });
  }

  linksOf(
    namespace: string,
    memoryIds: readonly string[],
    options: { direction: Direction; type?: string },
  ): Promise<LinkRecord[]> {
    return this.use('linksOf', (db) =>
      new SqlReader(db, this.dialect, namespace).linksOf(memoryIds, options.direction, options.type),
    );
  }

  linksBetween(namespace: string, from: string, to: string): Promise<LinkRecord[]> {
    return this.use('linksBetween', (db) => new SqlReader(db, this.dialect, namespace).between(from, to));
  }

  list(namespace: string, query: ListQuery): Promise<MemoryRecord[]> {
    return this.use('list', async (db) => {
      if (query.metadata === undefined) {
        const { sql, params } = listStatement(this.dialect, namespace, query);
        return (await db.all<MemoryRow>(sql, params)).map((row) => memoryFromRow(namespace, row));
      }
      const out: MemoryRecord[] = [];
      await this.walkMetadata(
        db,
        namespace,
        query,
        query.metadata,
        Math.max(query.limit, METADATA_PAGE),
        (r) => {
          out.push(r);
          return out.length < query.limit;
        },
      );
      return out;
    });
  }

  /**
   * Visits the memories matching `query` and `metadata`, id descending, until `visit` returns false. JSON
   * equality differs between SQLite and Postgres (number forms, key order): metadata is compared by core's
   * matchesMetadata on pages of the other filters' matches, as every store does.
   */
  private async walkMetadata(
    db: SqlExecutor,
    namespace: string,
    query: CountQuery & Pick<ListQuery, 'beforeId'>,
    metadata: MetadataFilter,
    page: number,
    visit: (record: MemoryRecord) => boolean,
  ): Promise<void> {
    for (let beforeId = query.beforeId; ; ) {
      const { sql, params } = listStatement(this.dialect, namespace, { ...query, beforeId, limit: page });
      const rows = await db.all<MemoryRow>(sql, params);
      for (const row of rows) {
        const record = memoryFromRow(namespace, row);
        if (matchesMetadata(record.memory.metadata, metadata) && !visit(record)) return;
      }
      if (rows.length < page) return;
      beforeId = rows[rows.length - 1]!.id;
    }
  }

  /** `count` with a metadata filter: the other filters in SQL, metadata by core (see walkMetadata). */
  private async countByMetadata(
    db: SqlExecutor,
    namespace: string,
    query: CountQuery,
    metadata: MetadataFilter,
  ): Promise<number> {
    let count = 0;
    await this.walkMetadata(db, namespace, query, metadata, METADATA_PAGE, () => {
      count += 1;
      return true;
    });
    return count;
  }

  count(namespace: string, query: CountQuery): Promise<number> {
    return this.use('count', async (db) => {
      if (query.metadata !== undefined) return this.countByMetadata(db, namespace, query, query.metadata);
      const { sql, params } = countStatement(this.dialect, namespace, query);
      const [row] = await db.all<{ n: Integer }>(sql, params);
      return Number(row?.n ?? 0);
    });
  }

  /** One count per table, from the primary keys. */
  stats(namespace: string): Promise<StoreCounts> {
    return this.use('stats', (db) => readStoreCounts(db, this.dialect, namespace));
  }

  usage(namespace: string): Promise<StoreUsage> {
    return this.use('usage', (db) => readUsage(db, this.dialect, namespace));
  }

  textStats(namespace: string): Promise<TextStats> {
    return this.use('textStats', (db) => readTextStats(db, this.dialect, namespace));
  }

  expiredIds(namespace: string, options: { now: string; limit: number }): Promise<string[]> {
    return this.use('expiredIds', (db) => expiredIds(db, this.dialect, namespace, options));
  }

  async collectTombstones(namespace: string, options: TombstoneCollection): Promise<number> {
    const removed = await this.use('collectTombstones', (db) =>
      collectTombstones(db, this.dialect, namespace, options),
    );
    if (removed > 0) this.afterWrite();
    return removed;
  }

  /** What `compactText` learned of each namespace's older posting groups. */
  private readonly olderGroups = new Map<string, OlderGroups>();

  async compactText(namespace: string, options: { limit: number }): Promise<number> {
    // Postgres never pairs (paired-words.ts): nothing to look for, not even a connection to open.
    if (!pairsRows(this.dialect)) return 0;
    const known = this.olderGroups.get(namespace) ?? { settled: new Set<number>(), done: false };
    this.olderGroups.set(namespace, known);
    if (known.done) return 0;
    const paired = await this.use('compactText', (db) =>
      pairOlderGroups(db, this.dialect, namespace, options.limit, known),
    );
    this.afterTextCompaction(paired, known.done);
    return paired;
  }

  /** After a `compactText` call: `paired` groups rewritten, `finished` when none is left to look at. */
  protected afterTextCompaction(paired: number, _finished: boolean): void {
    if (paired > 0) this.afterWrite();
  }

  /** The namespace's newest change-feed sequence number (0 when empty): one key lookup, for live-sync event ids. */
  latestSeq(namespace: string): Promise<number> {
    return this.use('latestSeq', (db) => readLatestSeq(db, this.dialect, namespace));
  }

  postings(namespace: string, terms: readonly string[], prefixes: readonly string[]): Promise<TextPosting[]> {
    return this.use('postings', (db) =>
      readPostings(db, this.dialect, namespace, terms, prefixes, this.docIdCache),
    );
  }

  /**
   * Core ranks on document numbers, then reads the few it returns with `docMemories` (or names a large
   * tie with `docIds` first): see posting-reads.ts.
   */
  docPostings(
    namespace: string,
    terms: readonly string[],
    prefixes: readonly string[],
  ): Promise<DocPostingList[]> {
    return this.use('docPostings', (db) => readDocPostings(db, this.dialect, namespace, terms, prefixes));
  }

  docIds(namespace: string, docs: readonly number[]): Promise<Map<number, string>> {
    return this.use('docIds', async (db) =>
      docs.length === 0 ? new Map() : docIdsOf(db, this.dialect, namespace, docs, this.docIdCache),
    );
  }

  docMemories(
    namespace: string,
    docs: readonly number[],
    live?: LiveFilter,
  ): Promise<Map<number, MemoryRecord>> {
    return this.use('docMemories', async (db) =>
      docs.length === 0 ? new Map() : docMemoriesOf(db, this.dialect, namespace, docs, this.docIdCache, live),
    );
  }

  vectors(namespace: string, afterId: string | null, limit: number): Promise<VectorEntry[]> {
    return this.use('vectors', (db) => readVectorEntries(db, this.dialect, namespace, afterId, limit));
  }

  changes(namespace: string, afterSeq: number, limit: number): Promise<ChangeEntry[]> {
    return this.use('changes', (db) => readChanges(db, this.dialect, namespace, afterSeq, limit));
  }

  getMeta(namespace: string, key: string): Promise<Json | undefined> {
    return this.use('getMeta', async (db) => {
      const sql = this.dialect.native('SELECT value FROM engram_meta WHERE ns = ? AND key = ?');
      const [row] = await db.all<{ value: string }>(sql, [namespace, key]);
      return row === undefined ? undefined : (JSON.parse(row.value) as Json);
    });
  }

  namespaces(): Promise<string[]> {
    return this.use('namespaces', async (db) => {
      const rows = await db.all<{ ns: string }>('SELECT ns FROM engram_namespaces ORDER BY ns', []);
      return rows.map((row) => row.ns);
    });
  }
}
