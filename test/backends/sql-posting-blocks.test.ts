import { describe, expect, it } from 'vitest';
import {
  BLOCK_DOCS,
  blockOf,
  concatBytes,
  decodeBlock,
  encodeBlock,
  lastDoc,
} from '../../src/backends/sql/posting-blocks.js';

describe('SQL posting blocks (codec)', () => {
  const postings = [
    { doc: 0, tf: 1, len: 3 },
    { doc: 5, tf: 200, len: 70_000 },
    { doc: 4095, tf: 2, len: 1 },
    { doc: 2 ** 40, tf: 1, len: 0 },
  ];

  it('round-trips postings, large numbers included', () => {
    expect(decodeBlock(encodeBlock(postings))).toEqual(postings);
    expect(decodeBlock(encodeBlock([]))).toEqual([]);
    expect(lastDoc(encodeBlock(postings))).toBe(2 ** 40);
    expect(lastDoc(new Uint8Array(0))).toBe(-1);
  });

  it('packs a posting in a few bytes: varints of the document delta, tf and length', () => {
    expect([...encodeBlock([{ doc: 0, tf: 1, len: 3 }])]).toEqual([0, 1, 3]);
    expect([
      ...encodeBlock([
        { doc: 1, tf: 1, len: 3 },
        { doc: 3, tf: 1, len: 130 },
      ]),
    ]).toEqual([1, 1, 3, 2, 1, 0x82, 0x01]);
  });

  it('appends: bytes encoded after the last document continue the block as if encoded whole', () => {
    const head = encodeBlock(postings.slice(0, 2));
    const tail = encodeBlock(postings.slice(2), lastDoc(head));
    expect(concatBytes(head, tail)).toEqual(encodeBlock(postings));
  });

  it('groups document numbers by BLOCK_DOCS', () => {
    expect(blockOf(0)).toBe(0);
    expect(blockOf(BLOCK_DOCS - 1)).toBe(0);
    expect(blockOf(BLOCK_DOCS)).toBe(1);
  });
});
