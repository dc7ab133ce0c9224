import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bestFirstByScore } from '../../src/core/best-first.js';
import { resolvingSource } from '../../src/core/candidate-source.js';
import type { DocPostingList } from '../../src/core/store-contract.js';
import { DocNumbering } from '../../src/core/text/doc-numbering.js';
import {
  indexText,
  type ParsedQuery,
  type Posting,
  parseQuery,
  rankDocumentNumbers,
  rankDocuments,
  typoCorrection,
} from '../../src/core/text/index.js';
import { propertySeed } from '../setup/property-seed.js';

// Ranking on document numbers makes candidates lazily, best first (rankDocumentNumbers), and names them
// batch by batch (resolvingSource). Whatever it hands out must be exactly the exhaustive ranking of
// rankDocuments over the same postings: same ids, same scores to the bit, same explanations and phrase
// flags, in the same order, at any chunk size, with memories deleted before they are named.

// Few words, short texts and repeated words: ties at every rank, including at the chunk boundary.
const WORDS = ['apple', 'apply', 'apricot', 'banana', 'band', 'cherry', 'the', 'of', 'walking', 'walked'];
const QUERY_PARTS = [
  ...WORDS,
  'app*',
  'ban*',
  'walk*',
  '-cherry',
  '-band',
  '"apple banana"',
  '"the apple"',
  '-"cherry apple"',
  'aple',
  'banaba',
  'chery',
];

interface Doc {
  number: number;
  id: string;
  text: string;
}

/** Postings by id and by number, as a store would return them for `terms` and `prefixes`. */
function fetcher(docs: readonly Doc[], split: number) {
  const indexed = docs.map((doc) => ({ doc, ...indexText(doc.text) }));
  const wanted = (terms: readonly string[], prefixes: readonly string[], term: string) =>
    terms.includes(term) || prefixes.some((p) => term.startsWith(p));
  const byId = (terms: readonly string[], prefixes: readonly string[]): Posting[] =>
    indexed.flatMap(({ doc, length, terms: held }) =>
      [...held]
        .filter(([t]) => wanted(terms, prefixes, t))
        .map(([term, tf]) => ({ term, id: doc.id, tf, length })),
    );
  // Lists of at most `split` postings, as a store returns one list per block of documents.
  const byNumber = (terms: readonly string[], prefixes: readonly string[]): DocPostingList[] => {
    const lists: DocPostingList[] = [];
    for (let at = 0; at < indexed.length; at += split) {
      const part = indexed.slice(at, at + split);
      const postings = part.flatMap(({ doc, length, terms: held }) =>
        [...held]
          .filter(([t]) => wanted(terms, prefixes, t))
          .map(([term, tf]) => ({ term, doc, tf, length })),
      );
      for (const term of new Set(postings.map((p) => p.term))) {
        const mine = postings.filter((p) => p.term === term);
        lists.push({
          term,
          docs: mine.map((p) => p.doc.number),
          tfs: mine.map((p) => p.tf),
          lengths: mine.map((p) => p.length),
        });
      }
    }
    return lists;
  };
  return { byId, byNumber };
}

/** What search.ts does: postings of the query, then of typo variants when a word matches nothing. */
function corrected<P extends { term: string }>(
  parsed: ParsedQuery,
  read: (terms: readonly string[], prefixes: readonly string[]) => P[],
): { query: ParsedQuery; found: P[] } {
  const found = read(parsed.terms, parsed.prefixes);
  const typos = typoCorrection(parsed, found, 'english');
  if (typos.keys.length === 0) return { query: parsed, found };
  const more = read(typos.keys, []);
  return { query: typos.apply(more), found: found.concat(more) };
}

describe('rankDocumentNumbers through resolvingSource', () => {
  it('hands out exactly the exhaustive ranking, with deletes before naming, at any chunk size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 6 }), {
          minLength: 1,
          maxLength: 40,
        }),
        // A query needs one positive word; the rest may exclude, expand or be misspelt.
        fc.constantFrom(...WORDS, 'app*', '"apple banana"', 'aple'),
        fc.array(fc.constantFrom(...QUERY_PARTS), { maxLength: 4 }),
        fc.constantFrom<'any' | 'all'>('any', 'all'),
        fc.boolean(),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 9 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (texts, first, parts, match, explain, split, chunk, deletes) => {
          // Numbers far apart (one above 2^32) and ids unrelated to them.
          const docs = texts.map((words, i) => ({
            number: i === 3 ? 2 ** 33 + i : i * 5 + 1,
            id: `m${((i * 2654435761) >>> 0).toString(36)}`,
            text: words.join(' '),
          }));
          const gone = new Set(deletes.map((d) => docs[d % docs.length]!.id));
          const { byId, byNumber } = fetcher(docs, split);
          const parsed = parseQuery([first, ...parts].join(' '));
          const options = { match, explain };
          const stats = {
            docs: docs.length,
            tokens: docs.reduce((sum, d) => sum + indexText(d.text).length, 0),
          };
          const reference = corrected(parsed, byId);
          const expected = rankDocuments(reference.query, reference.found, stats, options).filter(
            (c) => !gone.has(c.id),
          );
          const mine = corrected(parsed, byNumber);
          const idOf = new Map(docs.map((d) => [d.number, d.id]));
          const source = resolvingSource(
            rankDocumentNumbers(mine.query, mine.found, stats, options),
            async (numbers) =>
              new Map(numbers.filter((n) => !gone.has(idOf.get(n)!)).map((n) => [n, { id: idOf.get(n)! }])),
          );
          const got = [];
          for (;;) {
            const slice = await source(chunk);
            got.push(...slice);
            if (slice.length < chunk) break;
          }
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 300, ...propertySeed('CORE_PROPERTY_SEED', 20_261_206) },
    );
  });

  it('makes candidates only as they are taken', () => {
    const lists: DocPostingList[] = [
      {
        term: parseQuery('apple').terms[0]!,
        docs: Array.from({ length: 5000 }, (_, i) => i),
        tfs: Array.from({ length: 5000 }, (_, i) => 1 + (i % 3)),
        lengths: Array.from({ length: 5000 }, (_, i) => 5 + (i % 17)),
      },
    ];
    const ranked = rankDocumentNumbers(parseQuery('apple'), lists, { docs: 10_000, tokens: 100_000 });
    const first = ranked.next();
    expect(first.done).toBe(false);
    // tf 3 in the shortest text (length 5): i ≡ 2 (mod 3) and i ≡ 0 (mod 17), i.e. i = 17, 68, ...
    expect(first.value!.id % 51).toBe(17);
    let rest = 0;
    let previous = first.value!.score;
    for (const candidate of ranked) {
      expect(candidate.score).toBeLessThanOrEqual(previous);
      previous = candidate.score;
      rest++;
    }
    expect(rest).toBe(4999);
  });
});

describe('bestFirstByScore', () => {
  it('yields every number once, scores never increasing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(0, 0.5, 1, 2.25, 3, Number.MIN_VALUE), { maxLength: 300 }),
        (scores) => {
          const items = Int32Array.from(scores.keys());
          const out = [...bestFirstByScore(items, Float64Array.from(scores))];
          expect([...out].sort((a, b) => a - b)).toEqual([...scores.keys()]);
          for (let at = 1; at < out.length; at++) {
            expect(scores[out[at]!]!).toBeLessThanOrEqual(scores[out[at - 1]!]!);
          }
        },
      ),
      { ...propertySeed('CORE_PROPERTY_SEED', 20_261_206) },
    );
  });
});

describe('DocNumbering', () => {
  it('numbers keys densely in order of first sight, as a Map would', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.integer({ min: 0, max: 50 }),
            // Keys equal modulo 2^32 or a power of two, which a weak hash would pile in one slot.
            fc.integer({ min: 0, max: 20 }).map((k) => k * 2 ** 32 + 7),
            fc.integer({ min: 0, max: 20 }).map((k) => k * 1024),
            fc.constant(Number.MAX_SAFE_INTEGER),
          ),
          { maxLength: 200 },
        ),
        fc.integer({ min: 1, max: 50 }),
        (keys, chunk) => {
          const numbering = new DocNumbering(keys.length);
          const reference = new Map<number, number>();
          for (const key of keys) if (!reference.has(key)) reference.set(key, reference.size);
          // In lists of `chunk` keys, each written from where the last ended, as ofLists fills a term's arrays.
          const out = new Int32Array(keys.length + 1).fill(-1);
          for (let from = 0; from < keys.length; from += chunk) {
            numbering.number(Float64Array.from(keys.slice(from, from + chunk)), out, from + 1);
          }
          expect([...out.subarray(1)]).toEqual(keys.map((key) => reference.get(key)));
          expect(out[0]).toBe(-1);
          expect([...numbering.keys]).toEqual([...reference.keys()]);
        },
      ),
      { ...propertySeed('CORE_PROPERTY_SEED', 20_261_206) },
    );
  });

  it('refuses more distinct keys than it was sized for, rather than loop', () => {
    const numbering = new DocNumbering(4);
    const out = new Int32Array(8);
    numbering.number([0, 1, 2, 1, 3, 0], out, 0);
    expect([...out.subarray(0, 6)]).toEqual([0, 1, 2, 1, 3, 0]);
    expect(() => numbering.number([4], out, 6)).toThrow(RangeError);
  });
});
