import { describe, expect, it } from 'vitest';
import {
  intArray,
  type MergingBlock,
  NO_TRIPLES,
  PackedRows,
  readPendingRow,
  textArray,
} from '../../src/backends/sql/pending-rows.js';
import { BLOCK_DOCS, blockOf, encodeTriples } from '../../src/backends/sql/posting-blocks.js';
import { putVarint } from '../../src/backends/varint.js';

const varint = (value: number) => {
  const out = new Uint8Array(8);
  return out.slice(0, putVarint(out, 0, value));
};
const join = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((part) => [...part]));
const sized = (bytes: Uint8Array) => join(varint(bytes.length), bytes);
const utf8 = (text: string) => new TextEncoder().encode(text);

/** Triples of `count` postings from `first` on, with counts and lengths that need one to three varint bytes. */
function triples(first: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(first + i * 3, 1 + (i % 300), 50 + i * 97);
  return out;
}

describe('PackedRows (pending rows and blocks packed into one parameter)', () => {
  it('writes the bytes of encodeTriples and length-prefixed names, ASCII or not', () => {
    const packed = new PackedRows(1);
    const terms = ['coffe', '~coffee', '~café', '東京', 'x'.repeat(64)];
    const expected: Uint8Array[] = [];
    for (const [i, term] of terms.entries()) {
      packed.sizedText(term);
      // Postings whose length takes one, two and three varint bytes: the gap before them is closed or widened.
      const postings = triples(i * 100_000, [3, 40, 5000, 1, 2][i]!);
      const body = packed.startSized();
      const last = packed.triples(postings.slice(0, 6), 7);
      packed.triples(postings.slice(6), last);
      packed.endSized(body);
      expected.push(join(sized(utf8(term)), sized(encodeTriples(postings, 7))));
      packed.endRow();
    }
    let start = 0;
    for (const [i, row] of expected.entries()) {
      expect(packed.starts[i]).toBe(start + 1);
      expect(packed.sizes[i]).toBe(row.length);
      start += row.length;
    }
    expect(packed.data()).toEqual(join(...expected));
    expect(packed.rows).toBe(terms.length);
  });

  it('returns the last document written, or where it started when there is none', () => {
    const packed = new PackedRows(0);
    expect(packed.triples([], 42)).toBe(42);
    expect(packed.triples([9, 1, 1, 2 ** 40, 2, 3], 0)).toBe(2 ** 40);
    expect(packed.data()).toEqual(encodeTriples([9, 1, 1, 2 ** 40, 2, 3]));
  });

  it('moves a pending row into blocks by copying its postings, split where a group ends', () => {
    // Two batches' rows: a term whose postings cross from group 0 into group 1, and one in group 1 only.
    const crossing = triples(BLOCK_DOCS - 6, 5);
    const later = triples(BLOCK_DOCS + 10, 2);
    const rows = [
      join(
        sized(utf8('~tôt')),
        sized(encodeTriples(crossing)),
        sized(utf8('coffe')),
        sized(encodeTriples(later)),
      ),
      join(sized(utf8('coffe')), sized(encodeTriples(triples(BLOCK_DOCS + 500, 3)))),
    ];
    const blocks = new Map<string, MergingBlock>();
    const blockOfTerm = (term: string, grp: number) => {
      const key = `${term}/${grp}`;
      if (!blocks.has(key)) blocks.set(key, { term, grp, pieces: [], added: NO_TRIPLES });
      return blocks.get(key)!;
    };
    for (const row of rows) readPendingRow(row, blockOfTerm);
    expect([...blocks.keys()]).toEqual(['~tôt/0', '~tôt/1', 'coffe/1']);
    // The batch's own postings come after the pending ones.
    const batch = triples(BLOCK_DOCS + 900, 2);
    blocks.get('coffe/1')!.added = batch;
    const all = [...crossing, ...later, ...triples(BLOCK_DOCS + 500, 3), ...batch];
    for (const [key, block] of blocks) {
      const own = [];
      for (let i = 0; i < all.length; i += 3) {
        const term = key.startsWith('coffe') ? i >= crossing.length : i < crossing.length;
        if (term && blockOf(all[i]!) === block.grp) own.push(all[i]!, all[i + 1]!, all[i + 2]!);
      }
      const packed = new PackedRows(0);
      expect(packed.postings(block, 3)).toBe(own[own.length - 3]);
      expect(packed.data()).toEqual(encodeTriples(own, 3));
    }
  });

  it('spells Postgres array literals with every text quoted', () => {
    expect(textArray(['a', 'b,c', 'd"e', 'f\\g', '{}'])).toBe('{"a","b,c","d\\"e","f\\\\g","{}"}');
    expect(intArray([1, 20, 300])).toBe('{1,20,300}');
    expect(textArray([])).toBe('{}');
  });
});
