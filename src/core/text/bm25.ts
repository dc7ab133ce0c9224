import { bestFirstByScore } from '../best-first.js';
import type { DocPostingList } from '../store-contract.js';
import { bestExpansionWeights, otherFormsScale, phraseWeights } from './clause-weights.js';
import type { ParsedQuery, QueryClause } from './query.js';
import { type CorpusStats, type Posting, TermIndex } from './term-index.js';
import { WORD_MARK } from './tokenize.js';

/** `K`: the document's id, or the store's document number (`scoreDocumentNumbers`). */
export interface Candidate<K extends string | number = string> {
  id: K;
  score: number;
  /** With `explain`: each positive clause's share of `score`, in clause order (see `clauseLabel`). */
  parts?: Array<[string, number]>;
  /** The caller must check phrase adjacency on the text: keep it only if it holds every phrase and no excluded phrase. */
  needsPhraseCheck: boolean;
}

/**
 * A stop word beside content words weighs a quarter of its BM25: enough to order memories a content word
 * matched equally, too little to outrank one that matches more content (docs/search.md, bench/quality.mjs).
 */
const STOP_WEIGHT = 0.25;

/** Best first: score descending, then id descending. */
export function compareCandidates(
  a: Pick<Candidate, 'id' | 'score'>,
  b: Pick<Candidate, 'id' | 'score'>,
): number {
  if (a.score !== b.score) return b.score - a.score;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Scores documents with BM25 (k1 = 1.2, b = 0.3, idf = ln(1 + (N - n + 0.5) / (n + 0.5))), from postings
 * fetched for parsed.terms and for parsed.prefixes (a prefix posting carries the expanded term in `term`),
 * and for the keys of fuzzy clauses (see typos.ts).
 *
 * A document matches when it matches at least one positive clause, holds every term of every phrase clause
 * and holds no excluded term. Phrase adjacency is left to the caller, which has the text: every result is
 * flagged `needsPhraseCheck` when the query has phrase clauses, and so is any document holding all terms of
 * an excluded phrase.
 *
 * Score = sum over positive clauses of: term → its BM25; prefix → the best BM25 among the document's
 * expansions; fuzzy → the best BM25 among its keys; phrase → the sum of its terms' BM25 in order; a stop
 * word beside content words → a quarter of its BM25, for documents another clause matched. The sum is then
 * multiplied by the share of the query's positive clauses (all but those stop words) that the document
 * matches: the coordination factor of Lucene's classic similarity, so memories matching more of the query's
 * words come first (docs/search.md). Each document accumulates in clause order, never
 * in posting order, so any store, returning postings in any order, gets bit-identical scores.
 * Sorted by score descending, then id descending.
 */
export function rankDocuments(
  parsed: ParsedQuery,
  postings: readonly Posting[],
  stats: CorpusStats,
  options: ScoreOptions = {},
): Candidate[] {
  return scoreDocuments(parsed, postings, stats, options).sort(compareCandidates);
}

export interface ScoreOptions {
  /** `any` (default): a document needs one positive clause; `all`: every one. */
  match?: 'any' | 'all';
  /** Record each clause's share of the score in `Candidate.parts`. */
  explain?: boolean;
}

/** How explain names a clause: the stemmed term, `prefix*`, or the quoted phrase of stemmed terms. */
export function clauseLabel(clause: QueryClause): string {
  if (clause.kind === 'term') return clause.term;
  if (clause.kind === 'prefix') return `${clause.prefix.slice(WORD_MARK.length)}*`;
  if (clause.kind === 'fuzzy') return `${clause.word}~`;
  if (clause.kind === 'forms') return clause.terms.join('|');
  return `"${clause.terms.join(' ')}"`;
}

/** The matching documents with their scores, in no particular order (see `rankDocuments`). */
export function scoreDocuments(
  parsed: ParsedQuery,
  postings: readonly Posting[],
  stats: CorpusStats,
  options: ScoreOptions = {},
): Candidate[] {
  return scoreIndex(parsed, TermIndex.ofPostings(postings, stats), options);
}

/**
 * `scoreDocuments` over postings keyed by the store's document numbers: the same scores, each candidate
 * named by its number (`id`), for the caller to turn into ids only for what it returns.
 */
export function scoreDocumentNumbers(
  parsed: ParsedQuery,
  lists: readonly DocPostingList[],
  stats: CorpusStats,
  options: ScoreOptions = {},
): Candidate<number>[] {
  return scoreIndex(parsed, TermIndex.ofLists(lists, stats), options);
}

/**
 * The candidates of `scoreDocumentNumbers` best first by score (equal scores in no set order: the caller
 * orders them by id once it has named them), each made only when it is taken: a search that wants 10
 * of 30,000 matching documents makes 10 candidates, not 30,000.
 */
export function* rankDocumentNumbers(
  parsed: ParsedQuery,
  lists: readonly DocPostingList[],
  stats: CorpusStats,
  options: ScoreOptions = {},
): Generator<Candidate<number>> {
  const scored = scoreAll(parsed, TermIndex.ofLists(lists, stats), options);
  for (const doc of bestFirstByScore(scored.docs, scored.scores)) yield scored.candidate(doc);
}

function scoreIndex<K extends string | number>(
  parsed: ParsedQuery,
  index: TermIndex<K>,
  options: ScoreOptions,
): Candidate<K>[] {
  const scored = scoreAll(parsed, index, options);
  return Array.from(scored.docs, (doc) => scored.candidate(doc));
}

/**
 * What scoring leaves: the candidates' dense numbers and final scores, and how to make the candidate of
 * one, so that a caller taking the best few makes objects (and explanations) only for those.
 */
interface ScoredIndex<K extends string | number> {
  /** Dense numbers of the matching documents, ascending. */
  docs: Int32Array;
  /** Final score by dense number; only those of `docs` are meaningful. */
  scores: Float64Array;
  candidate(doc: number): Candidate<K>;
}

function scoreAll<K extends string | number>(
  parsed: ParsedQuery,
  index: TermIndex<K>,
  options: ScoreOptions,
): ScoredIndex<K> {
  const docCount = index.ids.length;
  const scores = new Float64Array(docCount);
  const matched = new Uint8Array(docCount);
  const phrasesHeld = new Uint32Array(docCount);
  let phraseClauses = 0;
  const clausesHeld = new Uint32Array(docCount);
  const explained: Float64Array[] = [];
  let shares: Float64Array | undefined;
  const credit = (doc: number, weight: number): void => {
    scores[doc]! += weight;
    matched[doc] = 1;
    clausesHeld[doc]!++;
    if (shares) shares[doc] = weight;
  };

  for (const clause of parsed.clauses) {
    if (options.explain) {
      shares = new Float64Array(docCount);
      explained.push(shares);
    }
    if (clause.kind === 'term') {
      const entry = index.get(clause.term);
      if (entry === undefined) continue;
      if (clause.stop) {
        // A stop word beside content words only refines: it adds a fraction of its weight to documents a
        // content word matched, and matches nothing by itself.
        for (let at = 0; at < entry.docs.length; at++) {
          const doc = entry.docs[at]!;
          const weight = STOP_WEIGHT * index.weight(entry, at);
          scores[doc]! += weight;
          if (shares) shares[doc] = weight;
        }
        continue;
      }
      for (let at = 0; at < entry.docs.length; at++) credit(entry.docs[at]!, index.weight(entry, at));
    } else {
      const isPhrase = clause.kind === 'phrase';
      if (isPhrase) phraseClauses++;
      const { docs, weights } = isPhrase
        ? phraseWeights(index, clause.terms)
        : bestExpansionWeights(
            index,
            clause.kind === 'prefix'
              ? index.expansions(clause.prefix)
              : index.all(clause.kind === 'fuzzy' ? clause.keys : clause.terms),
            clause.kind === 'forms' ? otherFormsScale(index.get(clause.terms[0]!)) : undefined,
          );
      for (const doc of docs) {
        credit(doc, weights[doc]!);
        if (isPhrase) phrasesHeld[doc]!++;
      }
    }
  }

  const rejected = new Uint8Array(docCount);
  for (const term of parsed.excluded) {
    for (const doc of index.get(term)?.docs ?? []) rejected[doc] = 1;
  }
  for (const prefix of parsed.excludedPrefixes) {
    for (const entry of index.expansions(prefix)) for (const doc of entry.docs) rejected[doc] = 1;
  }
  const mayHoldExcludedPhrase = new Uint8Array(docCount);
  for (const phrase of parsed.excludedPhrases) {
    for (const doc of phraseWeights(index, phrase).docs) mayHoldExcludedPhrase[doc] = 1;
  }

  // Clauses that can match by themselves: every clause but a stop word beside content words.
  const positive = parsed.clauses.filter((c) => c.kind !== 'term' || !c.stop).length;
  const required = options.match === 'all' ? positive : 1;
  const labels = options.explain ? parsed.clauses.map(clauseLabel) : [];
  const docs = new Int32Array(docCount);
  let count = 0;
  for (let doc = 0; doc < docCount; doc++) {
    if (matched[doc] === 0 || rejected[doc] === 1 || phrasesHeld[doc] !== phraseClauses) continue;
    if (clausesHeld[doc]! < required) continue;
    const coordination = positive > 1 ? clausesHeld[doc]! / positive : 1;
    scores[doc] = scores[doc]! * coordination;
    docs[count++] = doc;
  }
  const candidate = (doc: number): Candidate<K> => {
    const made: Candidate<K> = {
      id: index.ids[doc]!,
      score: scores[doc]!,
      needsPhraseCheck: phraseClauses > 0 || mayHoldExcludedPhrase[doc] === 1,
    };
    if (options.explain) {
      const coordination = positive > 1 ? clausesHeld[doc]! / positive : 1;
      made.parts = [];
      explained.forEach((weights, clause) => {
        if (weights[doc] !== 0) made.parts!.push([labels[clause]!, weights[doc]! * coordination]);
      });
    }
    return made;
  };
  return { docs: docs.subarray(0, count), scores, candidate };
}
