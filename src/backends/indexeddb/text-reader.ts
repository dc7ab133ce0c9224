import type { DocPostingList, TextPosting } from '../../core/store-contract.js';
import { namespaceRange } from './keys.js';
import { textStamp } from './open-group-cache.js';
import type { TextShardRow } from './schema.js';
import { type ReadTransaction, readCounters } from './search-transactions.js';
import type { ShardCache } from './shard-cache.js';
import { docNumber, type GroupTables, readTables, type SlotCache } from './slot-tables.js';
import { forEachTerm, shardOf, slotOf, TABLE_SLOTS, tfOf, unpackShard } from './text-shards.js';

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
 * The spans of exact terms and prefixes, one list per term or prefix in the order asked, each in term
 * order (as the reference store's sorted vocabulary), then group order: one key-range read per shard
 * involved, across every group, unless the shard's rows are kept for the index as the counters read in
 * this transaction stamp it.
 */
async function readSpans(
  tx: ReadTransaction,
  namespace: string,
  terms: readonly string[],
  prefixes: readonly string[],
  kept: ShardCache,
): Promise<Span[][]> {
  const wanted: Wanted[] = [
    ...terms.map((text) => ({ text, prefix: false })),
    ...prefixes.map((text) => ({ text, prefix: true })),
  ];
  const shardStore = tx.objectStore('textShards');
  const counters = readCounters(tx, namespace);
  const generation = kept.generation;
  const shardOfWanted = wanted.map(shardFor);
  const shards: (number | undefined)[] = shardOfWanted.includes(undefined)
    ? [undefined]
    : [...new Set(shardOfWanted)];
  const readShard = async (shard: number | undefined) =>
    (
      await shardStore.getAll(
        shard === undefined
          ? namespaceRange(namespace)
          : IDBKeyRange.bound([namespace, shard], [namespace, shard, []]),
      )
    ).map(unpackShard);
  // Shards with nothing kept are asked at once; kept ones once the counters tell whether they still hold.
  const reads = new Map(
    shards.map((shard) => [shard, kept.has(namespace, shard) ? undefined : readShard(shard)]),
  );
  const stats = await counters;
  const stamp = stats ? textStamp(stats) : '';
  const spans: Span[][] = wanted.map(() => []);
  for (const [shard, read] of reads) {
    let rows = read ? undefined : kept.get(namespace, shard, stamp);
    if (!rows) {
      rows = await (read ?? readShard(shard));
      kept.set(namespace, shard, stamp, rows, generation);
    }
    for (const row of rows) {
      forEachTerm(row, (term, start, end) => {
        wanted.forEach((w, i) => {
          if ((shard === undefined || shardOfWanted[i] === shard) && matches(w, term)) {
            spans[i]!.push({ term, row, start, end });
          }
        });
      });
    }
  }
  // A stable sort: each term's spans stay in group order.
  return spans.map((list) => list.sort(byTerm));
}

/** The tables naming every slot the spans hit. */
function tablesOf(tx: ReadTransaction, namespace: string, spans: Span[], cache: SlotCache) {
  return readTables(
    tx,
    namespace,
    spans.map(({ row, start, end }) => [row.group, row.data.subarray(start, end).map(slotOf)]),
    cache,
  );
}

function tableOf(tables: GroupTables, group: number, slot: number) {
  return tables.get(group)!.get(Math.floor(slot / TABLE_SLOTS))!;
}

/** The spans of the terms' and prefixes' postings, and the slot tables of every document they name. */
async function spansWithTables(
  tx: ReadTransaction,
  namespace: string,
  terms: readonly string[],
  prefixes: readonly string[],
  cache: SlotCache,
  kept: ShardCache,
) {
  const spans = await readSpans(tx, namespace, terms, prefixes, kept);
  return { spans, tables: await tablesOf(tx, namespace, spans.flat(), cache) };
}

/** Postings of exact terms and prefixes by memory id, in the order asked (as the reference store emits them). */
export async function readPostings(
  tx: ReadTransaction,
  namespace: string,
  terms: readonly string[],
  prefixes: readonly string[],
  cache: SlotCache,
  kept: ShardCache,
): Promise<TextPosting[]> {
  if (terms.length + prefixes.length === 0) return [];
  const { spans, tables } = await spansWithTables(tx, namespace, terms, prefixes, cache, kept);
  const out: TextPosting[] = [];
  for (const list of spans) {
    for (const { term, row, start, end } of list) {
      for (let i = start; i < end; i++) {
        const slot = slotOf(row.data[i]!);
        const table = tableOf(tables, row.group, slot);
        const at = slot % TABLE_SLOTS;
        out.push({ term, id: table.ids[at]!, tf: tfOf(row.data[i]!), length: table.lengths[at]! });
      }
    }
  }
  return out;
}

/**
 * The same postings by document number (group and slot, see slot-tables.ts), one list per term in the
 * order `readPostings` gives them, in typed arrays. Only the tables' lengths are used: ids are named
 * later, for the few documents a search returns.
 */
export async function readDocPostings(
  tx: ReadTransaction,
  namespace: string,
  terms: readonly string[],
  prefixes: readonly string[],
  cache: SlotCache,
  kept: ShardCache,
): Promise<DocPostingList[]> {
  if (terms.length + prefixes.length === 0) return [];
  const { spans, tables } = await spansWithTables(tx, namespace, terms, prefixes, cache, kept);
  const out: DocPostingList[] = [];
  for (const list of spans) {
    for (let first = 0; first < list.length; ) {
      const term = list[first]!.term;
      let last = first;
      let size = 0;
      while (last < list.length && list[last]!.term === term) {
        size += list[last]!.end - list[last]!.start;
        last++;
      }
      const docs = new Float64Array(size);
      const tfs = new Uint32Array(size);
      const lengths = new Uint32Array(size);
      let at = 0;
      for (; first < last; first++) {
        const { row, start, end } = list[first]!;
        for (let i = start; i < end; i++, at++) {
          const posting = row.data[i]!;
          const slot = slotOf(posting);
          docs[at] = docNumber(row.group, slot);
          tfs[at] = tfOf(posting);
          lengths[at] = tableOf(tables, row.group, slot).lengths[slot % TABLE_SLOTS]!;
        }
      }
      out.push({ term, docs, tfs, lengths });
    }
  }
  return out;
}
