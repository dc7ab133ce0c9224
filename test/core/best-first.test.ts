import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bestFirst } from '../../src/core/best-first.js';
import { compareCandidates } from '../../src/core/text/index.js';
import { propertySeed } from '../setup/property-seed.js';

describe('bestFirst', () => {
  it('yields exactly the fully sorted order, ties by id descending', () => {
    const candidate = fc.record({
      id: fc.string({ maxLength: 4 }),
      score: fc.constantFrom(0, 0.5, 1, 2.25, 3),
    });
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 200 }), (items) => {
        const expected = [...items].sort(compareCandidates);
        expect([...bestFirst([...items], compareCandidates)]).toEqual(expected);
      }),
      { ...propertySeed('CORE_PROPERTY_SEED', 20_261_206) },
    );
  });

  it('orders only what is read', () => {
    let comparisons = 0;
    const items = Array.from({ length: 10_000 }, (_, i) => ({ id: String(i), score: (i * 7919) % 10_007 }));
    const counting = (a: (typeof items)[number], b: (typeof items)[number]) => {
      comparisons++;
      return compareCandidates(a, b);
    };
    const top = [];
    for (const item of bestFirst(items, counting)) {
      top.push(item);
      if (top.length === 10) break;
    }
    expect(top.map((t) => t.score)).toEqual([
      10_006, 10_005, 10_004, 10_003, 10_002, 10_001, 10_000, 9_999, 9_998, 9_997,
    ]);
    expect(comparisons).toBeLessThan(10_000 * 3);
  });
});
