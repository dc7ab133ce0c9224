import { isCiphertext } from '../crypto/sealed.js';
import { type Analyzer, analyzerFor, ENGLISH, englishTerm } from './analyzer.js';
import { visitAsciiEnglish } from './ascii-index.js';
import { cjkRunEnd, cutTerm, splitWords, WORD_MARK } from './words.js';

export { MAX_TERM_LENGTH, normalizeWord, splitWords, WORD_MARK } from './words.js';

/** The English index term of one normalised word (its Porter stem); other languages: `analyzerFor(l).words`. */
export const toTerm = englishTerm;

/** The index key of a word as written (see WORD_MARK). */
export function wordKey(word: string): string {
  return WORD_MARK + cutTerm(word);
}

/**
 * Unicode words (/[\p{L}\p{N}]+/gu after NFKD + removing combining marks, lower-cased), each stemmed in
 * `language` (a name from LANGUAGES, or a namespace's stored `language` meta; default English).
 * Order preserved (position = array index). Terms longer than MAX_TERM_LENGTH are truncated.
 */
export function tokenize(text: string, language?: unknown): string[] {
  const analyzer = analyzerFor(language);
  if (analyzer === ENGLISH) return splitWords(text).map(englishTerm);
  const terms: string[] = [];
  analyzer.words(text, (_, term) => terms.push(term));
  return terms;
}

/**
 * Term frequencies and the document length (number of tokens) of a text — what stores persist in their
 * index. Each word counts under its stem and, marked with WORD_MARK, as written (for prefixes); the
 * length counts tokens once. `language`: the namespace's stored `language` meta (default English), so
 * that a store indexes every namespace with its own stemmer.
 */
export function indexText(text: string, language?: unknown): { length: number; terms: Map<string, number> } {
  const terms = new Map<string, number>();
  // The edge keeps an end-to-end encrypted namespace's content sealed: indexing it would store noise.
  if (isCiphertext(text)) return { length: 0, terms };
  const analyzer = analyzerFor(language);
  const length =
    (analyzer === ENGLISH ? visitAsciiEnglish(text, (term, count) => terms.set(term, count)) : undefined) ??
    countTerms(analyzer, text, terms);
  return { length, terms };
}

/**
 * indexText's terms and counts, in its order, handed to `visit` one by one with the document length (known
 * before the first): for a store that files each posting at once, without the Map. Returns the length.
 */
export function visitIndexTerms(
  text: string,
  language: unknown,
  visit: (term: string, count: number, length: number) => void,
): number {
  if (isCiphertext(text)) return 0;
  const analyzer = analyzerFor(language);
  const length = analyzer === ENGLISH ? visitAsciiEnglish(text, visit) : undefined;
  if (length !== undefined) return length;
  const terms = new Map<string, number>();
  const counted = countTerms(analyzer, text, terms);
  for (const [term, count] of terms) visit(term, count, counted);
  return counted;
}

/**
 * The generic path: every word's stem, then the word as written, counted into `terms`; and for a CJK
 * pair, the key its run may end with (cjkRunEnd), which the length does not count.
 */
function countTerms(analyzer: Analyzer, text: string, terms: Map<string, number>): number {
  const count = (key: string) => terms.set(key, (terms.get(key) ?? 0) + 1);
  let previous: string | undefined;
  const runEnd = (next: string | undefined) => {
    const end = previous === undefined ? undefined : cjkRunEnd(previous, next);
    if (end !== undefined) count(wordKey(end));
  };
  const length = analyzer.words(text, (word, term) => {
    count(term);
    count(wordKey(word));
    runEnd(word);
    previous = word;
  });
  runEnd(undefined);
  return length;
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
