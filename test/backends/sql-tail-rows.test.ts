import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../bench/corpus.mjs';
import { forEachPosting } from '../../src/backends/sql/posting-blocks.js';
import { ByteArena, TailRow } from '../../src/backends/sql/tail-rows.js';

/** A row's postings read back with the block decoder, as (doc, tf, len) triples. */
const triplesOf = (bytes: Uint8Array) => {
  const out: number[] = [];
  forEachPosting(bytes, (doc, tf, len) => out.push(doc, tf, len));
  return out;
};

describe('tail rows in one arena per group', () => {
  it('keep every row intact while rows interleave, outgrow their room, move and the arena doubles', () => {
    const random = mulberry32(15);
    const arena = new ByteArena(new Uint8Array(64));
    const rows: TailRow[] = [];
    const expected: number[][] = [];
    for (let doc = 1; doc <= 4000; doc++) {
      // Some rows get a posting most documents (they grow to kilobytes), most only now and then.
      for (let r = 0; r < 300; r++) {
        if (random() > (r < 5 ? 0.9 : 0.02)) continue;
        if (!rows[r]) {
          rows[r] = TailRow.empty(arena);
          expected[r] = [];
        }
        const tf = random() < 0.8 ? 1 : 2 + Math.floor(random() * 300);
        const len = 1 + Math.floor(random() * 40);
        rows[r]!.append(doc, tf, len);
        expected[r]!.push(doc, tf, len);
      }
    }
    expect(arena.buffer.length).toBeGreaterThan(64 * 1024);
    for (let r = 0; r < rows.length; r++) {
      if (!rows[r]) continue;
      expect(triplesOf(rows[r]!.bytes), `row ${r}`).toEqual(expected[r]);
      expect(rows[r]!.last).toBe(expected[r]!.at(-3));
    }
  });

  it('a size restored after the row moved gives its bytes as they were (a rolled-back batch)', () => {
    const arena = new ByteArena();
    const row = TailRow.empty(arena);
    const other = TailRow.empty(arena);
    row.append(3, 1, 7);
    const before = { size: row.size, last: row.last, bytes: row.bytes.slice() };
    for (let doc = 4; doc < 400; doc++) {
      row.append(doc, 1, 5);
      other.append(doc, 2, 9);
    }
    row.size = before.size;
    row.last = before.last;
    expect(row.bytes).toEqual(before.bytes);
    row.append(10, 1, 4);
    expect(triplesOf(row.bytes)).toEqual([3, 1, 7, 10, 1, 4]);
    expect(triplesOf(other.bytes)).toHaveLength(396 * 3);
  });

  it('a row made from stored bytes appends after them and never writes into the array it was given', () => {
    const stored = new Uint8Array([2 * 5, 3, 2 * 2 + 1, 4, 6]);
    const copy = stored.slice();
    const row = TailRow.of(stored, 7);
    expect(triplesOf(row.bytes)).toEqual([5, 1, 3, 7, 4, 6]);
    row.append(9, 1, 2);
    expect(triplesOf(row.bytes)).toEqual([5, 1, 3, 7, 4, 6, 9, 1, 2]);
    expect(stored).toEqual(copy);
  });
});
