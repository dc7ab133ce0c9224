import { type IDBPTransaction, unwrap } from 'idb';
import { nextFeedNumber } from '../../core/feed-number.js';
import type { StoreTransaction } from '../../core/merge.js';
import type { Json } from '../../core/model.js';
import type {
  ChangeOrigin,
  Entity,
  FeedRange,
  LinkRecord,
  MemoryRecord,
  Tombstone,
} from '../../core/store-contract.js';
import { analyzerFor, LANGUAGE_META } from '../../core/text/index.js';
import { FeedBlockWriter, memoryIdsAfter } from './feed.js';
import { memoryKey } from './keys.js';
import { MemoryBounds } from './namespace-bounds.js';
import { type OpenGroupEntry, textStamp } from './open-group-cache.js';
import { PendingRequests } from './pending-requests.js';
import {
  MEMORY_KEYS,
  PAIR_KEYS,
  readByIdsProbing,
  readLinksBetween,
  readLinksTouching,
  withVectors,
} from './reads.js';
import { emptyStats, toLinkRecord, toMemoryRow, toTombstone } from './rows.js';
import type { EngramSchema, FeedEntry, NamespaceStats, StoreName } from './schema.js';
import { type SparseSlot, TextIndexWriter, type TextPlace } from './text-writer.js';

export type WriteTransaction = IDBPTransaction<EngramSchema, StoreName[], 'readwrite'>;

const ignore = () => undefined;
const byId = <T>(records: T[], id: (record: T) => string) => new Map(records.map((r) => [id(r), r] as const));

/**
 * Core's merge runs against this inside ONE readwrite transaction. Reads are awaited (merge needs them);
 * writes are issued without awaiting each, queue in order inside the transaction and are settled in
 * `finish`. Only IDB requests are awaited, so the transaction stays alive throughout.
 *
 * A record or tombstone row carries its entity's change-feed entry (a memory row its number, the
 * entry itself going to the transaction's feed block), so its put waits (staged) for `recordChange` to
 * hand it the next sequence number. Text edits are staged in a TextIndexWriter and written group by
 * group at the end, the feed block after them.
 */
export class IndexedDBWriteTransaction implements StoreTransaction {
  private readonly writes = new PendingRequests();
  /** The same transaction without idb's wrapping, for writes (see PendingRequests). */
  private readonly native: IDBTransaction;
  private readonly counters: Promise<NamespaceStats>;
  /** Set once the counters are used: then they are written back at the end. */
  private stats: Promise<NamespaceStats> | undefined;
  private text: TextIndexWriter | undefined;
  /** The namespace's index language (see `batchLanguage`). */
  private readonly language: Json | undefined | Promise<Json | undefined>;
  /** Where the text of every memory read or indexed here lives. */
  private readonly placeOf = new Map<string, TextPlace>();
  /** The feed entries of the memory rows read here, by id: a rewrite or delete retires them. */
  private readonly seqOf = new Map<string, number>();
  private readonly feed: FeedBlockWriter;
  /** Row puts waiting for their feed entry, by `entity:id` (a tombstone under its entity). */
  private readonly staged = new Map<string, (feed: FeedEntry) => void>();
  /** The counters' `seq` as read, and the bounds of the memories this batch writes (namespace-bounds.ts). */
  private seqBefore = 0;
  /** The entities whose changes the batch recorded (one feed entry each). */
  private readonly entryKeys = new Set<string>();
  private readonly written = new MemoryBounds();

  constructor(
    private readonly tx: WriteTransaction,
    private readonly namespace: string,
    private readonly groupSlots: number,
    /** The index language this batch sets (its `language` meta), if any; else the namespace's is read. */
    batchLanguage?: Json,
    /** The open group's rows as this tab last committed them; used only if the counters still match. */
    private readonly cached?: OpenGroupEntry,
    /** How many memories the batch writes: at most this many are indexed (see TextIndexWriter.reserve). */
    private readonly batchSize = 0,
  ) {
    this.native = unwrap(tx);
    this.feed = new FeedBlockWriter(namespace);
    // Both are needed before the first memory is indexed: asked at once, beside core's first reads. A
    // failure is the aborted transaction's, reported by whatever awaits them (or by the apply).
    this.counters = tx
      .objectStore('stats')
      .get(namespace)
      .then((stats) => {
        // A namespace never written holds no memory: nothing in it expires, nothing is out of its validity.
        const found = stats ?? { ...emptyStats(), ...new MemoryBounds().at(0) };
        this.seqBefore = found.seq;
        return found;
      });
    this.language =
      batchLanguage === undefined ? tx.objectStore('meta').get([namespace, LANGUAGE_META]) : batchLanguage;
    for (const request of [this.counters, this.language]) Promise.resolve(request).catch(ignore);
  }

  async readMemories(ids: readonly string[]): Promise<Map<string, MemoryRecord>> {
    const rows = await readByIdsProbing(this.tx.objectStore('memories'), MEMORY_KEYS, this.namespace, ids);
    for (const { memory, group, slot, seq } of rows) {
      this.placeOf.set(memory.id, { group, slot });
      this.seqOf.set(memory.id, seq);
    }
    return byId(await withVectors(this.tx.objectStore('vectors'), rows), (r) => r.memory.id);
  }

  async readLinks(ids: readonly string[]): Promise<Map<string, LinkRecord>> {
    const rows = await readByIdsProbing(this.tx.objectStore('links'), PAIR_KEYS, this.namespace, ids);
    return byId(rows.map(toLinkRecord), (r) => r.link.id);
  }

  async readTombstones(ids: readonly string[]): Promise<Map<string, Tombstone>> {
    const rows = await readByIdsProbing(this.tx.objectStore('tombstones'), PAIR_KEYS, this.namespace, ids);
    return byId(rows.map(toTombstone), (t) => t.id);
  }

  /** What a deduping add's guard compares (`WriteBatch.dedupe`): two tabs' transactions take turns. */
  readMemoryIdsChangedSince(seq: number, limit: number): Promise<string[]> {
    return memoryIdsAfter(this.tx.objectStore('feedBlocks'), this.namespace, seq, limit);
  }

  readLinksBetween(from: string, to: string): Promise<LinkRecord[]> {
    const links = this.tx.objectStore('links');
    return readLinksBetween(links.index('from'), links.index('to'), this.namespace, from, to);
  }

  readLinksTouching(memoryIds: readonly string[]): Promise<LinkRecord[]> {
    const links = this.tx.objectStore('links');
    return readLinksTouching(links.index('from'), links.index('to'), this.namespace, memoryIds, 'both');
  }

  async putMemory(record: MemoryRecord, previous: MemoryRecord | undefined): Promise<void> {
    const { memory, clocks } = record;
    this.written.see(memory);
    if (previous?.memory.content !== memory.content) {
      const text = await this.textWriter();
      const place = this.placeOf.get(memory.id);
      if (previous && place) text.remove(place, previous.memory.content);
      this.placeOf.set(memory.id, text.add(memory.id, memory.content));
    }
    const place = this.placeOf.get(memory.id)!;
    const rowKey = memoryKey(this.namespace, memory.id);
    if (previous) this.retireEntry(memory.id);
    this.stage('memory', memory.id, ({ seq, origin }) => {
      this.put('memories', toMemoryRow(record, place, seq), rowKey);
      this.feed.add(seq, memory.id, origin);
      // A later write or delete of it in this batch retires this entry, as it would the stored one.
      this.seqOf.set(memory.id, seq);
    });
    if (previous?.clocks.embedding === clocks.embedding) return;
    const key: [string, string] = [this.namespace, memory.id];
    if (memory.embedding) this.put('vectors', Float64Array.from(memory.embedding), key);
    else if (previous?.memory.embedding) this.delete('vectors', key);
  }

  async deleteMemory({ memory }: MemoryRecord): Promise<void> {
    const key: [string, string] = [this.namespace, memory.id];
    this.delete('memories', memoryKey(this.namespace, memory.id));
    if (memory.embedding) this.delete('vectors', key);
    const place = this.placeOf.get(memory.id);
    if (place) (await this.textWriter()).remove(place, memory.content);
    this.placeOf.delete(memory.id);
    this.retireEntry(memory.id);
  }

  putLink(record: LinkRecord): void {
    this.stage('link', record.link.id, (feed) => this.put('links', { ...record, ...feed }));
  }

  deleteLink({ link }: LinkRecord): void {
    this.delete('links', [this.namespace, link.id]);
  }

  putTombstone(tombstone: Tombstone): void {
    this.stage(tombstone.entity, tombstone.id, (feed) => this.put('tombstones', { ...tombstone, ...feed }));
  }

  /** The row carries the tombstone's feed entry: both go. */
  dropTombstone({ id }: Tombstone): void {
    this.delete('tombstones', [this.namespace, id]);
  }

  async recordChange(entity: Entity, id: string, origin: ChangeOrigin): Promise<void> {
    const stats = await this.loadStats();
    const key = `${entity}:${id}`;
    const put = this.staged.get(key);
    if (!put)
      throw new Error(`IndexedDBStore: a change of ${key} was recorded without its row being written`);
    this.staged.delete(key);
    stats.seq = nextFeedNumber(stats.seq);
    this.entryKeys.add(key);
    put({ seq: stats.seq, origin });
  }

  /** Where the batch's feed entries went (`ApplyResult.feed`), once it has recorded its changes. */
  async feedRange(): Promise<FeedRange> {
    const { seq } = await this.counters;
    return { after: this.seqBefore, last: seq, entries: this.entryKeys.size };
  }

  setMeta(key: string, value: Json): void {
    this.put('meta', value, [this.namespace, key]);
  }

  readMeta(key: string): Promise<Json | undefined> {
    return this.tx.objectStore('meta').get([this.namespace, key]);
  }

  /**
   * The open group's rows as this transaction leaves them, for the store to keep once it commits;
   * undefined when the text index was not touched (what is kept stays valid).
   */
  async openGroupAfter(): Promise<OpenGroupEntry | undefined> {
    const rows = this.text?.openRows;
    return rows && { stamp: textStamp(await this.counters), rows };
  }

  /** The root cause when a queued write failed: later reads then only report the abort it caused. */
  get failedWrite(): { error: unknown } | undefined {
    return this.writes.firstFailure;
  }

  /** Writes the staged rows and index groups, the counters, and settles every request. */
  async finish(): Promise<void> {
    if (this.staged.size > 0) {
      // Core's merge records a change right after every row it writes; a row left here is a bug.
      throw new Error(`IndexedDBStore: ${[...this.staged.keys()].join(', ')} written without a change entry`);
    }
    const sparse = (await this.text?.flush()) ?? [];
    if (sparse.length > 0) await this.compact(sparse);
    await this.feed.write(
      this.tx.objectStore('feedBlocks'),
      (block, key) => this.put('feedBlocks', block, key),
      (key) => this.delete('feedBlocks', key),
    );
    if (this.stats) this.put('stats', this.carryBounds(await this.stats), this.namespace);
    await this.writes.settle();
  }

  /**
   * Indexes the memories of sparse table rows again, in the open group, so that their old rows empty
   * and go: a search then reads fewer, fuller rows. The memory rows keep their change-feed entries
   * (nothing changed that a replica could see), only their text place moves.
   */
  private async compact(sparse: SparseSlot[]): Promise<void> {
    const text = await this.textWriter();
    const memories = this.tx.objectStore('memories');
    const rows = await Promise.all(sparse.map(({ id }) => memories.get(memoryKey(this.namespace, id))));
    sparse.forEach(({ id, group, slot }, i) => {
      const row = rows[i];
      // A row indexed elsewhere would mean a torn index; leave it rather than move what is not there.
      if (!row || row.group !== group || row.slot !== slot) return;
      text.remove({ group, slot }, row.memory.content);
      const place = text.add(id, row.memory.content);
      if (this.placeOf.has(id)) this.placeOf.set(id, place);
      this.put('memories', { ...row, ...place }, memoryKey(this.namespace, id));
    });
    await text.flush();
  }

  /**
   * The counters with their expiry floor and validity bounds moved to this batch's `seq`, each only if
   * it was valid before it (else it stays stale until a full scan records it again).
   */
  private carryBounds(stats: NamespaceStats): NamespaceStats {
    const { expiry, validity } = stats;
    const carried = { ...stats };
    const { written } = this;
    if (expiry !== undefined && expiry.seq === this.seqBefore) {
      carried.expiry = { floor: Math.min(expiry.floor, written.expiry), seq: stats.seq };
    }
    if (validity !== undefined && validity.seq === this.seqBefore) {
      const from = Math.max(validity.from, written.from);
      carried.validity = { from, to: Math.min(validity.to, written.to), seq: stats.seq };
    }
    return carried;
  }

  /** The memory's row is replaced or deleted: its entry goes from its feed block. */
  private retireEntry(id: string): void {
    const seq = this.seqOf.get(id);
    if (seq === undefined) return;
    this.feed.retire(seq);
    this.seqOf.delete(id);
  }

  private stage(entity: Entity, id: string, put: (feed: FeedEntry) => void): void {
    this.staged.set(`${entity}:${id}`, put);
  }

  private put<Name extends StoreName>(
    name: Name,
    value: EngramSchema[Name]['value'],
    key?: EngramSchema[Name]['key'],
  ): void {
    this.writes.trackRequest(this.native.objectStore(name).put(value, key));
  }

  private delete<Name extends StoreName>(name: Name, key: EngramSchema[Name]['key']): void {
    this.writes.trackRequest(this.native.objectStore(name).delete(key));
  }

  private loadStats(): Promise<NamespaceStats> {
    this.stats = this.counters;
    return this.stats;
  }

  private async textWriter(): Promise<TextIndexWriter> {
    if (this.text) return this.text;
    const stats = await this.loadStats();
    // Awaiting only IDB requests keeps the transaction alive: the analyzer must already be loaded
    // (createMemory loads the namespace's language when it opens; analyzerFor says so otherwise).
    const language = await this.language;
    if (this.text) return this.text;
    const known = this.cached?.stamp === textStamp(stats) ? this.cached.rows : undefined;
    this.text = new TextIndexWriter(
      analyzerFor(language).language,
      { tables: this.tx.objectStore('textTables'), shards: this.tx.objectStore('textShards') },
      this.namespace,
      stats,
      this.writes,
      this.groupSlots,
      known,
    );
    this.text.reserve(this.batchSize);
    return this.text;
  }
}
