import { describe, expect, it } from 'vitest';
import {
  appendToShard,
  decodeShard,
  encodeShard,
  packPosting,
  type ShardPostings,
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
