import type { DocPostingList } from '../store-contract.js';
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

/** One term's postings, at most one per document, as parallel arrays. */
interface TermPostings {
  idf: number;
  docs: number[];
  tfs: number[];
  lengths: number[];
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

/** Dense renumbering of document numbers: slots for at most this many per posting, or this many in all. */
const DENSE_FACTOR = 32;
const DENSE_MIN_SPAN = 1 << 16;

/**
 * The fetched postings grouped by term once, with documents renumbered densely so per-document state fits
 * typed arrays. `K` is what the store names documents by: ids, or its document numbers.
 */
class TermIndex<K extends string | number> {
  readonly ids: K[] = [];
  private readonly docIndex = new Map<K, number>();
  private readonly terms = new Map<string, TermPostings>();
  private readonly averageLength: number;
  // Stores mostly return each term's postings together: skip the term lookup while the term stays the same.
  private lastTerm: string | undefined;
  private lastEntry: TermPostings | undefined;

  constructor(stats: CorpusStats) {
    this.averageLength = stats.docs > 0 ? stats.tokens / stats.docs : 0;
  }

  static ofPostings(postings: readonly Posting[], stats: CorpusStats): TermIndex<string> {
    const index = new TermIndex<string>(stats);
    for (const { term, id, tf, length } of postings) index.append(term, index.numberOf(id), tf, length);
    index.dropDuplicates(stats);
    return index;
  }

  static ofLists(lists: readonly DocPostingList[], stats: CorpusStats): TermIndex<number> {
    const index = new TermIndex<number>(stats);
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    let count = 0;
    for (const { docs } of lists) {
      for (let at = 0; at < docs.length; at++) {
        low = Math.min(low, docs[at]!);
        high = Math.max(high, docs[at]!);
      }
      count += docs.length;
    }
    // Store numbers are mostly dense: a slot per number in their range (dense index + 1, 0 for none)
    // renumbers faster than a Map, when the range is not much wider than the postings.
    const span = high - low + 1;
    const slots =
      count > 0 && span <= Math.max(DENSE_MIN_SPAN, DENSE_FACTOR * count) ? new Int32Array(span) : null;
    for (const { term, docs, tfs, lengths } of lists) {
      for (let at = 0; at < docs.length; at++) {
        const key = docs[at]!;
        let doc: number;
        if (slots === null) {
          doc = index.numberOf(key);
        } else {
          doc = slots[key - low]! - 1;
          if (doc < 0) {
            doc = index.ids.length;
            index.ids.push(key);
            slots[key - low] = doc + 1;
          }
        }
        index.append(term, doc, tfs[at]!, lengths[at]!);
      }
    }
    index.dropDuplicates(stats);
    return index;
  }

  private numberOf(key: K): number {
    let doc = this.docIndex.get(key);
    if (doc === undefined) {
      doc = this.ids.length;
      this.docIndex.set(key, doc);
      this.ids.push(key);
    }
    return doc;
  }

  private append(term: string, doc: number, tf: number, length: number): void {
    let entry = this.lastEntry;
    if (entry === undefined || this.lastTerm !== term) {
      entry = this.terms.get(term);
      if (entry === undefined) {
        entry = { idf: 0, docs: [], tfs: [], lengths: [] };
        this.terms.set(term, entry);
      }
      this.lastTerm = term;
      this.lastEntry = entry;
    }
    entry.docs.push(doc);
    entry.tfs.push(tf);
    entry.lengths.push(length);
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
      docs.length = kept;
      tfs.length = kept;
      lengths.length = kept;
      entry.idf = inverseDocumentFrequency(stats.docs, kept);
    }
  }
}

/** Per-document values of one clause, and the documents it applies to. */
interface ClauseWeights {
  docs: number[];
  weights: Float64Array;
}

/** A prefix or fuzzy clause: for each document, its best-weighted expansion. */
function bestExpansionWeights<K extends string | number>(
  index: TermIndex<K>,
  expansions: readonly TermPostings[],
): ClauseWeights {
  const docCount = index.ids.length;
  const weights = new Float64Array(docCount);
  const seen = new Uint8Array(docCount);
  const docs: number[] = [];
  for (const entry of expansions) {
    for (let at = 0; at < entry.docs.length; at++) {
      const doc = entry.docs[at]!;
      const weight = index.weight(entry, at);
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

function scoreIndex<K extends string | number>(
  parsed: ParsedQuery,
  index: TermIndex<K>,
  options: ScoreOptions,
): Candidate<K>[] {
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
            clause.kind === 'prefix' ? index.expansions(clause.prefix) : index.all(clause.keys),
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
  const mayHoldExcludedPhrase = new Uint8Array(docCount);
  for (const phrase of parsed.excludedPhrases) {
    for (const doc of phraseWeights(index, phrase).docs) mayHoldExcludedPhrase[doc] = 1;
  }

  // Clauses that can match by themselves: every clause but a stop word beside content words.
  const positive = parsed.clauses.filter((c) => c.kind !== 'term' || !c.stop).length;
  const required = options.match === 'all' ? positive : 1;
  const labels = options.explain ? parsed.clauses.map(clauseLabel) : [];
  const candidates: Candidate<K>[] = [];
  for (let doc = 0; doc < docCount; doc++) {
    if (matched[doc] === 0 || rejected[doc] === 1 || phrasesHeld[doc] !== phraseClauses) continue;
    if (clausesHeld[doc]! < required) continue;
    const coordination = positive > 1 ? clausesHeld[doc]! / positive : 1;
    const candidate: Candidate<K> = {
      id: index.ids[doc]!,
      score: scores[doc]! * coordination,
      needsPhraseCheck: phraseClauses > 0 || mayHoldExcludedPhrase[doc] === 1,
    };
    if (options.explain) {
      candidate.parts = [];
      explained.forEach((weights, clause) => {
        if (weights[doc] !== 0) candidate.parts!.push([labels[clause]!, weights[doc]! * coordination]);
      });
    }
    candidates.push(candidate);
  }
  return candidates;
}
