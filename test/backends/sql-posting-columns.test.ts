import { describe, expect, it } from 'vitest';
import { BLOCK_DOCS, blockOf } from '../../src/backends/sql/posting-blocks.js';
import { PostingColumns, TermOrder } from '../../src/backends/sql/posting-columns.js';

type Posting = [term: string, doc: number, tf: number, len: number];

/**
 * What writePostings gathered before: a growing array per (term, group), each sorted by document (stably),
 * in key order (terms as sort() orders strings).
 */
function reference(postings: readonly Posting[]) {
  const byTerm = new Map<string, Map<number, number[][]>>();
  for (const [term, doc, tf, len] of postings) {
    const groups = byTerm.get(term) ?? new Map<number, number[][]>();
    byTerm.set(term, groups);
    const list = groups.get(blockOf(doc)) ?? [];
    groups.set(blockOf(doc), list);
    list.push([doc, tf, len]);
  }
  return [...byTerm.keys()]
    .sort()
    .flatMap((term) =>
      [...byTerm.get(term)!]
        .sort(([x], [y]) => x - y)
        .map(([grp, list]) => ({ term, grp, added: list.sort((x, y) => x[0]! - y[0]!).flat() })),
    );
}

const gathered = (postings: readonly Posting[]) => {
  const columns = new PostingColumns();
  for (const [term, doc, tf, len] of postings) columns.add(term, doc, tf, len);
  return columns.groups().map(({ term, grp, added }) => ({ term, grp, added: [...added] }));
};

describe("PostingColumns (a batch's postings gathered by term and group)", () => {
  it('cuts postings added in document order by term, then group', () => {
    const postings: Posting[] = [];
    for (let doc = BLOCK_DOCS - 700; doc < BLOCK_DOCS * 2 + 300; doc++) {
      for (const term of ['common', `t${doc % 37}`, `~w${doc % 5}`])
        postings.push([term, doc, 1 + (doc % 4), doc % 90]);
    }
    const groups = gathered(postings);
    expect(groups).toEqual(reference(postings));
    expect(groups.filter((g) => g.term === 'common').map((g) => g.grp)).toEqual([0, 1, 2]);
  });

  it('sorts the postings of a term added out of document order, equal documents kept in added order', () => {
    // Edits keep their memories' old numbers, so a batch may visit documents in any order.
    const postings: Posting[] = [
      ['b', 2 ** 40, 1, 7],
      ['a', 9000, 2, 3],
      ['a', 12, 1, 4],
      ['b', 5, 3, 3],
      ['a', 9000, 5, 6],
      ['a', 4100, 1, 1],
      ['a', 11, 4, 9],
    ];
    expect(gathered(postings)).toEqual(reference(postings));
    expect(gathered(postings).map(({ term, grp }) => `${term}${grp}`)).toEqual([
      'a0',
      'a1',
      'a2',
      'b0',
      `b${blockOf(2 ** 40)}`,
    ]);
    expect(gathered(postings)[2]).toEqual({ term: 'a', grp: 2, added: [9000, 2, 3, 9000, 5, 6] });
  });

  it('grows past its first columns and gives nothing for no postings', () => {
    expect(gathered([])).toEqual([]);
    const postings: Posting[] = Array.from({ length: 5000 }, (_, i) => [`t${i % 3}`, i, 1, i]);
    expect(gathered(postings)).toEqual(reference(postings));
  });
});

describe('TermOrder (the terms of earlier batches, ranked)', () => {
  const words = (seed: number, count: number) =>
    Array.from({ length: count }, (_, i) => {
      const n = (i * 7919 + seed * 104_729) % 5000;
      // ASCII, marked words, accents and a character beyond the BMP (a surrogate pair), as terms come.
      return [`w${n}`, `~w${n}`, `é${n % 50}`, `\u{1d11e}${n % 7}`, `${n % 13}z`][n % 5]!;
    });
  const distinct = (terms: string[]) => [...new Set(terms)];

  it("orders each batch's terms as sort() does, across batches that share terms and bring new ones", () => {
    const order = new TermOrder();
    for (let batch = 0; batch < 6; batch++) {
      const terms = distinct(words(batch, 900 + batch * 300));
      expect(order.sort(terms)).toEqual(terms.slice().sort());
    }
  });

  it('starts afresh past its limit and still orders every batch', () => {
    const order = new TermOrder(1000);
    for (let batch = 0; batch < 5; batch++) {
      const terms = distinct(words(batch * 3, 800));
      expect(order.sort(terms)).toEqual(terms.slice().sort());
    }
  });
});
