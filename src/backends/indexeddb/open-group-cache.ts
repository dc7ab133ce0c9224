import type { NamespaceStats, TextShardRow, TextTableRow } from './schema.js';

/**
 * Rows of one text group as this tab last committed them: each shard and table row's value, or null
 * where the group has no such row. Rows never mutate once kept: a writer copies the maps and writes
 * new row objects.
 */
export interface GroupRows {
  group: number;
  shards: Map<number, TextShardRow | null>;
  tables: Map<number, TextTableRow | null>;
  /** Every row of the group is in the maps: a row not there does not exist. */
  complete: boolean;
}

/** The open group's rows and the text counters they were committed with. */
export interface OpenGroupEntry {
  stamp: string;
  rows: GroupRows;
}

export const emptyGroupRows = (group: number, complete: boolean): GroupRows => ({
  group,
  shards: new Map(),
  tables: new Map(),
  complete,
});

export const copyGroupRows = (rows: GroupRows): GroupRows => ({
  group: rows.group,
  shards: new Map(rows.shards),
  tables: new Map(rows.tables),
  complete: rows.complete,
});

/**
 * What the text index looks like, as far as the counters tell. Every add takes the next slot of the
 * open group, so (openGroup, openGroupSlots) only ever grows; a removal without an add lowers `docs`.
 * Any change to the text index by any writer (another tab, another store, an older release on the same
 * schema) therefore changes the stamp, and equal stamps mean the index is as this tab left it.
 */
export const textStamp = (stats: NamespaceStats): string =>
  `${stats.openGroup} ${stats.openGroupSlots} ${stats.docs} ${stats.tokens}`;

/** How many namespaces keep their open group's rows (about 0.5 MB each with full default groups). */
const NAMESPACES = 4;

/**
 * The rows of each namespace's open group, as the last write here committed them, so that the next
 * write appends to them without reading them back (a bulk add otherwise reads ~320 rows per batch,
 * waiting for the puts queued before them). An entry is used only when the namespace's counters, read
 * in the writing transaction, still carry its stamp; it is replaced only after a commit, and dropped
 * with the connection (an upgrade rebuilds the index).
 */
export class OpenGroupCache {
  private readonly entries = new Map<string, OpenGroupEntry>();
  /** Bumped by `clear`: an entry from a write begun before it is not kept. */
  generation = 0;

  get(namespace: string): OpenGroupEntry | undefined {
    return this.entries.get(namespace);
  }

  /** Keeps `entry`, written by a transaction begun in `generation`, unless the cache was cleared since. */
  set(namespace: string, entry: OpenGroupEntry, generation: number): void {
    if (generation !== this.generation) return;
    this.entries.delete(namespace);
    this.entries.set(namespace, entry);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= NAMESPACES) break;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
    this.generation += 1;
  }
}
