import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listSource, REJECTED, resolvingSource } from '../../src/core/candidate-source.js';
import type { DocPostingList } from '../../src/core/store-contract.js';
import {
  compareCandidates,
  type Posting,
  parseQuery,
  scoreDocumentNumbers,
  scoreDocuments,
} from '../../src/core/text/index.js';
import { propertySeed } from '../setup/property-seed.js';

/** Candidates best first by score, as `resolvingSource` takes them (ties in their given order). */
const byScore = <C extends { score: number }>(candidates: C[]) =>
  [...candidates].sort((a, b) => b.score - a.score)[Symbol.iterator]();

/** The ids of what a source handed out, `REJECTED` for those the store turned down. */
const idsOf = (slice: Array<{ id: string } | typeof REJECTED>) =>
  slice.map((c) => (c === REJECTED ? c : c.id));

/** Everything a source hands out, asking `chunk` at a time. */
async function drain<C>(next: (count: number) => Promise<C[]>, chunk: number): Promise<C[]> {
  const out: C[] = [];
  for (;;) {
    const slice = await next(chunk);
    expect(slice.length).toBeLessThanOrEqual(chunk);
    out.push(...slice);
    if (slice.length < chunk) return out;
  }
}

describe('resolvingSource: ranking on document numbers, ids resolved as candidates are handed out', () => {
  it('hands out what a full sort by score then id descending gives, whatever the chunk size', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Few distinct scores, so that ties are common and cross chunk boundaries.
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        async (scores, chunk, seed) => {
          // Ids in no relation to document numbers: a memory's id says nothing of when it was indexed.
          const idOf = (doc: number) => `m${((doc * 2654435761 + seed) >>> 0).toString(36)}:${doc}`;
          const candidates = scores.map((score, doc) => ({ id: doc, score, needsPhraseCheck: false }));
          const expected = candidates
            .map((c) => ({ ...c, id: idOf(c.id) }))
            .sort(compareCandidates)
            .map((c) => c.id);
          const source = resolvingSource(
            byScore(candidates),
            async (docs) => new Map(docs.map((d) => [d, { id: idOf(d) }])),
          );
          expect(idsOf(await drain(source, chunk))).toEqual(expected);
        },
      ),
      { ...propertySeed('CORE_PROPERTY_SEED', 20_261_206) },
    );
  });

  it('resolves the top candidates and every one tied with the last, not the rest', async () => {
    const scores = [9, 8, 7, 7, 7, 7, 3, 2, 1, 0];
    const candidates = scores.map((score, doc) => ({ id: doc, score, needsPhraseCheck: false }));
    const asked: number[][] = [];
    const wanted: number[] = [];
    const source = resolvingSource(byScore(candidates), async (docs, want) => {
      asked.push([...docs].sort((a, b) => a - b));
      wanted.push(want);
      return new Map(docs.map((d) => [d, { id: `id-${String(d).padStart(2, '0')}` }]));
    });
    // The third candidate ties with three more: all four are named, then ordered by id descending.
    expect(idsOf(await source(3))).toEqual(['id-00', 'id-01', 'id-05']);
    expect(asked).toEqual([[0, 1, 2, 3, 4, 5]]);
    // What was named but not yet handed out comes first, without asking again.
    expect(idsOf(await source(3))).toEqual(['id-04', 'id-03', 'id-02']);
    expect(asked).toHaveLength(1);
    expect(idsOf(await source(2))).toEqual(['id-06', 'id-07']);
    expect(asked).toEqual([
      [0, 1, 2, 3, 4, 5],
      [6, 7],
    ]);
    expect(wanted).toEqual([3, 2]);
  });

  it('drops numbers the store no longer knows (deleted since the postings were read) and fills up past them', async () => {
    const candidates = [5, 4, 3, 2, 1].map((score, doc) => ({ id: doc, score, needsPhraseCheck: false }));
    const gone = new Set([0, 2]);
    const source = resolvingSource(
      byScore(candidates),
      async (docs) => new Map(docs.filter((d) => !gone.has(d)).map((d) => [d, { id: `id-${d}` }])),
    );
    expect(idsOf(await source(2))).toEqual(['id-1', 'id-3']);
    expect(idsOf(await source(2))).toEqual(['id-4']);
    expect(await source(2)).toEqual([]);
  });

  it('hands out numbers the store turned down as REJECTED, in their place by score, after named equals', async () => {
    const candidates = [6, 5, 4, 4, 2, 1].map((score, doc) => ({ id: doc, score, needsPhraseCheck: false }));
    const turnedDown = new Set([0, 2]);
    const asked: number[][] = [];
    const source = resolvingSource(byScore(candidates), async (docs) => {
      asked.push(docs);
      return new Map(docs.map((d) => [d, turnedDown.has(d) ? REJECTED : { id: `id-${d}` }]));
    });
    // Four asked, four handed out: one read, not a second one to replace the two turned down.
    expect(idsOf(await source(4))).toEqual([REJECTED, 'id-1', 'id-3', REJECTED]);
    expect(asked).toEqual([[0, 1, 2, 3]]);
    expect(idsOf(await source(4))).toEqual(['id-4', 'id-5']);
  });

  it('keeps explanations and phrase flags with the candidate it names', async () => {
    const source = resolvingSource(
      byScore([{ id: 7, score: 1, needsPhraseCheck: true, explain: { text: 1 } }]),
      async () => new Map([[7, { id: 'seven' }]]),
    );
    expect(await source(10)).toEqual([
      { id: 'seven', score: 1, needsPhraseCheck: true, explain: { text: 1 } },
    ]);
  });

  it('listSource orders candidates named by id the same way', async () => {
    const candidates = [
      { id: 'a', score: 1 },
      { id: 'c', score: 2 },
      { id: 'b', score: 2 },
    ];
    expect((await drain(listSource(candidates), 2)).map((c) => c.id)).toEqual(['c', 'b', 'a']);
  });
});

describe('scoreDocumentNumbers', () => {
  it('gives bit-identical scores to scoreDocuments over the same postings, split and duplicated anyhow', () => {
    const words = ['apple', 'banana', 'cherry', 'date', 'elder'];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            term: fc.constantFrom(...words.map((w) => parseQuery(w).terms[0]!)),
            // Mostly dense numbers; a far one (above 2^32) must not meet another in the renumbering hash.
            doc: fc.oneof(
              { arbitrary: fc.integer({ min: 0, max: 30 }), weight: 20 },
              { arbitrary: fc.constant(2 ** 40 + 3), weight: 1 },
            ),
            tf: fc.integer({ min: 1, max: 4 }),
            length: fc.integer({ min: 1, max: 40 }),
          }),
          { maxLength: 120 },
        ),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom('apple banana', 'cherry -date', 'elder* apple', '"apple banana"'),
        (postings, split, query) => {
          const parsed = parseQuery(query);
          const stats = { docs: 40, tokens: 800 };
          const byId: Posting[] = postings.map((p) => ({
            term: p.term,
            id: `d${p.doc}`,
            tf: p.tf,
            length: p.length,
          }));
          // The same postings as lists of at most `split`, as a store returning one list per block would.
          const lists: DocPostingList[] = [];
          for (let at = 0; at < postings.length; at += split) {
            const part = postings.slice(at, at + split);
            for (const term of new Set(part.map((p) => p.term))) {
              const mine = part.filter((p) => p.term === term);
              lists.push({
                term,
                docs: mine.map((p) => p.doc),
                tfs: mine.map((p) => p.tf),
                lengths: mine.map((p) => p.length),
              });
            }
          }
          const named = (candidates: Array<{ id: string | number; score: number }>) =>
            candidates.map((c) => [`d${c.id}`.replace(/^dd/, 'd'), c.score]).sort();
          expect(named(scoreDocumentNumbers(parsed, lists, stats))).toEqual(
            named(scoreDocuments(parsed, byId, stats)),
          );
        },
      ),
      { ...propertySeed('CORE_PROPERTY_SEED', 20_261_206) },
    );
  });
});
