import { describe, expect, it } from 'vitest';
import { expectError, freshNamespace, ids, manualClock, type SuiteContext } from './harness.js';

export function namespaceCases(ctx: SuiteContext): void {
  describe('namespaces', () => {
    it('isolate get, list and search', async () => {
      const a = await ctx.memory();
      const b = await ctx.memory();
      const m = await a.add({ content: 'secret plans' });
      expect(await b.get(m.id)).toBeNull();
      expect((await b.list()).items).toEqual([]);
      expect(await b.search('secret')).toEqual([]);
      expect(ids(await a.search('secret'))).toEqual([m.id]);
    });

    it('keep the same caller id apart', async () => {
      const a = await ctx.memory();
      const b = await ctx.memory();
      await a.add({ id: 'shared', content: 'in a' });
      await b.add({ id: 'shared', content: 'in b' });
      expect((await a.get('shared'))?.content).toBe('in a');
      expect((await b.get('shared'))?.content).toBe('in b');
      await a.remove('shared');
      expect((await b.get('shared'))?.content).toBe('in b');
    });

    it('keep links and walks apart', async () => {
      const a = await ctx.memory();
      const b = await ctx.memory();
      for (const mem of [a, b])
        await mem.addMany([
          { id: 'x', content: 'x' },
          { id: 'y', content: 'y' },
        ]);
      await a.link('x', 'y', 'rel');
      expect(await b.links('x')).toEqual([]);
      expect(await b.neighbors('x')).toEqual([]);
      expect(await b.path('x', 'y')).toBeNull();
      expect(await b.unlink((await a.links('x'))[0]!.id)).toBe(false);
      expect(await a.links('x')).toHaveLength(1);
    });

    it('keep BM25 statistics per namespace', async () => {
      const a = await ctx.memory();
      const b = await ctx.memory();
      const [target] = await a.addMany([{ content: 'kiwi fruit' }, { content: 'melon' }]);
      await b.addMany(Array.from({ length: 20 }, () => ({ content: 'kiwi kiwi kiwi' })));
      const alone = await ctx.memory();
      const [twin] = await alone.addMany([{ content: 'kiwi fruit' }, { content: 'melon' }]);
      expect((await a.search('kiwi'))[0]!.score).toBe((await alone.search('kiwi'))[0]!.score);
      expect(target!.content).toBe(twin!.content);
    });

    it('are listed by the store, in name order', async () => {
      // Written in reverse name order: the list must not follow the order they were first written in.
      const later = freshNamespace('listed-b');
      const earlier = freshNamespace('listed-a');
      for (const namespace of [later, earlier]) await (await ctx.memory({ namespace })).add({ content: 'x' });
      const names = await ctx.store().namespaces();
      expect(names).toContain(later);
      expect(names.indexOf(earlier)).toBeGreaterThanOrEqual(0);
      expect(names.indexOf(earlier)).toBeLessThan(names.indexOf(later));
    });
  });
}

export function ttlCases(ctx: SuiteContext): void {
  describe('ttl', () => {
    it('an expired memory is gone from get, list and search', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const soon = new Date(clock.now() + 60_000).toISOString();
      const m = await mem.add({ content: 'ephemeral thought', expiresAt: soon });
      const stays = await mem.add({ content: 'lasting thought' });
      expect(await mem.get(m.id)).not.toBeNull();
      clock.advance(60_000);
      expect(await mem.get(m.id)).toBeNull();
      expect((await mem.list()).items.map((x) => x.id)).toEqual([stays.id]);
      expect(ids(await mem.search('thought'))).toEqual([stays.id]);
    });

    it('an expired memory is gone from graph walks', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      await mem.addMany([
        { id: 'a', content: 'a' },
        { id: 'b', content: 'b', expiresAt: new Date(clock.now() + 1000).toISOString() },
        { id: 'c', content: 'c' },
      ]);
      await mem.link('a', 'b', 'r');
      await mem.link('b', 'c', 'r');
      expect(ids((await mem.path('a', 'c')) ?? [])).toEqual(['a', 'b', 'c']);
      clock.advance(1000);
      expect(await mem.path('a', 'c')).toBeNull();
      expect(await mem.neighbors('a')).toEqual([]);
      expect(await mem.links('a')).toEqual([]);
    });

    it('an expired memory cannot be updated', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const m = await mem.add({ content: 'x', expiresAt: new Date(clock.now() + 10).toISOString() });
      clock.advance(10);
      await expectError(mem.update(m.id, { expiresAt: null }), 'NOT_FOUND', 'update.id');
    });

    it('moving expiresAt forward keeps a memory alive', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const m = await mem.add({ content: 'x', expiresAt: new Date(clock.now() + 10).toISOString() });
      await mem.update(m.id, { expiresAt: new Date(clock.now() + 100_000).toISOString() });
      clock.advance(50);
      expect(await mem.get(m.id)).not.toBeNull();
    });
  });
}
