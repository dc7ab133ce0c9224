import { type IDBPTransaction, unwrap } from 'idb';
import { getRows } from './reads.js';
import type { EngramSchema, StoreName, TextTableRow } from './schema.js';
import { decodeTable, MAX_GROUP_SLOTS, TABLE_SLOTS } from './text-shards.js';
import { WeightedLru } from './weighted-lru.js';

type ReadTransaction = IDBPTransaction<EngramSchema, StoreName[], 'readonly'>;

/** A slot table as searches keep it: ids split once, lengths as stored. */
export interface CachedTable {
  ids: string[];
  lengths: Uint32Array;
}

/**
 * A document number names one slot of one group for good (a slot is never given to another memory,
 * and groups are only ever added): core ranks on these and asks names only for what it returns.
 */
export const docNumber = (group: number, slot: number) => group * MAX_GROUP_SLOTS + slot;
export const groupOfDoc = (doc: number) => Math.floor(doc / MAX_GROUP_SLOTS);
export const slotOfDoc = (doc: number) => doc % MAX_GROUP_SLOTS;

/**
 * Slot tables kept between searches in this tab, least recently used first out. Safe without any
 * invalidation because a slot is never given to another memory (see text-shards.ts): a posting read
 * in the current transaction names a live slot, and a kept table either holds that slot, as it still
 * is, or is older than the slot (the slot lies past its end, or is empty) and is read again. Dropped
 * whenever the connection is (another tab's upgrade rebuilds the index).
 */
export class SlotCache {
  /** Weighed in slots, at most `maxSlots` (~70 bytes each with uuid ids): 4096 table rows' worth by default. */
  private readonly tables: WeightedLru<CachedTable>;

  constructor(maxSlots = 1 << 18) {
    this.tables = new WeightedLru(maxSlots);
  }

  get(namespace: string, group: number, n: number): CachedTable | undefined {
    return this.tables.get(`${group} ${n} ${namespace}`);
  }

  set(namespace: string, row: TextTableRow): CachedTable {
    const table = { ids: decodeTable(row).ids, lengths: row.lengths };
    this.tables.set(`${row.group} ${row.n} ${namespace}`, table, table.ids.length);
    return table;
  }

  clear(): void {
    this.tables.clear();
  }
}

/** The tables of a search, by group then table number. */
export type GroupTables = Map<number, Map<number, CachedTable>>;

/** Below this many table rows, fetching each one beats reading every table row of the hit groups. */
const FEW_TABLES = 64;

/**
 * The slot tables naming every slot in `slots` (per group): kept ones when they name the slot, else one
 * get each when they are few (rare terms), else one range read from the lowest group hit to the highest.
 * A slot no table names (its memory is gone) is left out of the tables.
 */
export async function readTables(
  tx: ReadTransaction,
  namespace: string,
  slots: Iterable<[group: number, slots: ArrayLike<number>]>,
  cache: SlotCache,
): Promise<GroupTables> {
  const out: GroupTables = new Map();
  const missing = new Map<number, Set<number>>();
  for (const [group, list] of slots) {
    const tables = out.get(group) ?? new Map<number, CachedTable>();
    out.set(group, tables);
    for (let i = 0; i < list.length; i++) {
      const slot = list[i]!;
      const n = Math.floor(slot / TABLE_SLOTS);
      if (missing.get(group)?.has(n)) continue;
      const table = tables.get(n) ?? cache.get(namespace, group, n);
      if (table?.ids[slot % TABLE_SLOTS]) {
        tables.set(n, table);
      } else {
        tables.delete(n);
        const set = missing.get(group) ?? new Set<number>();
        missing.set(group, set.add(n));
      }
    }
  }
  if (missing.size === 0) return out;
  const keep = (row: TextTableRow | undefined) => {
    if (row && missing.get(row.group)?.has(row.n)) out.get(row.group)!.set(row.n, cache.set(namespace, row));
  };
  const store = tx.objectStore('textTables');
  const wanted = [...missing].flatMap(([group, tables]) =>
    [...tables].map((n): [string, number, number] => [namespace, group, n]),
  );
  if (wanted.length <= FEW_TABLES) {
    (await getRows<TextTableRow>(unwrap(store), wanted)).forEach(keep);
  } else {
    const groups = [...missing.keys()];
    const range = IDBKeyRange.bound([namespace, Math.min(...groups)], [namespace, Math.max(...groups), []]);
    (await store.getAll(range)).forEach(keep);
  }
  return out;
}

/** The memory id of each document number whose slot is still live. */
export async function readDocIds(
  tx: ReadTransaction,
  namespace: string,
  docs: readonly number[],
  cache: SlotCache,
): Promise<Map<number, string>> {
  const byGroup = new Map<number, number[]>();
  for (const doc of docs) {
    const group = groupOfDoc(doc);
    const list = byGroup.get(group) ?? [];
    byGroup.set(group, list);
    list.push(slotOfDoc(doc));
  }
  const tables = await readTables(tx, namespace, byGroup, cache);
  const out = new Map<number, string>();
  for (const doc of docs) {
    const slot = slotOfDoc(doc);
    const id = tables.get(groupOfDoc(doc))?.get(Math.floor(slot / TABLE_SLOTS))?.ids[slot % TABLE_SLOTS];
    if (id) out.set(doc, id);
  }
  return out;
}
