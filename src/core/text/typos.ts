import { type Analyzer, analyzerFor } from './analyzer.js';
import type { ParsedQuery, QueryClause } from './query.js';
import { cutTerm, WORD_MARK } from './words.js';

/**
 * Shorter words are never corrected: one edit away from a four-letter word lie too many other words
 * ("year" → "yeah", "hear"), which cost bench/quality.mjs's inference questions recall (docs/search.md).
 */
export const TYPO_MIN_LENGTH = 5;
/** Longer words (a pasted hash, an id) are not corrected: a word has about 55 variants per letter. */
export const TYPO_MAX_LENGTH = 24;
/** At most this many words of one query are corrected, so a garbled query costs a bounded read. */
export const MAX_TYPO_WORDS = 3;

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/**
 * The words one edit away from `word` (a letter deleted, inserted or replaced, or two neighbours swapped:
 * the optimal string alignment distance 1), keeping its first letter, as people rarely mistype that
 * (and every store then reads them from one place: IndexedDB shards words by their first letter).
 * Inserted and replacing letters are a–z and the word's own letters, so other scripts get some too.
 * Sorted, without `word` itself.
 */
export function typoVariants(word: string): string[] {
  const chars = [...word];
  const alphabet = [...new Set([...LETTERS, ...chars])];
  const out = new Set<string>();
  const joined = (parts: string[]) => parts.join('');
  for (let i = 1; i < chars.length; i++) {
    out.add(joined([...chars.slice(0, i), ...chars.slice(i + 1)]));
    if (i + 1 < chars.length)
      out.add(joined([...chars.slice(0, i), chars[i + 1]!, chars[i]!, ...chars.slice(i + 2)]));
    for (const letter of alphabet) out.add(joined([...chars.slice(0, i), letter, ...chars.slice(i + 1)]));
  }
  for (let i = 1; i <= chars.length; i++) {
    for (const letter of alphabet) out.add(joined([...chars.slice(0, i), letter, ...chars.slice(i)]));
  }
  out.delete(word);
  return [...out].sort();
}

/** True when `candidate` is one of `typoVariants(word)`: one edit away, with the same first letter. */
export function isTypoVariant(word: string, candidate: string): boolean {
  if (word === candidate || word[0] !== candidate[0]) return false;
  const a = [...word];
  const b = [...candidate];
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const rest = (x: string[], from: number) => x.slice(from).join('');
  // A replacing or inserted letter comes from a–z or the word itself, as in typoVariants.
  const known = (letter: string) => LETTERS.includes(letter) || a.includes(letter);
  if (a.length === b.length) {
    if (a[i] === b[i + 1] && a[i + 1] === b[i] && rest(a, i + 2) === rest(b, i + 2)) return true;
    return rest(a, i + 1) === rest(b, i + 1) && known(b[i]!);
  }
  return a.length > b.length ? rest(a, i + 1) === rest(b, i) : rest(a, i) === rest(b, i + 1) && known(b[i]!);
}

/**
 * The words a misspelt word's variants are made from: the word, and in English a plural's singular
 * ("recipies" → "recipie", one edit from "recipe"): the index keeps words as written, so a typo in a plural
 * is two edits from a memory's singular, and a stem does not help ("recipi" is no word key).
 */
function typoBases(analyzer: Analyzer, word: string): string[] {
  if (analyzer.language !== 'english' || !PLURAL.test(word)) return [word];
  return [word, word.slice(0, -1)];
}
const PLURAL = /[^s]s$/u;

/** Whether a search for the misspelt `word` looks a candidate word up (typoCorrection's variants). */
export function typoCorrectionOf(word: string, language?: unknown): (candidate: string) => boolean {
  const analyzer = analyzerFor(language);
  const bases = typoBases(analyzer, word);
  return (candidate) =>
    candidate !== word &&
    !analyzer.isStopWord(candidate) &&
    bases.some((base) => isTypoVariant(base, candidate));
}

function heldTerms(postings: readonly { term: string }[], unheld: ReadonlySet<string>): Set<string> {
  const held = new Set<string>();
  for (const posting of postings) if (!unheld.has(posting.term)) held.add(posting.term);
  return held;
}

/**
 * The terms of `parsed.correctable` that the postings hold and that `typoCorrection` would look up again
 * were no memory holding them: a content word of TYPO_MIN_LENGTH to TYPO_MAX_LENGTH letters, or any
 * length in a language stemmed before folding. Only memories a search can return count as holding a word
 * (an expired one, or one not valid at the search's instant, does not: `cofee` in a memory past its
 * `expiresAt` must not keep `cofee` from finding "coffee"), which postings cannot tell; the search checks
 * these terms against the records (search.ts) and passes those no live memory holds to `typoCorrection`
 * as `unheld`.
 */
export function correctableHeld(
  parsed: ParsedQuery,
  postings: readonly { term: string }[],
  language?: unknown,
): string[] {
  if (parsed.correctable.length === 0) return [];
  const asWritten = !analyzerFor(language).termFollowsWord;
  const held = heldTerms(postings, new Set());
  const terms = parsed.correctable.filter(({ term, word }) => {
    const length = [...word].length;
    return held.has(term) && (asWritten || (length >= TYPO_MIN_LENGTH && length <= TYPO_MAX_LENGTH));
  });
  return [...new Set(terms.map(({ term }) => term))];
}

/** What a query's typo correction reads: the index keys of the misspelt words' variants. */
export interface TypoCorrection {
  /** Word keys (WORD_MARK + variant) to fetch postings for; empty when no word needs correcting. */
  keys: string[];
  /** Builds the query to score once those postings are in: each misspelt word's clause becomes a `fuzzy` clause. */
  apply(fetched: readonly { term: string }[]): ParsedQuery;
}

/**
 * Typo tolerance: a content word of at least TYPO_MIN_LENGTH letters whose term no memory holds
 * (`postings` being what the query's own terms fetched, `unheld` the terms among them that only memories a
 * search cannot return hold, see `correctableHeld`) is looked up again as every word one edit away.
 * Words the index holds are never touched, so a query without typos reads and ranks exactly as before.
 * Variants that are stop words are left out: "thier" must not become "their".
 *
 * In a language stemmed before its diacritics are folded (every one but English), a word whose term no
 * memory holds is first looked up as written, whatever its length: "informacion" typed without its
 * accent has another stem than "información" ("inform") but the same word key (`~informacion`). When the
 * index holds that word, it alone is the clause's match (it was not misspelt); otherwise the variants.
 */
export function typoCorrection(
  parsed: ParsedQuery,
  postings: readonly { term: string }[],
  language?: unknown,
  unheld: ReadonlySet<string> = new Set(),
): TypoCorrection {
  const analyzer: Analyzer = analyzerFor(language);
  const held = heldTerms(postings, unheld);
  const missing = parsed.correctable.filter(({ term }) => !held.has(term));
  const asWritten = new Map<string, string>();
  if (!analyzer.termFollowsWord) {
    for (const { term, word } of missing) asWritten.set(term, WORD_MARK + cutTerm(word));
  }
  const misspelt = missing
    .filter(({ word }) => {
      const length = [...word].length;
      return length >= TYPO_MIN_LENGTH && length <= TYPO_MAX_LENGTH;
    })
    .slice(0, MAX_TYPO_WORDS);
  const variants = new Map<string, string[]>();
  for (const { term, word } of misspelt) {
    const keys = typoBases(analyzer, word)
      .flatMap(typoVariants)
      .filter((variant) => variant !== word && !analyzer.isStopWord(variant))
      .map((variant) => WORD_MARK + cutTerm(variant));
    variants.set(term, [...new Set(keys)]);
  }
  const keys = [...new Set([...asWritten.values(), ...[...variants.values()].flat()])].sort();
  return {
    keys,
    apply(fetched) {
      if (keys.length === 0) return parsed;
      const found = new Set<string>();
      for (const posting of fetched) found.add(posting.term);
      const clauses = parsed.clauses.map((clause): QueryClause => {
        if (clause.kind !== 'term' || clause.stop) return clause;
        const written = asWritten.get(clause.term);
        const candidates =
          written !== undefined && found.has(written)
            ? [written]
            : variants.get(clause.term)?.filter((key) => found.has(key));
        if (!candidates || candidates.length === 0) return clause;
        const word = missing.find((m) => m.term === clause.term)!.word;
        return { kind: 'fuzzy', word, keys: candidates };
      });
      return { ...parsed, clauses };
    },
  };
}
