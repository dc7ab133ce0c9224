import { applyBoost } from './boost.js';
import type { EncryptionOptions } from './crypto/cipher.js';
import type { EncryptingTransport } from './crypto/encrypting-transport.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import {
  assertEmbedder,
  type Embedder,
  type EmbeddingOptions,
  embedTexts,
  errorMessage,
} from './embedding/embedder.js';
import { type EmbeddingHost, EmbeddingQueue } from './embedding/embedding-queue.js';
import {
  parseReembedOptions,
  type ReembedOptions,
  type ReembedResult,
  reembedAll,
} from './embedding/reembed.js';
import type { ChangeKind, MemoryEvents, MemoryStatus, SyncOptions } from './engram-options.js';
import { EngramError, validationError } from './errors.js';
import { Emitter } from './events.js';
import { isExpired } from './filter.js';
import { findPath, walkNeighbors } from './graph.js';
import { type HybridLogicalClock, hlcToIso } from './hlc.js';
import { assertIdsFree } from './id-checks.js';
import { uuidv7 } from './ids.js';
import {
  alreadySuperseded,
  assertPeriod,
  countByListing,
  countFromFeed,
  duplicateQuery,
  findListed,
  liveIds,
  normalizeContent,
  renderContext,
  tombstoneBatches,
} from './lifecycle.js';
import {
  Maintenance,
  type MaintenanceOptions,
  type MaintenanceResult,
  maintenanceOptions,
} from './maintenance.js';
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
  SearchMode,
  SearchOptions,
} from './model.js';
import { searchStore } from './search.js';
import { checkedWrite } from './serial.js';
import type { CountQuery, MemoryRecord, MemoryStore, SearchReport, WriteBatch } from './store-contract.js';
import { ClockOffset } from './sync/clock-offset.js';
import type { SyncResult } from './sync/engine.js';
import type { LiveState } from './sync/live.js';
import { type RejectedChange, readRejected } from './sync/quarantine.js';
import type { Replication } from './sync/replica.js';
import type { SyncTransport } from './sync/transport.js';
import { cutQuery, type Language } from './text/index.js';
import * as schema from './validate.js';
import { encryptionSchema, parse } from './validate.js';
import { WatchHub, type WatchOptions, type WatchQuery, type WatchResult } from './watch.js';
import { createLinkWrite, createMemoryWrite, patchMemoryWrite } from './writes.js';

const DEFAULT_LIST_LIMIT = 50;
const DEFAULT_SEARCH_LIMIT = 10;
const DEFAULT_DEPTH = 1;
const DEFAULT_PATH_DEPTH = 6;
const DEFAULT_CONTEXT_CHARS = 4000;
const DEFAULT_CONTEXT_LIMIT = 20;
/** Search hits compared by normalized content when `add` dedupes: first a few, then up to the search limit. */
const DEDUPE_CANDIDATES = [50, schema.LIMITS.searchLimit];
/** Reads-and-writes of one supersede or deduping add before other processes' writes end it in CONFLICT. */
const RACE_ATTEMPTS = 5;
/** With boosts, relevance picks a pool this many times `limit` and boosts reorder within it. */
const BOOST_POOL = 3;
const boostPool = (limit: number) => Math.min(limit * BOOST_POOL, schema.LIMITS.searchLimit);

/** The store's newest change-feed position, where it can tell (SQL stores, a RemoteStore): `WriteBatch.dedupe`'s `since`. */
async function feedPosition(store: MemoryStore, namespace: string): Promise<number | undefined> {
  const source = store as MemoryStore & { latestSeq?: (namespace: string) => Promise<number | undefined> };
  return typeof source.latestSeq === 'function' ? source.latestSeq(namespace) : undefined;
}

function notFound(id: string, field: string): EngramError {
  return new EngramError('NOT_FOUND', `${field}: no memory with id ${JSON.stringify(id)}`, { field });
}

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
  private replication: Replication | undefined;
  private embedder: Embedder | undefined;
  private embeddingOptions: EmbeddingOptions = {};
  private embeddings: EmbeddingQueue | undefined;
  private watches: WatchHub | undefined;
  private sealing: EncryptingTransport | undefined;
  private maintenance: Maintenance | undefined;

  constructor(
    readonly store: MemoryStore,
    readonly namespace: string,
    private readonly clock: HybridLogicalClock,
    private readonly now: () => number,
    /** The namespace's index language; undefined (the edge's request façades): read from its meta. */
    readonly language?: Language,
  ) {
    this.events = new Emitter<MemoryEvents>(reportListenerError);
    this.unsubscribeStore = store.subscribe?.((ns, ids) => {
      if (ns !== this.namespace) return;
      this.events.emit('change', { type: 'external', namespace: ns, ids });
      this.considerForEmbedding(ids);
    });
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
    this.maintenance = new Maintenance(this.store, this.namespace, this.now, options, (error) =>
      this.warn('MAINTENANCE_FAILED', errorMessage(error)),
    );
    this.maintenance.maybeRun();
  }

  /**
   * Runs maintenance now (docs/lifecycle.md): drops memories expired by now, with their links, and collects
   * tombstones older than the horizon (`maintenance.tombstoneHorizonMs`, default 30 days).
   */
  async maintain(): Promise<MaintenanceResult> {
    this.assertOpen();
    this.maintenance ??= new Maintenance(
      this.store,
      this.namespace,
      this.now,
      maintenanceOptions(undefined),
      () => {},
    );
    return this.maintenance.run();
  }

  /** Embeds content written without an embedding, in the background; createMemory calls it. */
  startEmbedding(embedder: Embedder, options: EmbeddingOptions = {}): void {
    this.embedder = embedder;
    this.embeddingOptions = options;
    this.embeddings = new EmbeddingQueue(this.embeddingHost(embedder, options));
    // Work left by an earlier session (the store is the durable queue) resumes in the background.
    this.embeddings.scan().catch((error) => this.warn('EMBEDDING_FAILED', errorMessage(error)));
  }

  private embeddingHost(embedder: Embedder, options: EmbeddingOptions): EmbeddingHost {
    return {
      store: this.store,
      namespace: this.namespace,
      embedder,
      options,
      now: () => this.nowIso(),
      stamp: (records) => {
        for (const record of records) this.observe(record);
        return this.clock.tick();
      },
      write: async (writes) => {
        if (this.closed) return;
        await this.write(
          { memories: writes },
          'update',
          writes.map((w) => w.id),
        );
      },
      onChange: () => this.events.emit('status', this.status),
      onRejected: (id, error) =>
        this.warn(
          'EMBEDDING_FAILED',
          `embedding: the embedder refused memory ${id} (${errorMessage(error)}); it stays unembedded until its content changes or the memory is opened again`,
        ),
    };
  }

  private considerForEmbedding(ids: string[]): void {
    this.embeddings?.consider(ids).catch((error) => this.warn('EMBEDDING_FAILED', errorMessage(error)));
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
    parseReembedOptions(options);
    const embedder = options.embedder ?? this.embedder;
    if (!embedder) {
      throw new EngramError(
        'VALIDATION',
        'reembed.embedder: expected an embedder (pass it here or to createMemory({ embedder }))',
        { field: 'reembed.embedder' },
      );
    }
    if (options.embedder !== undefined) assertEmbedder(options.embedder, 'reembed.embedder');
    return reembedAll(this.embeddingHost(embedder, this.embeddingOptions), options);
  }

  /**
   * Starts background sync; createMemory calls it. The engine is loaded on demand, so apps that never
   * sync do not ship it.
   */
  async startSync(options: SyncOptions, offset?: ClockOffset, encryption?: EncryptionOptions): Promise<void> {
    let seal: ((inner: SyncTransport) => SyncTransport) | undefined;
    if (encryption) {
      // Loaded only by apps that encrypt; a wrong key or passphrase throws here, before anything is sent.
      const { EncryptingTransport } = await import('./crypto/encrypting-transport.js');
      const sealed = await EncryptingTransport.prepare(this.store, this.namespace, encryption);
      seal = (inner) => {
        this.sealing = sealed(inner);
        return this.sealing;
      };
    }
    const { startReplication } = await import('./sync/replica.js');
    this.replication = await startReplication({
      store: this.store,
      namespace: this.namespace,
      language: this.language,
      clock: this.clock,
      offset: offset ?? new ClockOffset(this.now),
      sync: options,
      seal,
      onStatus: () => this.events.emit('status', this.status),
      onPulled: (ids) => {
        this.events.emit('change', { type: 'sync', namespace: this.namespace, ids });
        this.considerForEmbedding(ids);
      },
      onRejected: (change) => this.events.emit('rejected', change),
    });
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
   * Moves the clock past a record's stamps before writing over it: a replica whose wall clock runs
   * behind another's must still produce stamps that win over what it has already seen.
   */
  private observe(record: { clocks: Record<string, string> }): void {
    for (const stamp of Object.values(record.clocks)) this.clock.observe(stamp);
  }

  private async liveRecord(id: string): Promise<MemoryRecord | undefined> {
    const [record] = await this.store.getMemories(this.namespace, [id]);
    return record && !isExpired(record.memory, this.nowIso()) ? record : undefined;
  }

  private async requireLive(id: string, field: string): Promise<MemoryRecord> {
    const record = await this.liveRecord(id);
    if (!record) throw notFound(id, field);
    return record;
  }

  /** Both ends of a link or path, read together; when both are missing the error names the first. */
  private async requireLivePair(
    [fromId, fromField]: [string, string],
    [toId, toField]: [string, string],
  ): Promise<[MemoryRecord, MemoryRecord]> {
    const now = this.nowIso();
    const records = await this.store.getMemories(this.namespace, [fromId, toId]);
    const live = (id: string) => records.find((r) => r.memory.id === id && !isExpired(r.memory, now));
    const from = live(fromId);
    if (!from) throw notFound(fromId, fromField);
    const to = live(toId);
    if (!to) throw notFound(toId, toField);
    return [from, to];
  }

  /**
   * Adds one memory and returns it with its generated id and timestamps. With `{ dedupe: true }`, a
   * memory valid now whose normalized content equals this one's is returned instead (its tags merged).
   */
  async add(input: MemoryInput, options: AddOptions = {}): Promise<Memory> {
    this.assertOpen();
    const parsed = schema.parse(schema.memoryInputSchema, input, 'add');
    const { dedupe } = schema.parse(schema.addOptionsSchema, options, 'add.options');
    if (!dedupe) {
      const [memory] = await this.insert([parsed], 'add');
      return memory!;
    }
    // One deduping add at a time: two at once would each find no copy and both add, or each merge
    // its tags into the tags it read and lose the other's.
    return this.checked(async () => {
      // Another process (an edge beside this one on the same Postgres) may add the same content between
      // the search and the write: the store refuses the write then (`WriteBatch.dedupe`, from the feed
      // position read before the search), and the next round finds that memory and merges into it.
      for (let attempt = 1; ; attempt++) {
        const since = await feedPosition(this.store, this.namespace);
        const existing = await this.findDuplicate(parsed.content);
        if (existing) return this.mergeTags(existing, parsed.tags ?? []);
        const guard =
          since === undefined ? undefined : { content: parsed.content, since, now: this.nowIso() };
        try {
          const [memory] = await this.insert([parsed], 'add', true, guard);
          return memory!;
        } catch (error) {
          const raced = error instanceof EngramError && error.code === 'CONFLICT' && error.field === 'dedupe';
          if (!raced || attempt === RACE_ATTEMPTS) throw error;
        }
      }
    });
  }

  /**
   * A memory valid now with the same normalized content. It holds every word of the content, so it is
   * among the hits that match them all; those are read best first, a few and then more, and only when a
   * thousand such memories outrank it is the namespace listed through.
   */
  private async findDuplicate(content: string): Promise<Memory | undefined> {
    const wanted = normalizeContent(content);
    const same = (m: Memory) => normalizeContent(m.content) === wanted;
    const query = duplicateQuery(content, this.language);
    const now = this.nowIso();
    const listed = () => findListed(this.store, this.namespace, { tagMode: 'any', now }, same);
    if (query === '') return listed();
    for (const limit of DEDUPE_CANDIDATES) {
      const hits = await searchStore(this.store, this.namespace, {
        query,
        mode: 'text',
        match: 'all',
        limit,
        tagMode: 'any',
        now,
        language: this.language,
      });
      const found = hits.map((h) => h.record.memory).find(same);
      if (found || hits.length < limit) return found;
    }
    return listed();
  }

  private async mergeTags(existing: Memory, tags: readonly string[]): Promise<Memory> {
    const merged = [...new Set([...existing.tags, ...tags])];
    if (merged.length === existing.tags.length) return existing;
    if (merged.length > schema.LIMITS.tags) {
      throw validationError(
        'add.tags',
        `at most ${schema.LIMITS.tags} tags together with those of the memory it duplicates (${existing.id})`,
        merged.length,
      );
    }
    return this.patch(existing.id, { tags: merged });
  }

  /**
   * Replaces a fact: adds `input` as a new memory valid from `input.validFrom` (default now), closes the
   * old one (`validTo` = that instant) and links new -> old with type `supersedes`, in one write.
   */
  async supersede(oldId: string, input: MemoryInput): Promise<Memory> {
    this.assertOpen();
    schema.parse(schema.idSchema, oldId, 'supersede.oldId');
    const parsed = schema.parse(schema.memoryInputSchema, input, 'supersede.input');
    // Alone: two supersedes of one fact at once would both find it current and both succeed.
    return this.checked(async () => {
      // Another process may close the fact (or take the given id) between this read and the write: the
      // store refuses the write then (`unchanged`, `newIds`), and the check runs again on what it holds
      // now, which tells the caller why (superseded, deleted, id taken) or writes when it still holds.
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.replaceFact(oldId, parsed);
        } catch (error) {
          const raced =
            error instanceof EngramError &&
            error.code === 'CONFLICT' &&
            (error.field === 'unchanged' || error.field === 'newIds');
          if (!raced) throw error;
          if (attempt === RACE_ATTEMPTS)
            throw new EngramError(
              'CONFLICT',
              `supersede.oldId: memory ${JSON.stringify(oldId)} kept changing while it was superseded (${attempt} attempts); try again`,
              { field: 'supersede.oldId' },
            );
        }
      }
    });
  }

  private async replaceFact(oldId: string, parsed: MemoryInput): Promise<Memory> {
    const old = await this.requireLive(oldId, 'supersede.oldId');
    const now = this.nowIso();
    const conflict = alreadySuperseded(oldId, old.memory, now);
    if (conflict) throw conflict;
    const from = parsed.validFrom ?? now;
    assertPeriod(from, parsed.validTo, 'supersede.input');
    if (old.memory.validFrom !== undefined && Date.parse(from) < Date.parse(old.memory.validFrom)) {
      throw new EngramError(
        'VALIDATION',
        `supersede.input.validFrom: expected an instant at or after the old memory's validFrom (${old.memory.validFrom}), got ${JSON.stringify(from)}`,
        { field: 'supersede.input.validFrom' },
      );
    }
    await assertIdsFree(this.store, this.namespace, [parsed], 'supersede.input', this.now());
    this.observe(old);
    const id = parsed.id ?? uuidv7(this.now());
    const stamp = this.clock.tick();
    const created = createMemoryWrite(
      this.namespace,
      id,
      { ...parsed, validFrom: from },
      stamp,
      hlcToIso(stamp),
    );
    const closed = patchMemoryWrite(oldId, { validTo: from }, stamp);
    const link = createLinkWrite(
      {
        id: uuidv7(this.now()),
        namespace: this.namespace,
        from: id,
        to: oldId,
        type: 'supersedes',
        createdAt: hlcToIso(stamp),
      },
      stamp,
    );
    const result = await this.write(
      {
        memories: [created, closed],
        links: [link],
        unchanged: [{ id: oldId, field: 'validTo', clock: old.clocks.validTo ?? null }],
        ...(parsed.id === undefined ? {} : { newIds: [parsed.id] }),
      },
      'supersede',
      [id, oldId, link.id],
    );
    if (parsed.embedding === undefined) this.embeddings?.enqueue([id]);
    const memory = result.memories.find((r) => r.memory.id === id);
    if (!memory || result.links.length === 0)
      throw new EngramError(
        'NOT_FOUND',
        `supersede.oldId: memory ${JSON.stringify(oldId)} was deleted meanwhile`,
        {
          field: 'supersede.oldId',
        },
      );
    return memory.memory;
  }

  /** Removes every memory and link of the namespace (tombstones that sync); returns how many memories. */
  async clear(...rest: unknown[]): Promise<number> {
    this.assertOpen();
    // clear() takes no filter: one passed by mistake (`clear({ kind })`) must not wipe the namespace.
    if (rest.length > 0 && rest[0] !== undefined) {
      throw validationError(
        'clear',
        'no arguments (clear removes the whole namespace; remove() takes one id)',
      );
    }
    const ids = await liveIds(this.store, this.namespace);
    if (ids.memories.length + ids.links.length === 0) return 0;
    for (const stamp of ids.clocks) this.clock.observe(stamp);
    const stamp = this.clock.tick();
    for (const tombstones of tombstoneBatches(this.namespace, ids, stamp, schema.LIMITS.batch)) {
      await this.write(
        { tombstones },
        'clear',
        tombstones.map((t) => t.id),
      );
    }
    return ids.memories.length;
  }

  /** How many memories `list` would return for these filters, without paging. */
  async count(filter: CountOptions = {}): Promise<number> {
    this.assertOpen();
    const parsed = schema.parse(schema.countOptionsSchema, filter, 'count');
    const query: CountQuery = {
      kind: parsed.kind,
      tags: parsed.tags,
      tagMode: parsed.tagMode ?? 'any',
      since: parsed.since,
      until: parsed.until,
      metadata: parsed.metadata,
      now: this.nowIso(),
      asOf: parsed.asOf,
      history: parsed.history,
    };
    return this.store.count
      ? this.store.count(this.namespace, query)
      : countByListing(this.store, this.namespace, query);
  }

  /** Stored memories, links and tombstones of the namespace, and work still waiting. */
  async stats(): Promise<MemoryStats> {
    this.assertOpen();
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
    schema.parse(schema.querySchema, query, 'context.query');
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
            limit,
          })
        ).items.map((memory) => ({ memory, score: 0 }));
    return renderContext(hits, maxChars ?? DEFAULT_CONTEXT_CHARS);
  }

  /** Adds up to 1000 memories in one transaction: all are written or none. */
  async addMany(inputs: MemoryInput[], ...rest: unknown[]): Promise<Memory[]> {
    this.assertOpen();
    // Options such as `{ dedupe: true }` are add()'s only: silently adding duplicates would mislead.
    if (rest.length > 0 && rest[0] !== undefined) {
      throw validationError('addMany.options', "no options (dedupe is add()'s, one memory at a time)");
    }
    if (!Array.isArray(inputs)) {
      throw validationError('addMany', 'an array of memories');
    }
    if (inputs.length > schema.LIMITS.batch) {
      throw validationError('addMany', `at most ${schema.LIMITS.batch} memories`, inputs.length);
    }
    const parsed = inputs.map((input, i) => schema.parse(schema.memoryInputSchema, input, `addMany.${i}`));
    return this.insert(parsed, 'addMany');
  }

  /** Runs a check-then-write alone among this store's and namespace's (serial.ts). */
  private checked<T>(task: () => Promise<T>): Promise<T> {
    return checkedWrite(this.store, this.namespace, task);
  }

  /** Inserts new memories; those with an id the caller gave are checked free and written alone. */
  private async insert(
    inputs: MemoryInput[],
    where: string,
    queued = false,
    dedupe?: WriteBatch['dedupe'],
  ): Promise<Memory[]> {
    if (!queued && inputs.some((input) => input.id !== undefined)) {
      return this.checked(() => this.insert(inputs, where, true));
    }
    for (const [i, input] of inputs.entries()) {
      assertPeriod(input.validFrom, input.validTo, where === 'add' ? 'add' : `${where}.${i}`);
    }
    await assertIdsFree(this.store, this.namespace, inputs, where, this.now());
    const writes = inputs.map((input) => {
      const id = input.id ?? uuidv7(this.now());
      const stamp = this.clock.tick();
      return createMemoryWrite(this.namespace, id, input, stamp, hlcToIso(stamp));
    });
    // Ids the caller gave are checked again inside the store's transaction: another process on the same
    // database (two edges on one Postgres) may have taken one since the check above.
    const given = inputs.flatMap((input) => (input.id === undefined ? [] : [input.id]));
    const result = await this.write(
      {
        memories: writes,
        ...(given.length > 0 ? { newIds: given } : {}),
        ...(dedupe ? { dedupe } : {}),
      },
      'add',
      writes.map((w) => w.id),
    ).catch(async (error: unknown) => {
      if (!(error instanceof EngramError && error.code === 'CONFLICT' && error.field === 'newIds'))
        throw error;
      // Told as the check above tells it, now that the other writer's record is there to name.
      await assertIdsFree(this.store, this.namespace, inputs, where, this.now());
      const field = where === 'add' ? 'add.id' : `${where}.id`;
      throw new EngramError('CONFLICT', `${field}: ${error.message.replace(/^newIds: /, '')}`, { field });
    });
    this.embeddings?.enqueue(writes.filter((w) => w.values.embedding === undefined).map((w) => w.id));
    return result.memories.map((r) => r.memory);
  }

  async get(id: string): Promise<Memory | null> {
    this.assertOpen();
    schema.parse(schema.idSchema, id, 'get.id');
    return (await this.liveRecord(id))?.memory ?? null;
  }

  /** Changes the named fields; `null` clears `embedding`, `importance` or `expiresAt`. */
  async update(id: string, patch: MemoryPatch): Promise<Memory> {
    this.assertOpen();
    schema.parse(schema.idSchema, id, 'update.id');
    const parsed = schema.parse(schema.memoryPatchSchema, patch, 'update.patch');
    // Queued with the other writes that read first: updates and removes called at once apply in call
    // order (each stamps its write after its read, so reads finishing out of order would reorder them).
    return this.checked(() => this.patch(id, parsed));
  }

  /** update()'s read and write, run in the checked-write queue (mergeTags is already in it). */
  private async patch(id: string, parsed: MemoryPatch): Promise<Memory> {
    const existing = await this.requireLive(id, 'update.id');
    assertPeriod(
      parsed.validFrom === undefined ? existing.memory.validFrom : (parsed.validFrom ?? undefined),
      parsed.validTo === undefined ? existing.memory.validTo : (parsed.validTo ?? undefined),
      'update.patch',
    );
    this.observe(existing);
    // New content makes the embedding stale: it is cleared with the same stamp and embedded again.
    const reembed =
      this.embeddings !== undefined &&
      parsed.content !== undefined &&
      parsed.embedding === undefined &&
      parsed.content !== existing.memory.content;
    const write = reembed ? { ...parsed, embedding: null, embeddingModel: null } : { ...parsed };
    // A vector given without its model is of an unknown model: the old label must not stay on it.
    if (parsed.embedding !== undefined && parsed.embeddingModel === undefined) write.embeddingModel = null;
    const result = await this.write(
      { memories: [patchMemoryWrite(id, write, this.clock.tick())] },
      'update',
      [id],
    );
    // Cleared with an embedder at hand: it gets a fresh one at once, as a reload's scan would give it.
    if (reembed || parsed.embedding === null) this.embeddings?.enqueue([id]);
    const updated = result.memories[0];
    if (!updated)
      throw new EngramError('NOT_FOUND', `update.id: no memory with id ${JSON.stringify(id)}`, {
        field: 'update.id',
      });
    return updated.memory;
  }

  /** Deletes a memory and its links; false when there was none. */
  async remove(id: string): Promise<boolean> {
    this.assertOpen();
    schema.parse(schema.idSchema, id, 'remove.id');
    return this.checked(() => this.removeMemory(id));
  }

  private async removeMemory(id: string): Promise<boolean> {
    const [record] = await this.store.getMemories(this.namespace, [id]);
    if (!record) return false;
    this.observe(record);
    const tombstone = { entity: 'memory' as const, id, namespace: this.namespace, clock: this.clock.tick() };
    await this.write({ tombstones: [tombstone] }, 'remove', [id]);
    return !isExpired(record.memory, this.nowIso());
  }

  async list(options: ListOptions = {}): Promise<ListResult> {
    this.assertOpen();
    const parsed = schema.parse(schema.listOptionsSchema, options, 'list');
    const limit = parsed.limit ?? DEFAULT_LIST_LIMIT;
    const records = await this.store.list(this.namespace, {
      kind: parsed.kind,
      tags: parsed.tags,
      tagMode: parsed.tagMode ?? 'any',
      since: parsed.since,
      until: parsed.until,
      metadata: parsed.metadata,
      beforeId: parsed.cursor ? decodeCursor(parsed.cursor) : undefined,
      now: this.nowIso(),
      limit: limit + 1,
      asOf: parsed.asOf,
      history: parsed.history,
    });
    const items = records.slice(0, limit).map((r) => r.memory);
    const last = items[items.length - 1];
    return { items, cursor: records.length > limit && last ? encodeCursor(last.id) : null };
  }

  /**
   * Ranked search. Mode defaults to `text`, or `hybrid` when a vector is given with a query
   * (`vector` when the query is empty).
   */
  async search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    this.assertOpen();
    schema.parse(schema.querySchema, query, 'search.query');
    const parsed = schema.parse(schema.searchOptionsSchema, options, 'search');
    // Cut once, here: the store (a RemoteStore sends it on) and the embedder get the same text.
    const text = cutQuery(query);
    const limit = parsed.limit ?? DEFAULT_SEARCH_LIMIT;
    let mode: SearchMode = parsed.mode ?? (parsed.vector ? (text.trim() ? 'hybrid' : 'vector') : 'text');
    let { vector, model } = parsed;
    if (mode !== 'text' && !vector && this.embedder) {
      try {
        [vector] = await embedTexts(this.embedder, [text], this.embeddingOptions.timeoutMs);
        model ??= this.embedder.id;
      } catch (error) {
        // Local first: hybrid search still answers by text when the embedder is unreachable.
        if (mode === 'vector') {
          throw new EngramError('OFFLINE', `search: the embedder failed: ${errorMessage(error)}`, {
            field: 'embedder',
            cause: error,
          });
        }
        this.warn(
          'EMBEDDER_FAILED',
          `search: the embedder failed, text results only: ${errorMessage(error)}`,
        );
        mode = 'text';
      }
    }
    const report: SearchReport = { otherModels: 0 };
    const hits = await searchStore(
      this.store,
      this.namespace,
      {
        query: text,
        mode,
        limit: parsed.boost ? boostPool(limit) : limit,
        kind: parsed.kind,
        tags: parsed.tags,
        tagMode: parsed.tagMode ?? 'any',
        vector,
        model,
        now: this.nowIso(),
        language: this.language,
        match: parsed.match,
        metadata: parsed.metadata,
        explain: parsed.explain,
        asOf: parsed.asOf,
        history: parsed.history,
      },
      report,
    );
    if (report.otherModels > 0) {
      this.warn(
        'EMBEDDING_MODEL_MISMATCH',
        model === undefined
          ? `search: skipped ${report.otherModels} embeddings of another length than the query's; run reembed to move them`
          : `search: skipped ${report.otherModels} embeddings made by a model other than ${model}, or of another length; run reembed to move them`,
        report.otherModels,
      );
    }
    const ranked: SearchHit[] = hits.map((h) =>
      h.explain
        ? { memory: h.record.memory, score: h.score, explain: h.explain }
        : { memory: h.record.memory, score: h.score },
    );
    if (!parsed.boost) return ranked;
    const at = Date.parse(parsed.asOf ?? this.nowIso());
    return applyBoost(ranked, parsed.boost, at, limit).map((b) => b.hit);
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
    // One link per (from, to, type): calls at once are queued in call order, and a link another process
    // made meanwhile is found by the store's own check (newIds), after which this one updates it.
    return this.checked(async () => {
      await this.requireLivePair([fromId, 'link.from'], [toId, 'link.to']);
      try {
        return await this.putLink(fromId, toId, type, parsed);
      } catch (error) {
        if (!(error instanceof EngramError && error.code === 'CONFLICT' && error.field === 'newIds'))
          throw error;
        return this.putLink(fromId, toId, type, parsed);
      }
    });
  }

  /** link()'s write: creates the link, or updates the one of the same memories and type. */
  private async putLink(fromId: string, toId: string, type: string, parsed: LinkOptions): Promise<Link> {
    const existing = (await this.store.linksOf(this.namespace, [fromId], { direction: 'out', type })).find(
      (r) => r.link.to === toId,
    );
    if (existing) this.observe(existing);
    const stamp = this.clock.tick();
    const write = existing
      ? {
          id: existing.link.id,
          values: { ...parsed },
          clocks: Object.fromEntries(Object.keys(parsed).map((k) => [k, stamp])),
        }
      : createLinkWrite(
          {
            id: uuidv7(this.now()),
            namespace: this.namespace,
            from: fromId,
            to: toId,
            type,
            createdAt: hlcToIso(stamp),
            ...parsed,
          },
          stamp,
        );
    const result = await this.write(
      existing ? { links: [write] } : { links: [write], newIds: [write.id] },
      'link',
      [write.id],
    );
    const link = result.links[0];
    if (!link)
      throw new EngramError('NOT_FOUND', 'link: one of its memories was deleted meanwhile', {
        field: 'link.from',
      });
    return link.link;
  }

  async unlink(linkId: string): Promise<boolean> {
    this.assertOpen();
    schema.parse(schema.idSchema, linkId, 'unlink.id');
    return this.checked(() => this.removeLink(linkId));
  }

  private async removeLink(linkId: string): Promise<boolean> {
    const [record] = await this.store.getLinks(this.namespace, [linkId]);
    if (!record) return false;
    this.observe(record);
    const tombstone = {
      entity: 'link' as const,
      id: linkId,
      namespace: this.namespace,
      clock: this.clock.tick(),
    };
    await this.write({ tombstones: [tombstone] }, 'unlink', [linkId]);
    return true;
  }

  /** Links of a memory whose other end is live, ordered by id descending. */
  async links(id: string, options: LinksOptions = {}): Promise<Link[]> {
    this.assertOpen();
    schema.parse(schema.idSchema, id, 'links.id');
    const parsed = schema.parse(schema.linksOptionsSchema, options, 'links.options');
    await this.requireLive(id, 'links.id');
    const records = await this.store.linksOf(this.namespace, [id], {
      direction: parsed.direction ?? 'both',
      type: parsed.type,
    });
    const others = [...new Set(records.map((r) => (r.link.from === id ? r.link.to : r.link.from)))];
    const now = this.nowIso();
    const live = new Set(
      (await this.store.getMemories(this.namespace, others))
        .filter((r) => !isExpired(r.memory, now))
        .map((r) => r.memory.id),
    );
    return records
      .filter((r) => live.has(r.link.from === id ? r.link.to : r.link.from))
      .map((r) => r.link)
      .sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  /** Memories within `depth` hops (default 1), nearest first, then by id descending. */
  async neighbors(id: string, options: NeighborsOptions = {}): Promise<Memory[]> {
    this.assertOpen();
    schema.parse(schema.idSchema, id, 'neighbors.id');
    const parsed = schema.parse(schema.neighborsOptionsSchema, options, 'neighbors.options');
    await this.requireLive(id, 'neighbors.id');
    const walk = { direction: parsed.direction ?? 'both', type: parsed.type, now: this.nowIso() } as const;
    const depth = parsed.depth ?? DEFAULT_DEPTH;
    const records = this.store.neighbors
      ? await this.store.neighbors(this.namespace, id, { ...walk, depth })
      : await walkNeighbors(this.store, this.namespace, id, depth, walk);
    return records.map((r) => r.memory);
  }

  /** The shortest path, endpoints included, following links forward unless `direction` says otherwise. */
  async path(fromId: string, toId: string, options: PathOptions = {}): Promise<Memory[] | null> {
    this.assertOpen();
    schema.parse(schema.idSchema, fromId, 'path.from');
    schema.parse(schema.idSchema, toId, 'path.to');
    const parsed = schema.parse(schema.pathOptionsSchema, options, 'path.options');
    const [from] = await this.requireLivePair([fromId, 'path.from'], [toId, 'path.to']);
    const walk = { direction: parsed.direction ?? 'out', type: parsed.type, now: this.nowIso() } as const;
    const maxDepth = parsed.maxDepth ?? DEFAULT_PATH_DEPTH;
    const records = this.store.path
      ? await this.store.path(this.namespace, fromId, toId, { ...walk, maxDepth })
      : await findPath(this.store, this.namespace, from, toId, maxDepth, walk);
    return records?.map((r) => r.memory) ?? null;
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
    const encryption = parse(encryptionSchema, next, 'rekey');
    if (!this.sealing || !this.replication) {
      throw new EngramError(
        'VALIDATION',
        'rekey: this memory is not end-to-end encrypted (pass encryption and sync)',
        {
          field: 'rekey',
        },
      );
    }
    await this.replication.sync();
    await this.sealing.rotate(encryption);
    const { restampSealedFields } = await import('./crypto/rekey.js');
    const records = await restampSealedFields(this.store, this.namespace, this.clock);
    await this.replication.sync();
    return { records };
  }

  /** Stops background work and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watches?.stop();
    this.replication?.stop();
    this.embeddings?.stop();
    this.unsubscribeStore?.();
    this.events.clear();
    await this.store.close();
  }
}
