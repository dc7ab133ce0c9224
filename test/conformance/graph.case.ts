import { describe, expect, it } from 'vitest';
import type { Engram } from '../../src/index.js';
import { formatHlc } from '../../src/store/index.js';
import { expectError, manualClock, type SuiteContext } from './harness.js';

/** a -> b -> c -> d, a -> e -> d (two shortest routes of 2 hops from a to d? no: a-e-d is 2, a-b-c-d is 3). */
async function diamond(mem: Engram) {
  const [a, b, c, d, e] = await mem.addMany(
    ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, content: `node ${id}` })),
  );
  await mem.link('a', 'b', 'next');
  await mem.link('b', 'c', 'next');
  await mem.link('c', 'd', 'next');
  await mem.link('a', 'e', 'shortcut');
  await mem.link('e', 'd', 'shortcut');
  return { a: a!, b: b!, c: c!, d: d!, e: e! };
}

const contents = (items: Array<{ id: string }> | null) => items?.map((m) => m.id) ?? null;

export function graphCases(ctx: SuiteContext): void {
  describe('graph', () => {
    it('link returns the edge with a default weight of 1', async () => {
      const mem = await ctx.memory();
      const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
      const link = await mem.link(a!.id, b!.id, 'related_to', { metadata: { why: 'test' } });
      expect(link).toMatchObject({
        namespace: mem.namespace,
        from: a!.id,
        to: b!.id,
        type: 'related_to',
        weight: 1,
        metadata: { why: 'test' },
      });
      expect(typeof link.id).toBe('string');
      expect(link.updatedAt).toBe(link.createdAt);
    });

    it('link to a missing memory is NOT_FOUND, naming the end', async () => {
      const mem = await ctx.memory();
      const a = await mem.add({ content: 'a' });
      await expectError(mem.link(a.id, 'ghost', 'rel'), 'NOT_FOUND', 'link.to');
      await expectError(mem.link('ghost', a.id, 'rel'), 'NOT_FOUND', 'link.from');
    });

    it('link to an expired memory is NOT_FOUND, naming the end', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const expiresAt = new Date(clock.now() + 3_600_000).toISOString();
      const [live, brief] = await mem.addMany([{ content: 'stays' }, { content: 'short-lived', expiresAt }]);
      clock.advance(2 * 3_600_000);
      await expectError(mem.link(live!.id, brief!.id, 'rel'), 'NOT_FOUND', 'link.to');
      await expectError(mem.link(brief!.id, live!.id, 'rel'), 'NOT_FOUND', 'link.from');
    });

    it('linking the same pair and type again updates the one link', async () => {
      const mem = await ctx.memory();
      const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
      const first = await mem.link(a!.id, b!.id, 'rel', { weight: 0.5 });
      const second = await mem.link(a!.id, b!.id, 'rel', { weight: 2 });
      expect(second.id).toBe(first.id);
      expect(second.weight).toBe(2);
      expect(await mem.links(a!.id)).toHaveLength(1);
    });

    it('linking again updates a link that a clock an hour ahead stamped', async (test) => {
      // An edge refuses stamps from the future, so a RemoteStore cannot hold any.
      if (ctx.store().kind === 'remote') test.skip();
      const mem = await ctx.memory();
      const ahead = await ctx.memory({ namespace: mem.namespace, now: () => Date.now() + 3_600_000 });
      const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
      const first = await ahead.link(a!.id, b!.id, 'rel', { weight: 0.5 });
      const second = await mem.link(a!.id, b!.id, 'rel', { weight: 2 });
      expect(second).toMatchObject({ id: first.id, weight: 2 });
      expect((await mem.links(a!.id)).map((l) => l.weight)).toEqual([2]);
    });

    it("the store's linksBetween answers only the links from the one memory to the other", async (test) => {
      const mem = await ctx.memory();
      const store = ctx.store();
      // Optional: a store without it (RemoteStore) has core filter linksOf instead.
      if (!store.linksBetween) return test.skip();
      const [a, b, c] = await mem.addMany([{ content: 'a' }, { content: 'b' }, { content: 'c' }]);
      const ab = await mem.link(a!.id, b!.id, 'rel');
      const abOther = await mem.link(a!.id, b!.id, 'other');
      await mem.link(a!.id, c!.id, 'rel');
      await mem.link(b!.id, a!.id, 'rel');
      await mem.link(c!.id, b!.id, 'rel');
      const between = await store.linksBetween(mem.namespace, a!.id, b!.id);
      expect(between.map((r) => r.link.id).sort()).toEqual([ab.id, abOther.id].sort());
    });

    it('linking the same pair and type twice at once makes one link', async () => {
      const mem = await ctx.memory();
      const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
      const both = await Promise.all([
        mem.link(a!.id, b!.id, 'rel', { weight: 0.5 }),
        mem.link(a!.id, b!.id, 'rel', { weight: 2 }),
      ]);
      expect(both[1].id).toBe(both[0].id);
      const links = await mem.links(a!.id);
      expect(links).toHaveLength(1);
      expect(links[0]!.weight).toBe(2);
    });

    it('a link update and an unlink called at once apply in call order', async () => {
      const mem = await ctx.memory();
      const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
      const link = await mem.link(a!.id, b!.id, 'rel', { weight: 1 });
      const [updated, unlinked] = await Promise.all([
        mem.link(a!.id, b!.id, 'rel', { weight: 3 }),
        mem.unlink(link.id),
      ]);
      expect(updated).toMatchObject({ id: link.id, weight: 3 });
      expect(unlinked).toBe(true);
      expect(await mem.links(a!.id)).toEqual([]);
      const again = await mem.link(a!.id, b!.id, 'rel');
      const [gone, relinked] = await Promise.all([mem.unlink(again.id), mem.link(a!.id, b!.id, 'rel')]);
      expect(gone).toBe(true);
      expect(relinked.id).not.toBe(again.id);
      expect((await mem.links(a!.id)).map((l) => l.id)).toEqual([relinked.id]);
    });

    it('links filter by direction and type', async () => {
      const mem = await ctx.memory();
      await diamond(mem);
      expect((await mem.links('b', { direction: 'out' })).map((l) => l.to)).toEqual(['c']);
      expect((await mem.links('b', { direction: 'in' })).map((l) => l.from)).toEqual(['a']);
      expect(await mem.links('b')).toHaveLength(2);
      expect((await mem.links('a', { type: 'shortcut' })).map((l) => l.to)).toEqual(['e']);
    });

    it('links come newest first, by id descending', async () => {
      const mem = await ctx.memory();
      const [a, b, c, d] = await mem.addMany(['a', 'b', 'c', 'd'].map((content) => ({ content })));
      const made = [
        await mem.link(a!.id, b!.id, 'rel'),
        await mem.link(a!.id, c!.id, 'rel'),
        await mem.link(d!.id, a!.id, 'rel'),
      ];
      const descending = made.map((l) => l.id).sort((x, y) => (x < y ? 1 : -1));
      expect((await mem.links(a!.id)).map((l) => l.id)).toEqual(descending);
    });

    it('link is NOT_FOUND naming the end another process removed between its check and its write', async (test) => {
      const mem = await ctx.memory();
      const store = ctx.store();
      // The pair is read just before the write; a store without linksBetween (RemoteStore) reads linksOf.
      const original = store.linksBetween;
      if (!original) return test.skip();
      const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
      const clock = formatHlc({ wallMs: Date.now(), counter: 0, node: 'other-process' });
      store.linksBetween = async (namespace, from, to) => {
        await store.apply(namespace, { tombstones: [{ entity: 'memory', id: b!.id, namespace, clock }] });
        return original.call(store, namespace, from, to);
      };
      try {
        await expectError(mem.link(a!.id, b!.id, 'rel'), 'NOT_FOUND', 'link.to');
      } finally {
        store.linksBetween = original;
      }
      expect(await mem.links(a!.id)).toEqual([]);
    });

    it('unlink returns true once, then false', async () => {
      const mem = await ctx.memory();
      const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
      const link = await mem.link(a!.id, b!.id, 'rel');
      expect(await mem.unlink(link.id)).toBe(true);
      expect(await mem.unlink(link.id)).toBe(false);
      expect(await mem.links(a!.id)).toEqual([]);
    });

    it('removing a memory removes its links', async () => {
      const mem = await ctx.memory();
      await diamond(mem);
      await mem.remove('b');
      expect((await mem.links('a')).map((l) => l.to)).toEqual(['e']);
      expect(await mem.links('c', { direction: 'in' })).toEqual([]);
    });

    it('neighbors at depth 1 and 2, nearest first then id descending', async () => {
      const mem = await ctx.memory();
      await diamond(mem);
      expect(contents(await mem.neighbors('a', { direction: 'out' }))).toEqual(['e', 'b']);
      expect(contents(await mem.neighbors('a', { direction: 'out', depth: 2 }))).toEqual([
        'e',
        'b',
        'd',
        'c',
      ]);
    });

    it('neighbors follow direction and type', async () => {
      const mem = await ctx.memory();
      await diamond(mem);
      expect(contents(await mem.neighbors('d', { direction: 'in' }))).toEqual(['e', 'c']);
      expect(contents(await mem.neighbors('d', { direction: 'out' }))).toEqual([]);
      expect(contents(await mem.neighbors('c'))).toEqual(['d', 'b']);
      expect(contents(await mem.neighbors('a', { direction: 'out', type: 'next', depth: 3 }))).toEqual([
        'b',
        'c',
        'd',
      ]);
    });

    it('neighbors of a missing memory is NOT_FOUND', async () => {
      const mem = await ctx.memory();
      await expectError(mem.neighbors('ghost'), 'NOT_FOUND', 'neighbors.id');
    });

    it('path finds the shortest route, endpoints included', async () => {
      const mem = await ctx.memory();
      await diamond(mem);
      expect(contents(await mem.path('a', 'd'))).toEqual(['a', 'e', 'd']);
      expect(contents(await mem.path('a', 'd', { type: 'next' }))).toEqual(['a', 'b', 'c', 'd']);
    });

    it('path follows links forward unless told otherwise', async () => {
      const mem = await ctx.memory();
      await diamond(mem);
      expect(await mem.path('d', 'a')).toBeNull();
      expect(contents(await mem.path('d', 'a', { direction: 'in' }))).toEqual(['d', 'e', 'a']);
      expect(contents(await mem.path('c', 'e', { direction: 'both' }))).toEqual(['c', 'd', 'e']);
    });

    it('neighbors walked both ways list each memory once, at its nearest depth', async () => {
      const mem = await ctx.memory();
      await diamond(mem);
      // From b: a and c at one hop, then e and d at two; at three hops every way leads back to them.
      expect(contents(await mem.neighbors('b', { depth: 3 }))).toEqual(['c', 'a', 'e', 'd']);
    });

    it('path walked both ways goes three hops without stepping back', async () => {
      const mem = await ctx.memory();
      await diamond(mem);
      // The third hop from c reaches d, and b again, which was already reached at the first.
      expect(contents(await mem.path('a', 'd', { direction: 'both', type: 'next' }))).toEqual([
        'a',
        'b',
        'c',
        'd',
      ]);
    });

    it('path respects maxDepth and handles from === to', async () => {
      const mem = await ctx.memory();
      await diamond(mem);
      expect(await mem.path('a', 'd', { type: 'next', maxDepth: 2 })).toBeNull();
      expect(contents(await mem.path('b', 'b'))).toEqual(['b']);
    });

    it('path looks six hops deep unless told otherwise', async () => {
      const mem = await ctx.memory();
      const ids = Array.from({ length: 8 }, (_, i) => `p${i}`);
      await mem.addMany(ids.map((id) => ({ id, content: id })));
      for (let i = 0; i < 7; i++) await mem.link(ids[i]!, ids[i + 1]!, 'r');
      expect(contents(await mem.path('p0', 'p6'))).toEqual(ids.slice(0, 7));
      expect(await mem.path('p0', 'p7')).toBeNull();
      expect(contents(await mem.path('p0', 'p7', { maxDepth: 7 }))).toEqual(ids);
    });

    it('path picks the same route on every store when several are shortest', async () => {
      const mem = await ctx.memory();
      await mem.addMany(['s', 'x', 'y', 't'].map((id) => ({ id, content: id })));
      await mem.link('s', 'y', 'r');
      await mem.link('s', 'x', 'r');
      await mem.link('y', 't', 'r');
      await mem.link('x', 't', 'r');
      expect(contents(await mem.path('s', 't'))).toEqual(['s', 'x', 't']);
    });

    it('path picks the same route on every store when the routes part two hops before the end', async () => {
      const mem = await ctx.memory();
      await mem.addMany(['s', 'b', 'c', 'y', 'z', 't'].map((id) => ({ id, content: id })));
      // Reached in the order z (through b), then y (through c): the lower id still leads to t.
      await mem.link('s', 'b', 'r');
      await mem.link('s', 'c', 'r');
      await mem.link('b', 'z', 'r');
      await mem.link('c', 'y', 'r');
      await mem.link('z', 't', 'r');
      await mem.link('y', 't', 'r');
      expect(contents(await mem.path('s', 't'))).toEqual(['s', 'c', 'y', 't']);
    });

    it('walks cycles without looping', async () => {
      const mem = await ctx.memory();
      await mem.addMany(['p', 'q', 'r'].map((id) => ({ id, content: id })));
      await mem.link('p', 'q', 'r');
      await mem.link('q', 'r', 'r');
      await mem.link('r', 'p', 'r');
      expect(contents(await mem.neighbors('p', { direction: 'out', depth: 5 }))).toEqual(['q', 'r']);
      expect(contents(await mem.path('q', 'p'))).toEqual(['q', 'r', 'p']);
    });
  });
}
