import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { Json, Memory } from '../../core/model.js';
import type {
  ChangeOrigin,
  FieldClocks,
  LinkRecord,
  TextStats,
  Tombstone,
} from '../../core/store-contract.js';

/**
 * A link's or tombstone's one change-feed entry lives on the row that holds it, indexed by
 * `[namespace, seq]`: rewriting the row moves the entry, and a write costs no extra feed rows. A memory's
 * lives in a feed block (schema v6, see FeedBlockRow).
 */
export interface FeedEntry {
  seq: number;
  origin: ChangeOrigin;
}

/** A memory as stored. Its embedding lives in `vectors` (`hasVector`), so text and vector reads stay apart. */
export interface MemoryRow {
  memory: Omit<Memory, 'embedding'>;
  /** The sequence number of its change-feed entry, which is in a feed block. */
  seq: number;
  /** One string when every field carries the same stamp (see rows.ts). */
  clocks: FieldClocks | string;
  /** `namespace NUL kind` (see memoryKey in keys.ts): the key of the `kind` index. */
  kindKey: string;
  /** `namespace NUL tag`, one per tag: keys of the multiEntry `tags` index. */
  tagKeys: string[];
  hasVector?: true;
  /** Where the memory's text is indexed: its group and slot (see text-shards.ts). */
  group: number;
  slot: number;
}

/**
 * The change-feed entries of the memory rows one transaction wrote (schema v6), keyed
 * `[namespace, lastSeq]`: entry i is `seqs[i]`, `ids.split(' ')[i]` (ids hold no space), origin
 * `origins[i]` ('l' local, 'r' remote), in sequence order. Keeping them here rather than behind an
 * index on every row spares the browser an index entry per memory (see feed.ts). A write that
 * replaces or deletes a row takes its old entry out of its block; a block left empty is deleted.
 * Transactions commit one at a time and take increasing numbers, so blocks never overlap: the block
 * holding `seq` is the first whose key is at or after `[namespace, seq]`.
 */
export interface FeedBlockRow {
  seqs: Float64Array;
  ids: string;
  origins: string;
}

export interface LinkRow extends LinkRecord, FeedEntry {}
export interface TombstoneRow extends Tombstone, FeedEntry {}

/** Slots `n * TABLE_SLOTS` onwards of a text group: `ids.split(' ')[i]` ('' when empty), `lengths[i]` tokens long. */
export interface TextTableRow {
  group: number;
  n: number;
  ids: string;
  lengths: Uint32Array;
}

/**
 * One shard of one group as code reads it. For the n sorted, space-joined terms, `data` holds n end
 * offsets, then the postings, each a slot and a tf packed in one word (`packPosting`): term i owns
 * `data[ends[i-1] ?? n .. ends[i])`.
 */
export interface TextShardRow {
  group: number;
  terms: string;
  data: Uint32Array;
}

/**
 * The same row as stored since schema v9 (`packShard` in text-shards.ts): `bytes` holds each term's
 * posting count, then each term's postings as varints of the slot's distance from the one before,
 * doubled, plus one when tf is above 1 (tf then follows). A third of the 32-bit words' size.
 */
export interface StoredShardRow {
  group: number;
  terms: string;
  bytes: Uint8Array;
}

/** Per-namespace counters, kept up to date by every write so that opening reads nothing. */
export interface NamespaceStats extends TextStats {
  seq: number;
  /** The group receiving new memories, and how many of its slots are taken. */
  openGroup: number;
  openGroupSlots: number;
  /**
   * No memory of the namespace expires before `floor` (ms; Infinity: none expires), as of feed sequence
   * `seq`: valid only while the counters' `seq` still equals it. Every write of this release that moves
   * `seq` carries it along (lowered by the expiries it writes), so a write by anything else (an older
   * release) leaves it stale, and a stale or absent floor means a full scan for expired memories.
   */
  expiry?: { floor: number; seq: number };
  /**
   * Every memory of the namespace is valid from `from` at the latest and until `to` at the earliest (ms;
   * -Infinity and Infinity when no memory has such a bound), as of feed sequence `seq`, kept like
   * `expiry`. While it holds for an instant, `count` at that instant needs no memory row (counts.ts).
   */
  validity?: { from: number; to: number; seq: number };
}

/** Every store is keyed by namespace first, so a namespace is one contiguous key range everywhere. */
export interface EngramSchema extends DBSchema {
  /** Keyed out of line by `namespace NUL id` (see memoryKey in keys.ts). */
  memories: {
    key: string;
    value: MemoryRow;
    indexes: { kind: string; tags: string };
  };
  vectors: { key: [string, string]; value: Float64Array };
  links: {
    key: [string, string];
    value: LinkRow;
    indexes: { from: [string, string]; to: [string, string]; feed: [string, number] };
  };
  tombstones: { key: [string, string]; value: TombstoneRow; indexes: { feed: [string, number] } };
  meta: { key: [string, string]; value: Json };
  stats: { key: string; value: NamespaceStats };
  /** `[namespace, group, n]`. */
  textTables: { key: [string, number, number]; value: TextTableRow };
  /** `[namespace, shard, group]`. */
  textShards: { key: [string, number, number]; value: StoredShardRow };
  /** `[namespace, lastSeq]` (schema v6). */
  feedBlocks: { key: [string, number]; value: FeedBlockRow };
}

export type StoreName = StoreNames<EngramSchema>;
export type EngramDatabase = IDBPDatabase<EngramSchema>;
export type UpgradeTransaction = IDBPTransaction<EngramSchema, StoreName[], 'versionchange'>;

export const ALL_STORES: StoreName[] = [
  'memories',
  'vectors',
  'links',
  'tombstones',
  'meta',
  'stats',
  'textTables',
  'textShards',
  'feedBlocks',
];
