import { describe, expect, it } from 'vitest';
import type { Engram, ListOptions, Memory } from '../../src/index.js';
import type { SuiteContext } from './harness.js';

async function collect(mem: Engram, options: ListOptions): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await mem.list({ ...options, cursor });
    ids.push(...page.items.map((m) => m.id));
    cursor = page.cursor;
    pages++;
  } while (cursor && pages < 100);
  return { ids, pages };
}

const byIdDesc = (items: Memory[]) => items.map((m) => m.id).sort((a, b) => (a < b ? 1 : -1));

export function listCases(ctx: SuiteContext): void {
  describe('list', () => {
    it('orders newest first (id descending)', async () => {
      const mem = await ctx.memory();
      const made = [];
      for (const content of ['first', 'second', 'third']) made.push(await mem.add({ content }));
      expect((await mem.list()).items.map((m) => m.content)).toEqual(['third', 'second', 'first']);
      expect((await mem.list()).cursor).toBeNull();
    });

    it('orders caller ids by id descending too', async () => {
      const mem = await ctx.memory();
      await mem.addMany([
        { id: 'b', content: 'x' },
        { id: 'c', content: 'x' },
        { id: 'a', content: 'x' },
      ]);
      expect((await mem.list()).items.map((m) => m.id)).toEqual(['c', 'b', 'a']);
    });

    it('pages through every item exactly once', async () => {
      const mem = await ctx.memory();
      const made = await mem.addMany(Array.from({ length: 23 }, (_, i) => ({ content: `item ${i}` })));
      const { ids, pages } = await collect(mem, { limit: 5 });
      expect(pages).toBe(5);
      expect(ids).toEqual(byIdDesc(made));
    });

    it('a full last page still ends with a null cursor', async () => {
      const mem = await ctx.memory();
      await mem.addMany(Array.from({ length: 4 }, (_, i) => ({ content: `n${i}` })));
      const first = await mem.list({ limit: 2 });
      const second = await mem.list({ limit: 2, cursor: first.cursor });
      expect(second.items).toHaveLength(2);
      expect(second.cursor).toBeNull();
    });

    it('filters by kind', async () => {
      const mem = await ctx.memory();
      await mem.addMany([
        { content: 'a', kind: 'fact' },
        { content: 'b', kind: 'preference' },
        { content: 'c', kind: 'fact' },
      ]);
      expect((await mem.list({ kind: 'fact' })).items.map((m) => m.content)).toEqual(['c', 'a']);
    });

    it('filters by tags, any or all', async () => {
      const mem = await ctx.memory();
      await mem.addMany([
        { content: 'ab', tags: ['a', 'b'] },
        { content: 'a', tags: ['a'] },
        { content: 'bc', tags: ['b', 'c'] },
        { content: 'none' },
      ]);
      expect((await mem.list({ tags: ['a', 'c'] })).items.map((m) => m.content)).toEqual(['bc', 'a', 'ab']);
      expect((await mem.list({ tags: ['a', 'c'], tagMode: 'any' })).items).toHaveLength(3);
      expect((await mem.list({ tags: ['a', 'b'], tagMode: 'all' })).items.map((m) => m.content)).toEqual([
        'ab',
      ]);
    });

    it('filters by tags holding a comma or a bracket, as any other tag (list and count)', async () => {
      const mem = await ctx.memory();
      await mem.addMany([
        { content: 'both', tags: ['x,y'] },
        { content: 'x', tags: ['x'] },
        { content: 'y', tags: ['y'] },
        { content: 'bracket', tags: ['[z]', 'x'] },
      ]);
      const contents = async (tags: string[], tagMode?: 'any' | 'all') =>
        (await mem.list({ tags, ...(tagMode ? { tagMode } : {}) })).items.map((m) => m.content);
      expect(await contents(['x,y'])).toEqual(['both']);
      expect(await mem.count({ tags: ['x,y'] })).toBe(1);
      expect(await contents(['[z]'])).toEqual(['bracket']);
      expect(await contents(['x,y', 'y'])).toEqual(['y', 'both']);
      expect(await contents(['[z]', 'x'], 'all')).toEqual(['bracket']);
      expect(await mem.count({ tags: ['x', 'y'] })).toBe(3);
    });

    it('filters by createdAt with since (inclusive) and until (exclusive)', async () => {
      let now = Date.parse('2030-05-01T00:00:00.000Z');
      const mem = await ctx.memory({ now: () => now });
      const made = [];
      for (let day = 0; day < 4; day++) {
        made.push(await mem.add({ content: `day ${day}` }));
        now += 86_400_000;
      }
      const got = await mem.list({ since: made[1]!.createdAt, until: made[3]!.createdAt });
      expect(got.items.map((m) => m.content)).toEqual(['day 2', 'day 1']);
    });

    it('paginates filtered results exactly once', async () => {
      const mem = await ctx.memory();
      const made = await mem.addMany(
        Array.from({ length: 30 }, (_, i) => ({
          content: `m${i}`,
          kind: i % 3 === 0 ? 'fact' : 'note',
          tags: [`t${i % 2}`],
        })),
      );
      const { ids } = await collect(mem, { kind: 'fact', tags: ['t0'], limit: 2 });
      expect(ids).toEqual(byIdDesc(made.filter((m) => m.kind === 'fact' && m.tags.includes('t0'))));
    });

    it('pages a kind- or tag-filtered list one memory at a time', async () => {
      const mem = await ctx.memory();
      const made = await mem.addMany(
        Array.from({ length: 5 }, (_, i) => ({ content: `m${i}`, kind: 'fact', tags: ['t'] })),
      );
      for (const filter of [{ kind: 'fact' }, { tags: ['t'] }]) {
        const { ids } = await collect(mem, { ...filter, limit: 1 });
        expect(ids, JSON.stringify(filter)).toEqual(byIdDesc(made));
      }
    });

    it('cursors stay valid while new memories arrive', async () => {
      const mem = await ctx.memory();
      const made = await mem.addMany(Array.from({ length: 6 }, (_, i) => ({ content: `old ${i}` })));
      const first = await mem.list({ limit: 3 });
      await mem.add({ content: 'newer' });
      const second = await mem.list({ limit: 3, cursor: first.cursor });
      expect([...first.items, ...second.items].map((m) => m.id)).toEqual(byIdDesc(made));
    });

    it('defaults to 50 items per page', async () => {
      const mem = await ctx.memory();
      await mem.addMany(Array.from({ length: 55 }, (_, i) => ({ content: `x${i}` })));
      const page = await mem.list();
      expect(page.items).toHaveLength(50);
      expect(page.cursor).not.toBeNull();
    });

    it("the store's list gives at most limit records, the newest, whichever filter it walks", async () => {
      const mem = await ctx.memory();
      const made = await mem.addMany(
        Array.from({ length: 6 }, (_, i) => ({
          id: `m${i}`,
          content: `item ${i}`,
          kind: 'fact',
          tags: i % 2 === 0 ? ['a', 'b'] : ['b'],
          metadata: { source: 'import' },
        })),
      );
      const base = { now: made[0]!.createdAt, tagMode: 'any' as const, limit: 2 };
      for (const filter of [
        {},
        { kind: 'fact' },
        { tags: ['b'] },
        { tags: ['a', 'b'] },
        { tags: ['b', 'a'], tagMode: 'all' as const },
        { metadata: { source: 'import' } },
      ]) {
        const records = await ctx.store().list(mem.namespace, { ...base, ...filter });
        const wanted = filter.tagMode === 'all' ? ['m4', 'm2'] : ['m5', 'm4'];
        expect(
          records.map((r) => r.memory.id),
          JSON.stringify(filter),
        ).toEqual(wanted);
      }
    });

    it('a metadata filter matching only the oldest of hundreds of memories lists and counts each once', async () => {
      const mem = await ctx.memory();
      const made = await mem.addMany(
        Array.from({ length: 300 }, (_, i) => ({
          id: `m${String(i).padStart(3, '0')}`,
          content: `item ${i}`,
          metadata: { old: i < 6 },
        })),
      );
      const oldest = made.slice(0, 6).map((m) => m.id);
      const query = { now: made[0]!.createdAt, tagMode: 'any' as const, metadata: { old: true } };
      const listed = await ctx.store().list(mem.namespace, { ...query, limit: 50 });
      expect(listed.map((r) => r.memory.id)).toEqual([...oldest].reverse());
      expect(await mem.count({ metadata: { old: true } })).toBe(6);
      expect(await mem.count({ metadata: { old: false } })).toBe(294);
    });
  });
}
