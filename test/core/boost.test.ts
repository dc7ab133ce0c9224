import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyBoost, boostContributions } from '../../src/core/boost.js';
import { explainedScore } from '../../src/core/explain.js';
import type { Memory } from '../../src/core/model.js';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { propertySeed } from '../setup/property-seed.js';

const DAY = 86_400_000;
const NOW = Date.parse('2024-06-01T00:00:00Z');

function memory(id: string, ageDays: number, importance?: number): Memory {
  const at = new Date(NOW - ageDays * DAY).toISOString();
  return {
    id,
    namespace: 'default',
    content: id,
    kind: 'note',
    tags: [],
    metadata: {},
    createdAt: at,
    updatedAt: at,
    ...(importance === undefined ? {} : { importance }),
  };
}

async function seeded() {
  const mem = await createMemory({ store: new InMemoryStore() });
  // BM25 scores of a few words are above 1, so a weight of 1e308 times one overflowed to Infinity.
  await mem.add({ content: 'coffee coffee coffee', importance: 1 });
  await mem.add({ content: 'tea and a note on coffee, among other words', importance: 0.2 });
  return mem;
}

describe('boost weights', () => {
  it.each([
    [{ importance: 1e308 }, 'search.boost.importance', /from 0 to 100/],
    [{ importance: 101 }, 'search.boost.importance', /from 0 to 100/],
    [{ recency: { halfLifeDays: 30, weight: 1e308 } }, 'search.boost.recency.weight', /from 0 to 100/],
    [{ recency: { halfLifeDays: 1e308 } }, 'search.boost.recency.halfLifeDays', /from 0\.001 to 36500/],
    [{ recency: { halfLifeDays: 1e-9 } }, 'search.boost.recency.halfLifeDays', /from 0\.001 to 36500/],
    [{ recency: { halfLifeDays: 0 } }, 'search.boost.recency.halfLifeDays', /from 0\.001 to 36500/],
  ])('refuses %j outside the documented range, naming %s', async (boost, field, message) => {
    const mem = await seeded();
    const error = await mem.search('coffee', { boost }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION', field });
    expect((error as Error).message).toMatch(message);
    await mem.close();
  });

  it('keeps every score finite at the bounds, and JSON keeps them as numbers', async () => {
    const mem = await seeded();
    const boost = { recency: { halfLifeDays: 0.001, weight: 100 }, importance: 100 };
    for (const b of [boost, { recency: { halfLifeDays: 36_500, weight: 100 }, importance: 100 }]) {
      const hits = await mem.search('coffee', { boost: b, explain: true });
      expect(hits).toHaveLength(2);
      for (const hit of hits) {
        expect(Number.isFinite(hit.score)).toBe(true);
        expect(JSON.parse(JSON.stringify(hit)).score).toBe(hit.score);
        for (const part of Object.values(hit.explain?.boosts ?? {})) expect(Number.isFinite(part)).toBe(true);
      }
    }
    await mem.close();
  });

  it('gives finite contributions for any weights in range and any finite relevance a ranking gives', () => {
    const weight = fc.double({ min: 0, max: 100, noNaN: true });
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        weight,
        weight,
        fc.double({ min: 0.001, max: 36_500, noNaN: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (relevance, recencyWeight, importanceWeight, halfLifeDays, ageDays, importance) => {
          const boost = { recency: { halfLifeDays, weight: recencyWeight }, importance: importanceWeight };
          const parts = boostContributions(memory('m', ageDays, importance), relevance, boost, NOW);
          for (const part of Object.values(parts)) expect(Number.isFinite(part)).toBe(true);
          const hits = [{ memory: memory('m', ageDays, importance), score: relevance }];
          expect(Number.isFinite(applyBoost(hits, boost, NOW, 1)[0]!.hit.score)).toBe(true);
        },
      ),
      { numRuns: 500, ...propertySeed('CORE_PROPERTY_SEED', 20_261_206) },
    );
  });
});

describe('boosts in a search', () => {
  it('reports each boost as a part of explain, the parts adding up to the boosted score', async () => {
    const mem = await seeded();
    const plain = new Map((await mem.search('coffee')).map((h) => [h.memory.id, h.score]));
    const hits = await mem.search('coffee', {
      explain: true,
      boost: { recency: { halfLifeDays: 30 }, importance: true },
    });
    expect(hits).toHaveLength(2);
    for (const hit of hits) {
      expect(Object.keys(hit.explain!.boosts!).sort()).toEqual(['importance', 'recency']);
      expect(hit.score).toBeGreaterThan(plain.get(hit.memory.id)!);
      expect(Math.abs(explainedScore(hit.explain!) - hit.score)).toBeLessThan(1e-9);
    }
    await mem.close();
  });

  it('lifts a 30-day-old fact by 25% at the default weight and a 30-day half life', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), now: () => NOW });
    await mem.add({ content: 'coffee at noon', validFrom: new Date(NOW - 30 * DAY).toISOString() });
    const [plain] = await mem.search('coffee');
    const [boosted] = await mem.search('coffee', { boost: { recency: { halfLifeDays: 30 } } });
    expect(boosted!.score).toBeCloseTo(plain!.score * 1.25, 9);
    await mem.close();
  });

  it('leaves a boost turned off out of the score and of explain', async () => {
    const mem = await seeded();
    const plain = await mem.search('coffee', { explain: true });
    const off = await mem.search('coffee', { explain: true, boost: { importance: false } });
    expect(off.map((h) => h.score)).toEqual(plain.map((h) => h.score));
    for (const hit of off) expect(hit.explain!.boosts).toEqual({});
    await mem.close();
  });

  it('lifts a memory valid only from a later date (found with history) by at most the weight', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const later = await mem.add({ content: 'coffee on the new menu', validFrom: '2999-01-01T00:00:00Z' });
    const [plain] = await mem.search('coffee', { history: true });
    expect(plain!.memory.id).toBe(later.id);
    const [boosted] = await mem.search('coffee', {
      history: true,
      explain: true,
      boost: { recency: { halfLifeDays: 1, weight: 2 } },
    });
    // A memory not valid yet has no negative age: it counts as new, lifted by the full weight and no more.
    expect(boosted!.explain!.boosts!.recency).toBeCloseTo(plain!.score * 2, 9);
    await mem.close();
  });

  it('keeps equal boosted scores by id descending', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    await mem.addMany([
      { id: 'm-a', content: 'green tea', importance: 0.5 },
      { id: 'm-c', content: 'green tea', importance: 0.5 },
      { id: 'm-b', content: 'green tea', importance: 0.5 },
    ]);
    const hits = await mem.search('tea', { boost: { importance: true } });
    expect(hits.map((h) => h.memory.id)).toEqual(['m-c', 'm-b', 'm-a']);
    expect(new Set(hits.map((h) => h.score)).size).toBe(1);
    await mem.close();
  });

  it('orders hits the boost brings to one score by id descending, whatever their order by relevance', () => {
    // 2 unboosted, and 1 lifted by importance 1 at weight 1: both end at exactly 2.
    const hits = [
      { memory: memory('m-a', 0, 0), score: 2 },
      { memory: memory('m-b', 0, 1), score: 1 },
    ];
    const ranked = applyBoost(hits, { importance: 1 }, NOW, 10);
    expect(ranked.map(({ hit }) => [hit.memory.id, hit.score])).toEqual([
      ['m-b', 2],
      ['m-a', 2],
    ]);
  });

  it('leaves the score of a memory without importance as it is', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    await mem.add({ content: 'coffee at noon' });
    const [plain] = await mem.search('coffee');
    const [boosted] = await mem.search('coffee', { boost: { importance: true } });
    expect(boosted!.score).toBe(plain!.score);
    await mem.close();
  });
});
