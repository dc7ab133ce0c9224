import { describe, expect, it } from 'vitest';
import { WeightedLru } from '../../src/backends/indexeddb/weighted-lru.js';

describe("WeightedLru (the IndexedDB searches' caches)", () => {
  it('drops the least recently used first, by weight, counting a replaced value once', () => {
    const lru = new WeightedLru<string>(10);
    lru.set('a', 'A', 4);
    lru.set('b', 'B', 4);
    expect(lru.get('a')).toBe('A'); // a is now the most recently used
    lru.set('c', 'C', 4); // 12 > 10: b, the oldest, goes
    expect([lru.has('a'), lru.has('b'), lru.has('c')]).toEqual([true, false, true]);
    lru.set('c', 'C2', 6); // replaces c: 4 + 6 = 10 fits
    expect([lru.get('a'), lru.get('c')]).toEqual(['A', 'C2']);
    lru.delete('a');
    lru.set('d', 'D', 4); // 6 + 4 = 10 fits: had a's weight not been returned, c would go
    expect([lru.has('c'), lru.has('d')]).toEqual([true, true]);
    lru.set('e', 'E', 11); // heavier than the budget: everything, itself included, goes
    expect([lru.has('c'), lru.has('d'), lru.has('e')]).toEqual([false, false, false]);
    lru.set('f', 'F', 10);
    expect(lru.get('f')).toBe('F');
    lru.clear();
    expect(lru.get('f')).toBeUndefined();
    lru.set('g', 'G', 10); // the cleared weights no longer count: the whole budget is free again
    expect(lru.get('g')).toBe('G');
  });
});
