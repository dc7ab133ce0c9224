import { WORD_MARK } from '../../core/text/tokenize.js';
import type { TextShardRow, TextTableRow } from './schema.js';

/**
 * The inverted index in two dimensions. Memories are numbered into groups of GROUP_SLOTS slots as they
 * are indexed; each term belongs to one shard. One row holds one shard of one group, keyed
 * `[namespace, shard, group]`, so:
 * - a bulk write of 1000 memories costs a few hundred rows, not one per posting;
 * - a term is one key-range read across every group, of rows holding few other terms;
 * - an edit rewrites only the rows its terms fall in.
 * Which memory a slot holds is kept in table rows of TABLE_SLOTS slots each, keyed `[namespace, group, n]`.
 *
 * A slot is never given to another memory (a re-indexed or compacted memory gets a new one), so what a
 * table says of a slot never changes while the slot is live: readers may keep it (see SlotCache).
 */
export const GROUP_SLOTS = 2048;
/** Slots and term frequencies share one 32-bit word per posting. */
export const MAX_GROUP_SLOTS = 0x10000;
/**
 * Words as written (WORD_MARK terms, only ever asked by prefix) are sharded by their first two units,
 * so every prefix is one shard; stems (only ever asked exactly) are spread by a hash of the whole term
 * over STEM_SHARDS shards after them, so an exact term reads rows 1/STEM_SHARDS of the stems' size.
 * Measured in Chromium at 100K memories: rows sharded by two characters made a search read ~1.4 MB
 * per term (24 ms p50 of the query's 36); 256 stem shards read ~90 KB.
 */
const WORD_SHARDS = 64;
const STEM_SHARDS = 256;

/** FNV-1a over the first `units` UTF-16 units. */
function fnv(term: string, units: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < Math.min(units, term.length); i++)
    hash = Math.imul(hash ^ term.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * Slots per table row. A search reads the tables of every group it hits, and in Chromium a value costs
 * far more than its bytes: at 100K memories, rows of 256 slots doubled a search's table read.
 */
export const TABLE_SLOTS = 2048;

/** Ids cannot contain spaces (core's id rules), nor can terms (they are letters and digits). */
const SEPARATOR = ' ';

/** The shard of a term: every word as written starting with a prefix of length >= 2 shares the prefix's. */
export function shardOf(term: string): number {
  if (term.startsWith(WORD_MARK)) return fnv(term, 2) % WORD_SHARDS;
  return WORD_SHARDS + (fnv(term, term.length) % STEM_SHARDS);
}

/**
 * A posting as one number: slot in the high 16 bits, tf in the low 16. Content is at most 64 KiB, so
 * no term occurs 65536 times; the clamp only guards the encoding.
 */
export const packPosting = (slot: number, tf: number) => slot * 0x10000 + Math.min(tf, 0xffff);
export const slotOf = (posting: number) => posting >>> 16;
export const tfOf = (posting: number) => posting & 0xffff;

/** A shard row's postings by term, packed. */
export type ShardPostings = Map<string, number[]>;

export function decodeShard(row: TextShardRow): ShardPostings {
  const postings: ShardPostings = new Map();
  forEachTerm(row, (term, start, end) => postings.set(term, Array.from(row.data.subarray(start, end))));
  return postings;
}

/** One typed array per row (term ends, then packed postings): the cheapest shape to store and decode. */
export function encodeShard(group: number, postings: ShardPostings): TextShardRow {
  const terms: string[] = [];
  let size = 0;
  for (const [term, list] of postings) {
    if (list.length === 0) continue;
    terms.push(term);
    size += list.length;
  }
  terms.sort();
  const data = new Uint32Array(terms.length + size);
  let at = terms.length;
  terms.forEach((term, i) => {
    const list = postings.get(term)!;
    data.set(list, at);
    at += list.length;
    data[i] = at;
  });
  return { group, terms: terms.join(SEPARATOR), data };
}

/**
 * `row` with `added` postings appended to their terms' lists (new terms in their sorted place), in one
 * pass over both sorted term lists: a bulk add appends to every row of the open group, and decoding
 * each row into per-term arrays cost more than the merge.
 */
export function appendToShard(row: TextShardRow, added: ShardPostings): TextShardRow {
  const stored = row.terms === '' ? [] : row.terms.split(SEPARATOR);
  const adding = [...added.keys()].filter((term) => added.get(term)!.length > 0).sort();
  let size = row.data.length - stored.length;
  for (const term of adding) size += added.get(term)!.length;
  const terms: string[] = [];
  let i = 0;
  let j = 0;
  while (i < stored.length || j < adding.length) {
    const next =
      j >= adding.length || (i < stored.length && stored[i]! <= adding[j]!) ? stored[i]! : adding[j]!;
    terms.push(next);
    if (stored[i] === next) i++;
    if (adding[j] === next) j++;
  }
  const data = new Uint32Array(terms.length + size);
  let at = terms.length;
  i = 0;
  terms.forEach((term, k) => {
    if (stored[i] === term) {
      const start = i === 0 ? stored.length : row.data[i - 1]!;
      const end = row.data[i]!;
      data.set(row.data.subarray(start, end), at);
      at += end - start;
      i++;
    }
    const list = added.get(term);
    if (list) {
      data.set(list, at);
      at += list.length;
    }
    data[k] = at;
  });
  return { group: row.group, terms: terms.join(SEPARATOR), data };
}

/** Calls `visit` with each term of a row and the [start, end) range of its postings in `row.data`. */
export function forEachTerm(
  row: TextShardRow,
  visit: (term: string, start: number, end: number) => void,
): void {
  if (row.terms === '') return;
  const terms = row.terms.split(SEPARATOR);
  let start = terms.length;
  terms.forEach((term, i) => {
    const end = row.data[i]!;
    visit(term, start, end);
    start = end;
  });
}

/** Slots `n * TABLE_SLOTS` onwards of a group: the memory id in each ('' when empty) and its length. */
export interface SlotTable {
  ids: string[];
  lengths: number[];
}

export function decodeTable(row: TextTableRow): SlotTable {
  return { ids: row.ids.split(SEPARATOR), lengths: Array.from(row.lengths) };
}

export function encodeTable(group: number, n: number, table: SlotTable): TextTableRow {
  return { group, n, ids: table.ids.join(SEPARATOR), lengths: Uint32Array.from(table.lengths) };
}
