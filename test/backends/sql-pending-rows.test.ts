import { describe, expect, it } from 'vitest';
import { intArray, PackedRows, textArray } from '../../src/backends/sql/pending-rows.js';
import { encodeTriples, putVarint } from '../../src/backends/sql/posting-blocks.js';

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

  it('spells Postgres array literals with every text quoted', () => {
    expect(textArray(['a', 'b,c', 'd"e', 'f\\g', '{}'])).toBe('{"a","b,c","d\\"e","f\\\\g","{}"}');
    expect(intArray([1, 20, 300])).toBe('{1,20,300}');
    expect(textArray([])).toBe('{}');
  });
});
