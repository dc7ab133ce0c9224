import { indexText } from '../../core/text/index.js';
import type { TextPosting, TextStats } from '../../core/types.js';

/**
 * Incremental inverted index: term -> (id -> term frequency), plus document lengths. Updated on each
 * write, never rebuilt. The sorted vocabulary for prefix queries is rebuilt lazily, only after the
 * vocabulary changed.
 */
export class InvertedIndex {
  private readonly postingsByTerm = new Map<string, Map<string, number>>();
  private readonly lengths = new Map<string, number>();
  private tokens = 0;
  private vocabulary: string[] | null = null;

  add(id: string, text: string): void {
    const { length, terms } = indexText(text);
    this.lengths.set(id, length);
    this.tokens += length;
    for (const [term, tf] of terms) {
      let postings = this.postingsByTerm.get(term);
      if (!postings) {
        postings = new Map();
        this.postingsByTerm.set(term, postings);
        this.vocabulary = null;
      }
      postings.set(id, tf);
    }
  }

  remove(id: string, text: string): void {
    const length = this.lengths.get(id);
    if (length === undefined) return;
    this.lengths.delete(id);
    this.tokens -= length;
    for (const term of indexText(text).terms.keys()) {
      const postings = this.postingsByTerm.get(term);
      if (!postings) continue;
      postings.delete(id);
      if (postings.size === 0) {
        this.postingsByTerm.delete(term);
        this.vocabulary = null;
      }
    }
  }

  stats(): TextStats {
    return { docs: this.lengths.size, tokens: this.tokens };
  }

  postings(terms: readonly string[], prefixes: readonly string[]): TextPosting[] {
    const out: TextPosting[] = [];
    const emit = (term: string) => {
      const postings = this.postingsByTerm.get(term);
      if (!postings) return;
      for (const [id, tf] of postings) out.push({ term, id, tf, length: this.lengths.get(id)! });
    };
    for (const term of terms) emit(term);
    for (const prefix of prefixes) for (const term of this.termsWithPrefix(prefix)) emit(term);
    return out;
  }

  private termsWithPrefix(prefix: string): string[] {
    this.vocabulary ??= [...this.postingsByTerm.keys()].sort();
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
