import { EngramError, storageError } from '../../core/errors.js';
import type { Direction, Json } from '../../core/model.js';
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
  TextPosting,
  TextStats,
  Tombstone,
  TombstoneCollection,
  VectorEntry,
  WriteBatch,
} from '../../core/store-contract.js';
import { parseVectorOptions } from '../../core/vector/vector-options.js';
import { applyBatch } from './apply-batch.js';
import { ChangeChannel } from './change-channel.js';
import { connect } from './connection.js';
import { countMemories, storeCounts } from './counts.js';
import { readDocMemories } from './doc-memories.js';
import { readFeed } from './feed.js';
import { listNamespaces, NAMESPACE_STORES } from './list-namespaces.js';
import { listRows } from './list-rows.js';
import { collectTombstones, findExpired } from './maintenance.js';
import type { Open, Tx } from './namespace-bounds.js';
import { OpenGroupCache } from './open-group-cache.js';
import { checkOptions } from './option-checks.js';
import type { IndexedDBStoreOptions } from './options.js';
import {
  PAIR_KEYS,
  readByIds,
  readLinksBetween,
  readLinksTouching,
  readMemoryRecords,
  withVectors,
} from './reads.js';
import { toLinkRecord, toTombstone } from './rows.js';
import type { EngramDatabase, StoreName } from './schema.js';
import { readCounters, SEARCH_STORES, SearchTransactions } from './search-transactions.js';
import { ShardCache } from './shard-cache.js';
import { readDocIds, SlotCache } from './slot-tables.js';
import { checkSentinel, requestPersistence } from './storage-keeping.js';
import { readDocPostings, readPostings } from './text-reader.js';
import { readVectorEntries } from './vector-entries.js';
import { IndexedDBVectorIndex } from './vector-index.js';

const ignore = () => undefined;

/**
 * A persistent store on IndexedDB (through `idb`): records, a graph, an inverted index kept up to
 * date on every write, a change feed and meta, each namespace a contiguous key range. Every `apply`
 * is one transaction; other tabs learn of committed writes over a BroadcastChannel named
 * `engram:<name>`, delivered through `subscribe` (the façade's 'external' change events).
 *
 * @example
 * import { createMemory } from 'engram';
 * import { IndexedDBStore } from 'engram/indexeddb';
 * const mem = await createMemory({ store: new IndexedDBStore({ name: 'my-app' }), namespace: 'user-42' });
 */
export class IndexedDBStore implements MemoryStore {
  readonly kind = 'indexeddb';
  readonly capabilities: StoreCapabilities = {
    persistent: true,
    shared: true,
  };
  readonly name: string;
  private readonly blockedTimeoutMs: number;
  private readonly durability: IDBTransactionDurability;
  private readonly textGroupSize: number;
  private readonly channel: ChangeChannel;
  /** Slot tables kept between searches (see SlotCache); dropped with the connection. */
  private readonly slots = new SlotCache();
  /** Text shard rows kept between searches (see ShardCache); dropped with the connection. */
  private readonly shards = new ShardCache();
  /** Each namespace's open text group as this store last wrote it (see OpenGroupCache). */
  private readonly openGroups = new OpenGroupCache();
  /** The transaction a text search's reads share (see SearchTransactions). */
  private readonly searches = new SearchTransactions(() => this.transaction(SEARCH_STORES, 'readonly'));
  private connection: Promise<EngramDatabase> | undefined;
  private closed = false;
  private createdNow = false;
  private checked = false;
  private readonly persist: boolean;
  private readonly onEvicted: (() => void) | undefined;
  /** Set by `open()`: the database had existed and was found gone (see `onEvicted`). */
  evicted = false;
  /** The in-memory vector index, when `vectors` asked for one; its `buildMs` says what a build cost. */
  readonly vectorIndex: IndexedDBVectorIndex | undefined;
  // Optional, not `| undefined`: an app with exactOptionalPropertyTypes can still pass the store as a MemoryStore.
  readonly nearestVectors?: NonNullable<MemoryStore['nearestVectors']>;
  readonly nearestAnyModel?: boolean;
  /** Set by `open()` with `persist: true`: whether the browser granted persistent storage (undefined: unsupported). */
  persisted: boolean | undefined;

  constructor(options: IndexedDBStoreOptions) {
    const checked = checkOptions(options);
    this.name = checked.name;
    this.blockedTimeoutMs = checked.blockedTimeoutMs;
    this.durability = checked.durability;
    this.textGroupSize = checked.textGroupSize;
    this.channel = new ChangeChannel(`engram:${checked.name}`);
    this.persist = checked.persist;
    this.onEvicted = checked.onEvicted;
    const vectors = parseVectorOptions(options.vectors);
    if (vectors.index !== 'exact' || vectors.quantize !== 'none') {
      const index = new IndexedDBVectorIndex(vectors, this);
      this.channel.subscribe((namespace, ids) => index.changed(namespace, ids));
      this.vectorIndex = index;
      this.nearestVectors = (namespace, query) => index.nearest(namespace, query);
      this.nearestAnyModel = true;
    }
  }

  async open(): Promise<void> {
    await this.database();
    if (this.checked) return;
    this.checked = true;
    this.evicted = checkSentinel(this.name, this.createdNow);
    if (this.persist) this.persisted = await requestPersistence();
    if (this.evicted) this.onEvicted?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.channel.close();
    this.vectorIndex?.forget();
    const connection = this.connection;
    this.connection = undefined;
    this.slots.clear();
    this.shards.clear();
    this.openGroups.clear();
    this.searches.clear();
    const db = await connection?.catch(ignore);
    db?.close();
  }

  /** Connects lazily, and again after another tab's upgrade or delete made us close. */
  private database(): Promise<EngramDatabase> {
    if (this.closed)
      return Promise.reject(new EngramError('STORAGE', `IndexedDBStore "${this.name}" is closed`));
    if (this.connection) return this.connection;
    const connection: Promise<EngramDatabase> = connect(this.name, {
      blockedTimeoutMs: this.blockedTimeoutMs,
      onLost: () => this.forget(connection),
      onCreated: () => {
        this.createdNow = true;
        // Created again after open(): deleted while we held it (another tab's or the app's delete).
        if (this.checked) queueMicrotask(() => this.recreated());
      },
    });
    this.connection = connection;
    connection.catch(() => this.forget(connection));
    return connection;
  }

  /**
   * The database was deleted while this store had it open, and the next operation created it empty. Told
   * as an eviction (`evicted`, `onEvicted`: sync again), unless the app cleared the sentinel first
   * (a delete on purpose, clearSentinel), rather than carrying on as if nothing had been lost.
   */
  private recreated(): void {
    if (!checkSentinel(this.name, true)) return;
    this.evicted = true;
    this.onEvicted?.();
  }

  /** Drops a connection that closed or failed, unless a newer one already replaced it. */
  private forget(connection: Promise<EngramDatabase>): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.slots.clear();
    this.shards.clear();
    this.openGroups.clear();
    this.searches.clear();
  }

  /** A transaction on a live connection: one that closed under us (versionchange) is replaced once. */
  private async transaction<Mode extends IDBTransactionMode>(
    stores: StoreName[],
    mode: Mode,
  ): Promise<Tx<Mode>> {
    const options = { durability: this.durability };
    const connection = this.database();
    try {
      return (await connection).transaction(stores, mode, options);
    } catch (error) {
      if (!(error instanceof DOMException && error.name === 'InvalidStateError')) throw error;
      this.forget(connection);
      return (await this.database()).transaction(stores, mode, options);
    }
  }

  private async read<T>(
    operation: string,
    stores: StoreName[],
    run: (tx: Tx<'readonly'>) => Promise<T>,
  ): Promise<T> {
    try {
      const tx = await this.transaction(stores, 'readonly');
      // A failed request rejects `run` already; the aborted transaction's own rejection adds nothing.
      tx.done.catch(ignore);
      return await run(tx);
    } catch (error) {
      throw storageError(`IndexedDB ${operation}`, error);
    }
  }

  apply(namespace: string, batch: WriteBatch): Promise<ApplyResult> {
    const open: Open = (stores, mode) => this.transaction(stores, mode);
    return applyBatch(open, namespace, batch, this.textGroupSize, this.openGroups, (ids) => {
      this.channel.post(namespace, ids);
      this.vectorIndex?.changed(namespace, ids);
    });
  }

  async expiredIds(namespace: string, options: { now: string; limit: number }): Promise<string[]> {
    try {
      return await findExpired((stores, mode) => this.transaction(stores, mode), namespace, options);
    } catch (error) {
      throw storageError('IndexedDB expiredIds', error);
    }
  }

  async collectTombstones(namespace: string, options: TombstoneCollection): Promise<number> {
    try {
      const tx = await this.transaction(['tombstones', 'meta'], 'readwrite');
      return await collectTombstones(tx as Parameters<typeof collectTombstones>[0], namespace, options);
    } catch (error) {
      throw storageError('IndexedDB collectTombstones', error);
    }
  }

  getMemories(namespace: string, ids: readonly string[]): Promise<MemoryRecord[]> {
    return this.read('getMemories', ['memories', 'vectors'], (tx) =>
      readMemoryRecords(tx.objectStore('memories'), tx.objectStore('vectors'), namespace, ids),
    );
  }

  getLinks(namespace: string, ids: readonly string[]): Promise<LinkRecord[]> {
    return this.read('getLinks', ['links'], async (tx) =>
      (await readByIds(tx.objectStore('links'), PAIR_KEYS, namespace, ids)).map(toLinkRecord),
    );
  }

  getTombstones(namespace: string, ids: readonly string[]): Promise<Tombstone[]> {
    return this.read('getTombstones', ['tombstones'], async (tx) =>
      (await readByIds(tx.objectStore('tombstones'), PAIR_KEYS, namespace, ids)).map(toTombstone),
    );
  }

  linksOf(
    namespace: string,
    memoryIds: readonly string[],
    options: { direction: Direction; type?: string },
  ): Promise<LinkRecord[]> {
    return this.read('linksOf', ['links'], async (tx) => {
      const links = tx.objectStore('links');
      const found = await readLinksTouching(
        links.index('from'),
        links.index('to'),
        namespace,
        memoryIds,
        options.direction,
      );
      return options.type === undefined ? found : found.filter((r) => r.link.type === options.type);
    });
  }

  linksBetween(namespace: string, from: string, to: string): Promise<LinkRecord[]> {
    return this.read('linksBetween', ['links'], (tx) => {
      const links = tx.objectStore('links');
      return readLinksBetween(links.index('from'), links.index('to'), namespace, from, to);
    });
  }

  /** Counted from the keys (see counts.ts). */
  stats(namespace: string): Promise<StoreCounts> {
    return this.read('stats', ['memories', 'links', 'tombstones'], (tx) => storeCounts(tx, namespace));
  }

  /** From the keys while the namespace's bounds allow, else from its rows in pages (see counts.ts). */
  async count(namespace: string, query: CountQuery): Promise<number> {
    try {
      return await countMemories((stores, mode) => this.transaction(stores, mode), namespace, query);
    } catch (error) {
      throw storageError('IndexedDB count', error);
    }
  }

  list(namespace: string, query: ListQuery): Promise<MemoryRecord[]> {
    return this.read('list', ['memories', 'vectors'], async (tx) =>
      withVectors(tx.objectStore('vectors'), await listRows(tx.objectStore('memories'), namespace, query)),
    );
  }

  /** Core asks it first in a text search, with `docPostings` in the same turn: it begins the search's transaction. */
  textStats(namespace: string): Promise<TextStats> {
    return this.searches.begin('textStats', async (tx) => {
      const stats = await readCounters(tx, namespace);
      return { docs: stats?.docs ?? 0, tokens: stats?.tokens ?? 0 };
    });
  }

  postings(namespace: string, terms: readonly string[], prefixes: readonly string[]): Promise<TextPosting[]> {
    return this.searches.join('postings', (tx) =>
      readPostings(tx, namespace, terms, prefixes, this.slots, this.shards),
    );
  }

  docPostings(
    namespace: string,
    terms: readonly string[],
    prefixes: readonly string[],
  ): Promise<DocPostingList[]> {
    return this.searches.join('docPostings', (tx) =>
      readDocPostings(tx, namespace, terms, prefixes, this.slots, this.shards),
    );
  }

  docIds(namespace: string, docs: readonly number[]): Promise<Map<number, string>> {
    return this.searches.join('docIds', (tx) => readDocIds(tx, namespace, docs, this.slots));
  }

  docMemories(
    namespace: string,
    docs: readonly number[],
    filter?: LiveFilter,
  ): Promise<Map<number, MemoryRecord>> {
    return this.searches.join('docMemories', (tx) =>
      readDocMemories(tx, namespace, docs, this.slots, filter),
    );
  }

  vectors(namespace: string, afterId: string | null, limit: number): Promise<VectorEntry[]> {
    return this.read('vectors', ['vectors', 'memories'], (tx) =>
      readVectorEntries(tx, namespace, afterId, limit),
    );
  }

  changes(namespace: string, afterSeq: number, limit: number): Promise<ChangeEntry[]> {
    return this.read('changes', ['feedBlocks', 'links', 'tombstones'], (tx) =>
      readFeed(tx, namespace, afterSeq, limit),
    );
  }

  /**
   * The namespace's newest change-feed sequence number (0 when empty): the position a deduping add reads
   * before it searches, so that a copy another tab writes meanwhile is found by its write's guard.
   */
  latestSeq(namespace: string): Promise<number> {
    return this.read(
      'latestSeq',
      ['stats'],
      async (tx) => (await tx.objectStore('stats').get(namespace))?.seq ?? 0,
    );
  }

  getMeta(namespace: string, key: string): Promise<Json | undefined> {
    return this.read('getMeta', ['meta'], (tx) => tx.objectStore('meta').get([namespace, key]));
  }

  /** Distinct namespaces, one cursor step each: after reading one, the key cursor jumps past it. */
  namespaces(): Promise<string[]> {
    return this.read('namespaces', NAMESPACE_STORES, listNamespaces);
  }

  subscribe(listener: (namespace: string, ids: string[]) => void): () => void {
    return this.channel.subscribe(listener);
  }
}
