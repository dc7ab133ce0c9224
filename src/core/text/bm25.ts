import { bestFirstByScore } from '../best-first.js';
import type { DocPostingList } from '../store-contract.js';
import { DocNumbering } from './doc-numbering.js';
import type { ParsedQuery, QueryClause } from './query.js';
import { WORD_MARK } from './tokenize.js';

/** One document holding one term. `length` is the document's token count. */
export interface Posting {
  term: string;
  id: string;
  tf: number;
  length: number;
}

/** Size of the namespace index: how many documents, and how many tokens in all. */
export interface CorpusStats {
  docs: number;
  tokens: number;
}

/** `K`: the document's id, or the store's document number (`scoreDocumentNumbers`). */
export interface Candidate<K extends string | number = string> {
  id: K;
  score: number;
  /** With `explain`: each positive clause's share of `score`, in clause order (see `clauseLabel`). */
  parts?: Array<[string, number]>;
  /** The caller must check phrase adjacency on the text: keep it only if it holds every phrase and no excluded phrase. */
  needsPhraseCheck: boolean;
}

const K1 = 1.2;
/**
 * Length normalisation. Memories are short (a chat turn, a note): at the textbook 0.75 a few extra words
 * cost a memory much of its score; 0.3 gained MRR on bench/quality.mjs at equal recall (docs/search.md).
 */
const B = 0.3;
/**
 * A stop word beside content words weighs a quarter of its BM25: enough to order memories a content word
 * matched equally, too little to outrank one that matches more content (docs/search.md, bench/quality.mjs).
 */
const STOP_WEIGHT = 0.25;
/**
 * A query word's other irregular forms ("went" for "go", "children" for "child") weigh a quarter of their
 * BM25: they find the past tense or the other number that answers a question, while a memory holding the
 * word asked for still comes first
 * (bench/quality.mjs, docs/search.md).
 */
const FORM_WEIGHT = 0.25;

/** One term's postings, at most one per document, as parallel arrays. */
interface TermPostings {
  idf: number;
  docs: Int32Array;
  tfs: Float64Array;
  lengths: Float64Array;
  /** Postings filled so far, while the index is built. */
  filled: number;
}

/**
 * Stores may return one (term, document) twice, e.g. when a term is both asked for and the expansion of a
 * prefix. Keeping a fixed pick among the copies makes the result independent of posting order even if
 * they disagree.
 */
function outranks(tf: number, length: number, heldTf: number, heldLength: number): boolean {
  return tf > heldTf || (tf === heldTf && length > heldLength);
}

function inverseDocumentFrequency(docs: number, docFrequency: number): number {
  // Stats read apart from the postings can lag behind them; holding N >= n keeps idf positive.
  const total = Math.max(docs, docFrequency);
  return Math.log(1 + (total - docFrequency + 0.5) / (docFrequency + 0.5));
}

/**
 * The fetched postings grouped by term once, with documents renumbered densely so per-document state fits
 * typed arrays. `K` is what the store names documents by: ids, or its document numbers.
 */
class TermIndex<K extends string | number> {
  private readonly terms = new Map<string, TermPostings>();
  private readonly averageLength: number;

  /** `counts`: how many postings each term has, so that its arrays are made once at their size. */
  private constructor(
    stats: CorpusStats,
    counts: ReadonlyMap<string, number>,
    /** The documents' names by dense number. */
    public ids: ArrayLike<K>,
  ) {
    this.averageLength = stats.docs > 0 ? stats.tokens / stats.docs : 0;
    for (const [term, count] of counts) {
      this.terms.set(term, {
        idf: 0,
        docs: new Int32Array(count),
        tfs: new Float64Array(count),
        lengths: new Float64Array(count),
        filled: 0,
      });
    }
  }

  static ofPostings(postings: readonly Posting[], stats: CorpusStats): TermIndex<string> {
    const counts = new Map<string, number>();
    for (const { term } of postings) counts.set(term, (counts.get(term) ?? 0) + 1);
    const ids: string[] = [];
    const index = new TermIndex<string>(stats, counts, ids);
    const docIndex = new Map<string, number>();
    let entry: TermPostings | undefined;
    let last: string | undefined;
    for (const { term, id, tf, length } of postings) {
      let doc = docIndex.get(id);
      if (doc === undefined) {
        doc = ids.length;
        docIndex.set(id, doc);
        ids.push(id);
      }
      // Stores mostly return each term's postings together: skip the lookup while the term stays the same.
      if (term !== last) {
        entry = index.terms.get(term)!;
        last = term;
      }
      const at = entry!.filled++;
      entry!.docs[at] = doc;
      entry!.tfs[at] = tf;
      entry!.lengths[at] = length;
    }
    index.dropDuplicates(stats);
    return index;
  }

  static ofLists(lists: readonly DocPostingList[], stats: CorpusStats): TermIndex<number> {
    const counts = new Map<string, number>();
    let total = 0;
    for (const { term, docs } of lists) {
      counts.set(term, (counts.get(term) ?? 0) + docs.length);
      total += docs.length;
    }
    const numbering = new DocNumbering(total);
    const index = new TermIndex<number>(stats, counts, []);
    for (const { term, docs, tfs, lengths } of lists) {
      const entry = index.terms.get(term)!;
      numbering.number(docs, entry.docs, entry.filled);
      entry.tfs.set(tfs, entry.filled);
      entry.lengths.set(lengths, entry.filled);
      entry.filled += docs.length;
    }
    index.ids = numbering.keys;
    index.dropDuplicates(stats);
    return index;
  }

  get(term: string): TermPostings | undefined {
    return this.terms.get(term);
  }

  /** The fetched entries of `terms`, in their order, skipping those not fetched. */
  all(terms: readonly string[]): TermPostings[] {
    const found: TermPostings[] = [];
    for (const term of terms) {
      const entry = this.terms.get(term);
      if (entry !== undefined) found.push(entry);
    }
    return found;
  }

  /** Every fetched term starting with `prefix`; exact terms count too, as the store's expansion holds them as well. */
  expansions(prefix: string): TermPostings[] {
    const found: TermPostings[] = [];
    for (const [term, entry] of this.terms) if (term.startsWith(prefix)) found.push(entry);
    return found;
  }

  weight(entry: TermPostings, at: number): number {
    const tf = entry.tfs[at]!;
    const length = entry.lengths[at]!;
    const relativeLength = this.averageLength > 0 ? length / this.averageLength : 1;
    return (entry.idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + B * relativeLength));
  }

  /** Keeps one posting per (term, document), so that document frequencies count distinct documents. */
  private dropDuplicates(stats: CorpusStats): void {
    // seenIn[doc] is the 1-based number of the last term that met doc, slot[doc] where its posting was kept.
    const seenIn = new Int32Array(this.ids.length);
    const slot = new Int32Array(this.ids.length);
    let termNumber = 0;
    for (const entry of this.terms.values()) {
      termNumber++;
      const { docs, tfs, lengths } = entry;
      let kept = 0;
      for (let at = 0; at < docs.length; at++) {
        const doc = docs[at]!;
        const tf = tfs[at]!;
        const length = lengths[at]!;
        if (seenIn[doc] === termNumber) {
          const held = slot[doc]!;
          if (outranks(tf, length, tfs[held]!, lengths[held]!)) {
            tfs[held] = tf;
            lengths[held] = length;
          }
          continue;
        }
        seenIn[doc] = termNumber;
        slot[doc] = kept;
        docs[kept] = doc;
        tfs[kept] = tf;
        lengths[kept] = length;
        kept++;
      }
      entry.docs = docs.subarray(0, kept);
      entry.tfs = tfs.subarray(0, kept);
      entry.lengths = lengths.subarray(0, kept);
      entry.idf = inverseDocumentFrequency(stats.docs, kept);
    }
  }
}

/** A word's own term at full weight, its other irregular forms at FORM_WEIGHT of theirs. */
const otherFormsScale =
  (own: TermPostings | undefined) =>
  (entry: TermPostings): number =>
    entry === own ? 1 : FORM_WEIGHT;

/** Per-document values of one clause, and the documents it applies to. */
interface ClauseWeights {
  docs: Iterable<number>;
  weights: Float64Array;
}

/** A prefix, fuzzy or forms clause: for each document, its best-weighted expansion, each scaled by `scaleOf`. */
function bestExpansionWeights<K extends string | number>(
  index: TermIndex<K>,
  expansions: readonly TermPostings[],
  scaleOf: (entry: TermPostings) => number = () => 1,
): ClauseWeights {
  const docCount = index.ids.length;
  const weights = new Float64Array(docCount);
  const seen = new Uint8Array(docCount);
  const docs: number[] = [];
  for (const entry of expansions) {
    const scale = scaleOf(entry);
    for (let at = 0; at < entry.docs.length; at++) {
      const doc = entry.docs[at]!;
      const weight = scale * index.weight(entry, at);
      if (seen[doc] === 0) {
        seen[doc] = 1;
        docs.push(doc);
        weights[doc] = weight;
      } else if (weight > weights[doc]!) {
        weights[doc] = weight;
      }
    }
  }
  return { docs, weights };
}

/** A phrase: the documents holding all its terms, each with the sum of its terms' weights in phrase order. */
function phraseWeights<K extends string | number>(
  index: TermIndex<K>,
  terms: readonly string[],
): ClauseWeights {
  const entries: TermPostings[] = [];
  for (const term of terms) {
    const entry = index.get(term);
    if (entry === undefined) return { docs: [], weights: new Float64Array(0) };
    entries.push(entry);
  }
  const docCount = index.ids.length;
  const weights = new Float64Array(docCount);
  // A term repeated in the phrase counts once per occurrence, so holding all terms means hits === terms.length.
  const hits = new Uint32Array(docCount);
  // Term by term, every document adds its weights in phrase order, whatever the order of the postings.
  for (const entry of entries) {
    for (let at = 0; at < entry.docs.length; at++) {
      const doc = entry.docs[at]!;
      weights[doc]! += index.weight(entry, at);
      hits[doc]!++;
    }
  }
  const docs = entries[0]!.docs.filter((doc) => hits[doc] === terms.length);
  return { docs, weights };
}

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
