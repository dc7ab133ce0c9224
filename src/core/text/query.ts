import { validationError } from '../errors.js';
import { MAX_TERM_LENGTH, splitWords, tokenize } from './tokenize.js';

export type QueryClause =
  | { kind: 'term'; term: string }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'phrase'; terms: string[] };

export interface ParsedQuery {
  /**
   * Positive clauses in query order. A term clause is a stemmed term; a prefix clause (`auth*`) is a
   * normalised, NOT stemmed, prefix; a phrase clause (`"exact phrase"`) is a list of stemmed terms.
   */
  clauses: QueryClause[];
  /** Stemmed terms whose documents are excluded (`-word`). */
  excluded: string[];
  /** Phrases whose documents are excluded (`-"a phrase"`, or `-e-mail`, a word that splits in several terms). */
  excludedPhrases: string[][];
  /** Every exact term whose postings the caller must fetch (deduplicated, sorted). */
  terms: string[];
  /** Every prefix whose expansions the caller must fetch (deduplicated, sorted). */
  prefixes: string[];
}

/**
 * One chunk of a query: an optional `-`, then a quoted phrase (running to the end when the quote is never
 * closed) or a whitespace-delimited word. A quote only opens a phrase at the start of a chunk; inside a word
 * it is punctuation like any other.
 */
const CHUNK = /(-?)(?:"([^"]*)"?|(\S+))/g;

class QueryBuilder {
  private readonly clauses: QueryClause[] = [];
  private readonly clauseKeys = new Set<string>();
  private readonly excluded = new Set<string>();
  private readonly excludedPhrases = new Map<string, string[]>();

  addPositive(terms: readonly string[], asPhrase: boolean): void {
    if (asPhrase && terms.length > 1) {
      this.addClause(`phrase:${terms.join(' ')}`, { kind: 'phrase', terms: [...terms] });
      return;
    }
    for (const term of terms) this.addClause(`term:${term}`, { kind: 'term', term });
  }

  addPrefix(prefix: string): void {
    this.addClause(`prefix:${prefix}`, { kind: 'prefix', prefix });
  }

  addNegative(terms: readonly string[]): void {
    if (terms.length === 1) this.excluded.add(terms[0]!);
    else if (terms.length > 1) this.excludedPhrases.set(terms.join(' '), [...terms]);
  }

  build(query: string): ParsedQuery {
    if (this.clauses.length === 0) {
      throw validationError('query', 'at least one search term', JSON.stringify(query));
    }
    const terms = new Set(this.excluded);
    const prefixes = new Set<string>();
    for (const clause of this.clauses) {
      if (clause.kind === 'term') terms.add(clause.term);
      else if (clause.kind === 'prefix') prefixes.add(clause.prefix);
      else for (const term of clause.terms) terms.add(term);
    }
    for (const phrase of this.excludedPhrases.values()) for (const term of phrase) terms.add(term);
    return {
      clauses: this.clauses,
      excluded: [...this.excluded],
      excludedPhrases: [...this.excludedPhrases.values()],
      terms: [...terms].sort(),
      prefixes: [...prefixes].sort(),
    };
  }

  private addClause(key: string, clause: QueryClause): void {
    if (this.clauseKeys.has(key)) return;
    this.clauseKeys.add(key);
    this.clauses.push(clause);
  }
}

// A loop rather than /\*+$/, which backtracks quadratically on a long run of stars followed by a letter.
function withoutTrailingStars(word: string): string {
  let end = word.length;
  while (end > 0 && word[end - 1] === '*') end--;
  return word.slice(0, end);
}

/** `auth*` → the words before the last are plain terms (`e-mail*` → `e`, prefix `mail`). */
function addPrefixWord(builder: QueryBuilder, word: string): void {
  const words = splitWords(word);
  const last = words.pop();
  if (last === undefined) return; // `*` alone
  builder.addPositive(tokenize(words.join(' ')), false);
  // Indexed terms are cut to MAX_TERM_LENGTH, so a longer prefix could never match.
  builder.addPrefix(last.slice(0, MAX_TERM_LENGTH));
}

/**
 * Parses the search grammar: whitespace-separated words, `"quoted phrases"`, `prefix*`, and a leading `-`
 * to exclude a word or phrase. Throws VALIDATION when nothing positive is left to search for.
 */
export function parseQuery(query: string): ParsedQuery {
  const builder = new QueryBuilder();
  for (const [, minus, phrase, word] of query.matchAll(CHUNK)) {
    const negated = minus === '-';
    if (phrase !== undefined) {
      if (negated) builder.addNegative(tokenize(phrase));
      else builder.addPositive(tokenize(phrase), true);
    } else if (word !== undefined) {
      // There is no excluded-prefix clause: `-auth*` excludes the word itself.
      if (negated) builder.addNegative(tokenize(word));
      else if (word.endsWith('*')) addPrefixWord(builder, withoutTrailingStars(word));
      else builder.addPositive(tokenize(word), false);
    }
  }
  return builder.build(query);
}
