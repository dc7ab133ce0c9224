import { describe, expect, it } from 'vitest';
import {
  BLOCK_DOCS,
  blockOf,
  concatBytes,
  decodeBlock,
  decodeInto,
  encodeBlock,
  lastDoc,
} from '../../src/backends/sql/posting-blocks.js';
import { putVarint, VarintReader } from '../../src/backends/varint.js';

describe('SQL posting blocks (codec)', () => {
  const postings = [
    { doc: 0, tf: 1, len: 3 },
    { doc: 5, tf: 200, len: 70_000 },
    { doc: 4095, tf: 2, len: 1 },
    { doc: 2 ** 40, tf: 1, len: 0 },
  ];

  it('reads a number cut at the end, or longer than any safe integer, as a STORAGE error, never for ever', () => {
    const block = encodeBlock(postings);
    for (const corrupt of [
      new Uint8Array([0x80]),
      concatBytes(block, new Uint8Array([0x81])),
      block.subarray(0, block.length - 1),
      new Uint8Array(9).fill(0xff),
    ]) {
      expect(() => decodeBlock(corrupt)).toThrow(expect.objectContaining({ code: 'STORAGE' }));
      expect(() => lastDoc(corrupt)).toThrow(/corrupt text index/);
    }
    // The largest numbers a block holds still read: 2^53 - 1 takes 8 bytes.
    const out = new Uint8Array(8);
    expect(putVarint(out, 0, Number.MAX_SAFE_INTEGER)).toBe(8);
    expect(new VarintReader(out).next()).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('round-trips postings, large numbers included', () => {
    expect(decodeBlock(encodeBlock(postings))).toEqual(postings);
    expect(decodeBlock(encodeBlock([]))).toEqual([]);
    expect(lastDoc(encodeBlock(postings))).toBe(2 ** 40);
    expect(lastDoc(new Uint8Array(0))).toBe(-1);
  });

  it('decodes blocks one after another into the same arrays, as a search reads a term', () => {
    const more = [
      { doc: 7, tf: 3, len: 128 },
      { doc: 2 ** 40 + 1, tf: 16_384, len: 2 ** 31 },
    ];
    const blocks = [encodeBlock(postings), encodeBlock(more), encodeBlock([])];
    const room = blocks.reduce((sum, b) => sum + Math.floor(b.length / 3), 0);
    const into = { docs: new Float64Array(room), tfs: new Uint32Array(room), lengths: new Uint32Array(room) };
    let count = 0;
    for (const block of blocks) count = decodeInto(block, into, count);
    expect(count).toBe(6);
    const decoded = Array.from({ length: count }, (_, at) => ({
      doc: into.docs[at],
      tf: into.tfs[at],
      len: into.lengths[at],
    }));
    expect(decoded).toEqual([...postings, ...more]);
  });

  it('packs a posting in a few bytes: the document delta doubled (+1 when tf follows), tf above 1, length', () => {
    expect([...encodeBlock([{ doc: 0, tf: 1, len: 3 }])]).toEqual([0, 3]);
    expect([
      ...encodeBlock([
        { doc: 1, tf: 1, len: 3 },
        { doc: 3, tf: 1, len: 130 },
        { doc: 5, tf: 2, len: 4 },
        { doc: 70, tf: 300, len: 1 },
      ]),
    ]).toEqual([2, 3, 4, 0x82, 0x01, 5, 2, 4, 0x83, 0x01, 0xac, 0x02, 1]);
  });

  it('reads back document numbers past 2^31 and 2^32, and counts of every size', () => {
    const big = [
      { doc: 2 ** 31 - 1, tf: 1, len: 7 },
      { doc: 2 ** 31 + 3, tf: 5, len: 2 ** 20 },
      { doc: 2 ** 33 + 1, tf: 2 ** 31 + 9, len: 1 },
      { doc: 2 ** 33 + 2, tf: 1, len: 0 },
    ];
    const bytes = encodeBlock(big);
    expect(decodeBlock(bytes)).toEqual(big);
    const arrays = { docs: new Float64Array(4), tfs: new Uint32Array(4), lengths: new Uint32Array(4) };
    expect(decodeInto(bytes, arrays, 0)).toBe(4);
    expect([...arrays.docs]).toEqual(big.map((p) => p.doc));
    expect([...arrays.tfs]).toEqual(big.map((p) => p.tf));
    expect([...arrays.lengths]).toEqual(big.map((p) => p.len));
  });

  it('appends: bytes encoded after the last document continue the block as if encoded whole', () => {
    const head = encodeBlock(postings.slice(0, 2));
    const tail = encodeBlock(postings.slice(2), lastDoc(head));
    expect(concatBytes(head, tail)).toEqual(encodeBlock(postings));
  });

  it('writes varints as LEB128, seven bits a byte lowest first, up to the largest safe integer', () => {
    const leb128 = (value: number) => {
      const out: number[] = [];
      for (; value >= 128; value = Math.floor(value / 128)) out.push((value % 128) + 128);
      return [...out, value];
    };
    const values = [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 28 - 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5];
    values.push(2 ** 40 + 12_345, Number.MAX_SAFE_INTEGER);
    const out = new Uint8Array(16);
    for (const value of values) {
      const end = putVarint(out, 3, value);
      expect([...out.subarray(3, end)], String(value)).toEqual(leb128(value));
      const reader = new VarintReader(out);
      reader.at = 3;
      expect(reader.next()).toBe(value);
    }
  });

  it('groups document numbers by BLOCK_DOCS', () => {
    expect(blockOf(0)).toBe(0);
    expect(blockOf(BLOCK_DOCS - 1)).toBe(0);
    expect(blockOf(BLOCK_DOCS)).toBe(1);
  });
});
