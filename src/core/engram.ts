import type { EncryptionOptions } from './crypto/cipher.js';
import type { Embedder, EmbeddingOptions } from './embedding/embedder.js';
import type { EmbeddingQueue } from './embedding/embedding-queue.js';
import type { ReembedOptions, ReembedResult } from './embedding/reembed.js';
import { type EmbeddingOwner, EngramEmbedding } from './engram-embedding.js';
import { assertListener, reportListenerError, watchHubOf } from './engram-events.js';
import { EngramMaintenance, type MaintenanceHost } from './engram-maintenance.js';
import type { ChangeKind, MemoryEvents, MemoryStatus, SyncOptions } from './engram-options.js';
import { statsOf, statusOf } from './engram-status.js';
import { EngramSync, type SyncHost } from './engram-sync.js';
import { EngramError } from './errors.js';
import { Emitter } from './events.js';
import type { HybridLogicalClock } from './hlc.js';
import type { NamespaceView } from './live-records.js';
import type { MaintenanceOptions, MaintenanceResult } from './maintenance.js';
import type { SearchHost } from './memory-search.js';
import { MemoryWrites, type WritesHost } from './memory-writes.js';
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
import * as readCalls from './read-calls.js';
import type { MemoryStore, WriteBatch } from './store-contract.js';
import type { ClockOffset } from './sync/clock-offset.js';
import type { SyncResult } from './sync/engine.js';
import type { LiveState } from './sync/live.js';
import { type RejectedChange, readRejected } from './sync/quarantine.js';
import type { Replication } from './sync/replica.js';
import type { Language } from './text/index.js';
import type { WatchHub, WatchOptions, WatchQuery, WatchResult } from './watch.js';
import * as writeCalls from './write-calls.js';

/** The key of Engram's internal read-change-write (`[MODIFY]`): registered, so every bundle's copy agrees. */
export const MODIFY: unique symbol = Symbol.for('engram.modify');

/**
 * How many memories createMemory opened on each store and not yet closed: an app may open several
 * namespaces on one store, and closing one of them must not close the store under the others.
 */
const openOn = new WeakMap<MemoryStore, number>();

/** Counts a memory opened on `store` (createMemory); its close() closes the store only when it is the last. */
export function holdStore(store: MemoryStore): void {
  openOn.set(store, (openOn.get(store) ?? 0) + 1);
}

/** Gives back a memory's hold on its store; true when no other memory holds it. */
function releaseStore(store: MemoryStore): boolean {
  const left = (openOn.get(store) ?? 1) - 1;
  if (left > 0) openOn.set(store, left);
  else openOn.delete(store);
  return left <= 0;
}

/**
 * The Engram API over one store and one namespace.
 * Obtain it with {@link createMemory}.
 */
export class Engram {
  private readonly events = new Emitter<MemoryEvents>(reportListenerError);
  private closed = false;
  private readonly unsubscribeStore: (() => void) | undefined;
  /** Sync and its encryption (engram-sync.ts); `replication` reads its engine. */
  private readonly syncing: EngramSync;
  /** The embedder and its background queue (engram-embedding.ts). */
  private readonly embedding: EngramEmbedding;
  private watches: WatchHub | undefined;
  private maintenance: EngramMaintenance;
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
    this.view = { store, namespace, nowIso: () => this.nowIso() };
    // One host lends the parts what they need of the façade, each reading its own share.
    const parts: SearchHost & WritesHost & EmbeddingOwner & SyncHost & MaintenanceHost = {
      ...this.view,
      language,
      clock,
      now,
      assertOpen: () => this.assertOpen(),
      write: (batch, type, ids) => this.write(batch, type, ids),
      warn: (code, message, count?: number) => this.warn(code, message, count),
      embedder: () => this.embedder,
      embeddingOptions: () => this.embedding.options,
      embeddings: () => this.embeddings,
      onStatus: () => this.events.emit('status', this.status),
      onPulled: (ids) => {
        this.events.emit('change', { type: 'sync', namespace: this.namespace, ids });
        this.embedding.consider(ids);
      },
      onRejected: (change) => this.events.emit('rejected', change),
    };
    this.searchHost = parts;
    this.writes = new MemoryWrites(parts);
    this.embedding = new EngramEmbedding(parts);
    this.syncing = new EngramSync(parts);
    this.maintenance = new EngramMaintenance(parts);
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
    return statusOf(this.replication, this.embeddings);
  }

  /** Purges expired memories and collects old tombstones now and then after writes; createMemory calls it. */
  startMaintenance(options: Required<MaintenanceOptions>): void {
    this.maintenance.start(options);
  }

  /**
   * Runs maintenance now (docs/lifecycle.md): drops memories expired by now, with their links, and collects
   * tombstones older than the horizon (`maintenance.tombstoneHorizonMs`, default 30 days).
   */
  async maintain(...rest: unknown[]): Promise<MaintenanceResult> {
    this.assertOpen();
    return this.maintenance.run(rest);
  }

  /**
   * Embeds content written without an embedding, in the background; createMemory calls it, without an
   * embedder too, for the `timeoutMs` a later `reembed({ embedder })` or query embedding keeps to.
   */
  startEmbedding(embedder: Embedder | undefined, options: EmbeddingOptions = {}): void {
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
    assertListener(event, listener);
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
    this.maintenance.maybeRun();
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
    return writeCalls.add(this.writes, input, options);
  }

  /**
   * Replaces a fact: adds `input` as a new memory valid from `input.validFrom` (default now), closes the
   * old one (`validTo` = that instant) and links new -> old with type `supersedes`, in one write.
   */
  async supersede(oldId: string, input: MemoryInput): Promise<Memory>;
  async supersede(oldId: string, input: MemoryInput, ...rest: unknown[]): Promise<Memory> {
    this.assertOpen();
    return writeCalls.supersede(this.writes, oldId, input, rest);
  }

  /** Removes every memory and link of the namespace (tombstones that sync); returns how many memories. */
  async clear(...rest: unknown[]): Promise<number> {
    this.assertOpen();
    return writeCalls.clear(this.writes, rest);
  }

  /** How many memories `list` would return for these filters, without paging. */
  async count(filter: CountOptions = {}): Promise<number> {
    this.assertOpen();
    return readCalls.count(this.view, filter);
  }

  /** Stored memories, links and tombstones of the namespace, and work still waiting. */
  async stats(): Promise<MemoryStats>;
  async stats(...rest: unknown[]): Promise<MemoryStats> {
    this.assertOpen();
    return statsOf(this.store, this.namespace, () => this.status, rest);
  }

  /**
   * The best memories for a prompt, one `- content` line each: most relevant first, newest fact first
   * among equal scores, never longer than `maxChars`. An empty query gives the newest memories.
   */
  async context(query: string, options: ContextOptions = {}): Promise<string> {
    this.assertOpen();
    return readCalls.context(this, query, options);
  }

  /** Adds up to 1000 memories in one transaction: all are written or none. */
  async addMany(inputs: MemoryInput[], ...rest: unknown[]): Promise<Memory[]> {
    this.assertOpen();
    return writeCalls.addMany(this.writes, inputs, rest);
  }

  async get(id: string): Promise<Memory | null> {
    this.assertOpen();
    return readCalls.get(this.view, id);
  }

  /** Changes the named fields; `null` clears `embedding`, `importance` or `expiresAt`. */
  async update(id: string, patch: MemoryPatch): Promise<Memory>;
  async update(id: string, patch: MemoryPatch, ...rest: unknown[]): Promise<Memory> {
    this.assertOpen();
    return writeCalls.update(this.writes, id, patch, rest);
  }

  /**
   * Not part of the public API: `update` computed from the memory as the store holds it, checked in the
   * store's transaction against writes of other processes in between (MemoryWrites.modify). The MCP
   * graph adds observations with it; `guard` names the field whose list `change` extends.
   */
  [MODIFY](id: string, change: (memory: Memory) => MemoryPatch | null, guard: 'metadata'): Promise<Memory> {
    this.assertOpen();
    return writeCalls.modify(this.writes, id, change, guard);
  }

  /**
   * Deletes a memory and its links; false when there was no live memory. An expired one not yet purged is
   * deleted all the same (false: it was already gone from every read).
   */
  async remove(id: string): Promise<boolean>;
  async remove(id: string, ...rest: unknown[]): Promise<boolean> {
    this.assertOpen();
    return writeCalls.remove(this.writes, id, rest);
  }

  async list(options: ListOptions = {}): Promise<ListResult> {
    this.assertOpen();
    return readCalls.list(this.view, options);
  }

  /**
   * Ranked search. Mode defaults to `text`, or `hybrid` when a vector is given with a query
   * (`vector` when the query is empty).
   */
  async search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    this.assertOpen();
    return readCalls.search(this.searchHost, query, options);
  }

  /** Links two memories; linking the same pair with the same type again updates that link. */
  async link(fromId: string, toId: string, type: string, options: LinkOptions = {}): Promise<Link> {
    this.assertOpen();
    return writeCalls.link(this.writes, fromId, toId, type, options);
  }

  async unlink(linkId: string): Promise<boolean> {
    this.assertOpen();
    return writeCalls.unlink(this.writes, linkId);
  }

  /** Links of a memory whose other end is live, ordered by id descending. */
  async links(id: string, options: LinksOptions = {}): Promise<Link[]> {
    this.assertOpen();
    return readCalls.links(this.view, id, options);
  }

  /** Memories within `depth` hops (default 1), nearest first, then by id descending. */
  async neighbors(id: string, options: NeighborsOptions = {}): Promise<Memory[]> {
    this.assertOpen();
    return readCalls.neighbors(this.view, id, options);
  }

  /** The shortest path, endpoints included, following links forward unless `direction` says otherwise. */
  async path(fromId: string, toId: string, options: PathOptions = {}): Promise<Memory[] | null> {
    this.assertOpen();
    return readCalls.path(this.view, fromId, toId, options);
  }

  /** Pushes local changes and pulls remote ones now; rejects with OFFLINE when the edge is unreachable. */
  async sync(): Promise<SyncResult> {
    this.assertOpen();
    if (!this.replication) {
      throw new EngramError(
        'VALIDATION',
        'sync: this memory has no sync configured (pass sync: { url, token })',
        { field: 'sync' },
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
    this.watches ??= watchHubOf(
      this,
      this.now,
      (listener) => this.events.on('change', listener),
      () => this.embedder !== undefined,
    );
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

  /**
   * Stops background work and closes the store, unless other memories createMemory opened on the same
   * store are still open: then the last of them to close closes it.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.stopWork();
    if (releaseStore(this.store)) await this.store.close();
  }

  /**
   * Stops background work and leaves the store open: createMemory calls it when opening fails after the
   * store opened (a wrong passphrase, say), since the store is the caller's, who may retry with it and
   * may have other memories open on it.
   */
  async abandon(): Promise<void> {
    if (this.closed) return;
    await this.stopWork();
    releaseStore(this.store);
  }

  private async stopWork(): Promise<void> {
    this.closed = true;
    this.watches?.stop();
    const stopping = this.replication?.stop();
    this.embeddings?.stop();
    this.unsubscribeStore?.();
    this.events.clear();
    // A sync round in flight gives up its request and settles before the store closes under it.
    await stopping;
  }
}
