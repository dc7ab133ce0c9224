import { describe, expect, it } from 'vitest';
import {
  appendToShard,
  decodeShard,
  encodeShard,
  MAX_GROUP_SLOTS,
  packPosting,
  packShard,
  type ShardPostings,
  unpackShard,
} from '../../src/backends/indexeddb/text-shards.js';

function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Postings of a few random terms (some sharing prefixes, some marked as words) on slots from `first`. */
function somePostings(next: () => number, first: number): ShardPostings {
  const postings: ShardPostings = new Map();
  const terms = ['a', 'ab', 'abc', 'b', '~ab', '~abd', 'zz', 'z', 'kiwi', 'ki'];
  for (let slot = first; slot < first + 1 + Math.floor(next() * 6); slot++) {
    for (const term of terms) {
      if (next() < 0.3)
        postings.set(term, [...(postings.get(term) ?? []), packPosting(slot, 1 + (slot % 3))]);
    }
  }
  if (next() < 0.2) postings.set('empty', []);
  return postings;
}

describe('appendToShard', () => {
  it('equals decoding the row, appending each list and encoding again', () => {
    const next = random(7);
    for (let round = 0; round < 300; round++) {
      const stored = encodeShard(3, somePostings(next, 0));
      const added = somePostings(next, 100);
      const expected = decodeShard(stored);
      for (const [term, list] of added) expected.set(term, [...(expected.get(term) ?? []), ...list]);
      const appended = appendToShard(stored, added);
      expect(appended).toEqual(encodeShard(3, expected));
      expect(decodeShard(appended)).toEqual(decodeShard(encodeShard(3, expected)));
    }
  });
});

describe('packShard / unpackShard (the stored row, schema v9)', () => {
  it('give back every row exactly, in less than half the bytes', () => {
    const next = random(11);
    let words = 0;
    let bytes = 0;
    for (let round = 0; round < 300; round++) {
      const row = appendToShard(encodeShard(round, somePostings(next, 0)), somePostings(next, 40));
      const stored = packShard(row);
      expect(Object.keys(stored).sort()).toEqual(['bytes', 'group', 'terms']);
      expect(stored.bytes).toBeInstanceOf(Uint8Array);
      expect(unpackShard(stored)).toEqual(row);
      words += row.data.byteLength;
      bytes += stored.bytes.byteLength;
    }
    expect(bytes * 2).toBeLessThan(words);
  });

  it('keep the extremes: the last slot of a group, tf at its cap, far gaps and an empty row', () => {
    const last = MAX_GROUP_SLOTS - 1;
    const postings: ShardPostings = new Map([
      ['far', [packPosting(0, 1), packPosting(last, 1)]],
      ['many', [packPosting(5, 0xffff), packPosting(6, 2), packPosting(300, 1)]],
      ['one', [packPosting(last, 70_000)]],
    ]);
    const row = encodeShard(9, postings);
    expect(unpackShard(packShard(row))).toEqual(row);
    expect(decodeShard(unpackShard(packShard(row))).get('one')).toEqual([packPosting(last, 0xffff)]);
    const empty = encodeShard(2, new Map());
    expect(unpackShard(packShard(empty))).toEqual(empty);
  });

  it('sort a list out of slot order and refuse one slot twice', () => {
    const row = encodeShard(1, new Map([['t', [packPosting(7, 1), packPosting(3, 2)]]]));
    expect(decodeShard(unpackShard(packShard(row))).get('t')).toEqual([packPosting(3, 2), packPosting(7, 1)]);
    const twice = encodeShard(1, new Map([['t', [packPosting(3, 1), packPosting(3, 2)]]]));
    expect(() => packShard(twice)).toThrow(/STORAGE|slot 3 twice/);
    try {
      packShard(twice);
    } catch (error) {
      expect((error as { code?: string }).code).toBe('STORAGE');
    }
  });

  it('turn a corrupt stored row into a STORAGE error, never a wrong list or a hang', () => {
    const row = encodeShard(
      4,
      new Map([
        ['a', [packPosting(1, 1), packPosting(9, 3)]],
        ['b', [packPosting(2, 1)]],
      ]),
    );
    const stored = packShard(row);
    const cut = { ...stored, bytes: stored.bytes.slice(0, -1) };
    const longer = { ...stored, bytes: Uint8Array.from([...stored.bytes, 0]) };
    const endless = { ...stored, bytes: new Uint8Array(16).fill(0xff) };
    const tooFar = { ...stored, terms: 'a', bytes: Uint8Array.from([1, 0xff, 0xff, 0x07]) };
    for (const bad of [cut, longer, endless, tooFar]) {
      expect(() => unpackShard(bad)).toThrow(/corrupt shard row of group 4/);
    }
  });

  it('refuse a posting one slot past the group, which a 32-bit posting would read as slot 0', () => {
    // One term, one posting at distance 65536 from slot -1 (varint 0x80 0x80 0x08, tf 1): slot 65536.
    const stored = { group: 4, terms: 'a', bytes: Uint8Array.from([1, 0x80, 0x80, 0x08]) };
    expect(() => unpackShard(stored)).toThrow(/group 4: term 0 names slot 65536, past the group/);
    // The last slot of the group (distance 65535) is still read.
    const last = { group: 4, terms: 'a', bytes: Uint8Array.from([1, 0xfe, 0xff, 0x07]) };
    expect(decodeShard(unpackShard(last)).get('a')).toEqual([packPosting(MAX_GROUP_SLOTS - 1, 1)]);
  });
});
