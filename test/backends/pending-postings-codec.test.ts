import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  matchingEntries,
  STEM_BUCKET_RANGE,
  STEM_BUCKETS,
} from '../../src/backends/sql/pending-postings.js';
import { encodeTriples } from '../../src/backends/sql/posting-blocks.js';

/** A pending row as pending-postings.ts lays it out: per term, its UTF-8 length and bytes, then its postings'. */
function row(entries: [string, number[]][]): Uint8Array {
  const bytes: number[] = [];
  for (const [term, triples] of entries) {
    const name = new TextEncoder().encode(term);
    const postings = encodeTriples(triples, 0);
    bytes.push(name.length, ...name, postings.length, ...postings);
  }
  return Uint8Array.from(bytes);
}

describe('Postgres pending list: buckets and rows', () => {
  it('buckets a stem by a hash of the whole term, a word as written by its first three characters', () => {
    for (const stem of ['coffe', 'cof', 'a', '咖啡店', '\u{1F600}x'])
      expect(bucketOf(stem)).toMatch(/^#[0-9a-f]{2}$/);
    // Terms sharing their first letters are spread (a search reads one bucket per word).
    const stems = Array.from({ length: 2000 }, (_, i) => `coffe${i}`);
    expect(new Set(stems.map(bucketOf)).size).toBe(STEM_BUCKETS);
    expect(bucketOf('coffe')).toBe(bucketOf('coffe'));
    expect(bucketOf('~coffee')).toBe('~co');
    expect(bucketOf('~a')).toBe('~a');
    expect(bucketOf('~\u{1F600}\u{1F601}z')).toBe('~\u{1F600}\u{1F601}');
    expect(bucketOf('~咖啡店')).toBe('~咖啡');
    // Stem buckets and word buckets never meet, and a stem bucket lies in the range a stem prefix reads.
    const [low, high] = STEM_BUCKET_RANGE;
    for (const stem of stems) expect(bucketOf(stem) >= low && bucketOf(stem) < high).toBe(true);
    expect(bucketOf('~coffee') >= high).toBe(true);
  });

  it('keeps only the entries of the asked terms and prefixes, compared as bytes', () => {
    const data = row([
      ['caf', [1, 1, 3]],
      ['cafe', [2, 1, 4]],
      ['cafes', [3, 2, 5]],
      ['café', [4, 1, 2]],
      ['cat', [5, 1, 1]],
    ]);
    const names = (terms: string[], prefixes: string[]) =>
      matchingEntries(terms, prefixes)(data).map(([name]) => name);
    expect(names(['cafe'], [])).toEqual(['cafe']);
    expect(names(['café', 'ca'], [])).toEqual(['café']);
    expect(names([], ['caf'])).toEqual(['caf', 'cafe', 'cafes', 'café']);
    expect(names(['cat'], ['cafe'])).toEqual(['cafe', 'cafes', 'cat']);
    const [[, postings]] = matchingEntries(['cafes'], [])(data) as [[string, Uint8Array]];
    expect([...postings]).toEqual([...encodeTriples([3, 2, 5], 0)]);
  });
});
