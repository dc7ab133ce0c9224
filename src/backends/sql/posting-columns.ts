import { blockOf } from './posting-blocks.js';

/** The postings one (term, group) row gains, a view into the batch's one array of triples. */
export interface TermGroupPostings {
  term: string;
  grp: number;
  added: Float64Array;
}

const INITIAL_POSTINGS = 1024;

/**
 * A batch's new postings gathered in typed columns (a term number and a triple per posting) and cut
 * by (term, group) once at the end: a bulk add makes a million of them, which arrays growing per
 * (term, group) paid for in allocation and garbage collection. Documents stay float64, as any safe
 * integer may number one.
 */
export class PostingColumns {
  private readonly termNumbers = new Map<string, number>();
  private readonly terms: string[] = [];
  private termOf = new Int32Array(INITIAL_POSTINGS);
  private triples = new Float64Array(INITIAL_POSTINGS * 3);
  private count = 0;

  add(term: string, doc: number, tf: number, len: number): void {
    let number = this.termNumbers.get(term);
    if (number === undefined) {
      number = this.terms.length;
      this.termNumbers.set(term, number);
      this.terms.push(term);
    }
    if (this.count === this.termOf.length) this.grow();
    const at = this.count++;
    this.termOf[at] = number;
    const triple = at * 3;
    this.triples[triple] = doc;
    this.triples[triple + 1] = tf;
    this.triples[triple + 2] = len;
  }

  /**
   * Each (term, group)'s postings in key order, terms as `sort()` orders strings and each term's groups
   * ascending; the postings of a group by document (added order among equal documents, as a stable
   * sort leaves them).
   */
  groups(): TermGroupPostings[] {
    const termCount = this.terms.length;
    const terms = this.terms.slice().sort();
    const rankOf = new Int32Array(termCount);
    for (let rank = 0; rank < termCount; rank++) rankOf[this.termNumbers.get(terms[rank]!)!] = rank;
    // A counting sort by term rank keeps each term's postings in the order they were added.
    const starts = new Int32Array(termCount + 1);
    for (let i = 0; i < this.count; i++) starts[rankOf[this.termOf[i]!]! + 1]!++;
    for (let t = 0; t < termCount; t++) starts[t + 1]! += starts[t]!;
    const next = starts.slice(0, termCount);
    const sorted = new Float64Array(this.count * 3);
    for (let i = 0; i < this.count; i++) {
      const to = next[rankOf[this.termOf[i]!]!]!++ * 3;
      const from = i * 3;
      sorted[to] = this.triples[from]!;
      sorted[to + 1] = this.triples[from + 1]!;
      sorted[to + 2] = this.triples[from + 2]!;
    }
    const out: TermGroupPostings[] = [];
    for (let t = 0; t < termCount; t++) {
      const from = starts[t]! * 3;
      const to = starts[t + 1]! * 3;
      sortByDoc(sorted, from, to);
      let start = from;
      while (start < to) {
        const grp = blockOf(sorted[start]!);
        let end = start + 3;
        while (end < to && blockOf(sorted[end]!) === grp) end += 3;
        out.push({ term: terms[t]!, grp, added: sorted.subarray(start, end) });
        start = end;
      }
    }
    return out;
  }

  private grow(): void {
    const termOf = new Int32Array(this.termOf.length * 2);
    termOf.set(this.termOf);
    this.termOf = termOf;
    const triples = new Float64Array(this.triples.length * 2);
    triples.set(this.triples);
    this.triples = triples;
  }
}

/** Sorts the triples in [from, to) by document, stably; a range already in order (the usual case) is left. */
function sortByDoc(triples: Float64Array, from: number, to: number): void {
  let sorted = true;
  for (let i = from + 3; i < to && sorted; i += 3) sorted = triples[i - 3]! <= triples[i]!;
  if (sorted) return;
  const order = Array.from({ length: (to - from) / 3 }, (_, i) => from + i * 3).sort(
    (a, b) => triples[a]! - triples[b]!,
  );
  const copy = order.flatMap((at) => [triples[at]!, triples[at + 1]!, triples[at + 2]!]);
  triples.set(copy, from);
}
