import type { IDBPTransaction } from 'idb';
import type { TextPosting } from '../../core/store-contract.js';
import { namespaceRange } from './keys.js';
import type { EngramSchema, StoreName, TextShardRow, TextTableRow } from './schema.js';
import { decodeTable, forEachTerm, shardOf, slotOf, TABLE_SLOTS, tfOf } from './text-shards.js';

type ReadTransaction = IDBPTransaction<EngramSchema, StoreName[], 'readonly'>;

/** A term asked for exactly, or every term starting with a prefix. */
interface Wanted {
  text: string;
  prefix: boolean;
}

/** A run of postings of one term in one row. */
interface Span {
  term: string;
  row: TextShardRow;
  start: number;
  end: number;
}

const matches = (wanted: Wanted, term: string) =>
  wanted.prefix ? term.startsWith(wanted.text) : term === wanted.text;

/** The shard holding every match, or undefined when a one-letter prefix spans them all. */
const shardFor = (wanted: Wanted) =>
  wanted.prefix && wanted.text.length < 2 ? undefined : shardOf(wanted.text);

const byTerm = (a: Span, b: Span) => (a.term < b.term ? -1 : a.term > b.term ? 1 : 0);

/**
 * Postings of exact terms and prefixes, in the order asked (as the reference store emits them): one
 * key-range read per shard involved, across every group, then one read of the groups' tables that
 * name the memories behind the slots.
 */
export async function readPostings(
  tx: ReadTransaction,
  namespace: string,
  terms: readonly string[],
  prefixes: readonly string[],
  cache: SlotCache,
): Promise<TextPosting[]> {
  const wanted: Wanted[] = [
    ...terms.map((text) => ({ text, prefix: false })),
    ...prefixes.map((text) => ({ text, prefix: true })),
  ];
  if (wanted.length === 0) return [];
  const shardStore = tx.objectStore('textShards');
  const shardOfWanted = wanted.map(shardFor);
  const shards = new Set(shardOfWanted);
  const reads = new Map<number | undefined, Promise<TextShardRow[]>>();
  if (shards.has(undefined)) {
    reads.set(undefined, shardStore.getAll(namespaceRange(namespace)));
  } else {
    for (const shard of shards) {
      reads.set(shard, shardStore.getAll(IDBKeyRange.bound([namespace, shard], [namespace, shard, []])));
    }
  }
  const spans: Span[][] = wanted.map(() => []);
  for (const [shard, read] of reads) {
    for (const row of await read) {
      forEachTerm(row, (term, start, end) => {
        wanted.forEach((w, i) => {
          if ((shard === undefined || shardOfWanted[i] === shard) && matches(w, term)) {
            spans[i]!.push({ term, row, start, end });
          }
        });
      });
    }
  }
  const tables = await readTables(tx, namespace, spans.flat(), cache);
  const out: TextPosting[] = [];
  for (const list of spans) {
    // A prefix's terms come in term order, like the reference store's sorted vocabulary.
    for (const { term, row, start, end } of list.sort(byTerm)) {
      const rowsOfGroup = tables.get(row.group)!;
      for (let i = start; i < end; i++) {
        const slot = slotOf(row.data[i]!);
        const table = rowsOfGroup.get(Math.floor(slot / TABLE_SLOTS))!;
        const at = slot % TABLE_SLOTS;
        out.push({ term, id: table.ids[at]!, tf: tfOf(row.data[i]!), length: table.lengths[at]! });
      }
    }
  }
  return out;
}

/** Below this many table rows, fetching each one beats reading every table row of the hit groups. */
const FEW_TABLES = 64;

/** A slot table as searches keep it: ids split once, lengths as stored. */
interface CachedTable {
  ids: string[];
  lengths: Uint32Array;
}

/**
 * Slot tables kept between searches in this tab, least recently used first out. Safe without any
 * invalidation because a slot is never given to another memory (see text-shards.ts): a posting read
 * in the current transaction names a live slot, and a kept table either holds that slot, as it still
 * is, or is older than the slot (the slot lies past its end, or is empty) and is read again. Dropped
 * whenever the connection is (another tab's upgrade rebuilds the index).
 */
export class SlotCache {
  private readonly tables = new Map<string, CachedTable>();
  private slots = 0;

  /** At most `maxSlots` slots kept (~70 bytes each with uuid ids): 4096 table rows' worth by default. */
  constructor(private readonly maxSlots = 1 << 18) {}

  get(namespace: string, group: number, n: number): CachedTable | undefined {
    const key = `${group} ${n} ${namespace}`;
    const found = this.tables.get(key);
    if (found) {
      this.tables.delete(key);
      this.tables.set(key, found);
    }
    return found;
  }

  set(namespace: string, row: TextTableRow): CachedTable {
    const key = `${row.group} ${row.n} ${namespace}`;
    const table = { ids: decodeTable(row).ids, lengths: row.lengths };
    this.drop(key);
    this.tables.set(key, table);
    this.slots += table.ids.length;
    for (const oldest of this.tables.keys()) {
      if (this.slots <= this.maxSlots) break;
      this.drop(oldest);
    }
    return table;
  }

  clear(): void {
    this.tables.clear();
    this.slots = 0;
  }

  private drop(key: string): void {
    const found = this.tables.get(key);
    if (!found) return;
    this.slots -= found.ids.length;
    this.tables.delete(key);
  }
}

/**
 * The slot tables holding every hit: kept ones when they name every slot hit, else one get each when
 * they are few (rare terms), else one range read from the lowest group hit to the highest.
 */
async function readTables(
  tx: ReadTransaction,
  namespace: string,
  spans: Span[],
  cache: SlotCache,
): Promise<Map<number, Map<number, CachedTable>>> {
  const out = new Map<number, Map<number, CachedTable>>();
  const missing = new Map<number, Set<number>>();
  for (const { row, start, end } of spans) {
    const tables = out.get(row.group) ?? new Map<number, CachedTable>();
    out.set(row.group, tables);
    for (let i = start; i < end; i++) {
      const slot = slotOf(row.data[i]!);
      const n = Math.floor(slot / TABLE_SLOTS);
      if (missing.get(row.group)?.has(n)) continue;
      const table = tables.get(n) ?? cache.get(namespace, row.group, n);
      if (table?.ids[slot % TABLE_SLOTS]) {
        tables.set(n, table);
      } else {
        tables.delete(n);
        const set = missing.get(row.group) ?? new Set<number>();
        missing.set(row.group, set.add(n));
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
    (await Promise.all(wanted.map((key) => store.get(key)))).forEach(keep);
  } else {
    const groups = [...missing.keys()];
    const range = IDBKeyRange.bound([namespace, Math.min(...groups)], [namespace, Math.max(...groups), []]);
    (await store.getAll(range)).forEach(keep);
  }
  return out;
}
