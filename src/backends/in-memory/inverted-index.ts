import type { TextPosting, TextStats } from '../../core/store-contract.js';
import { indexText, visitIndexTerms } from '../../core/text/index.js';

/** One term's postings as parallel typed arrays: document numbers and term frequencies. */
class TermPostings {
  docs = new Uint32Array(4);
  tfs = new Uint16Array(4);
  size = 0;
  /** Entries whose document has been removed, skipped on read and dropped when they pile up. */
  dead = 0;

  push(doc: number, tf: number): void {
    if (this.size === this.docs.length) {
      const docs = new Uint32Array(this.size * 2);
      docs.set(this.docs);
      this.docs = docs;
      const tfs = new Uint16Array(this.size * 2);
      tfs.set(this.tfs);
      this.tfs = tfs;
    }
    this.docs[this.size] = doc;
    this.tfs[this.size] = Math.min(tf, 0xffff);
    this.size++;
  }

  /** Keeps live entries, renumbering documents through `renumber` (-1 drops one). */
  compact(renumber: (doc: number) => number): void {
    let kept = 0;
    for (let at = 0; at < this.size; at++) {
      const doc = renumber(this.docs[at]!);
      if (doc < 0) continue;
      this.docs[kept] = doc;
      this.tfs[kept] = this.tfs[at]!;
      kept++;
    }
    this.size = kept;
    this.dead = 0;
  }
}

/**
 * Incremental inverted index, updated on each write and never rebuilt. Documents are numbered as they
 * arrive and postings are typed arrays, which keeps 100K memories in a fraction of the heap that
 * Map-per-term postings take. A re-indexed document gets a new number; dead numbers are swept out
 * term by term, and renumbered wholesale once they outnumber the living.
 */
export class InvertedIndex {
  private readonly terms = new Map<string, TermPostings>();
  private docIds: Array<string | undefined> = [];
  private readonly docOf = new Map<string, number>();
  private lengths = new Uint32Array(1024);
  private tokens = 0;
  private deadDocs = 0;
  private vocabulary: string[] | null = null;

  /** `language`: the namespace's stored `language` meta (see indexText). */
  add(id: string, text: string, language: unknown): void {
    const doc = this.docIds.length;
    // Each term is filed as the text is read: no Map of the text's terms (see visitIndexTerms).
    const length = visitIndexTerms(text, language, (term, tf) => {
      let postings = this.terms.get(term);
      if (!postings) {
        postings = new TermPostings();
        this.terms.set(term, postings);
        this.vocabulary = null;
      }
      postings.push(doc, tf);
    });
    this.docIds.push(id);
    this.docOf.set(id, doc);
    if (doc === this.lengths.length) {
      const grown = new Uint32Array(doc * 2);
      grown.set(this.lengths);
      this.lengths = grown;
    }
    this.lengths[doc] = length;
    this.tokens += length;
  }

  remove(id: string, text: string, language: unknown): void {
    const doc = this.docOf.get(id);
    if (doc === undefined) return;
    this.docOf.delete(id);
    this.docIds[doc] = undefined;
    this.tokens -= this.lengths[doc]!;
    this.deadDocs++;
    const alive = (d: number) => (this.docIds[d] === undefined ? -1 : d);
    for (const term of indexText(text, language).terms.keys()) {
      const postings = this.terms.get(term);
      if (!postings) continue;
      postings.dead++;
      if (postings.dead * 2 >= postings.size) postings.compact(alive);
      if (postings.size === 0) {
        this.terms.delete(term);
        this.vocabulary = null;
      }
    }
    if (this.deadDocs > 1024 && this.deadDocs > this.docOf.size) this.renumber();
  }

  stats(): TextStats {
    return { docs: this.docOf.size, tokens: this.tokens };
  }

  postings(terms: readonly string[], prefixes: readonly string[]): TextPosting[] {
    const out: TextPosting[] = [];
    const { docIds, lengths } = this;
    const emit = (term: string) => {
      const postings = this.terms.get(term);
      if (!postings) return;
      for (let at = 0; at < postings.size; at++) {
        const doc = postings.docs[at]!;
        const id = docIds[doc];
        if (id !== undefined) out.push({ term, id, tf: postings.tfs[at]!, length: lengths[doc]! });
      }
    };
    for (const term of terms) emit(term);
    for (const prefix of prefixes) for (const term of this.termsWithPrefix(prefix)) emit(term);
    return out;
  }

  /** Gives living documents consecutive numbers again, so arrays stop growing with every update. */
  private renumber(): void {
    const map = new Int32Array(this.docIds.length).fill(-1);
    const ids: string[] = [];
    const lengths = new Uint32Array(Math.max(1024, this.docOf.size * 2));
    this.docIds.forEach((id, doc) => {
      if (id === undefined) return;
      map[doc] = ids.length;
      lengths[ids.length] = this.lengths[doc]!;
      this.docOf.set(id, ids.length);
      ids.push(id);
    });
    for (const postings of this.terms.values()) postings.compact((doc) => map[doc]!);
    this.docIds = ids;
    this.lengths = lengths;
    this.deadDocs = 0;
  }

  private termsWithPrefix(prefix: string): string[] {
    this.vocabulary ??= [...this.terms.keys()].sort();
    const vocabulary = this.vocabulary;
    let lo = 0;
    let hi = vocabulary.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (vocabulary[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const found: string[] = [];
    for (let i = lo; i < vocabulary.length && vocabulary[i]!.startsWith(prefix); i++)
      found.push(vocabulary[i]!);
    return found;
  }
}
