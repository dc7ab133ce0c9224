import { EngramError } from '../../core/errors.js';
import { nextFeedNumber } from '../../core/feed-number.js';
import { matchesListQuery } from '../../core/filter.js';
import { mergeBatch, type StoreTransaction } from '../../core/merge.js';
import type { Direction, Json, Memory } from '../../core/model.js';
import { createSerialQueue } from '../../core/serial.js';
import type {
  ApplyResult,
  ChangeEntry,
  CountQuery,
  LinkRecord,
  ListQuery,
  MemoryRecord,
  MemoryStore,
  NativeSearchHit,
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
import { LANGUAGE_META, loadLanguage } from '../../core/text/index.js';
import { parseVectorOptions, type VectorOptions } from '../../core/vector/vector-options.js';
import { type ApproximateKit, loadApproximate, VectorSpace } from '../../core/vector/vector-space.js';
import { checkStoreOptions, parsedElsewhere } from '../store-options.js';
import { collectIn, expiredIn } from './maintenance.js';
import { NamespaceData } from './namespace-data.js';
import { cloneLink, cloneMemory, pick } from './record-copies.js';
import { nearestInMemory } from './vector-space.js';

export interface InMemoryStoreOptions {
  /**
   * How vector search finds candidates: exact by default (a Float32Array per model, scanned);
   * `{ quantize: 'int8' }` keeps int8 codes instead, `{ index: 'hnsw' }` adds an approximate HNSW graph
   * (new vectors linked in at the next search) and `{ index: 'ivf' }` an IVF index, trained once a model
   * has 5 000 vectors and then kept current (see docs/embeddings.md).
   */
  vectors?: VectorOptions;
}

const encoder = new TextEncoder();
/** What the edge's quota counts of a memory: its content and metadata JSON, in UTF-8 bytes. */
const storedBytes = (memory: Memory) =>
  encoder.encode(memory.content).length + encoder.encode(JSON.stringify(memory.metadata)).length;

/**
 * The default store: plain Maps and an incremental inverted index, isomorphic and dependency-free.
 * Nothing persists; use it for tests, agents with short lives, or as a cache.
 *
 * @example
 * const mem = await createMemory({ store: new InMemoryStore(), namespace: 'user-42' });
 */
export class InMemoryStore implements MemoryStore {
  readonly kind = 'memory';
  readonly capabilities: StoreCapabilities = {
    persistent: false,
    shared: false,
  };
  private readonly spaces = new Map<string, NamespaceData>();
  private closed = false;
  private readonly serial = createSerialQueue();

  private readonly vectorOptions: ReturnType<typeof parseVectorOptions>;
  /** The IVF/HNSW/int8 code when the vector options need it, loaded by `approximateReady`. */
  private approximate: ApproximateKit | undefined;
  private approximateLoad: Promise<void> | undefined;

  constructor(options: InMemoryStoreOptions = {}) {
    checkStoreOptions(options, { vectors: parsedElsewhere }, 'InMemoryStore');
    this.vectorOptions = parseVectorOptions(options.vectors);
  }

  async open(): Promise<void> {
    this.assertOpen();
    await this.approximateReady();
  }

  /** Loads the vector index code once, before anything can put an embedding into a space or search it. */
  private approximateReady(): Promise<void> {
    this.approximateLoad ??= loadApproximate(this.vectorOptions).then((kit) => {
      this.approximate = kit;
    });
    return this.approximateLoad;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new EngramError('STORAGE', 'InMemoryStore: the store is closed');
  }

  async usage(namespace: string): Promise<StoreUsage> {
    let bytes = 0;
    const memories = this.space(namespace).memories;
    for (const { memory } of memories.values()) bytes += storedBytes(memory);
    return { memories: memories.size, bytes };
  }

  private space(namespace: string): NamespaceData {
    this.assertOpen();
    const existing = this.spaces.get(namespace);
    if (existing) return existing;
    const data = new NamespaceData(new VectorSpace(this.vectorOptions, () => this.approximate));
    this.spaces.set(namespace, data);
    return data;
  }

  /** Writes are staged while core merges and committed synchronously at the end: all or nothing. */
  apply(namespace: string, batch: WriteBatch): Promise<ApplyResult> {
    return this.serial(() => this.applyNow(namespace, batch));
  }

  private async applyNow(namespace: string, batch: WriteBatch): Promise<ApplyResult> {
    await this.approximateReady();
    const data = this.space(namespace);
    const staged: Array<() => void> = [];
    const entryKeys = new Set<string>();
    // The namespace's index language, or the one this batch sets (see LANGUAGE_META).
    const language = batch.meta?.[LANGUAGE_META] ?? data.meta.get(LANGUAGE_META);
    // Loaded before anything is staged, so that indexing cannot fail half-way through the commit.
    await loadLanguage(language);
    const tx: StoreTransaction = {
      readMemories: (ids) => pick(data.memories, ids),
      readLinks: (ids) => pick(data.links, ids),
      readTombstones: (ids) => pick(data.tombstones, ids),
      readLinksTouching: (ids) => this.touching(data, ids, 'both'),
      readLinksBetween: (from, to) => this.between(data, from, to),
      // The deduping add's guard (WriteBatch.dedupe): an edge on this store serves RemoteStore clients,
      // whose adds race outside this process's checked-write queue. The feed is in sequence order.
      readMemoryIdsChangedSince: (seq, limit) => {
        const ids: string[] = [];
        for (const entry of data.changes.values()) {
          if (entry.seq <= seq || entry.entity !== 'memory') continue;
          ids.push(entry.id);
          if (ids.length === limit) break;
        }
        return ids;
      },
      putMemory: (record, previous) => {
        staged.push(() => {
          if (previous) data.index.remove(previous.memory.id, previous.memory.content, language);
          else data.ids.insert(record.memory.id);
          data.memories.set(record.memory.id, record);
          data.index.add(record.memory.id, record.memory.content, language);
          const { clocks } = record;
          if (
            previous?.clocks.embedding !== clocks.embedding ||
            previous?.clocks.embeddingModel !== clocks.embeddingModel
          ) {
            data.vectors.put(record.memory.id, record.memory.embedding, record.memory.embeddingModel);
          }
        });
      },
      deleteMemory: (record) => {
        staged.push(() => {
          data.memories.delete(record.memory.id);
          data.vectors.delete(record.memory.id);
          data.ids.remove(record.memory.id);
          data.index.remove(record.memory.id, record.memory.content, language);
        });
      },
      putLink: (record) => {
        staged.push(() => {
          data.links.set(record.link.id, record);
          data.attachLink(record.link.from, record.link.id);
          data.attachLink(record.link.to, record.link.id);
        });
      },
      deleteLink: (record) => {
        staged.push(() => {
          data.links.delete(record.link.id);
          data.detachLink(record.link.from, record.link.id);
          data.detachLink(record.link.to, record.link.id);
        });
      },
      putTombstone: (tombstone) => {
        staged.push(() => data.tombstones.set(tombstone.id, tombstone));
      },
      dropTombstone: (tombstone) => {
        staged.push(() => {
          data.tombstones.delete(tombstone.id);
          data.changes.delete(`${tombstone.entity}:${tombstone.id}`);
        });
      },
      recordChange: (entity, id, origin) => {
        if (batch.reportFeed) entryKeys.add(`${entity}:${id}`);
        staged.push(() => {
          const key = `${entity}:${id}`;
          data.changes.delete(key);
          data.seq = nextFeedNumber(data.seq);
          data.changes.set(key, { seq: data.seq, entity, id, origin });
        });
      },
      setMeta: (key, value) => {
        staged.push(() => data.meta.set(key, structuredClone(value)));
      },
      readMeta: (key) => data.meta.get(key),
      forgetChange: (entity, id) => {
        staged.push(() => data.changes.delete(`${entity}:${id}`));
      },
    };
    // Core's merge copies what it keeps from `existing` records and the façade builds writes from
    // fresh objects, so the batch is not cloned here; results are, as callers may mutate them.
    const result = await mergeBatch(tx, batch);
    const seqBefore = data.seq;
    for (const step of staged) step();
    // An entity changed twice in the batch took two numbers and kept the second: one entry.
    if (batch.reportFeed) result.feed = { after: seqBefore, last: data.seq, entries: entryKeys.size };
    return structuredClone(result);
  }

  async getMemories(namespace: string, ids: readonly string[]): Promise<MemoryRecord[]> {
    const data = this.space(namespace);
    const out: MemoryRecord[] = [];
    for (const id of ids) {
      const record = data.memories.get(id);
      if (record) out.push(cloneMemory(record));
    }
    return out;
  }

  async getLinks(namespace: string, ids: readonly string[]): Promise<LinkRecord[]> {
    const data = this.space(namespace);
    return ids.flatMap((id) => {
      const record = data.links.get(id);
      return record ? [cloneLink(record)] : [];
    });
  }

  async getTombstones(namespace: string, ids: readonly string[]): Promise<Tombstone[]> {
    const data = this.space(namespace);
    return ids.flatMap((id) => {
      const tombstone = data.tombstones.get(id);
      return tombstone ? [{ ...tombstone }] : [];
    });
  }

  async linksOf(
    namespace: string,
    memoryIds: readonly string[],
    options: { direction: Direction; type?: string },
  ): Promise<LinkRecord[]> {
    const links = this.touching(this.space(namespace), memoryIds, options.direction);
    return links.filter((r) => options.type === undefined || r.link.type === options.type).map(cloneLink);
  }

  async linksBetween(namespace: string, from: string, to: string): Promise<LinkRecord[]> {
    return this.between(this.space(namespace), from, to).map(cloneLink);
  }

  /** Read from the end with fewer links: a hub's thousands are not looked at. */
  private between(data: NamespaceData, from: string, to: string): LinkRecord[] {
    const leaving = data.linkIdsByMemory.get(from) ?? new Set<string>();
    const entering = data.linkIdsByMemory.get(to) ?? new Set<string>();
    return [...(leaving.size <= entering.size ? leaving : entering)]
      .map((id) => data.links.get(id)!)
      .filter(({ link }) => link.from === from && link.to === to);
  }

  private touching(data: NamespaceData, memoryIds: readonly string[], direction: Direction): LinkRecord[] {
    const wanted = new Set(memoryIds);
    const found = new Map<string, LinkRecord>();
    for (const memoryId of memoryIds) {
      for (const linkId of data.linkIdsByMemory.get(memoryId) ?? []) {
        const record = data.links.get(linkId)!;
        const out = direction !== 'in' && wanted.has(record.link.from);
        const inbound = direction !== 'out' && wanted.has(record.link.to);
        if (out || inbound) found.set(linkId, record);
      }
    }
    return [...found.values()];
  }

  async list(namespace: string, query: ListQuery): Promise<MemoryRecord[]> {
    const data = this.space(namespace);
    const out: MemoryRecord[] = [];
    for (const id of data.ids.descendingFrom(query.beforeId)) {
      const record = data.memories.get(id)!;
      if (!matchesListQuery(record.memory, query)) continue;
      out.push(cloneMemory(record));
      if (out.length === query.limit) break;
    }
    return out;
  }

  /** Every record checked in place: paging through `list` copied each one (100K: 0.1-0.25 s). */
  async count(namespace: string, query: CountQuery): Promise<number> {
    const listQuery: ListQuery = { ...query, limit: Number.POSITIVE_INFINITY };
    let count = 0;
    for (const { memory } of this.space(namespace).memories.values()) {
      if (matchesListQuery(memory, listQuery)) count++;
    }
    return count;
  }

  /** The maps' sizes: core's walk of the change feed read every record (100K: 0.1-0.2 s). */
  async stats(namespace: string): Promise<StoreCounts> {
    const { memories, links, tombstones } = this.space(namespace);
    return { memories: memories.size, links: links.size, tombstones: tombstones.size };
  }

  async textStats(namespace: string): Promise<TextStats> {
    return this.space(namespace).index.stats();
  }

  async postings(
    namespace: string,
    terms: readonly string[],
    prefixes: readonly string[],
  ): Promise<TextPosting[]> {
    return this.space(namespace).index.postings(terms, prefixes);
  }

  /** Its vector space answers a query vector without a model too, over every model's embeddings. */
  readonly nearestAnyModel = true;

  async nearestVectors(
    namespace: string,
    query: Parameters<NonNullable<MemoryStore['nearestVectors']>>[1],
  ): Promise<{ hits: NativeSearchHit[]; otherModels: number }> {
    await this.approximateReady();
    const data = this.space(namespace);
    return nearestInMemory(data.vectors, data.memories, query);
  }

  async vectors(namespace: string, afterId: string | null, limit: number): Promise<VectorEntry[]> {
    const data = this.space(namespace);
    const out: VectorEntry[] = [];
    for (const id of data.ids.ascendingAfter(afterId)) {
      const { embedding, embeddingModel } = data.memories.get(id)!.memory;
      if (!embedding) continue;
      out.push(
        embeddingModel === undefined
          ? { id, embedding: [...embedding] }
          : { id, embedding: [...embedding], model: embeddingModel },
      );
      if (out.length === limit) break;
    }
    return out;
  }

  async changes(namespace: string, afterSeq: number, limit: number): Promise<ChangeEntry[]> {
    const out: ChangeEntry[] = [];
    for (const entry of this.space(namespace).changes.values()) {
      if (entry.seq <= afterSeq) continue;
      out.push({ ...entry });
      if (out.length === limit) break;
    }
    return out;
  }

  /** The namespace's newest change-feed sequence number (0 when empty), for live-sync event ids. */
  async latestSeq(namespace: string): Promise<number> {
    this.assertOpen();
    return this.spaces.get(namespace)?.seq ?? 0;
  }

  async expiredIds(namespace: string, options: { now: string; limit: number }): Promise<string[]> {
    return expiredIn(this.space(namespace).memories.values(), options);
  }

  collectTombstones(namespace: string, options: TombstoneCollection): Promise<number> {
    return this.serial(async () => collectIn(this.space(namespace), options));
  }

  async getMeta(namespace: string, key: string): Promise<Json | undefined> {
    const value = this.space(namespace).meta.get(key);
    return value === undefined ? undefined : structuredClone(value);
  }

  async namespaces(): Promise<string[]> {
    this.assertOpen();
    return [...this.spaces.keys()].sort();
  }
}
