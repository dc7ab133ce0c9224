import type { DocPostingList } from '../store-contract.js';
import { DocNumbering } from './doc-numbering.js';

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

const K1 = 1.2;
/**
 * Length normalisation. Memories are short (a chat turn, a note): at the textbook 0.75 a few extra words
 * cost a memory much of its score; 0.3 gained MRR on bench/quality.mjs at equal recall (docs/search.md).
 */
const B = 0.3;

/** One term's postings, at most one per document, as parallel arrays. */
export interface TermPostings {
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
export class TermIndex<K extends string | number> {
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
