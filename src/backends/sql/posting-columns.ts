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
    const terms = TERM_ORDER.sort(this.terms);
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

/** Terms ranked beyond this many start the order afresh. */
const MAX_RANKED = 1 << 18;
/** A term number fits below this (the batch's terms, packed beside their rank). */
const TERM_SLOTS = 2 ** 21;

/**
 * The terms earlier batches sorted, each with its rank in that order: a batch's terms are mostly known
 * (a bulk add of 10,000 memories sorts 15,000 of them per batch of 770, and each sort took about a tenth
 * of writePostings), so ordering them is sorting numbers, and only terms never seen are sorted as
 * strings and merged in. The order is `sort()`'s, by UTF-16 code units.
 */
export class TermOrder {
  private sorted: string[] = [];
  private ranks = new Map<string, number>();

  /** `limit`: how many terms are kept ranked at most. */
  constructor(private readonly limit = MAX_RANKED) {}

  /** `terms` as `terms.slice().sort()` orders them. */
  sort(terms: readonly string[]): string[] {
    if (terms.length >= TERM_SLOTS) return terms.slice().sort();
    const unknown = terms.filter((term) => !this.ranks.has(term));
    if (unknown.length > 0 && this.sorted.length + unknown.length > this.limit) {
      this.sorted = [];
      this.learn(terms.slice().sort());
    } else if (unknown.length > 0) this.learn(unknown.sort());
    const keys = new Float64Array(terms.length);
    for (let i = 0; i < terms.length; i++) keys[i] = this.ranks.get(terms[i]!)! * TERM_SLOTS + i;
    keys.sort();
    const out = new Array<string>(terms.length);
    for (let i = 0; i < keys.length; i++) out[i] = terms[keys[i]! % TERM_SLOTS]!;
    return out;
  }

  /** Merges sorted new terms into the order and ranks every term again. */
  private learn(added: readonly string[]): void {
    const known = this.sorted;
    const sorted = new Array<string>(known.length + added.length);
    let i = 0;
    let j = 0;
    for (let k = 0; k < sorted.length; k++) {
      sorted[k] =
        j >= added.length || (i < known.length && known[i]! < added[j]!) ? known[i++]! : added[j++]!;
    }
    this.sorted = sorted;
    this.ranks = new Map();
    for (let rank = 0; rank < sorted.length; rank++) this.ranks.set(sorted[rank]!, rank);
  }
}

const TERM_ORDER = new TermOrder();

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
