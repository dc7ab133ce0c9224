import type { IDBPObjectStore } from 'idb';
import { indexText } from '../../core/text/index.js';
import type { PendingRequests } from './pending-requests.js';
import type { EngramSchema, NamespaceStats, StoreName, TextGroupRow, TextShardRow } from './schema.js';
import {
  decodeShard,
  decodeTable,
  encodeShard,
  encodeTable,
  GROUP_SLOTS,
  SHARDS,
  type ShardPostings,
  shardOf,
} from './text-shards.js';

type Mode = 'readwrite' | 'versionchange';
interface TextStores {
  groups: IDBPObjectStore<EngramSchema, StoreName[], 'textGroups', Mode>;
  shards: IDBPObjectStore<EngramSchema, StoreName[], 'textShards', Mode>;
}

/** Where a memory's text is indexed. Slots are never reused: a re-indexed memory gets a new one. */
export interface TextPlace {
  group: number;
  slot: number;
}

interface GroupEdit {
  appended: Array<{ slot: number; id: string; length: number }>;
  removed: Set<number>;
}

interface ShardEdit {
  shard: number;
  group: number;
  added: ShardPostings;
  removed: Set<number>;
}

/**
 * Stages one transaction's edits to the sharded index (see text-shards.ts) and writes each touched
 * row once, after reading the ones that existed. `stats` (docs, tokens, open group) moves as edits
 * are staged. Postings of removed slots are dropped from the rows; the slot stays, emptied, in its
 * group's table, so the other rows' slot numbers stay valid.
 */
export class TextIndexWriter {
  private readonly groups = new Map<number, GroupEdit>();
  /** By group, then by shard. */
  private readonly shards = new Map<number, Array<ShardEdit | undefined>>();
  /** Groups from this number on had no rows when the writer began... */
  private readonly firstNewGroup: number;
  /** ...except those it has already written out. */
  private readonly written = new Set<number>();

  constructor(
    private readonly stores: TextStores,
    private readonly namespace: string,
    private readonly stats: NamespaceStats,
    private readonly writes: PendingRequests,
    private readonly groupSlots = GROUP_SLOTS,
  ) {
    this.firstNewGroup = stats.openGroupSlots === 0 ? stats.openGroup : stats.openGroup + 1;
  }

  add(id: string, content: string): TextPlace {
    const { length, terms } = indexText(content);
    if (this.stats.openGroupSlots >= this.groupSlots) this.closeOpenGroup();
    const place = { group: this.stats.openGroup, slot: this.stats.openGroupSlots };
    this.stats.openGroupSlots += 1;
    this.stats.docs += 1;
    this.stats.tokens += length;
    this.groupEdit(place.group).appended.push({ slot: place.slot, id, length });
    for (const [term, tf] of terms) {
      const { added } = this.shardEdit(shardOf(term), place.group);
      const list = added.get(term);
      if (list) list.push(place.slot, tf);
      else added.set(term, [place.slot, tf]);
    }
    return place;
  }

  remove(place: TextPlace, content: string): void {
    const { length, terms } = indexText(content);
    this.stats.docs -= 1;
    this.stats.tokens -= length;
    this.groupEdit(place.group).removed.add(place.slot);
    for (const term of terms.keys()) this.shardEdit(shardOf(term), place.group).removed.add(place.slot);
  }

  /** Reads the rows that existed, then writes every touched row once. */
  async flush(): Promise<void> {
    const groups = [...this.groups];
    const shards = [...this.shards.values()].flat().filter((edit) => edit !== undefined);
    const [tables, rows] = await Promise.all([
      Promise.all(
        groups.map(([group]) =>
          this.stored(group) ? this.stores.groups.get([this.namespace, group]) : undefined,
        ),
      ),
      Promise.all(
        shards.map((e) =>
          this.stored(e.group) ? this.stores.shards.get([this.namespace, e.shard, e.group]) : undefined,
        ),
      ),
    ]);
    groups.forEach(([group, edit], i) => {
      this.writeTable(group, edit, tables[i]);
    });
    shards.forEach((edit, i) => {
      this.writeShard(edit, rows[i]);
    });
    this.groups.clear();
    this.shards.clear();
  }

  private stored(group: number): boolean {
    return group < this.firstNewGroup || this.written.has(group);
  }

  /** A full group made entirely in this transaction is written at once, so huge batches stay small in memory. */
  private closeOpenGroup(): void {
    const closing = this.stats.openGroup;
    this.stats.openGroup += 1;
    this.stats.openGroupSlots = 0;
    if (closing < this.firstNewGroup) return;
    const edit = this.groups.get(closing);
    if (edit) this.writeTable(closing, edit, undefined);
    this.groups.delete(closing);
    for (const shardEdit of this.shards.get(closing) ?? [])
      if (shardEdit) this.writeShard(shardEdit, undefined);
    this.shards.delete(closing);
    this.written.add(closing);
  }

  private groupEdit(group: number): GroupEdit {
    const edit = this.groups.get(group) ?? { appended: [], removed: new Set<number>() };
    this.groups.set(group, edit);
    return edit;
  }

  private shardEdit(shard: number, group: number): ShardEdit {
    const row = this.shards.get(group) ?? new Array<ShardEdit | undefined>(SHARDS);
    this.shards.set(group, row);
    const edit = row[shard] ?? { shard, group, added: new Map(), removed: new Set<number>() };
    row[shard] = edit;
    return edit;
  }

  private writeTable(group: number, edit: GroupEdit, stored: TextGroupRow | undefined): void {
    const table = stored ? decodeTable(stored) : { ids: [], lengths: [] };
    for (const { slot, id, length } of edit.appended) {
      table.ids[slot] = id;
      table.lengths[slot] = length;
    }
    for (let slot = 0; slot < table.ids.length; slot++) {
      if (table.ids[slot] === undefined || edit.removed.has(slot)) {
        table.ids[slot] = '';
        table.lengths[slot] = 0;
      }
    }
    const key: [string, number] = [this.namespace, group];
    if (table.ids.every((id) => id === '')) this.writes.track(this.stores.groups.delete(key));
    else this.writes.track(this.stores.groups.put(encodeTable(group, table), key));
  }

  private writeShard(edit: ShardEdit, stored: TextShardRow | undefined): void {
    const postings = stored ? decodeShard(stored) : new Map<string, number[]>();
    for (const [term, list] of edit.added) postings.set(term, [...(postings.get(term) ?? []), ...list]);
    if (edit.removed.size > 0) {
      for (const [term, list] of postings) {
        const kept: number[] = [];
        for (let i = 0; i < list.length; i += 2)
          if (!edit.removed.has(list[i]!)) kept.push(list[i]!, list[i + 1]!);
        postings.set(term, kept);
      }
    }
    const row = encodeShard(edit.group, postings);
    const key: [string, number, number] = [this.namespace, edit.shard, edit.group];
    if (row.terms === '') this.writes.track(this.stores.shards.delete(key));
    else this.writes.track(this.stores.shards.put(row, key));
  }
}
