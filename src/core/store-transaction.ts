import type { Json } from './model.js';
import type { ChangeOrigin, Entity, LinkRecord, MemoryRecord, Tombstone } from './store-contract.js';

type MaybePromise<T> = T | Promise<T>;

/**
 * What a store exposes inside one of its transactions so that core can merge a batch. Every store
 * (memory, IndexedDB, sql.js, Postgres) implements these few reads and writes; the merge rules
 * themselves live in merge.ts, once, so every replica resolves conflicts identically.
 */
export interface StoreTransaction {
  readMemories(ids: readonly string[]): MaybePromise<Map<string, MemoryRecord>>;
  readLinks(ids: readonly string[]): MaybePromise<Map<string, LinkRecord>>;
  readTombstones(ids: readonly string[]): MaybePromise<Map<string, Tombstone>>;
  /** Every link with `from` or `to` among the ids (for the cascade when memories are deleted). */
  readLinksTouching(memoryIds: readonly string[]): MaybePromise<LinkRecord[]>;
  /** Optional: the links from `from` to `to` (a new link's twin check); `readLinksTouching` otherwise. */
  readLinksBetween?(from: string, to: string): MaybePromise<LinkRecord[]>;
  /**
   * Optional: the links joining any of the pairs (a push's new links' twin checks) in one read; several
   * `readLinksBetween` (issued together) otherwise. Each pair is distinct; extra links are ignored.
   */
  readLinksJoining?(pairs: readonly { from: string; to: string }[]): MaybePromise<LinkRecord[]>;
  /** `previous` is the replaced record, so the store can update its indexes incrementally. */
  putMemory(record: MemoryRecord, previous: MemoryRecord | undefined): MaybePromise<void>;
  deleteMemory(record: MemoryRecord): MaybePromise<void>;
  putLink(record: LinkRecord, previous: LinkRecord | undefined): MaybePromise<void>;
  deleteLink(record: LinkRecord): MaybePromise<void>;
  putTombstone(tombstone: Tombstone): MaybePromise<void>;
  /**
   * Removes a stored tombstone (with its change-feed entry) whose id a memory created after the delete
   * takes (merge.ts, `createsAnew`). Optional: a store without it keeps the tombstone, and the write is
   * rejected as before.
   */
  dropTombstone?(tombstone: Tombstone): MaybePromise<void>;
  /** Moves the entity's change-feed entry to the next sequence number. */
  recordChange(entity: Entity, id: string, origin: ChangeOrigin): MaybePromise<void>;
  setMeta(key: string, value: Json): MaybePromise<void>;
  /** Optional: a namespace meta value as the transaction sees it (`WriteBatch.unchangedMeta`). */
  readMeta?(key: string): MaybePromise<Json | undefined>;
  /**
   * Removes the entity's change-feed entry (a `forget` batch drops records without a trace). Needed by
   * stores that keep the feed apart from the rows; a store whose entry lives on the row loses it with
   * `deleteMemory`/`deleteLink` and may leave this out.
   */
  forgetChange?(entity: Entity, id: string): MaybePromise<void>;
  /**
   * Ids of the memories whose change-feed entry is after `seq`, read inside the transaction (after
   * whatever serialises the namespace's writers): what `WriteBatch.dedupe` compares. Optional.
   */
  readMemoryIdsChangedSince?(seq: number, limit: number): MaybePromise<string[]>;
}
