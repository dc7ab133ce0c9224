import { validationError } from '../errors.js';
import { type Analyzer, analyzerFor } from './analyzer.js';
import { cutTerm, isLoneCjk, segmentedRunEnd, WORD_MARK } from './words.js';

export type QueryClause =
  | { kind: 'term'; term: string; stop?: true }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'phrase'; terms: string[] }
  /** A misspelt word (see typos.ts): the word keys one edit away from it that the index holds. */
  | { kind: 'fuzzy'; word: string; keys: string[] }
  /** A word with irregular forms (analyzer `otherForms`): its own term first, then its other forms' terms. */
  | { kind: 'forms'; word: string; terms: string[] };

export interface ParsedQuery {
  /**
   * Positive clauses in query order. A term clause is a stemmed term; a prefix clause (`auth*`) is the
   * index key prefix of words as written (WORD_MARK + the normalised, NOT stemmed, prefix); a phrase clause
   * (`"exact phrase"`) is a list of stemmed terms. Empty when the text holds nothing searchable.
   */
  clauses: QueryClause[];
  /** Stemmed terms whose documents are excluded (`-word`). */
  excluded: string[];
  /** Phrases whose documents are excluded (`-"a phrase"`, or `-e-mail`, a word that splits in several terms). */
  excludedPhrases: string[][];
  /**
   * Word-key prefixes whose documents are excluded: `-猫`, one CJK character, leaves out every memory a
   * search for `猫` finds (a prefix of words as written, see `addPositive`), not only those holding it alone.
   */
  excludedPrefixes: string[];
  /** Every exact term whose postings the caller must fetch (deduplicated, sorted). */
  terms: string[];
  /** Every prefix whose expansions the caller must fetch (deduplicated, sorted). */
  prefixes: string[];
  /**
   * The content words of plain term clauses, as written, with their terms: those `typoCorrection` may
   * look up again one edit away when the index holds none of them.
   */
  correctable: Array<{ term: string; word: string }>;
  /**
   * Prefixes typed as a run of Thai, Lao, Khmer or Myanmar that the dictionary splits (`คอมพิว*`, where
   * the unfinished word reads as คอม + พิว): each is a prefix clause of the whole run first, and
   * `runPrefixSplits` moves where the typed word starts when the index holds no word beginning so.
   */
  runPrefixes: RunPrefix[];
}

/** A query term with the unstemmed word it came from (for stop-word checks). */
export interface QueryWord {
  word: string;
  term: string;
}

/** A prefix over a segmented run: its clause's key prefix (the whole run) and the run's words, in order. */
export interface RunPrefix {
  prefix: string;
  words: QueryWord[];
}

export interface ParseOptions {
  /**
   * Keep quoted phrases as phrases even inside a question. By default a query containing `?` is read as
   * natural language: its quoted parts (a title, a name) count as ordinary words, not required phrases.
   */
  strictPhrases?: boolean;
  /** The namespace's language (LANGUAGES; default English): its stemmer and stop words. */
  language?: unknown;
}

/**
 * One chunk of a query: an optional `-`, then a quoted phrase with its closing quote, or a
 * whitespace-delimited word. A quote that is never closed is punctuation like any other, so a stray
 * `"` never turns the rest of a question into a phrase. A `-` before a digit is a minus sign, not an
 * exclusion: "Was it -5 degrees?" asks for the memory saying "-5 degrees". Other numerals (`⑤`, `²`) are
 * digits too, as the index reads them (NFKD): `-⑤` reads as `-5` does.
 */
export const CHUNK = /(-(?![\p{Nd}\p{No}])|)(?:"([^"]*)"|(\S+))/gu;

function toWords(analyzer: Analyzer, text: string): QueryWord[] {
  const words: QueryWord[] = [];
  analyzer.words(text, (word, term) => words.push({ word, term }));
  return words;
}

class QueryBuilder {
  constructor(readonly analyzer: Analyzer) {}

  private readonly clauses: QueryClause[] = [];
  /** Clauses made of one stop word: refiners (see `stop` in bm25.ts) when the query has content words. */
  private readonly stopClauses = new Set<QueryClause>();
  /** Stop clauses made of a question word or an auxiliary: left out when the query has content words. */
  private readonly questionClauses = new Set<QueryClause>();
  private readonly clauseKeys = new Map<string, QueryClause>();
  private readonly excluded = new Set<string>();
  private readonly excludedPhrases = new Map<string, string[]>();
  private readonly excludedPrefixes = new Set<string>();
  private readonly correctable: Array<{ term: string; word: string }> = [];
  private readonly runPrefixes: RunPrefix[] = [];

  /**
   * `named`: the words were written capitalized inside a sentence ("trip in May", "ask Will"), so a function
   * word among them is a name (a month, a person) and counts as a content word.
   */
  addPositive(words: readonly QueryWord[], asPhrase: boolean, named = false): void {
    if (asPhrase && words.length > 1) {
      const terms = words.map((w) => w.term);
      this.addClause(`phrase:${terms.join(' ')}`, { kind: 'phrase', terms });
      return;
    }
    for (const [i, { word, term }] of words.entries()) {
      // One CJK character is no word of its own: it is found in the pairs it begins and at a run's end
      // (cjkRunEnd), i.e. as a prefix of word keys.
      if (isLoneCjk(word)) {
        this.addPrefix(word);
        continue;
      }
      // Only the capitalized word itself: the `s` of "Priya's" stays a function word.
      const stop = !(named && i === 0) && this.analyzer.isStopWord(word);
      // A word's irregular forms ("went" for "go", "children" for "child") are alternatives of its clause,
      // scored like a typo's variants.
      const others = stop ? undefined : this.analyzer.otherForms?.(word);
      const made: QueryClause = others
        ? { kind: 'forms', word, terms: [term, ...others] }
        : { kind: 'term', term };
      const key = `term:${term}`;
      let clause = this.addClause(key, made);
      // A content word whose stem an earlier stop word has ("doe" after "does", "beings" after "being"):
      // the clause is the content word's, or the query would lose it (a question word's clause is left out).
      if (!clause && !stop && this.stopClauses.has(this.clauseKeys.get(key)!)) {
        clause = this.replaceClause(key, made);
      }
      if (!clause) continue;
      if (stop) {
        this.stopClauses.add(clause);
        if (this.analyzer.isQuestionWord?.(word)) this.questionClauses.add(clause);
      } else if (!others) this.correctable.push({ term, word });
    }
  }

  addPrefix(prefix: string): QueryClause | undefined {
    return this.addClause(`prefix:${prefix}`, { kind: 'prefix', prefix: WORD_MARK + prefix });
  }

  /** A prefix typed as a segmented run of several words: the whole run's, until runPrefixSplits moves it. */
  addRunPrefix(words: QueryWord[]): void {
    const prefix = cutTerm(words.map((w) => w.word).join(''));
    if (this.addPrefix(prefix)) this.runPrefixes.push({ prefix: WORD_MARK + prefix, words });
  }

  addNegative(words: readonly QueryWord[]): void {
    if (words.length === 1 && isLoneCjk(words[0]!.word))
      this.excludedPrefixes.add(WORD_MARK + words[0]!.word);
    else if (words.length === 1) this.excluded.add(words[0]!.term);
    else if (words.length > 1)
      this.excludedPhrases.set(
        words.map((w) => w.term).join(' '),
        words.map((w) => w.term),
      );
  }

  build(query: string): ParsedQuery {
    if (this.clauses.length === 0 && query.trim() === '') {
      throw validationError('query', 'at least one search term', JSON.stringify(query));
    }
    // Exclusions alone (`-foo`, typed on the way to `-foo bar`) are parsed, not refused: the text finds
    // nothing to rank by (like `?!`), and a hybrid search leaves them out of its vector hits.
    // Function words only decide the ranking when there is nothing else: "what did she say" still finds text.
    const hasContent = this.clauses.some((c) => !this.stopClauses.has(c));
    // Beside content words, question words ("when", "did") weigh nothing and other stop words refine.
    const clauses = hasContent
      ? this.clauses
          .filter((c) => !this.questionClauses.has(c))
          .map((c) => (this.stopClauses.has(c) ? { ...c, stop: true as const } : c))
      : this.clauses;
    const terms = new Set(this.excluded);
    const prefixes = new Set<string>(this.excludedPrefixes);
    for (const clause of clauses) {
      if (clause.kind === 'term') terms.add(clause.term);
      else if (clause.kind === 'prefix') prefixes.add(clause.prefix);
      else if (clause.kind === 'phrase' || clause.kind === 'forms')
        for (const term of clause.terms) terms.add(term);
    }
    for (const phrase of this.excludedPhrases.values()) for (const term of phrase) terms.add(term);
    return {
      clauses,
      excluded: [...this.excluded],
      excludedPhrases: [...this.excludedPhrases.values()],
      excludedPrefixes: [...this.excludedPrefixes],
      terms: [...terms].sort(),
      prefixes: [...prefixes].sort(),
      correctable: this.correctable,
      runPrefixes: this.runPrefixes,
    };
  }

  private addClause(key: string, clause: QueryClause): QueryClause | undefined {
    if (this.clauseKeys.has(key)) return undefined;
    this.clauseKeys.set(key, clause);
    this.clauses.push(clause);
    return clause;
  }

  /** Puts `clause` in the place of the clause made for `key` before, which stops being a stop clause. */
  private replaceClause(key: string, clause: QueryClause): QueryClause {
    const before = this.clauseKeys.get(key)!;
    this.stopClauses.delete(before);
    this.questionClauses.delete(before);
    this.clauses[this.clauses.indexOf(before)] = clause;
    this.clauseKeys.set(key, clause);
    return clause;
  }
}

// A loop rather than /\*+$/, which backtracks quadratically on a long run of stars followed by a letter.
function withoutTrailingStars(word: string): string {
  let end = word.length;
  while (end > 0 && word[end - 1] === '*') end--;
  return word.slice(0, end);
}

/** A letter, mark or digit: what words are made of in every analyzer (punctuation is never a word). */
const WORD_CHARACTER = /[\p{L}\p{M}\p{N}]/u;

/**
 * `word` without the punctuation after its last word character or star, so that a prefix typed at the
 * end of a sentence or in brackets (`morni*?`, `coffee*,`, `(auth*)`) is still a prefix. Scans code
 * points from the end (a letter outside the BMP is two units), without a regex that could backtrack.
 */
function withoutTrailingPunctuation(word: string): string {
  let end = word.length;
  while (end > 0) {
    const last = word.codePointAt(end - 1)!;
    const before = end >= 2 ? word.codePointAt(end - 2)! : 0;
    // A low surrogate ends an astral character whose code point starts one unit earlier.
    const width = last >= 0xdc00 && last <= 0xdfff && before > 0xffff ? 2 : 1;
    const character = word.slice(end - width, end);
    if (character === '*' || WORD_CHARACTER.test(character)) break;
    end -= width;
  }
  return word.slice(0, end);
}

/**
 * The words ending `words` that the dictionary cut a run of the SEGMENTED scripts into, when there are
 * several: those whose concatenation is `run`. Undefined otherwise (one word, or a run the segmenter left
 * characters of out).
 */
function runWords(words: readonly QueryWord[], run: string | undefined): QueryWord[] | undefined {
  if (run === undefined) return undefined;
  let joined = '';
  for (let i = words.length - 1; i >= 0 && joined.length < run.length; i--) {
    joined = words[i]!.word + joined;
    if (joined === run) return i < words.length - 1 ? words.slice(i) : undefined;
  }
  return undefined;
}

/**
 * `auth*` → the words before the last are plain terms (`e-mail*` → `e`, prefix `mail`). A prefix ending
 * in a run of Thai, Lao, Khmer or Myanmar that splits into several words is the whole run's prefix
 * instead, with its words kept for runPrefixSplits.
 */
function addPrefixWord(builder: QueryBuilder, word: string): void {
  const words = toWords(builder.analyzer, word);
  const run = runWords(words, segmentedRunEnd(word));
  if (run !== undefined) {
    builder.addPositive(words.slice(0, words.length - run.length), false);
    builder.addRunPrefix(run);
    return;
  }
  const last = words.pop();
  if (last === undefined) return; // `*` alone
  builder.addPositive(words, false);
  // Indexed words are cut to MAX_TERM_LENGTH, so a longer prefix could never match.
  builder.addPrefix(cutTerm(last.word));
}

/** A chunk ending a sentence: the next word's capital says nothing of it. */
const SENTENCE_END = /[.!?:;…]["'”’)\]]*$/u;
/** A capital at a chunk's start; after an opening quote or bracket it begins a title or a quotation. */
const CAPITAL = /^\p{Lu}/u;
/** The English pronoun is written capitalized wherever it stands. */
const FIRST_PERSON = /^I(?:['’](?:m|ve|d|ll))?\W*$/u;

/**
 * An English function word written capitalized inside a sentence is a name: "May" (the month), "Will" (a
 * person), "The Who". Other languages capitalize more (German nouns, the formal "Sie"): English only.
 */
function isName(analyzer: Analyzer, chunk: string): boolean {
  return analyzer.language === 'english' && CAPITAL.test(chunk) && !FIRST_PERSON.test(chunk);
}

/** A longer query is cut to its first MAX_QUERY_LENGTH characters (see `cutQuery`). */
export const MAX_QUERY_LENGTH = 1024;

const WHITESPACE = /\s/;
const NOT_WHITESPACE = /\S/;

/**
 * `query` cut to its first MAX_QUERY_LENGTH characters (UTF-16 units) counted from its first one that is
 * not whitespace, at the last whitespace before the cut when it would fall inside a word, so no word is
 * searched half; never between the two halves of a surrogate pair. Whitespace before the first word is
 * dropped from a longer query: a message pasted after blank lines would otherwise spend the budget on
 * them and search nothing. A query that is one word longer than the limit is cut inside it. A question
 * stays one: when the `?` fell past the cut, ` ?` ends the cut text (its quotes are then read as words).
 * Agents pass whole messages as queries: the beginning is searched rather than the query refused, and
 * what a search costs stays bounded. The façade cuts before the store and the embedder see the query,
 * and parsing cuts again (a no-op then), so every path reads the same text.
 */
export function cutQuery(query: string): string {
  if (query.length <= MAX_QUERY_LENGTH) return query;
  const start = query.search(NOT_WHITESPACE);
  // Whitespace alone: a blank query, refused as one by whoever reads it.
  if (start === -1) return '';
  const text = start === 0 ? query : query.slice(start);
  if (text.length <= MAX_QUERY_LENGTH) return text;
  const head = cutAt(text, MAX_QUERY_LENGTH);
  if (head.includes('?') || !text.includes('?')) return head;
  return `${cutAt(text, MAX_QUERY_LENGTH - 2)} ?`;
}

function cutAt(text: string, limit: number): string {
  let end = limit;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  if (WHITESPACE.test(text[end]!)) return text.slice(0, end);
  let space = end - 1;
  while (space > 0 && !WHITESPACE.test(text[space]!)) space--;
  return text.slice(0, space > 0 ? space : end);
}

/**
 * Parses the search grammar: whitespace-separated words, `"quoted phrases"`, `prefix*`, and a leading `-`
 * to exclude a word or phrase. Any typed text parses: punctuation is ignored, an unclosed quote is a plain
 * character, a `-` alone excludes nothing. Throws VALIDATION only for an empty (or blank) query; text
 * without words ("?!") and exclusions alone (`-foo`) have no clauses and find nothing. Only the first
 * MAX_QUERY_LENGTH characters are read (`cutQuery`).
 * An English verb's irregular forms, and an irregular noun's other number, become alternatives of its
 * clause once `loadLanguage` has loaded them, as every search does first.
 */
export function parseQuery(query: string, options: ParseOptions = {}): ParsedQuery {
  const analyzer = analyzerFor(options.language);
  const words = (text: string) => toWords(analyzer, text);
  const builder = new QueryBuilder(analyzer);
  // A `?` past the cut still makes the text a question: it is the end of a long one.
  const text = cutQuery(query);
  const phrases = options.strictPhrases === true || !text.includes('?');
  let sentenceStart = true;
  for (const [chunk, minus, phrase, word = ''] of text.matchAll(CHUNK)) {
    const negated = minus === '-';
    // The chunk's words as the index would read them (none in an emoji, `--`, an empty `" "`).
    const found = words(phrase ?? word);
    if (phrase !== undefined) {
      if (negated) builder.addNegative(found);
      else builder.addPositive(found, phrases);
    } else if (negated) {
      // There is no excluded-prefix clause: `-auth*` excludes the word itself.
      builder.addNegative(found);
    } else {
      const bare = withoutTrailingPunctuation(word);
      if (bare.endsWith('*')) addPrefixWord(builder, withoutTrailingStars(bare));
      else builder.addPositive(found, false, !sentenceStart && isName(analyzer, word));
    }
    // A chunk without a word leaves the next word where it was: the first word of a query is at its
    // start whatever came before it.
    sentenceStart = SENTENCE_END.test(chunk) || (sentenceStart && found.length === 0);
  }
  return builder.build(query);
}
