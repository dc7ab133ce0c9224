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
 * An entity's one change-feed entry lives on the row that holds it (record or tombstone), indexed by
 * `[namespace, seq]` (memory rows: `namespace NUL seq`, see feedKey): rewriting the row moves the entry,
 * and a bulk write costs no extra feed rows.
 */
export interface FeedEntry {
  seq: number;
  origin: ChangeOrigin;
}

/** A memory as stored. Its embedding lives in `vectors` (`hasVector`), so text and vector reads stay apart. */
export interface MemoryRow extends FeedEntry {
  memory: Omit<Memory, 'embedding'>;
  /** One string when every field carries the same stamp (see rows.ts). */
  clocks: FieldClocks | string;
  /** `namespace NUL seq` (see feedKey in keys.ts): the key of the `feed` index. */
  feedKey: string;
  /** `namespace NUL kind` (see memoryKey in keys.ts): the key of the `kind` index. */
  kindKey: string;
  /** `namespace NUL tag`, one per tag: keys of the multiEntry `tags` index. */
  tagKeys: string[];
  hasVector?: true;
  /** Where the memory's text is indexed: its group and slot (see text-shards.ts). */
  group: number;
  slot: number;
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
 * One shard of one group. For the n sorted, space-joined terms, `data` holds n end offsets, then
 * (slot, tf) pairs: term i owns `data[ends[i-1] ?? n .. ends[i])`.
 */
export interface TextShardRow {
  group: number;
  terms: string;
  data: Uint32Array;
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
}

/** Every store is keyed by namespace first, so a namespace is one contiguous key range everywhere. */
export interface EngramSchema extends DBSchema {
  /** Keyed out of line by `namespace NUL id` (see memoryKey in keys.ts). */
  memories: {
    key: string;
    value: MemoryRow;
    indexes: { kind: string; tags: string; feed: string };
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
  textShards: { key: [string, number, number]; value: TextShardRow };
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
];
