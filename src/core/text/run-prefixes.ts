import { type Analyzer, analyzerFor } from './analyzer.js';
import type { ParsedQuery, QueryClause, QueryWord, RunPrefix } from './query.js';
import { cutTerm, WORD_MARK } from './words.js';

/** One reading of a run prefix: its first `words` typed whole, the rest of the run the typed word's beginning. */
export interface RunReading {
  words: QueryWord[];
  prefix: string;
}

/** What moving a query's run prefixes reads, and the query it makes of what was read. */
export interface RunPrefixSplits<P extends { term: string }> {
  /** Terms and word-key prefixes to fetch (those the query did not read already; both may be empty). */
  terms: string[];
  prefixes: string[];
  /** The query to score once those postings are in, and the fetched postings it uses. */
  apply(fetched: readonly P[]): { query: ParsedQuery; used: P[] };
}

const expands = (postings: readonly { term: string }[], prefix: string) =>
  postings.some((posting) => posting.term.startsWith(prefix));

/**
 * Every reading of a run prefix, in the order tried: the whole run as the prefix (no word whole), then one
 * more of its words whole at a time, down to every word but the last.
 */
export function runReadings(run: RunPrefix): RunReading[] {
  return run.words.map((_, k) => ({
    words: run.words.slice(0, k),
    prefix:
      WORD_MARK +
      cutTerm(
        run.words
          .slice(k)
          .map((w) => w.word)
          .join(''),
      ),
  }));
}

/**
 * A prefix typed in Thai, Lao, Khmer or Myanmar, whose words are not spaced, is a run of which nobody
 * knows where its last, unfinished word starts: the dictionary cuts "คอมพิว" (of คอมพิวเตอร์) into คอม +
 * พิว, and "โรงพยา" (of โรงพยาบาล, which the index holds as โรง + พยาบาล) into โรง + พ + ยา. The query first
 * reads the whole run as the prefix. When no word of the index begins so (none of `found`), the run's
 * beginning words become terms, one more at a time, and the rest the prefix: the first reading whose
 * prefix the index holds a word for is kept ("โรง" and `พยา*`), else the last (every word but the last
 * typed whole, as other text). The index decides, so every store reads the same. Undefined when every
 * run prefix found a word as typed (or the query has none): the query stands.
 */
export function runPrefixSplits<P extends { term: string }>(
  parsed: ParsedQuery,
  found: readonly P[],
  language?: unknown,
): RunPrefixSplits<P> | undefined {
  const open = parsed.runPrefixes.filter((run) => !expands(found, run.prefix));
  if (open.length === 0) return undefined;
  const splits = new Map(open.map((run) => [run, runReadings(run).slice(1)] as const));
  const terms = new Set<string>();
  const prefixes = new Set<string>();
  for (const readings of splits.values()) {
    for (const { words, prefix } of readings) {
      // What the query read already is not read again.
      const term = words.at(-1)!.term;
      if (!parsed.terms.includes(term)) terms.add(term);
      if (!parsed.prefixes.includes(prefix)) prefixes.add(prefix);
    }
  }
  return {
    terms: [...terms].sort(),
    prefixes: [...prefixes].sort(),
    apply(fetched) {
      const chosen = new Map<string, RunReading>();
      for (const [run, readings] of splits) {
        const held = (r: RunReading) => expands(fetched, r.prefix) || expands(found, r.prefix);
        chosen.set(run.prefix, readings.find(held) ?? readings.at(-1)!);
      }
      const query = splitQuery(parsed, chosen, analyzerFor(language));
      const wanted = new Set(query.terms);
      const used = fetched.filter(
        (p) => wanted.has(p.term) || query.prefixes.some((prefix) => p.term.startsWith(prefix)),
      );
      return { query, used };
    },
  };
}

/** `parsed` with each chosen run prefix's clause replaced by its reading's term clauses and prefix clause. */
function splitQuery(parsed: ParsedQuery, chosen: Map<string, RunReading>, analyzer: Analyzer): ParsedQuery {
  const has = new Set<string>();
  for (const clause of parsed.clauses) {
    if (clause.kind === 'term') has.add(`term:${clause.term}`);
    else if (clause.kind === 'prefix' && !chosen.has(clause.prefix)) has.add(`prefix:${clause.prefix}`);
  }
  const clauses: QueryClause[] = [];
  const terms = new Set(parsed.terms);
  const prefixes = new Set(parsed.prefixes);
  const add = (key: string, clause: QueryClause) => {
    if (has.has(key)) return;
    has.add(key);
    clauses.push(clause);
  };
  for (const clause of parsed.clauses) {
    const split = clause.kind === 'prefix' ? chosen.get(clause.prefix) : undefined;
    if (split === undefined || clause.kind !== 'prefix') {
      clauses.push(clause);
      continue;
    }
    prefixes.delete(clause.prefix);
    // The run's prefix stays a content clause, so a stop word among its words refines and a question
    // word weighs nothing, as parseQuery treats them beside content words.
    for (const { word, term } of split.words) {
      if (analyzer.isQuestionWord?.(word)) continue;
      terms.add(term);
      add(
        `term:${term}`,
        analyzer.isStopWord(word) ? { kind: 'term', term, stop: true } : { kind: 'term', term },
      );
    }
    prefixes.add(split.prefix);
    add(`prefix:${split.prefix}`, { kind: 'prefix', prefix: split.prefix });
  }
  return {
    ...parsed,
    clauses,
    terms: [...terms].sort(),
    prefixes: [...prefixes].sort(),
    runPrefixes: parsed.runPrefixes.filter((run) => !chosen.has(run.prefix)),
  };
}
