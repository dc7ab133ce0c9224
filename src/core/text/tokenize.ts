import { stemmer } from 'stemmer';
import { isCiphertext } from '../crypto/sealed.js';

/** Index keys stay bounded whatever the input (a pasted hash or blob would otherwise become one huge key). */
export const MAX_TERM_LENGTH = 64;

const COMBINING_MARKS = /\p{M}+/gu;
const WORD = /[\p{L}\p{N}]+/gu;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range is the point
const ASCII = /^[\x00-\x7f]*$/;

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

/** The normalised, unstemmed words of a text, in order. */
export function splitWords(text: string): string[] {
  return normalizeWord(text).match(WORD) ?? [];
}

/** Words repeat far more than they vary, so stems are memoised; the cache is dropped when full. */
const STEM_CACHE_LIMIT = 50_000;
const stems = new Map<string, string>();

function toTerm(word: string): string {
  let term = stems.get(word);
  if (term === undefined) {
    term = stemmer(word).slice(0, MAX_TERM_LENGTH);
    if (stems.size >= STEM_CACHE_LIMIT) stems.clear();
    stems.set(word, term);
  }
  return term;
}

/**
 * Unicode words (/[\p{L}\p{N}]+/gu after NFKD + removing combining marks, lower-cased), each Porter-stemmed.
 * Order preserved (position = array index). Terms longer than MAX_TERM_LENGTH are truncated.
 */
export function tokenize(text: string): string[] {
  return splitWords(text).map(toTerm);
}

/** Term frequencies and the document length (number of tokens) of a text — what stores persist in their index. */
export function indexText(text: string): { length: number; terms: Map<string, number> } {
  // The edge keeps an end-to-end encrypted namespace's content sealed: indexing it would store noise.
  if (isCiphertext(text)) return { length: 0, terms: new Map() };
  const tokens = tokenize(text);
  const terms = new Map<string, number>();
  for (const term of tokens) terms.set(term, (terms.get(term) ?? 0) + 1);
  return { length: tokens.length, terms };
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
