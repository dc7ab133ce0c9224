import { stemmer } from 'stemmer';
import { isCiphertext } from '../crypto/sealed.js';

/** Index keys stay bounded whatever the input (a pasted hash or blob would otherwise become one huge key). */
export const MAX_TERM_LENGTH = 64;

/**
 * Marks an index key holding a word as written (normalised, NOT stemmed) rather than its stem. Prefixes
 * (`coffee*`) are matched against these keys, so they find "coffee" and "coffees" although the stem is
 * "coffe". Stems are letters and digits, so the mark cannot collide with one; it sorts apart from every
 * stem, so a prefix over words is one key range in every store.
 */
export const WORD_MARK = '~';

const COMBINING_MARKS = /\p{M}+/gu;
const WORD = /[\p{L}\p{N}]+/gu;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range is the point
const ASCII = /^[\x00-\x7f]*$/;
/** Scripts written without spaces between words: indexed as overlapping character pairs. */
const CJK =
  /[\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}]/u;
const CJK_RUNS =
  /([\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}]+)|[^\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}]+/gu;

/**
 * Normalise one word WITHOUT stemming (for prefixes): NFKD, strip marks, lower-case.
 * Folding case and diacritics lets "Café", "CAFÉ" and "cafe" meet in one key.
 */
export function normalizeWord(word: string): string {
  // ASCII has nothing to decompose or strip: skip the costliest step for the commonest text.
  if (ASCII.test(word)) return word.toLowerCase();
  // Lower-casing comes last: compatibility decomposition can yield capitals (e.g. "㎒" → "MHz").
  return word.normalize('NFKD').replace(COMBINING_MARKS, '').toLowerCase();
}

/**
 * A run of Chinese, Japanese or Korean characters as overlapping pairs ("東京都" → "東京", "京都"), so that
 * a two-character query finds a longer word without a dictionary; a lone character stays itself.
 */
function bigrams(run: string): string[] {
  const chars = [...run];
  if (chars.length < 2) return chars;
  const out: string[] = [];
  for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
  return out;
}

function splitCjk(word: string, out: string[]): void {
  for (const [part, run] of word.matchAll(CJK_RUNS)) {
    if (run !== undefined) out.push(...bigrams(run));
    else out.push(part);
  }
}

/** The normalised, unstemmed words of a text, in order (CJK runs as character pairs). */
export function splitWords(text: string): string[] {
  const words = normalizeWord(text).match(WORD) ?? [];
  if (ASCII.test(text) || !CJK.test(text)) return words;
  const out: string[] = [];
  for (const word of words) {
    if (CJK.test(word)) splitCjk(word, out);
    else out.push(word);
  }
  return out;
}

/** Words repeat far more than they vary, so stems are memoised; the cache is dropped when full. */
const STEM_CACHE_LIMIT = 50_000;
const stems = new Map<string, string>();

/** The index term of one normalised word: its Porter stem, cut to MAX_TERM_LENGTH. */
export function toTerm(word: string): string {
  let term = stems.get(word);
  if (term === undefined) {
    term = stemmer(word).slice(0, MAX_TERM_LENGTH);
    if (stems.size >= STEM_CACHE_LIMIT) stems.clear();
    stems.set(word, term);
  }
  return term;
}

/** The index key of a word as written (see WORD_MARK). */
export function wordKey(word: string): string {
  return WORD_MARK + word.slice(0, MAX_TERM_LENGTH);
}

/**
 * Unicode words (/[\p{L}\p{N}]+/gu after NFKD + removing combining marks, lower-cased), each Porter-stemmed.
 * Order preserved (position = array index). Terms longer than MAX_TERM_LENGTH are truncated.
 */
export function tokenize(text: string): string[] {
  return splitWords(text).map(toTerm);
}

/**
 * Term frequencies and the document length (number of tokens) of a text — what stores persist in their
 * index. Each word counts under its stem and, marked with WORD_MARK, as written (for prefixes); the
 * length counts tokens once.
 */
export function indexText(text: string): { length: number; terms: Map<string, number> } {
  // The edge keeps an end-to-end encrypted namespace's content sealed: indexing it would store noise.
  if (isCiphertext(text)) return { length: 0, terms: new Map() };
  const words = splitWords(text);
  const terms = new Map<string, number>();
  for (const word of words) {
    const term = toTerm(word);
    terms.set(term, (terms.get(term) ?? 0) + 1);
    const key = wordKey(word);
    terms.set(key, (terms.get(key) ?? 0) + 1);
  }
  return { length: words.length, terms };
}

/** True when the token sequence contains `phrase` (an array of stemmed terms) contiguously. An empty phrase is always contained. */
export function containsPhrase(tokens: readonly string[], phrase: readonly string[]): boolean {
  const last = tokens.length - phrase.length;
  for (let start = 0; start <= last; start++) {
    let offset = 0;
    while (offset < phrase.length && tokens[start + offset] === phrase[offset]) offset++;
    if (offset === phrase.length) return true;
  }
  return false;
}
