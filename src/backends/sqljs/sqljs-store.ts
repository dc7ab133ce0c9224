import type { SqlJsStatic } from 'sql.js';
import * as v from 'valibot';
import { storageError } from '../../core/errors.js';
import { importPeer } from '../../core/optional-peer.js';
import type {
  DocPostingList,
  StoreCapabilities,
  TextPosting,
  WriteBatch,
} from '../../core/store-contract.js';
import { sqliteDialect } from '../sql/dialect.js';
import type { SqlExecutor, SqlQueries } from '../sql/executor.js';
import { PostingTails } from '../sql/posting-tails.js';
import { SqlStore } from '../sql/sql-store.js';
import { checkStoreOptions, optionalDelay, optionalFunction } from '../store-options.js';
import { DebouncedSave } from './debounced-save.js';
import { filePersistence } from './file-persistence.js';
import type { SqlJsPersistence } from './persistence.js';
import { SqlJsExecutor } from './sqljs-executor.js';

const SQLJS_OPTIONS = {
  persist: v.optional(
    v.union(
      [
        v.pipe(v.string(), v.minLength(1, 'expected a non-empty file path')),
        v.looseObject({ load: v.function(), save: v.function(), lock: v.optional(v.function()) }),
      ],
      'expected a file path, or an object with load() and save() (indexedDBPersistence(key))',
    ),
  ),
  sqlJs: v.optional(
    v.union(
      [v.object({ Database: v.function() }), v.promise()],
      'expected an initialised sql.js module or its promise',
    ),
  ),
  locateFile: optionalFunction,
  saveDelayMs: optionalDelay,
  saveMaxDelayMs: optionalDelay,
  onSaveError: optionalFunction,
};

export interface SqlJsStoreOptions {
  /** Where the database file lives between runs; a string is a file path (Node). Without it, nothing persists. */
  persist?: SqlJsPersistence | string;
  /** An initialised sql.js module (or its promise); by default sql.js is imported and initialised on open. */
  sqlJs?: SqlJsStatic | Promise<SqlJsStatic>;
  /** Where the browser finds `sql-wasm.wasm`, passed to `initSqlJs` when `sqlJs` is not given. */
  locateFile?: (file: string) => string;
  /** A save starts this long after the last write (default 250 ms)… */
  saveDelayMs?: number;
  /** …and at most this long after the first unsaved write, however busy (default 2000 ms). */
  saveMaxDelayMs?: number;
  /** Told of a failed background save; the save is retried on the next write, and `close()` reports it too. */
  onSaveError?: (error: Error) => void;
}

/**
 * SQLite compiled to WebAssembly (sql.js), in the browser or in Node. The database lives in memory and is
 * saved whole through `persist`: debounced after writes, and always on `close()`.
 *
 * @example
 * import { createMemory } from 'engram';
 * import { SqlJsStore } from 'engram/sqljs';
 * const mem = await createMemory({ store: new SqlJsStore({ persist: './memory.db' }), namespace: 'user-42' });
 */
export class SqlJsStore extends SqlStore {
  readonly kind = 'sqljs';
  readonly capabilities: StoreCapabilities;
  private readonly persistence: SqlJsPersistence | undefined;
  private readonly saver: DebouncedSave | undefined;
  private executor: SqlJsExecutor | undefined;
  private unlock: (() => Promise<void>) | undefined;

  constructor(private readonly options: SqlJsStoreOptions = {}) {
    super(sqliteDialect);
    checkStoreOptions(options, SQLJS_OPTIONS, 'SqlJsStore');
    const { persist } = options;
    this.persistence = typeof persist === 'string' ? filePersistence(persist) : persist;
    this.capabilities = {
      persistent: !!this.persistence,
      shared: false,
    };
    this.saver =
      this.persistence &&
      new DebouncedSave(
        () => this.saveNow(),
        options.saveDelayMs ?? 250,
        options.saveMaxDelayMs ?? 2000,
        options.onSaveError && ((error) => options.onSaveError!(storageError('sqljs: save', error))),
      );
  }

  /** Saves pending writes now instead of waiting for the debounce. */
  async flush(): Promise<void> {
    await this.use('flush', async () => this.saver?.flush());
  }

  /** The database as an SQLite file image, readable by any SQLite. */
  export(): Promise<Uint8Array> {
    return this.use('export', async () => this.executor!.exclusive((db) => db.export(), this.writePending));
  }

  protected override async connect(): Promise<SqlExecutor> {
    const SQL = await (this.options.sqlJs ?? defaultSqlJs(this.options.locateFile));
    this.unlock = await this.persistence?.lock?.();
    let db: InstanceType<SqlJsStatic['Database']>;
    try {
      db = new SQL.Database((await this.persistence?.load()) ?? undefined);
    } catch (error) {
      await this.releaseLock();
      throw error;
    }
    try {
      // The database reaches disk only as whole-file saves: a journal file in sql.js' in-memory file
      // system would only copy every page twice. Rollback still works from the journal in memory.
      db.run('PRAGMA journal_mode = MEMORY');
      // Takes effect on a new database, and on an older one at its next VACUUM (compactIfWorthIt).
      db.run(`PRAGMA page_size = ${PAGE_SIZE}`);
    } catch (error) {
      db.close();
      await this.releaseLock();
      throw error;
    }
    this.executor = new SqlJsExecutor(db, {
      committed: () => this.tails.commit(),
      rolledBack: () => this.tails.rollback(),
    });
    return this.executor;
  }

  /** A database that failed to open (not an SQLite file, say) is closed unsaved: the file stays as it was. */
  protected override async abandon(db: SqlExecutor): Promise<void> {
    try {
      await db.close?.();
    } finally {
      await this.releaseLock();
    }
  }

  protected override afterWrite(batch?: WriteBatch): void {
    // A read-only file is never saved: the upkeep a replica does by itself stays in memory, so that only a
    // write of the caller's makes close() report that it was not saved.
    if (this.persistence?.readOnly && !(batch && isCallersWrite(batch))) return;
    this.saver?.schedule();
  }

  /**
   * Only this store writes its database: the newest posting rows it wrote stay true, and writing them can
   * wait (posting-tails.ts) until a search reads postings, the database is exported or saved, or a batch
   * edits, deletes or leaves their group.
   */
  private readonly tails = new PostingTails();

  protected override postingTails(): PostingTails | undefined {
    return this.tails;
  }

  /** Run in a transaction of its own before postings are read or the database is exported. */
  private readonly writePending = (tx: SqlQueries) => this.tails.flush(tx, this.dialect);

  override async postings(
    namespace: string,
    terms: readonly string[],
    prefixes: readonly string[],
  ): Promise<TextPosting[]> {
    await this.writePendingRows();
    return super.postings(namespace, terms, prefixes);
  }

  override async docPostings(
    namespace: string,
    terms: readonly string[],
    prefixes: readonly string[],
  ): Promise<DocPostingList[]> {
    await this.writePendingRows();
    return super.docPostings(namespace, terms, prefixes);
  }

  /** Groups a bulk add left may still be held (posting-tails.ts): written first, so that their rows are read. */
  override async compactText(namespace: string, options: { limit: number }): Promise<number> {
    await this.use('write postings', async (db) => {
      if (this.tails.hasHeld) await db.transaction((tx) => this.tails.writeHeldRows(tx, this.dialect));
    });
    return super.compactText(namespace, options);
  }

  private writePendingRows(): Promise<void> {
    return this.use('write postings', async (db) => {
      if (this.tails.hasPending) await db.transaction(this.writePending);
    });
  }

  protected override async disconnect(db: SqlExecutor): Promise<void> {
    try {
      await this.saver?.flush();
    } finally {
      try {
        await db.close?.();
      } finally {
        await this.releaseLock();
      }
    }
  }

  private async releaseLock(): Promise<void> {
    const unlock = this.unlock;
    this.unlock = undefined;
    await unlock?.();
  }

  /** Posting groups paired by maintenance since the last VACUUM it asked for. */
  private pairedGroups = false;
  /** The next save VACUUMs when a sixteenth of the file is free (COMPACTED_FREE_RATIO). */
  private vacuumWanted = false;

  /**
   * Pairing older groups (SqlStore.compactText) frees ~13% of a pre-v21 file, under the share at which a
   * save VACUUMs otherwise: once they are all paired, the next save VACUUMs, once.
   */
  protected override afterTextCompaction(paired: number, finished: boolean): void {
    if (paired > 0) this.pairedGroups = true;
    if (finished && this.pairedGroups) {
      this.pairedGroups = false;
      this.vacuumWanted = true;
    }
    super.afterTextCompaction(paired, finished);
  }

  private async saveNow(): Promise<void> {
    const bytes = await this.executor!.exclusive((db) => {
      compactIfWorthIt(db, this.vacuumWanted);
      this.vacuumWanted = false;
      return db.export();
    }, this.writePending);
    await this.persistence!.save(bytes);
  }
}

/** Whether a batch changes records (memories, links, tombstones), not only meta or what expired (`forget`). */
function isCallersWrite(batch: WriteBatch): boolean {
  return !!(batch.memories?.length || batch.links?.length || batch.tombstones?.length);
}

/**
 * 8 KiB pages instead of SQLite's 4 KiB: a posting block of a common term (up to ~12 KB) fits one or two
 * pages instead of an overflow chain, and the file has fewer part-filled pages (-7% at 10K memories after
 * VACUUM); a whole-file export copies half as many pages.
 */
const PAGE_SIZE = 8192;

/**
 * Deletes leave free pages that every whole-file save would keep writing. When they are over a quarter of
 * the file and at least 1 MiB, VACUUM before the save: it costs about one more copy of the database in
 * memory, and the saved file (and every later save) shrinks by the free pages.
 */
const COMPACT_FREE_RATIO = 0.25;
const COMPACT_FREE_BYTES = 1024 * 1024;
/** After maintenance paired older groups (once per compaction): a sixteenth of the file free is enough. */
const COMPACTED_FREE_RATIO = 1 / 16;

function compactIfWorthIt(db: InstanceType<SqlJsStatic['Database']>, compacted = false): void {
  const pragma = (name: string) => Number(db.exec(`PRAGMA ${name}`)[0]?.values[0]?.[0] ?? 0);
  const free = pragma('freelist_count');
  const pages = pragma('page_count');
  const worth = compacted
    ? free / pages >= COMPACTED_FREE_RATIO
    : free / pages > COMPACT_FREE_RATIO && free * pragma('page_size') >= COMPACT_FREE_BYTES;
  if (pages > 0 && worth) {
    db.run('VACUUM');
  }
}

async function defaultSqlJs(locateFile: ((file: string) => string) | undefined): Promise<SqlJsStatic> {
  const { default: initSqlJs } = await importPeer('sql.js', () => import('sql.js'), 'SqlJsStore');
  return initSqlJs(locateFile ? { locateFile } : undefined);
}
