import { type Analyzer, type Language, STEM_CACHE_LIMIT, stopSet } from '../analyzer.js';
import { cutTerm, normalizeWord, splitWords } from '../words.js';

// Loaded only with a language other than English (analyzer.ts imports the languages on demand).

/** A word as written in NFKC, marks kept: what the Snowball stemmers' suffix rules are written for. */
const RAW_WORD = /[\p{L}\p{M}\p{N}]+/gu;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range is the point
const ASCII = /^[\x00-\x7f]*$/;

interface Split {
  words: string[];
  terms: string[];
}

/**
 * An analyzer over a Snowball stemmer and stop list (@orama/stemmers, @orama/stopwords). Unlike English,
 * a word is stemmed BEFORE diacritics are folded ("información" → "inform", where "informacion" would
 * keep its suffix), then the stem is folded like every index key. Words as written are the same
 * normalised words English indexes, so prefixes and CJK pairs behave alike in every language.
 */
export function createAnalyzer(
  language: Language,
  stem: (word: string) => string,
  stopWords: readonly string[],
): Analyzer {
  const cache = new Map<string, Split>();
  const stops = stopSet(stopWords);
  const split = (raw: string): Split => {
    let hit = cache.get(raw);
    if (hit === undefined) {
      const words = splitWords(raw);
      // A CJK run splits into character pairs, a compatibility character may split too: stem each piece.
      const terms =
        words.length === 1
          ? [cutTerm(normalizeWord(stem(raw)))]
          : words.map((word) => cutTerm(normalizeWord(stem(word))));
      hit = { words, terms };
      if (cache.size >= STEM_CACHE_LIMIT) cache.clear();
      cache.set(raw, hit);
    }
    return hit;
  };
  return {
    language,
    words(text, visit) {
      let count = 0;
      // NFKC: accents composed, as the stemmers read them, and compatibility characters turned into the
      // letters they stand for (fullwidth "ｆｉｎａｌｅ" as typed with a CJK input method, ligatures such as
      // "ﬁ" copied from a PDF), which the stemmers would otherwise take for other letters: "ﬁnanciación"
      // stemmed to "financiacion", apart from "financiación" ("financi"). The words as written are the
      // same either way (normalizeWord decomposes them). ASCII is already NFKC: skipped for the commonest text.
      const lower = ASCII.test(text) ? text.toLowerCase() : text.normalize('NFKC').toLowerCase();
      for (const raw of lower.match(RAW_WORD) ?? []) {
        const { words, terms } = split(raw);
        for (let at = 0; at < words.length; at++) visit(words[at]!, terms[at]!);
        count += words.length;
      }
      return count;
    },
    isStopWord: (word) => stops.has(word),
  };
}
