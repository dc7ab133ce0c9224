import { describe, expect, it } from 'vitest';
import { createMemory, EngramError } from '../../src/index.js';
import { expectError, type SuiteContext } from './harness.js';

/** An array holding `levels` arrays, each inside the one before. */
function nestedArrays(levels: number): unknown[] {
  let value: unknown[] = [];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}

/** An object holding `levels` objects, each inside the one before. */
function nested(levels: number): object {
  let value: object = {};
  for (let i = 0; i < levels; i++) value = { d: value };
  return value;
}

export function validationCases(ctx: SuiteContext): void {
  describe('validation', () => {
    const bad: Array<[string, unknown, string]> = [
      ['missing content', {}, 'add.content'],
      ['blank content', { content: '   ' }, 'add.content'],
      ['content over 64 KiB', { content: 'é'.repeat(33 * 1024) }, 'add.content'],
      ['tags not an array', { content: 'x', tags: 'a,b' }, 'add.tags'],
      ['an empty tag', { content: 'x', tags: ['ok', ''] }, 'add.tags.1'],
      ['metadata with a Date', { content: 'x', metadata: { when: new Date() } }, 'add.metadata'],
      ['metadata as an array', { content: 'x', metadata: [1] }, 'add.metadata'],
      ['importance above 1', { content: 'x', importance: 1.5 }, 'add.importance'],
      ['embedding with NaN', { content: 'x', embedding: [0.1, Number.NaN] }, 'add.embedding.1'],
      ['an id with a space', { content: 'x', id: 'has space' }, 'add.id'],
      ['an id over 128 chars', { content: 'x', id: 'a'.repeat(129) }, 'add.id'],
      ['the id ".."', { content: 'x', id: '..' }, 'add.id'],
      ['a NUL character in content', { content: 'a\u0000b' }, 'add.content'],
      ['a NUL character in a tag', { content: 'x', tags: ['t\u0000'] }, 'add.tags.0'],
      ['a NUL character in metadata', { content: 'x', metadata: { k: 'v\u0000' } }, 'add.metadata'],
      ['expiresAt not a date', { content: 'x', expiresAt: 'tomorrow' }, 'add.expiresAt'],
      ['an unknown field', { content: 'x', colour: 'red' }, 'add.colour'],
      ['a kind over 64 characters', { content: 'x', kind: 'k'.repeat(65) }, 'add.kind'],
      [
        'more than 64 tags',
        { content: 'x', tags: Array.from({ length: 65 }, (_, i) => `t${i}`) },
        'add.tags',
      ],
      ['a lone low surrogate in content', { content: 'a\udc00b' }, 'add.content'],
      [
        'metadata over 64 KiB of JSON',
        { content: 'x', metadata: { big: 'x'.repeat(64 * 1024) } },
        'add.metadata',
      ],
      ['metadata nested deeper than 32 levels', { content: 'x', metadata: nested(33) }, 'add.metadata'],
      [
        'metadata nested deeper than 32 levels in arrays',
        { content: 'x', metadata: { list: nestedArrays(33) } },
        'add.metadata',
      ],
      ['a lone surrogate in a metadata key', { content: 'x', metadata: { 'k\ud800': 1 } }, 'add.metadata'],
      ['a NUL character in a metadata key', { content: 'x', metadata: { 'k\u0000': 1 } }, 'add.metadata'],
      ['a 31st of September', { content: 'x', validFrom: '2099-09-31' }, 'add.validFrom'],
    ];
    for (const [label, input, field] of bad) {
      it(`add rejects ${label}, naming ${field}`, async () => {
        const mem = await ctx.memory();
        await expectError(mem.add(input as never), 'VALIDATION', field);
        expect((await mem.list()).items).toEqual([]);
      });
    }

    it('takes every value exactly at its limit, and keeps it as given', async () => {
      const mem = await ctx.memory();
      // 64 KiB of UTF-8 in 2- and in 4-byte characters; JSON of exactly 64 KiB; 32 levels of nesting.
      const inputs = [
        { content: 'é'.repeat(32 * 1024) },
        { content: '😀'.repeat(16 * 1024) },
        { content: 'x', metadata: { big: 'x'.repeat(64 * 1024 - '{"big":""}'.length) } },
        { content: 'x', metadata: nested(32) as { [k: string]: never } },
        {
          id: 'i'.repeat(128),
          content: 'x',
          kind: 'k'.repeat(64),
          tags: Array.from({ length: 64 }, (_, i) => `${i}`.padEnd(64, 't')),
          embedding: Array.from({ length: 4096 }, (_, i) => (i + 1) / 4096),
          embeddingModel: 'm'.repeat(256),
          importance: 1,
        },
        { content: 'x', importance: 0 },
      ];
      const added = await mem.addMany(inputs);
      for (const [i, input] of inputs.entries()) {
        expect(await mem.get(added[i]!.id), String(i)).toMatchObject(input);
      }
    });

    it('takes every option exactly at its limit', async () => {
      const mem = await ctx.memory();
      const a = await mem.add({ content: 'a' });
      expect((await mem.list({ limit: 1000 })).items).toHaveLength(1);
      expect(await mem.search('a', { limit: 1000 })).toHaveLength(1);
      expect(await mem.neighbors(a.id, { depth: 10 })).toEqual([]);
      expect(await mem.path(a.id, a.id, { maxDepth: 10 })).toHaveLength(1);
      const boosts = [
        { importance: 100 },
        { recency: { halfLifeDays: 0.001, weight: 100 } },
        { recency: { halfLifeDays: 36_500 } },
      ];
      for (const boost of boosts)
        expect(await mem.search('a', { boost }), JSON.stringify(boost)).toHaveLength(1);
      expect((await mem.context('a', { maxChars: 1 })).length).toBeLessThanOrEqual(1);
    });

    it('says where in the metadata a value is not JSON', async () => {
      const mem = await ctx.memory();
      const cases: Array<[unknown, string]> = [
        [{ k: 'v\u0000' }, 'found a NUL (U+0000) character at "k"'],
        [{ list: [1, { deep: Number.NaN }] }, 'found NaN at "list"[1]."deep"'],
        [{ when: new Date(0) }, 'found a Date at "when"'],
        [{ gone: undefined }, 'found undefined at "gone"'],
        [{ bare: Object.create(null) }, 'found an object without a prototype at "bare"'],
      ];
      for (const [metadata, where] of cases) {
        const error = await expectError(
          mem.add({ content: 'x', metadata } as never),
          'VALIDATION',
          'add.metadata',
        );
        expect(error.message).toContain(where);
      }
    });

    it('update rejects an empty patch and bad fields', async () => {
      const mem = await ctx.memory();
      const m = await mem.add({ content: 'x' });
      await expectError(mem.update(m.id, {}), 'VALIDATION', 'update.patch');
      await expectError(mem.update(m.id, { kind: '' }), 'VALIDATION', 'update.patch.kind');
      expect(await mem.get(m.id)).toEqual(m);
    });

    it('list rejects bad limits and cursors', async () => {
      const mem = await ctx.memory();
      await expectError(mem.list({ limit: 0 }), 'VALIDATION', 'list.limit');
      await expectError(mem.list({ limit: 5000 }), 'VALIDATION', 'list.limit');
      await expectError(mem.list({ limit: 1.5 }), 'VALIDATION', 'list.limit');
      await expectError(mem.list({ cursor: '%%%' }), 'VALIDATION', 'list.cursor');
      // Base64 of "a b": it decodes, but to no memory id, so it is no cursor list gave.
      await expectError(mem.list({ cursor: 'YSBi' }), 'VALIDATION', 'list.cursor');
      await expectError(mem.list({ tagMode: 'some' as never }), 'VALIDATION', 'list.tagMode');
    });

    it('search rejects bad options and empty queries', async () => {
      const mem = await ctx.memory();
      await expectError(mem.search('x', { mode: 'fuzzy' as never }), 'VALIDATION', 'search.mode');
      await expectError(mem.search('x', { limit: -1 }), 'VALIDATION', 'search.limit');
      await expectError(mem.search(''), 'VALIDATION', 'query');
      await expectError(mem.search(' \n'), 'VALIDATION', 'query');
      expect(await mem.search('-only')).toEqual([]);
      expect(await mem.search('?! -')).toEqual([]);
      await expectError(mem.search('x', { mode: 'vector' }), 'VALIDATION', 'vector');
    });

    it('link rejects bad arguments', async () => {
      const mem = await ctx.memory();
      const a = await mem.add({ content: 'a' });
      const b = await mem.add({ content: 'b' });
      await expectError(mem.link(a.id, b.id, ''), 'VALIDATION', 'link.type');
      await expectError(mem.link(a.id, a.id, 'self'), 'VALIDATION', 'link.to');
      await expectError(
        mem.link(a.id, b.id, 'rel', { weight: Number.POSITIVE_INFINITY }),
        'VALIDATION',
        'link.options.weight',
      );
      await expectError(mem.link('bad id', b.id, 'rel'), 'VALIDATION', 'link.from');
      expect(await mem.links(a.id)).toEqual([]);
    });

    it('graph calls reject bad options', async () => {
      const mem = await ctx.memory();
      const a = await mem.add({ content: 'a' });
      await expectError(
        mem.links(a.id, { direction: 'sideways' as never }),
        'VALIDATION',
        'links.options.direction',
      );
      await expectError(mem.neighbors(a.id, { depth: 0 }), 'VALIDATION', 'neighbors.options.depth');
      await expectError(mem.path(a.id, a.id, { maxDepth: 99 }), 'VALIDATION', 'path.options.maxDepth');
    });

    it('ids are validated on every call', async () => {
      const mem = await ctx.memory();
      await expectError(mem.get('white space'), 'VALIDATION', 'get.id');
      await expectError(mem.remove(''), 'VALIDATION', 'remove.id');
      await expectError(mem.update('a/b', { content: 'x' }), 'VALIDATION', 'update.id');
      await expectError(mem.unlink('?'), 'VALIDATION', 'unlink.id');
    });

    it('refuses a date that does not exist rather than moving it to another day', async () => {
      const mem = await ctx.memory();
      await expectError(
        mem.add({ content: 'x', validFrom: '2021-02-29T00:00:00Z' }),
        'VALIDATION',
        'add.validFrom',
      );
      for (const validTo of ['2099-04-31', '2099-06-31', '2099-11-31T08:00:00Z'])
        await expectError(mem.add({ content: 'x', validTo }), 'VALIDATION', 'add.validTo');
      await expectError(mem.add({ content: 'x', expiresAt: '2099-13-01' }), 'VALIDATION', 'add.expiresAt');
      await expectError(mem.list({ asOf: '2024-02-30' }), 'VALIDATION', 'list.asOf');
      // A century is a leap year only every 400 years.
      await expectError(mem.add({ content: 'x', expiresAt: '2100-02-29' }), 'VALIDATION', 'add.expiresAt');
      expect(await mem.count()).toBe(0);
      const leap = await mem.add({ content: 'x', validFrom: '2024-02-29T12:00:00+01:00' });
      expect(leap.validFrom).toBe('2024-02-29T11:00:00.000Z');
      expect((await mem.add({ content: 'y', validFrom: '2000-02-29' })).validFrom).toBe(
        '2000-02-29T00:00:00.000Z',
      );
    });

    it('names the first missing end of a link or path, whichever store answers first', async () => {
      const mem = await ctx.memory();
      const a = await mem.add({ content: 'a' });
      await expectError(mem.path('nope-1', 'nope-2'), 'NOT_FOUND', 'path.from');
      await expectError(mem.link('nope-1', 'nope-2', 'x'), 'NOT_FOUND', 'link.from');
      await expectError(mem.link(a.id, 'nope-2', 'x'), 'NOT_FOUND', 'link.to');
      await expectError(mem.path('nope-1', a.id), 'NOT_FOUND', 'path.from');
    });

    it('refuses an array where an object of fields or options goes', async () => {
      const mem = await ctx.memory();
      const a = await mem.add({ content: 'a' });
      await expectError(mem.add([] as never), 'VALIDATION', 'add');
      await expectError(mem.update(a.id, [] as never), 'VALIDATION', 'update.patch');
      await expectError(mem.search('a', [] as never), 'VALIDATION', 'search');
      await expectError(mem.list([] as never), 'VALIDATION', 'list');
      await expectError(mem.count([] as never), 'VALIDATION', 'count');
      expect(await mem.count()).toBe(1);
    });

    it('createMemory refuses options that are no object or that it does not know', async () => {
      await expectError(createMemory(null as never), 'VALIDATION', 'createMemory');
      await expectError(
        createMemory({ store: ctx.store(), namespce: 'user-42' } as never),
        'VALIDATION',
        'createMemory.namespce',
      );
    });

    it('refuses arguments a call does not take rather than ignoring them', async () => {
      const mem = await ctx.memory();
      await mem.addMany([
        { content: 'keep me', kind: 'fact' },
        { content: 'scratch', kind: 'scratch' },
      ]);
      // clear() takes no filter: clear({ kind }) must not wipe the namespace.
      await expectError(mem.clear({ kind: 'scratch' } as never), 'VALIDATION', 'clear');
      // Nor does stats(): a filter would be ignored and the namespace's counts taken for the filter's.
      await expectError(
        (mem.stats as (...a: unknown[]) => Promise<unknown>)({ kind: 'scratch' }),
        'VALIDATION',
        'stats',
      );
      await expectError(
        mem.addMany([{ content: 'keep me' }], { dedupe: true } as never),
        'VALIDATION',
        'addMany.options',
      );
      expect(() => mem.on('change', 5 as never)).toThrow(EngramError);
      expect(() => mem.on('change', 5 as never)).toThrow('on.listener');
      await expectError(
        mem.add({ content: 'x', embeddingModel: 'm\ud800' }),
        'VALIDATION',
        'add.embeddingModel',
      );
      expect((await mem.list()).items.map((m) => m.content).sort()).toEqual(['keep me', 'scratch']);
    });

    it('createMemory refuses a now that is no clock', async () => {
      await expectError(
        createMemory({ store: ctx.store(), now: 5 as never }),
        'VALIDATION',
        'createMemory.now',
      );
      await expectError(
        createMemory({ store: ctx.store(), now: () => Number.NaN }),
        'VALIDATION',
        'createMemory.now',
      );
    });

    it('createMemory rejects a bad namespace', async () => {
      await expectError(
        createMemory({ store: ctx.store(), namespace: 'no spaces' }),
        'VALIDATION',
        'namespace',
      );
    });

    it('every error is an EngramError with a stable code and a readable message', async () => {
      const mem = await ctx.memory();
      const error = await expectError(mem.add({ content: 'x', importance: 2 }), 'VALIDATION');
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(EngramError);
      expect(error.message).toMatch(/add\.importance: expected a number from 0 to 1, got number 2/);
    });
  });
}
