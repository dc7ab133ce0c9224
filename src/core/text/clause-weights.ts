import type { TermIndex, TermPostings } from './term-index.js';

/**
 * A query word's other irregular forms ("went" for "go", "children" for "child") weigh a quarter of their
 * BM25: they find the past tense or the other number that answers a question, while a memory holding the
 * word asked for still comes first
 * (bench/quality.mjs, docs/search.md).
 */
const FORM_WEIGHT = 0.25;

/** A word's own term at full weight, its other irregular forms at FORM_WEIGHT of theirs. */
export const otherFormsScale =
  (own: TermPostings | undefined) =>
  (entry: TermPostings): number =>
    entry === own ? 1 : FORM_WEIGHT;

/** Per-document values of one clause, and the documents it applies to. */
interface ClauseWeights {
  docs: Iterable<number>;
  weights: Float64Array;
}

/** A prefix, fuzzy or forms clause: for each document, its best-weighted expansion, each scaled by `scaleOf`. */
export function bestExpansionWeights<K extends string | number>(
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
export function phraseWeights<K extends string | number>(
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
