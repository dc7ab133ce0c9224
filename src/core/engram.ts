import { noOptions, withoutUndefined } from './call-arguments.js';
import type { EncryptionOptions } from './crypto/cipher.js';
import { type Embedder, type EmbeddingOptions, errorMessage } from './embedding/embedder.js';
import type { EmbeddingQueue } from './embedding/embedding-queue.js';
import type { ReembedOptions, ReembedResult } from './embedding/reembed.js';
import { EngramEmbedding } from './engram-embedding.js';
import type { ChangeKind, MemoryEvents, MemoryStatus, SyncOptions } from './engram-options.js';
import { EngramSync } from './engram-sync.js';
import { EngramError, validationError } from './errors.js';
import { Emitter } from './events.js';
import type { HybridLogicalClock } from './hlc.js';
import { countFromFeed, renderContext } from './lifecycle.js';
import { liveRecord, type NamespaceView } from './live-records.js';
import {
  Maintenance,
  type MaintenanceOptions,
  type MaintenanceResult,
  maintenanceOptions,
} from './maintenance.js';
import { countMemories, listPage, liveLinks, neighborsOf, pathBetween } from './memory-reads.js';
import { type SearchHost, searchMemories } from './memory-search.js';
import { MemoryWrites } from './memory-writes.js';
import type {
  AddOptions,
  ContextOptions,
  CountOptions,
  Link,
  LinkOptions,
  LinksOptions,
  ListOptions,
  ListResult,
  Memory,
  MemoryInput,
  MemoryPatch,
  MemoryStats,
  NeighborsOptions,
  PathOptions,
  SearchHit,
  SearchOptions,
} from './model.js';
import type { MemoryStore, WriteBatch } from './store-contract.js';
import type { ClockOffset } from './sync/clock-offset.js';
import type { SyncResult } from './sync/engine.js';
import type { LiveState } from './sync/live.js';
import { type RejectedChange, readRejected } from './sync/quarantine.js';
import type { Replication } from './sync/replica.js';
import type { Language } from './text/index.js';
import * as schema from './validate.js';
import { WatchHub, type WatchOptions, type WatchQuery, type WatchResult } from './watch.js';

/** The key of Engram's internal read-change-write (`[MODIFY]`): registered, so every bundle's copy agrees. */
export const MODIFY: unique symbol = Symbol.for('engram.modify');

const DEFAULT_CONTEXT_CHARS = 4000;
const DEFAULT_CONTEXT_LIMIT = 20;

function reportListenerError(error: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (report) report(error);
  else console.error('engram: a change/status listener threw', error);
}

/**
 * The Engram API over one store and one namespace.
 * Obtain it with {@link createMemory}.
 */
export class Engram {
  private readonly events: Emitter<MemoryEvents>;
  private closed = false;
  private readonly unsubscribeStore: (() => void) | undefined;
  /** Sync and its encryption (engram-sync.ts); `replication` reads its engine. */
  private readonly syncing: EngramSync;
  /** The embedder and its background queue (engram-embedding.ts). */
  private readonly embedding: EngramEmbedding;
  private watches: WatchHub | undefined;
  private maintenance: Maintenance | undefined;
  /** This façade's namespace as its reads see it (live-records.ts). */
  private readonly view: NamespaceView;
  private readonly writes: MemoryWrites;
  private readonly searchHost: SearchHost;

  constructor(
    readonly store: MemoryStore,
    readonly namespace: string,
    private readonly clock: HybridLogicalClock,
    private readonly now: () => number,
    /** The namespace's index language; undefined (the edge's request façades): read from its meta. */
    readonly language?: Language,
  ) {
    this.events = new Emitter<MemoryEvents>(reportListenerError);
    this.view = { store, namespace, nowIso: () => this.nowIso() };
    this.searchHost = {
      ...this.view,
      language,
      embedder: () => this.embedder,
      embeddingOptions: () => this.embedding.options,
      warn: (code, message, count) => this.warn(code, message, count),
    };
    this.writes = new MemoryWrites({
      ...this.view,
      clock,
      now,
      language,
      write: (batch, type, ids) => this.write(batch, type, ids),
      embeddings: () => this.embeddings,
    });
    this.embedding = new EngramEmbedding({
      store,
      namespace,
      clock,
      nowIso: () => this.nowIso(),
      isClosed: () => this.closed,
      write: (batch, type, ids) => this.write(batch, type, ids),
      onStatus: () => this.events.emit('status', this.status),
      warn: (code, message) => this.warn(code, message),
    });
    this.syncing = new EngramSync({
      store,
      namespace,
      language,
      clock,
      now,
      onStatus: () => this.events.emit('status', this.status),
      onPulled: (ids) => {
        this.events.emit('change', { type: 'sync', namespace: this.namespace, ids });
        this.embedding.consider(ids);
      },
      onRejected: (change) => this.events.emit('rejected', change),
    });
    this.unsubscribeStore = store.subscribe?.((ns, ids) => {
      if (ns !== this.namespace) return;
      this.events.emit('change', { type: 'external', namespace: ns, ids });
      this.embedding.consider(ids);
    });
  }

  private get embedder(): Embedder | undefined {
    return this.embedding.embedder;
  }

  private get embeddings(): EmbeddingQueue | undefined {
    return this.embedding.queue;
  }

  private get replication(): Replication | undefined {
    return this.syncing.replication;
  }

  get status(): MemoryStatus {
    const sync = this.replication?.status ?? { state: 'local', pending: 0, lastSyncAt: null };
    const status: MemoryStatus = { ...sync, pendingEmbeddings: this.embeddings?.pending ?? 0 };
    if (this.embeddings?.lastError !== undefined) status.embeddingError = this.embeddings.lastError;
    if (this.embeddings?.rejected) status.rejectedEmbeddings = this.embeddings.rejected;
    return status;
  }

  /** Purges expired memories and collects old tombstones now and then after writes; createMemory calls it. */
  startMaintenance(options: Required<MaintenanceOptions>): void {
    this.maintenance = new Maintenance(
      this.store,
      this.namespace,
      this.now,
      options,
      (error) => this.warn('MAINTENANCE_FAILED', errorMessage(error)),
      this.clock.node,
    );
    this.maintenance.maybeRun();
  }

  /**
   * Runs maintenance now (docs/lifecycle.md): drops memories expired by now, with their links, and collects
   * tombstones older than the horizon (`maintenance.tombstoneHorizonMs`, default 30 days).
   */
  async maintain(...rest: unknown[]): Promise<MaintenanceResult> {
    this.assertOpen();
    // A horizon passed here by mistake (`maintain({ tombstoneHorizonMs })`) must not look applied.
    noOptions(
      rest,
      'maintain',
      "no arguments (the horizon and interval are createMemory's maintenance options)",
    );
    this.maintenance ??= new Maintenance(
      this.store,
      this.namespace,
      this.now,
      maintenanceOptions(undefined),
      () => {},
      this.clock.node,
    );
    return this.maintenance.run();
  }

  /** Embeds content written without an embedding, in the background; createMemory calls it. */
  startEmbedding(embedder: Embedder, options: EmbeddingOptions = {}): void {
    this.embedding.start(embedder, options);
  }

  private warn(code: MemoryEvents['warning']['code'], message: string, count?: number): void {
    this.events.emit('warning', count === undefined ? { code, message } : { code, message, count });
  }

  /**
   * Re-embeds every memory not yet embedded by this memory's embedder for its current content, e.g.
   * after changing models. Resumable: run it again after an interruption and it continues.
   */
  async reembed(options: ReembedOptions = {}): Promise<ReembedResult> {
    this.assertOpen();
    return this.embedding.reembed(options);
  }

  /**
   * Starts background sync; createMemory calls it. The engine is loaded on demand, so apps that never
   * sync do not ship it.
   */
  async startSync(options: SyncOptions, offset?: ClockOffset, encryption?: EncryptionOptions): Promise<void> {
    return this.syncing.start(options, offset, encryption);
  }

  /** Live sync's stream: `live`, `connecting`, `polling` (fallen back) or `off` (no sync, `live: false`, a follower tab). */
  get liveState(): LiveState {
    return this.replication?.live ?? 'off';
  }

  on<K extends keyof MemoryEvents>(event: K, listener: (payload: MemoryEvents[K]) => void): () => void {
    if (event !== 'change' && event !== 'status' && event !== 'rejected' && event !== 'warning') {
      throw validationError('on.event', `'change', 'status', 'rejected' or 'warning'`, JSON.stringify(event));
    }
    if (typeof listener !== 'function') throw validationError('on.listener', 'a function', typeof listener);
    return this.events.on(event, listener);
  }

  private nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  private assertOpen(): void {
    if (this.closed)
      throw new EngramError('STORAGE', 'this memory is closed; create a new one with createMemory()');
  }

  private async write(batch: WriteBatch, type: ChangeKind, ids: string[]) {
    const result = await this.store.apply(this.namespace, { ...batch, clockCeiling: this.clock.ceiling() });
    this.replication?.noteLocalWrite(result.memories.length + result.links.length + result.deleted.length);
    this.maintenance?.maybeRun();
    this.watches?.noteWritten(result.memories);
    this.events.emit('change', { type, namespace: this.namespace, ids });
    return result;
  }

  /**
   * Adds one memory and returns it with its generated id and timestamps. With `{ dedupe: true }`, a
   * memory valid now whose normalized content equals this one's is returned instead (its tags merged).
   */
  async add(input: MemoryInput, options: AddOptions = {}): Promise<Memory> {
    this.assertOpen();
    const parsed = schema.parse(schema.memoryInputSchema, input, 'add');
    const { dedupe } = schema.parse(schema.addOptionsSchema, options, 'add.options');
    if (dedupe) return this.writes.addDeduped(parsed);
    const [memory] = await this.writes.insert([parsed], 'add');
    return memory!;
  }

  /**
   * Replaces a fact: adds `input` as a new memory valid from `input.validFrom` (default now), closes the
   * old one (`validTo` = that instant) and links new -> old with type `supersedes`, in one write.
   */
  async supersede(oldId: string, input: MemoryInput): Promise<Memory>;
  async supersede(oldId: string, input: MemoryInput, ...rest: unknown[]): Promise<Memory> {
    this.assertOpen();
    noOptions(rest, 'supersede.options', 'no options (supersede takes none)');
    schema.parse(schema.idSchema, oldId, 'supersede.oldId');
    const parsed = schema.parse(schema.memoryInputSchema, input, 'supersede.input');
    return this.writes.supersede(oldId, parsed);
  }

  /** Removes every memory and link of the namespace (tombstones that sync); returns how many memories. */
  async clear(...rest: unknown[]): Promise<number> {
    this.assertOpen();
    // clear() takes no filter: one passed by mistake (`clear({ kind })`) must not wipe the namespace.
    noOptions(rest, 'clear', 'no arguments (clear removes the whole namespace; remove() takes one id)');
    return this.writes.clear();
  }

  /** How many memories `list` would return for these filters, without paging. */
  async count(filter: CountOptions = {}): Promise<number> {
    this.assertOpen();
    const parsed = schema.parse(schema.countOptionsSchema, filter, 'count');
    return countMemories(this.view, parsed);
  }

  /** Stored memories, links and tombstones of the namespace, and work still waiting. */
  async stats(): Promise<MemoryStats>;
  async stats(...rest: unknown[]): Promise<MemoryStats> {
    this.assertOpen();
    // A filter passed by mistake (`stats({ kind })`) would be ignored: the counts are the namespace's.
    noOptions(rest, 'stats', 'no arguments (stats counts the whole namespace; count() takes filters)');
    const counts = this.store.stats
      ? await this.store.stats(this.namespace)
      : await countFromFeed(this.store, this.namespace);
    const status = this.status as { pending: number; pendingEmbeddings?: number };
    return { ...counts, pendingSync: status.pending, pendingEmbeddings: status.pendingEmbeddings ?? 0 };
  }

  /**
   * The best memories for a prompt, one `- content` line each: most relevant first, newest fact first
   * among equal scores, never longer than `maxChars`. An empty query gives the newest memories.
   */
  async context(query: string, options: ContextOptions = {}): Promise<string> {
    this.assertOpen();
    query = schema.parse(schema.querySchema, query, 'context.query');
    const { maxChars, ...rest } = schema.parse(schema.contextOptionsSchema, options, 'context');
    const limit = rest.limit ?? DEFAULT_CONTEXT_LIMIT;
    const hits: SearchHit[] = query.trim()
      ? await this.search(query, { ...rest, limit })
      : (
          await this.list({
            kind: rest.kind,
            tags: rest.tags,
            tagMode: rest.tagMode,
            metadata: rest.metadata,
            asOf: rest.asOf,
            history: rest.history,
            since: rest.since,
            until: rest.until,
            limit,
          })
        ).items.map((memory) => ({ memory, score: 0 }));
    return renderContext(hits, maxChars ?? DEFAULT_CONTEXT_CHARS);
  }

  /** Adds up to 1000 memories in one transaction: all are written or none. */
  async addMany(inputs: MemoryInput[], ...rest: unknown[]): Promise<Memory[]> {
    this.assertOpen();
    // Options such as `{ dedupe: true }` are add()'s only: silently adding duplicates would mislead.
    noOptions(rest, 'addMany.options', "no options (dedupe is add()'s, one memory at a time)");
    if (!Array.isArray(inputs)) {
      throw validationError('addMany', 'an array of memories');
    }
    if (inputs.length > schema.LIMITS.batch) {
      throw validationError('addMany', `at most ${schema.LIMITS.batch} memories`, inputs.length);
    }
    const parsed = inputs.map((input, i) => schema.parse(schema.memoryInputSchema, input, `addMany.${i}`));
    return this.writes.insert(parsed, 'addMany');
  }

  async get(id: string): Promise<Memory | null> {
    this.assertOpen();
    schema.parse(schema.idSchema, id, 'get.id');
    return (await liveRecord(this.view, id))?.memory ?? null;
  }

  /** Changes the named fields; `null` clears `embedding`, `importance` or `expiresAt`. */
  async update(id: string, patch: MemoryPatch): Promise<Memory>;
  async update(id: string, patch: MemoryPatch, ...rest: unknown[]): Promise<Memory> {
    this.assertOpen();
    noOptions(rest, 'update.options', 'no options (update takes none)');
    schema.parse(schema.idSchema, id, 'update.id');
    // A key set to undefined (`{ tags: maybeTags }`) is a field not given, as it is in JSON: `null` clears.
    const parsed = schema.parse(schema.memoryPatchSchema, withoutUndefined(patch), 'update.patch');
    return this.writes.update(id, parsed);
  }

  /**
   * Not part of the public API: `update` computed from the memory as the store holds it, checked in the
   * store's transaction against writes of other processes in between (MemoryWrites.modify). The MCP
   * graph adds observations with it; `guard` names the field whose list `change` extends.
   */
  [MODIFY](id: string, change: (memory: Memory) => MemoryPatch | null, guard: 'metadata'): Promise<Memory> {
    this.assertOpen();
    schema.parse(schema.idSchema, id, 'update.id');
    return this.writes.modify(
      id,
      (memory) => {
        const patch = change(memory);
        return patch && schema.parse(schema.memoryPatchSchema, withoutUndefined(patch), 'update.patch');
      },
      guard,
    );
  }

  /**
   * Deletes a memory and its links; false when there was no live memory. An expired one not yet purged is
   * deleted all the same (false: it was already gone from every read).
   */
  async remove(id: string): Promise<boolean>;
  async remove(id: string, ...rest: unknown[]): Promise<boolean> {
    this.assertOpen();
    noOptions(rest, 'remove.options', 'no options (remove takes none)');
    schema.parse(schema.idSchema, id, 'remove.id');
    return this.writes.remove(id);
  }

  async list(options: ListOptions = {}): Promise<ListResult> {
    this.assertOpen();
    const parsed = schema.parse(schema.listOptionsSchema, options, 'list');
    return listPage(this.view, parsed);
  }

  /**
   * Ranked search. Mode defaults to `text`, or `hybrid` when a vector is given with a query
   * (`vector` when the query is empty).
   */
  async search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    this.assertOpen();
    query = schema.parse(schema.querySchema, query, 'search.query');
    const parsed = schema.parse(schema.searchOptionsSchema, options, 'search');
    return searchMemories(this.searchHost, query, parsed);
  }

  /** Links two memories; linking the same pair with the same type again updates that link. */
  async link(fromId: string, toId: string, type: string, options: LinkOptions = {}): Promise<Link> {
    this.assertOpen();
    schema.parse(schema.idSchema, fromId, 'link.from');
    schema.parse(schema.idSchema, toId, 'link.to');
    schema.parse(schema.labelSchema('type'), type, 'link.type');
    const parsed = schema.parse(schema.linkOptionsSchema, options, 'link.options');
    if (fromId === toId) {
      throw validationError('link.to', 'a memory other than link.from');
    }
    return this.writes.link(fromId, toId, type, parsed);
  }

  async unlink(linkId: string): Promise<boolean> {
    this.assertOpen();
    schema.parse(schema.idSchema, linkId, 'unlink.id');
    return this.writes.unlink(linkId);
  }

  /** Links of a memory whose other end is live, ordered by id descending. */
  async links(id: string, options: LinksOptions = {}): Promise<Link[]> {
    this.assertOpen();
    schema.parse(schema.idSchema, id, 'links.id');
    const parsed = schema.parse(schema.linksOptionsSchema, options, 'links.options');
    return liveLinks(this.view, id, parsed);
  }

  /** Memories within `depth` hops (default 1), nearest first, then by id descending. */
  async neighbors(id: string, options: NeighborsOptions = {}): Promise<Memory[]> {
    this.assertOpen();
    schema.parse(schema.idSchema, id, 'neighbors.id');
    const parsed = schema.parse(schema.neighborsOptionsSchema, options, 'neighbors.options');
    return neighborsOf(this.view, id, parsed);
  }

  /** The shortest path, endpoints included, following links forward unless `direction` says otherwise. */
  async path(fromId: string, toId: string, options: PathOptions = {}): Promise<Memory[] | null> {
    this.assertOpen();
    schema.parse(schema.idSchema, fromId, 'path.from');
    schema.parse(schema.idSchema, toId, 'path.to');
    const parsed = schema.parse(schema.pathOptionsSchema, options, 'path.options');
    return pathBetween(this.view, fromId, toId, parsed);
  }

  /** Pushes local changes and pulls remote ones now; rejects with OFFLINE when the edge is unreachable. */
  async sync(): Promise<SyncResult> {
    this.assertOpen();
    if (!this.replication) {
      throw new EngramError(
        'VALIDATION',
        'sync: this memory has no sync configured (pass sync: { url, token })',
        {
          field: 'sync',
        },
      );
    }
    return this.replication.sync();
  }

  /**
   * Local changes the edge refused (invalid data, a quota), set aside so the rest keeps syncing; each
   * says why. Editing such a record again sends it again.
   */
  async rejected(): Promise<RejectedChange[]> {
    this.assertOpen();
    return readRejected(this.store, this.namespace);
  }

  /**
   * Follows a `list` page or a `search`: the listener gets the results at once, then again after every
   * change that alters them (local writes, other tabs, pulled changes), at most once per burst.
   * Returns the unsubscribe function. An unknown query shape or option throws VALIDATION here.
   *
   * @example
   * const stop = mem.watch({ search: 'coffee', limit: 5 }, (hits) => render(hits));
   * const stopList = mem.watch({ list: { tags: ['todo'] } }, ({ items }) => show(items));
   */
  watch<Q extends WatchQuery>(
    query: Q,
    listener: (results: WatchResult<Q>) => void,
    options?: WatchOptions,
  ): () => void {
    this.assertOpen();
    this.watches ??= new WatchHub({
      list: (o) => this.list(o),
      search: (q, o) => this.search(q, o),
      onChange: (listener) => this.events.on('change', listener),
      readMemories: (ids) => this.store.getMemories(this.namespace, ids),
      count: (o) => this.count(o),
      now: this.now,
      reportError: reportListenerError,
      language: this.language,
      hasEmbedder: () => this.embedder !== undefined,
    });
    return this.watches.watch(query, listener as (results: unknown) => void, options);
  }

  /**
   * Moves an end-to-end encrypted namespace to a new key or passphrase: syncs, switches the edge to
   * the new key, then re-seals and pushes every record. Other devices then need the new key. Needs the
   * edge (rejects with OFFLINE otherwise); safe to call again if it was interrupted.
   *
   * @example
   * await mem.rekey({ passphrase: 'a new long passphrase' });
   */
  async rekey(next: EncryptionOptions): Promise<{ records: number }> {
    this.assertOpen();
    return this.syncing.rekey(next);
  }

  /** Stops background work and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watches?.stop();
    const stopping = this.replication?.stop();
    this.embeddings?.stop();
    this.unsubscribeStore?.();
    this.events.clear();
    // A sync round in flight gives up its request and settles before the store closes under it.
    await stopping;
    await this.store.close();
  }
}
