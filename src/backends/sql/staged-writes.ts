import { nextFeedNumber } from '../../core/feed-number.js';
import { clientOfNode, parseHlc } from '../../core/hlc.js';
import type { StoreTransaction } from '../../core/merge.js';
import type { Json } from '../../core/model.js';
import {
  type ChangeEntry,
  type ChangeOrigin,
  type Entity,
  type FeedRange,
  type LinkRecord,
  loneStamp,
  type MemoryRecord,
  type Tombstone,
} from '../../core/store-contract.js';
import { LANGUAGE_META, loadLanguage } from '../../core/text/index.js';
import { BulkWriter, upsertOn } from './bulk.js';
import type { SqlDialect } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';
import type { PendingBatches } from './pending-batches.js';
import type { PostingTails } from './posting-tails.js';
import { numberDocuments, type TextChange, type WrittenPostings, writePostings } from './posting-writes.js';
import { SqlReader } from './reads.js';
import { LINK_COLUMNS, linkToRow, MEMORY_COLUMNS, memoryToRow } from './rows.js';

/**
 * A row of memories, links and tombstones is its entity's change-feed entry (schema v18): it ends with the
 * entry's number (`seq`, null: no entry) and whether the change came from a pull (`remote`, 1, or 0).
 */
const FEED_COLUMNS = ['seq', 'remote'];
const TOMBSTONE_COLUMNS = ['ns', 'id', 'entity', 'clock', ...FEED_COLUMNS];
const META_COLUMNS = ['ns', 'key', 'value'];
// The conflict clauses are the same on every write: built once.
const MEMORY_UPSERT = upsertOn(['ns', 'id'], [...MEMORY_COLUMNS, ...FEED_COLUMNS]);
/** The memory columns, the document number of its text (posting-blocks.ts) and its feed entry. */
const MEMORY_ROW_COLUMNS = [...MEMORY_COLUMNS, 'doc', ...FEED_COLUMNS];
const LINK_ROW_COLUMNS = [...LINK_COLUMNS, ...FEED_COLUMNS];

/** A feed entry's columns in its entity's row: its number and origin, or nulls when the batch recorded none. */
type FeedCells = readonly [seq: number | null, remote: 0 | 1 | null];
const NO_ENTRY: FeedCells = [null, null];
const LINK_UPSERT = upsertOn(['ns', 'id'], LINK_ROW_COLUMNS);
const META_UPSERT = upsertOn(['ns', 'key'], META_COLUMNS);

/** A memory as the database holds it before the batch (`stored`) and as the batch leaves it (`next`, null: gone). */
interface MemoryChange {
  stored: MemoryRecord | undefined;
  next: MemoryRecord | null;
}

/**
 * Core's merge runs against this: reads go to the database, writes are staged and flushed at the end as a
 * few multi-row statements. Staging is safe because `mergeBatch` reads everything before it writes, and it
 * lets a record written several times in one batch reach the database once.
 */
export class StagedWrites implements StoreTransaction {
  private readonly reader: SqlReader;
  private readonly memories = new Map<string, MemoryChange>();
  private readonly links = new Map<string, LinkRecord | null>();
  private readonly tombstones: Tombstone[] = [];
  /** Ids of stored tombstones a write created anew (`dropTombstone`). */
  private readonly droppedTombstones: string[] = [];
  /** Keyed `entity:id`, re-inserted on each change so that Map order is feed order. */
  private readonly changes = new Map<string, Omit<ChangeEntry, 'seq'>>();
  private readonly meta = new Map<string, Json>();
  /** What the store learns once the transaction committed (`committed()`). */
  private learned: (() => void) | undefined;
  /** The namespace's home client (rows.ts `packClocks`), read with the lock; null: none yet. */
  private home: string | null = null;
  /** The namespace's `language` meta row, read with the lock (`lockNamespace`). */
  private storedLanguage: Promise<{ value: string }[]> | undefined;

  constructor(
    private readonly db: SqlQueries,
    private readonly dialect: SqlDialect,
    private readonly namespace: string,
    /** The newest posting rows as last written, for a store that alone writes its database (posting-tails.ts). */
    private readonly tails?: PostingTails,
    /** What this process wrote to the pending lists (Postgres, pending-batches.ts). */
    private readonly pendingBatches?: PendingBatches,
  ) {
    this.reader = new SqlReader(db, dialect, namespace);
  }

  readMemories = (ids: readonly string[]) => this.reader.memories(ids);
  readLinks = (ids: readonly string[]) => this.reader.links(ids);
  readTombstones = (ids: readonly string[]) => this.reader.tombstones(ids);
  readLinksTouching = (ids: readonly string[]) => this.reader.linksOf(ids, 'both');
  readLinksBetween = (from: string, to: string) => this.reader.between(from, to);
  readLinksJoining = (pairs: readonly { from: string; to: string }[]) => this.reader.joining(pairs);

  async readMemoryIdsChangedSince(seq: number, limit: number): Promise<string[]> {
    // Each memory row holds its change-feed entry's number, behind an (ns, seq) index (schema v18).
    const sql = 'SELECT id FROM engram_memories WHERE ns = ? AND seq > ? ORDER BY seq LIMIT ?';
    const rows = await this.db.all<{ id: string }>(this.dialect.native(sql), [this.namespace, seq, limit]);
    return rows.map((r) => r.id);
  }

  putMemory(record: MemoryRecord, previous: MemoryRecord | undefined): void {
    this.stageMemory(record.memory.id, previous, record);
  }

  deleteMemory(record: MemoryRecord): void {
    this.stageMemory(record.memory.id, record, null);
  }

  putLink(record: LinkRecord): void {
    this.links.set(record.link.id, record);
  }

  deleteLink(record: LinkRecord): void {
    this.links.set(record.link.id, null);
  }

  putTombstone(tombstone: Tombstone): void {
    this.tombstones.push(tombstone);
  }

  /** The row holds the tombstone's feed entry: both go. */
  dropTombstone(tombstone: Tombstone): void {
    this.droppedTombstones.push(tombstone.id);
  }

  recordChange(entity: Entity, id: string, origin: ChangeOrigin): void {
    const key = `${entity}:${id}`;
    this.changes.delete(key);
    this.changes.set(key, { entity, id, origin });
  }

  setMeta(key: string, value: Json): void {
    this.meta.set(key, value);
  }

  /** Read after `lockNamespace`: what the namespace's writers before this one left. */
  async readMeta(key: string): Promise<Json | undefined> {
    const sql = this.dialect.native('SELECT value FROM engram_meta WHERE ns = ? AND key = ?');
    const [row] = await this.db.all<{ value: string }>(sql, [this.namespace, key]);
    return row === undefined ? undefined : (JSON.parse(row.value) as Json);
  }

  private stageMemory(id: string, stored: MemoryRecord | undefined, next: MemoryRecord | null): void {
    const staged = this.memories.get(id);
    if (staged) staged.next = next;
    else this.memories.set(id, { stored, next });
  }

  /**
   * Locks the namespace's counter row for the rest of the transaction and returns its sequence number.
   * Writers of one namespace therefore run one after another, so the sequence numbers they take are in
   * commit order and a reader of the feed never sees a later number before an earlier one is committed.
   */
  async lockNamespace(): Promise<number> {
    const sql = `INSERT INTO engram_namespaces (ns, seq, docs, tokens) VALUES (?, 0, 0, 0)
      ON CONFLICT (ns) DO UPDATE SET seq = engram_namespaces.seq RETURNING seq, home`;
    const locked = this.db.all<{ seq: number | string; home: string | null }>(this.dialect.native(sql), [
      this.namespace,
    ]);
    // Sent beside the lock (postgres.js pipelines them: one round trip) and run after it; read whether or
    // not the batch turns out to change some content, which is known only after the merge.
    const language = this.dialect.native('SELECT value FROM engram_meta WHERE ns = ? AND key = ?');
    this.storedLanguage = this.db.all<{ value: string }>(language, [this.namespace, LANGUAGE_META]);
    this.storedLanguage.catch(() => {});
    const [row] = await locked;
    this.home = row!.home ?? null;
    return Number(row!.seq);
  }

  /**
   * Writes what the batch staged. The deletes go first, awaited; the inserts and the counters' update,
   * which touch different tables, are sent one after another without waiting for each answer (a driver
   * runs a transaction's statements in order; postgres.js pipelines them), so the database works while the
   * next rows are built, and the writes cost one round trip instead of one each.
   */
  async flush(seq: number): Promise<FeedRange> {
    const bulk = new BulkWriter(this.db, this.dialect);
    const ns = this.namespace;
    const links = [...this.links];
    // An entity's feed entry is its row's: it moves to a new number with the row, and goes with a
    // forgotten record's row. A tombstone is never replaced.
    const gone = links.filter(([, record]) => record === null).map(([id]) => id);
    await bulk.deleteIds('engram_links', ns, gone);
    await bulk.deleteIds('engram_tombstones', ns, this.droppedTombstones);
    const writes: Promise<void>[] = [];
    const send = (write: Promise<void>) => {
      // Awaited below with the others; a failure before then must not go unhandled.
      write.catch(() => {});
      writes.push(write);
    };
    let next = seq;
    const entryOf = new Map<string, FeedCells>();
    for (const [key, change] of this.changes) {
      next = nextFeedNumber(next);
      entryOf.set(key, [next, change.origin === 'remote' ? 1 : 0]);
    }
    const { docs, tokens, pending } = await this.flushMemories(bulk, send, entryOf);
    const kept = links.flatMap(([id, record]) =>
      record ? [[...linkToRow(ns, record), ...(entryOf.get(`link:${id}`) ?? NO_ENTRY)]] : [],
    );
    send(bulk.insert('engram_links', LINK_ROW_COLUMNS, kept, LINK_UPSERT));
    const tombstones = this.tombstones.map((t) => [
      ns,
      t.id,
      t.entity,
      t.clock,
      ...(entryOf.get(`${t.entity}:${t.id}`) ?? NO_ENTRY),
    ]);
    send(bulk.insert('engram_tombstones', TOMBSTONE_COLUMNS, tombstones));
    const meta = [...this.meta].map(([key, value]) => [ns, key, JSON.stringify(value)]);
    send(bulk.insert('engram_meta', META_COLUMNS, meta, META_UPSERT));
    if (pending !== undefined) {
      // Where the pending list starts, recorded with the counters: one statement, not two.
      const sql = `UPDATE engram_namespaces SET seq = ?, docs = docs + ?, tokens = tokens + ?, merged = ?,
        pending = ? WHERE ns = ?`;
      send(this.db.run(this.dialect.native(sql), [next, docs, tokens, pending.merged, pending.pending, ns]));
    } else if (next !== seq || docs !== 0 || tokens !== 0) {
      const sql = 'UPDATE engram_namespaces SET seq = ?, docs = docs + ?, tokens = tokens + ? WHERE ns = ?';
      send(this.db.run(this.dialect.native(sql), [next, docs, tokens, ns]));
    }
    await Promise.all(writes);
    return { after: seq, last: next, entries: entryOf.size };
  }

  /** Called once the transaction committed: caches learn what it wrote. */
  committed(): void {
    this.learned?.();
  }

  /**
   * The namespace's index language (its `language` meta, or the one this batch sets), loaded; read only
   * when the batch changes some content, so batches of other fields cost no extra query.
   */
  private async language(): Promise<Json | undefined> {
    const changesText = [...this.memories.values()].some(
      ({ stored, next }) => !stored || !next || stored.memory.content !== next.memory.content,
    );
    if (!changesText) return undefined;
    let language = this.meta.get(LANGUAGE_META);
    if (language === undefined) {
      const sql = this.dialect.native('SELECT value FROM engram_meta WHERE ns = ? AND key = ?');
      const [row] = await (this.storedLanguage ??
        this.db.all<{ value: string }>(sql, [this.namespace, LANGUAGE_META]));
      if (row !== undefined) language = JSON.parse(row.value) as Json;
    }
    await loadLanguage(language);
    return language;
  }

  /**
   * The namespace's home client: the one read with the lock or, for a namespace without one, the client of
   * the first lone stamp this batch writes, recorded under the lock the batch holds (rows.ts `packClocks`).
   * Set once, never changed: every row packed against it reads back against the same value.
   */
  private homeClient(send: (write: Promise<void>) => void): string | null {
    if (this.home !== null) return this.home;
    for (const { next } of this.memories.values()) {
      const stamp = next ? loneStamp(next.clocks) : undefined;
      const parts = stamp === undefined ? undefined : parseHlc(stamp);
      const client = parts ? clientOfNode(parts.node) : '';
      if (client === '') continue;
      const sql = 'UPDATE engram_namespaces SET home = ? WHERE ns = ? AND home IS NULL';
      send(this.db.run(this.dialect.native(sql), [client, this.namespace]));
      this.home = client;
      return client;
    }
    return null;
  }

  /**
   * Writes rows and postings; postings are rewritten only when the content changed. The document numbers
   * are handed out first, so the memory rows go before the texts are indexed and the database inserts
   * them while the postings are built.
   */
  private async flushMemories(
    bulk: BulkWriter,
    send: (write: Promise<void>) => void,
    entryOf: ReadonlyMap<string, FeedCells>,
  ): Promise<Omit<WrittenPostings, 'committed' | 'written'>> {
    const ns = this.namespace;
    const gone: string[] = [];
    const rows: SqlParam[][] = [];
    const texts: TextChange[] = [];
    const language = await this.language();
    for (const [id, { stored, next }] of this.memories) {
      if (!stored || !next || stored.memory.content !== next.memory.content) {
        texts.push({ id, before: stored?.memory.content, after: next?.memory.content });
      }
      if (!next) gone.push(id);
    }
    // Before the rows change: it reads the stored memories' document numbers.
    const numbers = await numberDocuments(this.db, this.dialect, ns, texts);
    const { docOf } = numbers;
    const home = this.homeClient(send);
    for (const [id, { next }] of this.memories) {
      // A stored memory keeps its number: the upsert leaves `doc` alone.
      if (next) {
        rows.push([
          ...memoryToRow(ns, next, home),
          docOf.get(id) ?? null,
          ...(entryOf.get(`memory:${id}`) ?? NO_ENTRY),
        ]);
      }
    }
    await bulk.deleteIds('engram_memories', ns, gone);
    const rowsWritten = bulk.insert('engram_memories', MEMORY_ROW_COLUMNS, rows, MEMORY_UPSERT);
    send(rowsWritten);
    const { docs, tokens, committed, pending, written } = await writePostings(
      this.db,
      this.dialect,
      ns,
      texts,
      numbers,
      language,
      this.tails,
      this.pendingBatches,
    ).catch(async (error: unknown) => {
      // A failed row insert aborts the transaction, and every statement after it fails for that reason:
      // its own error is the one to report.
      await rowsWritten;
      throw error;
    });
    this.learned = committed;
    if (written !== undefined) send(written);
    return { docs, tokens, pending };
  }
}
