import { describe, expect, it } from 'vitest';
import type { SearchHit } from '../../src/index.js';
import { expectError, ids, type SuiteContext } from './harness.js';

function bm25(tf: number, length: number, df: number, docs: number, avgdl: number): number {
  const idf = Math.log(1 + (docs - df + 0.5) / (df + 0.5));
  return (idf * tf * 2.2) / (tf + 1.2 * (1 - 0.3 + (0.3 * length) / avgdl));
}

export function searchCases(ctx: SuiteContext): void {
  describe('search', () => {
    it('scores with BM25 exactly', async () => {
      const mem = await ctx.memory();
      const [d1, d2] = await mem.addMany([
        { content: 'apple banana' },
        { content: 'apple apple cherry' },
        { content: 'banana' },
      ]);
      const hits = await mem.search('apple');
      const avgdl = 6 / 3;
      expect(ids(hits)).toEqual([d2!.id, d1!.id]);
      expect(hits[0]!.score).toBeCloseTo(bm25(2, 3, 2, 3, avgdl), 12);
      expect(hits[1]!.score).toBeCloseTo(bm25(1, 2, 2, 3, avgdl), 12);
    });

    it('sums term scores and ranks the better match first', async () => {
      const mem = await ctx.memory();
      const [both, one] = await mem.addMany([
        { content: 'the user prefers dark roast coffee' },
        { content: 'the user drinks tea in the morning' },
        { content: 'coffee' },
      ]);
      const hits = await mem.search('user coffee');
      expect(hits.map((h) => h.memory.id)).toContain(both!.id);
      expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[1]!.score);
      for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
      expect(ids(hits)).toContain(one!.id);
    });

    it("adds a quarter of a stop word's BM25 beside content words, and its full weight alone", async () => {
      const mem = await ctx.memory();
      const [theCat, cat, theThe] = await mem.addMany([
        { content: 'the cat' },
        { content: 'cat' },
        { content: 'the the dog' },
      ]);
      const avgdl = 6 / 3;
      const refined = await mem.search('the cat');
      expect(ids(refined)).toEqual([theCat!.id, cat!.id]);
      expect(refined[0]!.score).toBeCloseTo(bm25(1, 2, 2, 3, avgdl) + 0.25 * bm25(1, 2, 2, 3, avgdl), 12);
      expect(refined[1]!.score).toBeCloseTo(bm25(1, 1, 2, 3, avgdl), 12);
      const alone = await mem.search('the');
      expect(ids(alone)).toEqual([theThe!.id, theCat!.id]);
      expect(alone[0]!.score).toBeCloseTo(bm25(2, 3, 2, 3, avgdl), 12);
    });

    it('stems: "running" finds "run" and "runs"', async () => {
      const mem = await ctx.memory();
      const [a, b] = await mem.addMany([
        { content: 'I run every morning' },
        { content: 'She runs marathons' },
        { content: 'walking' },
      ]);
      expect(ids(await mem.search('running')).sort()).toEqual([a!.id, b!.id].sort());
    });

    it('matches prefixes with auth*', async () => {
      const mem = await ctx.memory();
      const [a, b] = await mem.addMany([
        { content: 'authentication uses OAuth' },
        { content: 'the author wrote it' },
        { content: 'unrelated text' },
      ]);
      expect(ids(await mem.search('auth*')).sort()).toEqual([a!.id, b!.id].sort());
    });

    it('matches exact phrases only when adjacent', async () => {
      const mem = await ctx.memory();
      const [adjacent] = await mem.addMany([
        { content: 'she loves dark chocolate' },
        { content: 'dark rooms and chocolate cake' },
      ]);
      expect(ids(await mem.search('"dark chocolate"'))).toEqual([adjacent!.id]);
    });

    it('excludes -words', async () => {
      const mem = await ctx.memory();
      const [keep] = await mem.addMany([
        { content: 'python snake facts' },
        { content: 'python programming language' },
      ]);
      expect(ids(await mem.search('python -programming'))).toEqual([keep!.id]);
    });

    it('orders equal scores by id descending', async () => {
      const mem = await ctx.memory();
      await mem.addMany([
        { id: 'm-a', content: 'identical words' },
        { id: 'm-c', content: 'identical words' },
        { id: 'm-b', content: 'identical words' },
      ]);
      const hits = await mem.search('identical');
      expect(ids(hits)).toEqual(['m-c', 'm-b', 'm-a']);
      expect(new Set(hits.map((h) => h.score)).size).toBe(1);
    });

    it('filters by kind and tags', async () => {
      const mem = await ctx.memory();
      const [fact, , tagged] = await mem.addMany([
        { content: 'espresso machine', kind: 'fact' },
        { content: 'espresso beans', kind: 'preference' },
        { content: 'espresso cup', kind: 'fact', tags: ['kitchen'] },
      ]);
      expect(ids(await mem.search('espresso', { kind: 'fact' })).sort()).toEqual(
        [fact!.id, tagged!.id].sort(),
      );
      expect(ids(await mem.search('espresso', { tags: ['kitchen'] }))).toEqual([tagged!.id]);
    });

    it('respects limit, defaulting to 10', async () => {
      const mem = await ctx.memory();
      await mem.addMany(Array.from({ length: 15 }, (_, i) => ({ content: `common word ${i}` })));
      expect(await mem.search('common')).toHaveLength(10);
      expect(await mem.search('common', { limit: 3 })).toHaveLength(3);
    });

    it('reads past the first candidates a filter rejects, and never returns more than limit', async () => {
      const mem = await ctx.memory();
      await mem.addMany(
        Array.from({ length: 24 }, (_, i) => ({ content: `coffee note ${i}`, metadata: { turn: i % 4 } })),
      );
      const picked = await mem.search('coffee', { metadata: { turn: 0 }, limit: 5 });
      expect(picked.map((h) => h.memory.metadata.turn)).toEqual([0, 0, 0, 0, 0]);
      // Searches that rejected most of what they read make the next ones read ahead.
      for (let i = 0; i < 3; i++) await mem.search('coffee', { metadata: { turn: 1 }, limit: 1 });
      expect(await mem.search('coffee', { limit: 3 })).toHaveLength(3);
    });

    it('returns nothing when nothing matches', async () => {
      const mem = await ctx.memory();
      await mem.add({ content: 'something' });
      expect(await mem.search('absent')).toEqual([]);
    });

    it('ignores case and diacritics', async () => {
      const mem = await ctx.memory();
      const m = await mem.add({ content: 'Café au lait in MÜNCHEN' });
      expect(ids(await mem.search('cafe muenchen munchen'))).toEqual([m.id]);
    });

    it('finds nothing for a query with only exclusions, without throwing (typed on the way to more)', async () => {
      const mem = await ctx.memory();
      await mem.add({ content: 'Something else entirely' });
      expect(await mem.search('-nothing -else')).toEqual([]);
      expect(await mem.search('-"else entirely"', { match: 'all', explain: true })).toEqual([]);
    });
  });

  describe('vector and hybrid search', () => {
    it('ranks by exact cosine similarity', async () => {
      const mem = await ctx.memory();
      const [east, north, northeast] = await mem.addMany([
        { content: 'east', embedding: [1, 0] },
        { content: 'north', embedding: [0, 1] },
        { content: 'northeast', embedding: [1, 1] },
        { content: 'no vector' },
      ]);
      const hits = await mem.search('', { vector: [1, 0.2] });
      expect(ids(hits)).toEqual([east!.id, northeast!.id, north!.id]);
      expect(hits[0]!.score).toBeCloseTo(1 / Math.sqrt(1.04), 12);
    });

    it('rejects a query vector of another length', async () => {
      const mem = await ctx.memory();
      await mem.add({ content: 'x', embedding: [1, 0, 0] });
      await expectError(mem.search('', { vector: [1, 0] }), 'VALIDATION', 'vector');
    });

    it('takes a Float32Array or Float64Array (what embedders return) as a vector or an embedding', async () => {
      const mem = await ctx.memory();
      const [east, north] = await mem.addMany([
        { content: 'east', embedding: new Float32Array([1, 0]) },
        { content: 'north', embedding: new Float64Array([0, 1]) },
      ]);
      const northeast = await mem.add({ content: 'northeast', embedding: new Float32Array([0.5, 0.5]) });
      // Kept as the plain numbers they hold, like an array's, on every store and through JSON.
      for (const [memory, expected] of [
        [east!, [1, 0]],
        [north!, [0, 1]],
        [northeast, [0.5, 0.5]],
      ] as const) {
        expect(memory.embedding).toEqual(expected);
        const read = await mem.get(memory.id);
        expect(Array.isArray(read?.embedding)).toBe(true);
        expect(read?.embedding).toEqual(expected);
      }
      const hits = await mem.search('', { vector: new Float32Array([1, 0.25]) });
      expect(ids(hits)).toEqual([east!.id, northeast.id, north!.id]);
      expect(hits).toEqual(await mem.search('', { vector: [1, 0.25] }));
      expect(await mem.search('', { vector: new Float64Array([0.3, 0.7]) })).toEqual(
        await mem.search('', { vector: [0.3, 0.7] }),
      );
      const updated = await mem.update(north!.id, { embedding: new Float32Array([0, -1]) });
      expect(updated.embedding).toEqual([0, -1]);
      expect((await mem.get(north!.id))?.embedding).toEqual([0, -1]);
      // Checked as an array is: its length against the stored ones, each number finite, 1 to 4096 of them.
      await expectError(mem.search('', { vector: new Float32Array([1, 0, 0]) }), 'VALIDATION', 'vector');
      await expectError(
        mem.search('', { vector: new Float32Array([1, Number.NaN]) }),
        'VALIDATION',
        'search.vector.1',
      );
      await expectError(
        mem.add({ content: 'x', embedding: new Float64Array([Number.POSITIVE_INFINITY, 0]) }),
        'VALIDATION',
        'add.embedding.0',
      );
      await expectError(
        mem.add({ content: 'x', embedding: new Float32Array(0) }),
        'VALIDATION',
        'add.embedding',
      );
      await expectError(
        mem.update(east!.id, { embedding: new Float32Array(4097) }),
        'VALIDATION',
        'update.patch.embedding',
      );
      // Other typed arrays are not vectors of floats: refused, named, not read as numbers.
      await expectError(
        mem.add({ content: 'x', embedding: new Int8Array([1, 0]) as never }),
        'VALIDATION',
        'add.embedding',
      );
      expect(await mem.count()).toBe(3);
      expect((await mem.get(east!.id))?.embedding).toEqual([1, 0]);
    });

    it('filters vector results by kind', async () => {
      const mem = await ctx.memory();
      const [, wanted] = await mem.addMany([
        { content: 'a', embedding: [1, 0], kind: 'note' },
        { content: 'b', embedding: [0.9, 0.1], kind: 'fact' },
      ]);
      expect(ids(await mem.search('', { vector: [1, 0], kind: 'fact' }))).toEqual([wanted!.id]);
    });

    it('hybrid puts the item ranked well in both lists first', async () => {
      const mem = await ctx.memory();
      const [textOnly, both, vectorOnly] = await mem.addMany([
        { content: 'solar panels on the roof', embedding: [0, 1] },
        { content: 'solar power storage', embedding: [0.9, 0.1] },
        { content: 'battery chemistry', embedding: [1, 0] },
      ]);
      const hits = await mem.search('solar', { vector: [1, 0], mode: 'hybrid' });
      expect(hits[0]!.memory.id).toBe(both!.id);
      expect(ids(hits).sort()).toEqual([textOnly!.id, both!.id, vectorOnly!.id].sort());
    });

    it('hybrid fuses more than limit from each list: second in both beats first in one at limit 1', async () => {
      const mem = await ctx.memory();
      const [, both] = await mem.addMany([
        { content: 'solar solar solar' },
        { content: 'solar panels on the roof', embedding: [0.9, 0.1] },
        { content: 'battery chemistry', embedding: [1, 0] },
      ]);
      const hits = await mem.search('solar', { vector: [1, 0], mode: 'hybrid', limit: 1 });
      expect(ids(hits)).toEqual([both!.id]);
    });

    it('hybrid orders equal fused scores by id descending', async () => {
      const mem = await ctx.memory();
      // Each of the two is first in one list only (the text hit has no embedding, the vector hit not the
      // word): both fuse to the same score, whichever list holds the higher id.
      await mem.addMany([
        { id: 'm-a', content: 'solar panels' },
        { id: 'm-b', content: 'battery chemistry', embedding: [1, 0] },
        { id: 'm-c', content: 'solar roof' },
        { id: 'm-d', content: 'wind turbines', embedding: [0, 1] },
      ]);
      const tied = async (query: string, vector: number[]) => {
        const hits = await mem.search(query, { vector, mode: 'hybrid', limit: 2 });
        expect(hits[0]!.score).toBe(hits[1]!.score);
        return ids(hits);
      };
      expect(await tied('panels', [1, 0])).toEqual(['m-b', 'm-a']);
      expect(await tied('roof', [1, 0])).toEqual(['m-c', 'm-b']);
    });

    it('filters text, vector and hybrid hits by createdAt with since (inclusive) and until (exclusive), as list does', async () => {
      let now = Date.parse('2030-05-01T00:00:00.000Z');
      const mem = await ctx.memory({ now: () => now });
      const made = [];
      for (let day = 0; day < 4; day++) {
        made.push(await mem.add({ content: `coffee on day ${day}`, embedding: [1, day / 10] }));
        now += 86_400_000;
      }
      const window = { since: made[1]!.createdAt, until: made[3]!.createdAt };
      const days = (hits: SearchHit[]) => hits.map((h) => h.memory.content.slice(-1)).sort();
      expect(days(await mem.search('coffee', window))).toEqual(['1', '2']);
      expect(days(await mem.search('', { vector: [1, 0], ...window }))).toEqual(['1', '2']);
      expect(days(await mem.search('coffee', { vector: [1, 0], mode: 'hybrid', ...window }))).toEqual([
        '1',
        '2',
      ]);
      expect(days(await mem.search('coffee', { since: made[3]!.createdAt }))).toEqual(['3']);
      expect(days(await mem.search('coffee', { until: made[0]!.createdAt }))).toEqual([]);
      expect(await mem.context('coffee', { until: made[1]!.createdAt })).toBe('- coffee on day 0');
      expect(await mem.context('', window)).toBe('- coffee on day 2\n- coffee on day 1');
      await expectError(mem.search('coffee', { since: 'yesterday' }), 'VALIDATION', 'search.since');
    });

    it('hybrid leaves out of its vector hits what the query excludes, as its text hits do', async () => {
      const mem = await ctx.memory();
      const [plain, decaf, oat, , preview] = await mem.addMany([
        { content: 'Coffee, black, every morning', embedding: [1, 0] },
        { content: 'Switched to decaf after lunch', embedding: [0.99, 0.1] },
        { content: 'Oat milk in the afternoon', embedding: [0.98, 0.2] },
        { content: 'Tea with lemon', embedding: [0, 1] },
        { content: 'Tried the espresso previews', embedding: [0.97, 0.25] },
      ]);
      const hybrid = (query: string) => mem.search(query, { vector: [1, 0], mode: 'hybrid' });
      // Without exclusions the vector half brings every memory near the vector.
      expect(ids(await hybrid('coffee'))).toEqual(expect.arrayContaining([decaf!.id, oat!.id, preview!.id]));
      const left = ids(await hybrid('coffee -decaf -"oat milk" -preview*'));
      expect(left).toContain(plain!.id);
      expect(left).not.toContain(decaf!.id);
      expect(left).not.toContain(oat!.id);
      expect(left).not.toContain(preview!.id);
      // Each kind of exclusion alone leaves its memories out of the vector half too: a phrase, and one CJK
      // character, which leaves out every memory holding it inside a pair (猫咪) as a text search does.
      expect(ids(await hybrid('coffee -"oat milk"'))).not.toContain(oat!.id);
      // A phrase's words held apart or in another order leave nothing out, as in a text search.
      expect(ids(await hybrid('coffee -"milk oat"'))).toContain(oat!.id);
      const cat = await mem.add({ content: '咖啡和猫咪', embedding: [0.96, 0.3] });
      expect(ids(await hybrid('coffee'))).toContain(cat.id);
      expect(ids(await mem.search('猫'))).toEqual([cat.id]);
      expect(ids(await hybrid('coffee -猫'))).not.toContain(cat.id);
      // Exclusions alone: nothing to rank by text, the vector hits without what they leave out.
      const without = ids(await hybrid('-decafs -espresso'));
      expect(without).toEqual(expect.arrayContaining([plain!.id, oat!.id]));
      expect(without).not.toContain(decaf!.id);
      expect(without).not.toContain(preview!.id);
      // A vector search has no text to exclude by: its query is the vector alone.
      expect(ids(await mem.search('', { vector: [1, 0] }))).toContain(decaf!.id);
    });
  });
}
