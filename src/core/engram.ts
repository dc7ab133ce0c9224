import { decodeCursor, encodeCursor } from './cursor.js';
import type { ChangeKind, MemoryEvents, SyncOptions } from './engram-options.js';
import { EngramError, validationError } from './errors.js';
import { Emitter } from './events.js';
import { isExpired } from './filter.js';
import { findPath, walkNeighbors } from './graph.js';
import { type HybridLogicalClock, hlcToIso } from './hlc.js';
import { assertIdsFree } from './id-checks.js';
import { uuidv7 } from './ids.js';
import type {
  Link,
  LinkOptions,
  LinksOptions,
  ListOptions,
  ListResult,
  Memory,
  MemoryInput,
  MemoryPatch,
  NeighborsOptions,
  PathOptions,
  SearchHit,
  SearchMode,
  SearchOptions,
} from './model.js';
import { searchStore } from './search.js';
import type { MemoryRecord, MemoryStore, WriteBatch } from './store-contract.js';
import type { SyncEngine, SyncResult, SyncStatus } from './sync/engine.js';
import * as schema from './validate.js';
import { createLinkWrite, createMemoryWrite, patchMemoryWrite } from './writes.js';

const DEFAULT_LIST_LIMIT = 50;
const DEFAULT_SEARCH_LIMIT = 10;
const DEFAULT_DEPTH = 1;
const DEFAULT_PATH_DEPTH = 6;

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
  private replication: SyncEngine | undefined;

  constructor(
    readonly store: MemoryStore,
    readonly namespace: string,
    private readonly clock: HybridLogicalClock,
    private readonly now: () => number,
  ) {
    this.events = new Emitter<MemoryEvents>(reportListenerError);
    this.unsubscribeStore = store.subscribe?.((ns, ids) => {
      if (ns === this.namespace) this.events.emit('change', { type: 'external', namespace: ns, ids });
    });
  }

  get status(): SyncStatus {
    return this.replication?.status ?? { state: 'local', pending: 0, lastSyncAt: null };
  }

  /**
   * Starts background sync; createMemory calls it. The engine is loaded on demand, so apps that never
   * sync do not ship it.
   */
  async startSync(options: SyncOptions): Promise<void> {
    const [{ SyncEngine }, { createHttpTransport }] = await Promise.all([
      import('./sync/engine.js'),
      import('./sync/transport.js'),
    ]);
    this.replication = new SyncEngine({
      store: this.store,
      namespace: this.namespace,
      clock: this.clock,
      transport: createHttpTransport({ ...options, namespace: this.namespace }),
      intervalMs: options.intervalMs,
      debounceMs: options.debounceMs,
      backoff: options.backoff,
      onStatus: (status) => this.events.emit('status', status),
      onPulled: (ids) => this.events.emit('change', { type: 'sync', namespace: this.namespace, ids }),
    });
    await this.replication.start();
  }

  on<K extends keyof MemoryEvents>(event: K, listener: (payload: MemoryEvents[K]) => void): () => void {
    if (event !== 'change' && event !== 'status') {
      throw validationError('on.event', `'change' or 'status'`, JSON.stringify(event));
    }
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
    const result = await this.store.apply(this.namespace, batch);
    this.replication?.noteLocalWrite(result.memories.length + result.links.length + result.deleted.length);
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
    if (!record)
      throw new EngramError('NOT_FOUND', `${field}: no memory with id ${JSON.stringify(id)}`, { field });
    return record;
  }

  /** Adds one memory and returns it with its generated id and timestamps. */
  async add(input: MemoryInput): Promise<Memory> {
    this.assertOpen();
    const [memory] = await this.insert([schema.parse(schema.memoryInputSchema, input, 'add')], 'add');
    return memory!;
  }

  /** Adds up to 1000 memories in one transaction: all are written or none. */
  async addMany(inputs: MemoryInput[]): Promise<Memory[]> {
    this.assertOpen();
    if (!Array.isArray(inputs)) {
      throw validationError('addMany', 'an array of memories');
    }
    if (inputs.length > schema.LIMITS.batch) {
      throw validationError('addMany', `at most ${schema.LIMITS.batch} memories`, inputs.length);
    }
    const parsed = inputs.map((input, i) => schema.parse(schema.memoryInputSchema, input, `addMany.${i}`));
    return this.insert(parsed, 'addMany');
  }

  private async insert(inputs: MemoryInput[], where: string): Promise<Memory[]> {
    await assertIdsFree(this.store, this.namespace, inputs, where);
    const writes = inputs.map((input) => {
      const id = input.id ?? uuidv7(this.now());
      const stamp = this.clock.tick();
      return createMemoryWrite(this.namespace, id, input, stamp, hlcToIso(stamp));
    });
    const result = await this.write(
      { memories: writes },
      'add',
      writes.map((w) => w.id),
    );
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
    this.observe(await this.requireLive(id, 'update.id'));
    const result = await this.write(
      { memories: [patchMemoryWrite(id, parsed, this.clock.tick())] },
      'update',
      [id],
    );
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
      beforeId: parsed.cursor ? decodeCursor(parsed.cursor) : undefined,
      now: this.nowIso(),
      limit: limit + 1,
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
    const mode: SearchMode = parsed.mode ?? (parsed.vector ? (query.trim() ? 'hybrid' : 'vector') : 'text');
    const hits = await searchStore(this.store, this.namespace, {
      query,
      mode,
      limit: parsed.limit ?? DEFAULT_SEARCH_LIMIT,
      kind: parsed.kind,
      tags: parsed.tags,
      tagMode: parsed.tagMode ?? 'any',
      vector: parsed.vector,
      now: this.nowIso(),
    });
    return hits.map((h) => ({ memory: h.record.memory, score: h.score }));
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
    await Promise.all([this.requireLive(fromId, 'link.from'), this.requireLive(toId, 'link.to')]);
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
    const result = await this.write({ links: [write] }, 'link', [write.id]);
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
    const [from] = await Promise.all([
      this.requireLive(fromId, 'path.from'),
      this.requireLive(toId, 'path.to'),
    ]);
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

  /** Stops background work and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.replication?.stop();
    this.unsubscribeStore?.();
    this.events.clear();
    await this.store.close();
  }
}
