import type { IDBPTransaction } from 'idb';
import type { StoreTransaction } from '../../core/merge.js';
import { indexText } from '../../core/text/index.js';
import type {
  ChangeOrigin,
  Entity,
  Json,
  LinkRecord,
  Memory,
  MemoryRecord,
  TextStats,
  Tombstone,
} from '../../core/types.js';
import { namespaceRange, packPosting } from './keys.js';
import { PendingRequests } from './pending-requests.js';
import { readByIdsProbing, readLinksTouching, readMemoryRecords } from './reads.js';
import { type EngramSchema, type StoreName, toMemoryRow } from './schema.js';

export type WriteTransaction = IDBPTransaction<EngramSchema, StoreName[], 'readwrite'>;

const byId = <T>(records: T[], id: (record: T) => string) => new Map(records.map((r) => [id(r), r] as const));

/**
 * Core's merge runs against this inside ONE readwrite transaction. Reads are awaited (merge needs them);
 * writes are issued without awaiting each, queue in order inside the transaction and are settled in
 * `finish`, so a 10K batch costs no 10K round trips. Only IDB requests are awaited, so the transaction
 * stays alive throughout.
 */
export class IndexedDBWriteTransaction implements StoreTransaction {
  private readonly writes = new PendingRequests();
  private readonly textDelta: TextStats = { docs: 0, tokens: 0 };
  private lastSeq: number | undefined;
  /** Feed entries written by this transaction, by `entity:id`: a second change replaces them directly. */
  private readonly feedSeqs = new Map<string, number>();
  /** Records created here had no record and no tombstone before, so no feed entry to replace either. */
  private readonly created = new Set<string>();

  constructor(
    private readonly tx: WriteTransaction,
    private readonly namespace: string,
  ) {}

  async readMemories(ids: readonly string[]): Promise<Map<string, MemoryRecord>> {
    const records = await readMemoryRecords(
      this.tx.objectStore('memories'),
      this.tx.objectStore('vectors'),
      this.namespace,
      ids,
      readByIdsProbing,
    );
    return byId(records, (r) => r.memory.id);
  }

  async readLinks(ids: readonly string[]): Promise<Map<string, LinkRecord>> {
    return byId(await readByIdsProbing(this.tx.objectStore('links'), this.namespace, ids), (r) => r.link.id);
  }

  async readTombstones(ids: readonly string[]): Promise<Map<string, Tombstone>> {
    return byId(await readByIdsProbing(this.tx.objectStore('tombstones'), this.namespace, ids), (t) => t.id);
  }

  readLinksTouching(memoryIds: readonly string[]): Promise<LinkRecord[]> {
    const links = this.tx.objectStore('links');
    return readLinksTouching(links.index('from'), links.index('to'), this.namespace, memoryIds, 'both');
  }

  putMemory(record: MemoryRecord, previous: MemoryRecord | undefined): void {
    const { memory, clocks } = record;
    const key: [string, string] = [this.namespace, memory.id];
    this.writes.track(this.tx.objectStore('memories').put(toMemoryRow(record)));
    if (!previous) this.created.add(`memory:${memory.id}`);
    if (previous?.clocks.embedding !== clocks.embedding) {
      const vectors = this.tx.objectStore('vectors');
      if (memory.embedding) this.writes.track(vectors.put(Float64Array.from(memory.embedding), key));
      else if (previous?.memory.embedding) this.writes.track(vectors.delete(key));
    }
    if (previous?.memory.content === memory.content) return;
    if (previous) this.indexText(previous.memory, -1);
    this.indexText(memory, 1);
  }

  deleteMemory({ memory }: MemoryRecord): void {
    const key: [string, string] = [this.namespace, memory.id];
    this.writes.track(this.tx.objectStore('memories').delete(key));
    if (memory.embedding) this.writes.track(this.tx.objectStore('vectors').delete(key));
    this.indexText(memory, -1);
  }

  /** Adds (+1) or removes (-1) a document's postings; removals are queued before re-adds, so shared terms survive. */
  private indexText(memory: Memory, sign: 1 | -1): void {
    const postings = this.tx.objectStore('postings');
    const { length, terms } = indexText(memory.content);
    for (const [term, tf] of terms) {
      const key: [string, string, string] = [this.namespace, term, memory.id];
      this.writes.track(sign > 0 ? postings.put(packPosting(tf, length), key) : postings.delete(key));
    }
    this.textDelta.docs += sign;
    this.textDelta.tokens += sign * length;
  }

  putLink(record: LinkRecord, previous: LinkRecord | undefined): void {
    if (!previous) this.created.add(`link:${record.link.id}`);
    this.writes.track(this.tx.objectStore('links').put(record));
  }

  deleteLink({ link }: LinkRecord): void {
    this.writes.track(this.tx.objectStore('links').delete([this.namespace, link.id]));
  }

  putTombstone(tombstone: Tombstone): void {
    this.writes.track(this.tx.objectStore('tombstones').put(tombstone));
  }

  async recordChange(entity: Entity, id: string, origin: ChangeOrigin): Promise<void> {
    const changes = this.tx.objectStore('changes');
    this.lastSeq ??= await this.readLastSeq();
    const seq = ++this.lastSeq;
    const entityKey = `${entity}:${id}`;
    const replaced = this.feedSeqs.get(entityKey);
    if (replaced !== undefined) {
      this.writes.track(changes.delete([this.namespace, replaced]));
    } else if (!this.created.has(entityKey)) {
      const lookup = changes.index('entity').getKey([this.namespace, entity, id]);
      this.writes.track(lookup.then((old) => old && changes.delete(old)));
    }
    this.feedSeqs.set(entityKey, seq);
    this.writes.track(changes.put({ namespace: this.namespace, seq, entity, id, origin }));
  }

  private async readLastSeq(): Promise<number> {
    const last = await this.tx.objectStore('changes').openKeyCursor(namespaceRange(this.namespace), 'prev');
    return last ? last.key[1] : 0;
  }

  setMeta(key: string, value: Json): void {
    this.writes.track(this.tx.objectStore('meta').put(value, [this.namespace, key]));
  }

  /** The root cause when a queued write failed: later reads then only report the abort it caused. */
  get failedWrite(): { error: unknown } | undefined {
    return this.writes.firstFailure;
  }

  /** Folds the text-statistics delta into the namespace's row and waits for every queued write. */
  async finish(): Promise<void> {
    const { docs, tokens } = this.textDelta;
    if (docs !== 0 || tokens !== 0) {
      const stats = this.tx.objectStore('stats');
      const current = (await stats.get(this.namespace)) ?? { docs: 0, tokens: 0 };
      this.writes.track(
        stats.put({ docs: current.docs + docs, tokens: current.tokens + tokens }, this.namespace),
      );
    }
    await this.writes.settle();
  }
}
