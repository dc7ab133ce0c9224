import { stemmer as porter } from 'stemmer';
import { STEM_CACHE_LIMIT } from './analyzer.js';
import { MAX_TERM_LENGTH, WORD_MARK } from './words.js';

/**
 * English indexing of ASCII text without a Map per text. In Chromium, looking fresh substrings up in
 * Maps (the stem cache, then the text's term counts) cost ten times splitting the text: here the text
 * is scanned once, each word found in a table of the words seen before by its hash and characters,
 * and counts are kept on the table's entries. What comes out is exactly what the generic path gives
 * (see tokenize.ts): the same words (runs of [a-z0-9] in the lower-cased text), stems and order.
 */

/** One index key (a stem, or a word as written); `seen`/`count` tally it within the current text. */
interface KeyEntry {
  key: string;
  seen: number;
  count: number;
}

/** A word seen before, with its two keys. Words with one stem share the stem's entry. */
interface WordEntry {
  word: string;
  hash: number;
  term: KeyEntry;
  written: KeyEntry;
  next: WordEntry | undefined;
}

const BITS = 16;
const MASK = (1 << BITS) - 1;
let table: Array<WordEntry | undefined> = new Array(MASK + 1);
let keys = new Map<string, KeyEntry>();
let words = 0;
/** Numbers the texts, so that an entry's `seen` tells whether it was counted in this one. */
let text = 0;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range is the point
const ASCII = /^[\x00-\x7f]*$/;

function keyEntry(key: string): KeyEntry {
  let entry = keys.get(key);
  if (entry === undefined) {
    entry = { key, seen: 0, count: 0 };
    keys.set(key, entry);
  }
  return entry;
}

/** The entry of the lower-cased `source[start, end)`, whose FNV-1a hash is `hash`; made on first sight. */
function wordEntry(source: string, start: number, end: number, hash: number): WordEntry {
  const at = hash & MASK;
  const length = end - start;
  probe: for (let entry = table[at]; entry !== undefined; entry = entry.next) {
    if (entry.hash !== hash || entry.word.length !== length) continue;
    for (let i = 0; i < length; i++) {
      let c = source.charCodeAt(start + i);
      if (c <= 90 && c >= 65) c += 32;
      if (entry.word.charCodeAt(i) !== c) continue probe;
    }
    return entry;
  }
  const word = source.slice(start, end).toLowerCase();
  const entry: WordEntry = {
    word,
    hash,
    term: keyEntry(porter(word).slice(0, MAX_TERM_LENGTH)),
    written: keyEntry(WORD_MARK + word.slice(0, MAX_TERM_LENGTH)),
    next: table[at],
  };
  table[at] = entry;
  words += 1;
  return entry;
}

function tally(key: KeyEntry, found: KeyEntry[]): void {
  if (key.seen === text) key.count += 1;
  else {
    key.seen = text;
    key.count = 1;
    found.push(key);
  }
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
  // Dropped between texts only: an entry counted in this text must stay the one its word finds.
  if (words >= STEM_CACHE_LIMIT) {
    table = new Array(MASK + 1);
    keys = new Map();
    words = 0;
  }
  text += 1;
  const found: KeyEntry[] = [];
  let length = 0;
  let start = -1;
  let hash = 0;
  for (let i = 0; i <= source.length; i++) {
    let c = i < source.length ? source.charCodeAt(i) : 32;
    if (c <= 90 && c >= 65) c += 32;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
      if (start < 0) {
        start = i;
        hash = 0x811c9dc5;
      }
      hash = Math.imul(hash ^ c, 0x01000193);
      continue;
    }
    if (start < 0) continue;
    const word = wordEntry(source, start, i, hash >>> 0);
    start = -1;
    length += 1;
    tally(word.term, found);
    tally(word.written, found);
  }
  // Counts are copied out before visiting, so that a visitor indexing another text cannot disturb them.
  const counts = found.map((key) => key.count);
  for (let i = 0; i < found.length; i++) visit(found[i]!.key, counts[i]!, length);
  return length;
}
