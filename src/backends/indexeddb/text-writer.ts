import { type IDBPObjectStore, unwrap } from 'idb';
import { visitIndexTerms } from '../../core/text/index.js';
import { copyGroupRows, emptyGroupRows, type GroupRows } from './open-group-cache.js';
import type { PendingRequests } from './pending-requests.js';
import type { EngramSchema, NamespaceStats, StoreName, TextShardRow, TextTableRow } from './schema.js';
import {
  appendToShard,
  decodeShard,
  decodeTable,
  encodeShard,
  encodeTable,
  GROUP_SLOTS,
  packPosting,
  packShard,
  type ShardPostings,
  shardOf,
  slotOf,
  TABLE_SLOTS,
  unpackShard,
} from './text-shards.js';

type Mode = 'readwrite' | 'versionchange';
interface TextStores {
  tables: IDBPObjectStore<EngramSchema, StoreName[], 'textTables', Mode>;
  shards: IDBPObjectStore<EngramSchema, StoreName[], 'textShards', Mode>;
}

/** Where a memory's text is indexed. Slots are never reused: a re-indexed memory gets a new one. */
export interface TextPlace {
  group: number;
  slot: number;
}

/** A live memory's slot in a table row that removals left mostly empty. */
export interface SparseSlot extends TextPlace {
  id: string;
}

/**
 * A closed group's table row whose live slots fell to 1/SPARSE_RATIO of it or fewer is compacted:
 * its memories are indexed again in the open group and its rows go (see IndexedDBWriteTransaction).
 * Compacting costs about what indexing those memories cost, so a transaction takes at most
 * COMPACT_ROWS rows (at most 2 x 512 memories with default groups); removals in a row left sparse
 * compact it in a later transaction.
 */
const SPARSE_RATIO = 4;
const COMPACT_ROWS = 2;

/** Staged edits of one row: postings (or table entries) added, and slots emptied. */
interface RowEdit<Added> {
  added: Added;
  removed: Set<number>;
}
type TableEdit = RowEdit<Map<number, { id: string; length: number }>>;
type ShardEdit = RowEdit<ShardPostings>;

/**
 * Stages one transaction's edits to the sharded index (see text-shards.ts) and writes each touched
 * row once, after reading the ones that existed. `stats` (docs, tokens, open group) moves as edits
 * are staged. A removed memory's postings leave the rows; its slot stays, emptied, in the table, so
 * the slot numbers in other rows stay valid.
 */
export class TextIndexWriter {
  /** Edits by group, then by table row number or shard. */
  private readonly tables = new Map<number, Map<number, TableEdit>>();
  private readonly shards = new Map<number, Map<number, ShardEdit>>();
  /** Postings added, by group then term: sorted into shards once per term, when the group is written. */
  private readonly added = new Map<number, ShardPostings>();
  /** Groups from this number on had no rows when the writer began... */
  private readonly firstNewGroup: number;
  /** ...except those it has already written out. */
  private readonly written = new Set<number>();
  /** Live slots of the table rows found sparse by `flush`. */
  private sparse: SparseSlot[] = [];
  private sparseRows = 0;
  /**
   * Rows known without reading them, by group: the open group's (from `known`, or empty when it is
   * new), and the groups opened here. Kept up to date as rows are written.
   */
  private readonly known = new Map<number, GroupRows>();
  /** The stores without idb's wrapping, for writes (see PendingRequests). */
  private readonly native: { tables: IDBObjectStore; shards: IDBObjectStore };

  constructor(
    /** The namespace's index language (see indexText). */
    private readonly language: string,
    private readonly stores: TextStores,
    private readonly namespace: string,
    private readonly stats: NamespaceStats,
    private readonly writes: PendingRequests,
    private readonly groupSlots = GROUP_SLOTS,
    /** The open group's rows as committed, when the caller knows them (see OpenGroupCache). */
    known?: GroupRows,
  ) {
    this.firstNewGroup = stats.openGroupSlots === 0 ? stats.openGroup : stats.openGroup + 1;
    const open =
      known?.group === stats.openGroup
        ? copyGroupRows(known)
        : emptyGroupRows(stats.openGroup, stats.openGroupSlots === 0);
    this.known.set(open.group, open);
    this.native = { tables: unwrap(stores.tables), shards: unwrap(stores.shards) };
  }

  /** The open group's rows as this writer leaves them (what is not in them is read when needed). */
  get openRows(): GroupRows | undefined {
    return this.known.get(this.stats.openGroup);
  }

  /**
   * Called before a batch adds up to `count` memories: when they would overflow an open group that is
   * at least half full, that group closes first. Bulk adds of 1000 into groups of 2048 then fill each
   * group with two batches, instead of rewriting a full group's ~320 rows for its last 48 slots and
   * opening the next group in the same transaction.
   */
  reserve(count: number): void {
    const taken = this.stats.openGroupSlots;
    if (taken > 0 && taken + count > this.groupSlots && taken * 2 >= this.groupSlots) this.closeOpenGroup();
  }

  add(id: string, content: string): TextPlace {
    if (this.stats.openGroupSlots >= this.groupSlots) this.closeOpenGroup();
    const { openGroup: group, openGroupSlots: slot } = this.stats;
    const added = this.added.get(group) ?? new Map<string, number[]>();
    this.added.set(group, added);
    // Each term is filed as the text is read: no Map of the text's terms (see visitIndexTerms).
    const length = visitIndexTerms(content, this.language, (term, tf) => {
      const list = added.get(term);
      if (list) list.push(packPosting(slot, tf));
      else added.set(term, [packPosting(slot, tf)]);
    });
    this.stats.openGroupSlots += 1;
    this.stats.docs += 1;
    this.stats.tokens += length;
    edit(this.tables, group, Math.floor(slot / TABLE_SLOTS), () => new Map()).added.set(slot, { id, length });
    return { group, slot };
  }

  remove({ group, slot }: TextPlace, content: string): void {
    const length = visitIndexTerms(content, this.language, (term) => {
      edit(this.shards, group, shardOf(term), () => new Map()).removed.add(slot);
    });
    this.stats.docs -= 1;
    this.stats.tokens -= length;
    edit(this.tables, group, Math.floor(slot / TABLE_SLOTS), () => new Map()).removed.add(slot);
  }

  /**
   * Reads the rows that existed, then writes every touched row once. Returns the live slots of closed
   * table rows that this flush's removals left sparse, for the caller to compact.
   */
  async flush(): Promise<SparseSlot[]> {
    for (const group of [...this.added.keys()]) this.sortAdded(group);
    const tables = entries(this.tables);
    const shards = entries(this.shards);
    const [storedTables, storedShards] = await Promise.all([
      Promise.all(
        tables.map(([g, n]) =>
          this.before(
            g,
            (rows) => rows.tables,
            n,
            () => this.stores.tables.get([this.namespace, g, n]),
          ),
        ),
      ),
      Promise.all(
        shards.map(([g, s]) =>
          this.before(
            g,
            (rows) => rows.shards,
            s,
            async () => {
              const stored = await this.stores.shards.get([this.namespace, s, g]);
              return stored && unpackShard(stored);
            },
          ),
        ),
      ),
    ]);
    tables.forEach(([group, n, tableEdit], i) => {
      this.writeTable(group, n, tableEdit, storedTables[i]);
    });
    shards.forEach(([group, shard, shardEdit], i) => {
      this.writeShard(group, shard, shardEdit, storedShards[i]);
    });
    this.tables.clear();
    this.shards.clear();
    const sparse = this.sparse;
    this.sparse = [];
    return sparse;
  }

  private stored(group: number): boolean {
    return group < this.firstNewGroup || this.written.has(group);
  }

  /** A row as it stands before this flush writes it: known, known to be absent, or read. */
  private before<Row>(
    group: number,
    kind: (rows: GroupRows) => Map<number, Row | null>,
    at: number,
    read: () => Promise<Row | undefined>,
  ): Row | undefined | Promise<Row | undefined> {
    const rows = this.known.get(group);
    const row = rows && kind(rows).get(at);
    if (row !== undefined) return row ?? undefined;
    if (rows?.complete) return undefined;
    return this.stored(group) ? read() : undefined;
  }

  /** A full group made entirely in this transaction is written at once, so huge batches stay small in memory. */
  private closeOpenGroup(): void {
    const closing = this.stats.openGroup;
    this.stats.openGroup += 1;
    this.stats.openGroupSlots = 0;
    this.known.set(this.stats.openGroup, emptyGroupRows(this.stats.openGroup, true));
    // A group that existed keeps its known rows for this writer's flush; one made here is written now.
    if (closing < this.firstNewGroup) return;
    this.known.delete(closing);
    this.sortAdded(closing);
    for (const [n, tableEdit] of this.tables.get(closing) ?? [])
      this.writeTable(closing, n, tableEdit, undefined);
    for (const [shard, shardEdit] of this.shards.get(closing) ?? [])
      this.writeShard(closing, shard, shardEdit, undefined);
    this.tables.delete(closing);
    this.shards.delete(closing);
    this.written.add(closing);
  }

  /** Moves a group's added postings into their shards' edits. */
  private sortAdded(group: number): void {
    for (const [term, list] of this.added.get(group) ?? []) {
      const { added } = edit(this.shards, group, shardOf(term), () => new Map());
      added.set(term, list);
    }
    this.added.delete(group);
  }

  private writeTable(group: number, n: number, tableEdit: TableEdit, stored: TextTableRow | undefined): void {
    const table = stored ? decodeTable(stored) : { ids: [], lengths: [] };
    const first = n * TABLE_SLOTS;
    for (const [slot, { id, length }] of tableEdit.added) {
      table.ids[slot - first] = id;
      table.lengths[slot - first] = length;
    }
    for (let i = 0; i < table.ids.length; i++) {
      if (table.ids[i] === undefined || tableEdit.removed.has(first + i)) {
        table.ids[i] = '';
        table.lengths[i] = 0;
      }
    }
    const key: [string, number, number] = [this.namespace, group, n];
    const live = table.ids.flatMap((id, i) => (id === '' ? [] : [{ id, group, slot: first + i }]));
    const row = live.length === 0 ? null : encodeTable(group, n, table);
    this.writes.trackRequest(row ? this.native.tables.put(row, key) : this.native.tables.delete(key));
    this.known.get(group)?.tables.set(n, row);
    const closed = group < this.stats.openGroup;
    if (tableEdit.removed.size > 0 && closed && live.length * SPARSE_RATIO <= table.ids.length) {
      if (live.length > 0 && this.sparseRows < COMPACT_ROWS) {
        this.sparseRows += 1;
        this.sparse.push(...live);
      }
    }
  }

  private writeShard(
    group: number,
    shard: number,
    shardEdit: ShardEdit,
    stored: TextShardRow | undefined,
  ): void {
    const row =
      stored && shardEdit.removed.size === 0
        ? appendToShard(stored, shardEdit.added)
        : encodeShard(group, this.edited(stored, shardEdit));
    const key: [string, number, number] = [this.namespace, shard, group];
    const empty = row.terms === '';
    this.writes.trackRequest(
      empty ? this.native.shards.delete(key) : this.native.shards.put(packShard(row), key),
    );
    this.known.get(group)?.shards.set(shard, empty ? null : row);
  }

  /** A row's postings after the edit: a new row (most rows of a bulk write) takes the staged lists. */
  private edited(stored: TextShardRow | undefined, shardEdit: ShardEdit): ShardPostings {
    const postings = stored ? decodeShard(stored) : shardEdit.added;
    if (stored) {
      for (const [term, list] of shardEdit.added) {
        const before = postings.get(term);
        postings.set(term, before ? before.concat(list) : list);
      }
    }
    if (shardEdit.removed.size > 0) {
      for (const [term, list] of postings) {
        postings.set(
          term,
          list.filter((posting) => !shardEdit.removed.has(slotOf(posting))),
        );
      }
    }
    return postings;
  }
}

/** The staged edit of row `at` in `group`, created on first use. */
function edit<Added>(
  byGroup: Map<number, Map<number, RowEdit<Added>>>,
  group: number,
  at: number,
  fresh: () => Added,
): RowEdit<Added> {
  const rows = byGroup.get(group) ?? new Map<number, RowEdit<Added>>();
  byGroup.set(group, rows);
  const found = rows.get(at) ?? { added: fresh(), removed: new Set<number>() };
  rows.set(at, found);
  return found;
}

function entries<Added>(
  byGroup: Map<number, Map<number, RowEdit<Added>>>,
): Array<[number, number, RowEdit<Added>]> {
  return [...byGroup].flatMap(([group, rows]) =>
    [...rows].map(([at, e]): [number, number, RowEdit<Added>] => [group, at, e]),
  );
}
