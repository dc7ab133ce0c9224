import { storageError } from '../../core/errors.js';
import { WORD_MARK } from '../../core/text/tokenize.js';
import { putVarint } from '../varint.js';
import type { StoredShardRow, TextShardRow, TextTableRow } from './schema.js';

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

/** The number of space-joined terms, without splitting them (a reader splits the row's terms once, later). */
function termCount(terms: string): number {
  if (terms === '') return 0;
  let count = 1;
  for (let at = terms.indexOf(SEPARATOR); at !== -1; at = terms.indexOf(SEPARATOR, at + 1)) count++;
  return count;
}

/**
 * A row as stored (schema v9): each term's posting count, then each term's postings, every posting the
 * distance of its slot from the one before (the first's from -1), doubled, plus one when its tf is above
 * 1, which then follows; all varints. A posting takes 1.6 bytes on the bench corpus instead of 4 (a term
 * is once in most memories, and common terms' slots are close). A list out of slot order (none is
 * written so) is sorted first; two postings of one slot cannot be stored and fail the write.
 */
export function packShard(row: TextShardRow): StoredShardRow {
  const n = termCount(row.terms);
  const { data } = row;
  // A count takes at most 3 bytes (lists are below 2^21), a posting at most 3 + 3.
  const out = new Uint8Array(n * 3 + (data.length - n) * 6);
  let at = 0;
  for (let i = 0, start = n; i < n; start = data[i++]!) at = putVarint(out, at, data[i]! - start);
  for (let i = 0, start = n; i < n; start = data[i++]!) {
    const list = data.subarray(start, data[i]!);
    const end = putPostings(out, at, list, row.group);
    at =
      end >= 0
        ? end
        : putPostings(
            out,
            at,
            list.slice().sort((x, y) => slotOf(x) - slotOf(y)),
            row.group,
          );
  }
  return { group: row.group, terms: row.terms, bytes: out.slice(0, at) };
}

/**
 * Writes one term's postings at `at` and returns where they end, or -1, having written nothing to keep,
 * when a slot comes before the one ahead of it (the caller sorts and writes again): one pass when the
 * list is in order, as every list is written. A slot twice is a STORAGE error.
 */
function putPostings(out: Uint8Array, at: number, list: Uint32Array, group: number): number {
  let previous = -1;
  for (const posting of list) {
    const slot = slotOf(posting);
    if (slot < previous) return -1;
    if (slot === previous) {
      throw storageError(
        'IndexedDB text index',
        new Error(`slot ${slot} twice in the postings of a term of group ${group}`),
      );
    }
    const tf = tfOf(posting);
    const gap = (slot - previous - 1) * 2;
    at = tf === 1 ? putVarint(out, at, gap) : putVarint(out, putVarint(out, at, gap + 1), tf);
    previous = slot;
  }
  return at;
}

/** What a corrupt stored row throws: STORAGE, naming the row. */
const corrupt = (stored: StoredShardRow, what: string) =>
  storageError('IndexedDB text index', new Error(`corrupt shard row of group ${stored.group}: ${what}`));

/**
 * A stored row as code reads it (`TextShardRow`). One loop over the bytes, without a call per posting: a
 * search decodes the rows of its terms' shards that it does not keep, tens of thousands of postings at
 * 100K memories.
 */
export function unpackShard(stored: StoredShardRow): TextShardRow {
  const { bytes } = stored;
  const n = termCount(stored.terms);
  const end = bytes.length;
  let at = 0;
  /**
   * The varint at `at`, moving past it. Nothing stored needs more than 3 bytes; past 4 it is corrupt, so the
   * value fits 32-bit operators. Not varint.ts's VarintReader (53 bits, a method and a property per read):
   * decoding through it made unpacking a bench-corpus row 25 % slower, and a search unpacks every row of
   * the shards it does not keep.
   */
  const next = (): number => {
    let value = 0;
    for (let shift = 0; shift < 28 && at < end; shift += 7) {
      const byte = bytes[at++]!;
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
    throw corrupt(stored, `a number at byte ${at} runs past the end or past 4 bytes`);
  };
  const counts = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const count = next();
    if (count > end) throw corrupt(stored, `term ${i} counts more postings than the row has bytes`);
    counts[i] = count;
    total += count;
  }
  const data = new Uint32Array(n + total);
  let to = n;
  for (let i = 0; i < n; i++) {
    let slot = -1;
    for (let left = counts[i]!; left > 0; left--) {
      // Most postings: one byte, tf 1. Slots only grow, so the term's last one is checked below.
      let head = at < end ? bytes[at]! : 0x80;
      if (head < 0x80) at++;
      else head = next();
      slot += 1 + (head >>> 1);
      if ((head & 1) === 0) data[to++] = slot * 0x10000 + 1;
      else {
        const tf = next();
        if (tf > 0xffff) throw corrupt(stored, `a posting of term ${i} counts ${tf}`);
        data[to++] = slot * 0x10000 + tf;
      }
    }
    if (slot >= MAX_GROUP_SLOTS) throw corrupt(stored, `term ${i} names slot ${slot}, past the group`);
    data[i] = to;
  }
  if (at !== end) throw corrupt(stored, `${end - at} bytes after the last posting`);
  return { group: stored.group, terms: stored.terms, data };
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
