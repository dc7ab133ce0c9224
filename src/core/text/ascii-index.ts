import { stemmer as porter } from 'stemmer';
import { STEM_CACHE_LIMIT } from './analyzer.js';
import { MAX_TERM_LENGTH, WORD_MARK } from './words.js';

/**
 * English indexing of ASCII text without a Map per text. In Chromium, looking fresh substrings up in
 * Maps (the stem cache, then the text's term counts) cost ten times splitting the text: here the text
 * is scanned once, each word found in a table of the words seen before by its hash and characters,
 * and counts are kept per key in the table. What comes out is exactly what the generic path gives
 * (see tokenize.ts): the same words (runs of [a-z0-9] in the lower-cased text), stems and order.
 *
 * The table lives in typed arrays rather than an object per word and two per key: a store indexes between
 * its own writes (IndexedDB's puts, SQLite's inserts), which leave little of a scattered table in the
 * CPU's caches. Measured in Node on 10K bench memories: 31–39 ms instead of 55–59 alone, and 52–76 ms
 * instead of 79–145 with 2,000 random reads of a 16 MB array between texts (docs/search.md). No
 * maintained package keeps such a table (tokenizers hand out strings), hence this file.
 */

/** Open addressing over `slots` (a word's id + 1; 0: empty), at most half full. */
let slots: Int32Array;
/** Per word id: its FNV-1a hash, where its letters start in `letters` and how many, and its two key ids. */
let hashes: Int32Array;
let starts: Int32Array;
let lengths: Int32Array;
let termOf: Int32Array;
let writtenOf: Int32Array;
/** The lower-cased letters of every word, one after another (ASCII: a byte each). */
let letters: Uint8Array;
let lettersUsed: number;
let words: number;
/** Key id -> key (a stem, or WORD_MARK + the word as written); words with one stem share its id. */
let keys: string[];
let keyIds: Map<string, number>;
/** Per key id: the text it was last counted in, and its count there. */
let seen: Int32Array;
let counts: Int32Array;
/** Numbers the texts, so that `seen` tells whether a key was counted in this one. */
let text: number;
/** The keys of the current text in order of first occurrence (reused from text to text). */
let found = new Int32Array(1 << 8);
/** Past this many letters the table is dropped as past STEM_CACHE_LIMIT words (long unique tokens). */
const LETTERS_LIMIT = 1 << 23;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range is the point
const ASCII = /^[\x00-\x7f]*$/;

/** Empties the table (and makes it); arrays are replaced, not cleared, so a visit in progress keeps its own. */
function reset(): void {
  slots = new Int32Array(1 << 12);
  hashes = new Int32Array(1 << 11);
  starts = new Int32Array(1 << 11);
  lengths = new Int32Array(1 << 11);
  termOf = new Int32Array(1 << 11);
  writtenOf = new Int32Array(1 << 11);
  letters = new Uint8Array(1 << 14);
  lettersUsed = 0;
  words = 0;
  keys = [];
  keyIds = new Map();
  seen = new Int32Array(1 << 12);
  counts = new Int32Array(1 << 12);
  text = 0;
}

reset();

function grown<T extends Int32Array | Uint8Array>(array: T, size: number): T {
  let length = array.length * 2;
  while (length < size) length *= 2;
  const copy = new (array.constructor as new (n: number) => T)(length);
  copy.set(array);
  return copy;
}

function keyId(key: string): number {
  let id = keyIds.get(key);
  if (id === undefined) {
    id = keys.length;
    keys.push(key);
    keyIds.set(key, id);
    if (id >= seen.length) {
      seen = grown(seen, id + 1);
      counts = grown(counts, id + 1);
    }
  }
  return id;
}

/** Doubles `slots`, placing every word again by its hash. */
function rehash(): void {
  const size = slots.length * 2;
  const mask = size - 1;
  slots = new Int32Array(size);
  for (let id = 0; id < words; id++) {
    let at = hashes[id]! & mask;
    while (slots[at] !== 0) at = (at + 1) & mask;
    slots[at] = id + 1;
  }
}

/** Files the lower-cased `source[start, end)` as a new word at `slot`, with its stem and written keys. */
function addWord(source: string, start: number, end: number, hash: number, slot: number): number {
  const id = words;
  const length = end - start;
  if (id >= hashes.length) {
    hashes = grown(hashes, id + 1);
    starts = grown(starts, id + 1);
    lengths = grown(lengths, id + 1);
    termOf = grown(termOf, id + 1);
    writtenOf = grown(writtenOf, id + 1);
  }
  if (lettersUsed + length > letters.length) letters = grown(letters, lettersUsed + length);
  const word = source.slice(start, end).toLowerCase();
  for (let i = 0; i < length; i++) letters[lettersUsed + i] = word.charCodeAt(i);
  hashes[id] = hash;
  starts[id] = lettersUsed;
  lengths[id] = length;
  termOf[id] = keyId(porter(word).slice(0, MAX_TERM_LENGTH));
  writtenOf[id] = keyId(WORD_MARK + word.slice(0, MAX_TERM_LENGTH));
  lettersUsed += length;
  slots[slot] = id + 1;
  words += 1;
  if (words * 2 > slots.length) rehash();
  return id;
}

/** The id of the lower-cased `source[start, end)`, whose FNV-1a hash is `hash`; filed on first sight. */
function wordId(source: string, start: number, end: number, hash: number): number {
  const mask = slots.length - 1;
  const length = end - start;
  let at = hash & mask;
  for (let slot = slots[at]!; slot !== 0; slot = slots[at]!) {
    const id = slot - 1;
    if (hashes[id] === hash && lengths[id] === length) {
      const base = starts[id]!;
      let i = 0;
      for (; i < length; i++) {
        let c = source.charCodeAt(start + i);
        if (c <= 90 && c >= 65) c += 32;
        if (letters[base + i] !== c) break;
      }
      if (i === length) return id;
    }
    at = (at + 1) & mask;
  }
  return addWord(source, start, end, hash, at);
}

/** Counts key `key` in the current text; `n` keys were found before it. Returns the new number found. */
function tally(key: number, n: number): number {
  if (seen[key] === text) {
    counts[key]! += 1;
    return n;
  }
  seen[key] = text;
  counts[key] = 1;
  if (n >= found.length) found = grown(found, n + 1);
  found[n] = key;
  return n + 1;
}

/**
 * Calls `visit(key, count, length)` for each index key of `source` (a stem, then its word as written, in
 * order of first occurrence; `length`: the number of words, the same for every key) and returns the number
 * of words; undefined, visiting nothing, unless `source` is ASCII.
 */
export function visitAsciiEnglish(
  source: string,
  visit: (key: string, count: number, length: number) => void,
): number | undefined {
  if (!ASCII.test(source)) return undefined;
  // Dropped between texts only: a key counted in this text must keep its id until it is visited.
  if (words >= STEM_CACHE_LIMIT || lettersUsed >= LETTERS_LIMIT || text >= 0x3fffffff) reset();
  text += 1;
  let n = 0;
  let length = 0;
  let start = -1;
  let hash = 0;
  for (let i = 0; i <= source.length; i++) {
    let c = i < source.length ? source.charCodeAt(i) : 32;
    if (c <= 90 && c >= 65) c += 32;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
      if (start < 0) {
        start = i;
        hash = 0x811c9dc5 | 0;
      }
      hash = Math.imul(hash ^ c, 0x01000193);
      continue;
    }
    if (start < 0) continue;
    const id = wordId(source, start, i, hash);
    start = -1;
    length += 1;
    n = tally(termOf[id]!, n);
    n = tally(writtenOf[id]!, n);
  }
  // Keys and counts are copied out before visiting, so that a visitor indexing another text (which may
  // count the same keys, or drop the table) cannot disturb them. Into a spare array kept between texts:
  // a new one per text (off the heap past 64 bytes) was about a seventh of the bytes a sql.js bulk add
  // allocated (145 of 987 MB at 50K). A visit inside a visit finds the spare taken and makes its own.
  const out = spare !== undefined && spare.length >= n * 2 ? spare : new Int32Array(Math.max(n * 2, 256));
  spare = undefined;
  for (let j = 0; j < n; j++) {
    out[j] = found[j]!;
    out[n + j] = counts[found[j]!]!;
  }
  const names = keys;
  try {
    for (let j = 0; j < n; j++) visit(names[out[j]!]!, out[n + j]!, length);
  } finally {
    spare = out;
  }
  return length;
}

/** The array `visitAsciiEnglish` copies a text's keys and counts into, while no visit holds it. */
let spare: Int32Array | undefined;
