import { describe, expect, it } from 'vitest';
import { type Engram, type MemoryWrite, NotFoundError, type WriteBatch } from '../../src/index.js';
import { formatHlc } from '../../src/store/index.js';
import { expectError, manualClock, type SuiteContext } from './harness.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function crudCases(ctx: SuiteContext): void {
  describe('crud', () => {
    it('add fills defaults and a time-sortable id', async () => {
      const mem = await ctx.memory();
      const m = await mem.add({ content: 'Likes green tea' });
      expect(m.id).toMatch(UUID_V7);
      expect(m).toMatchObject({
        namespace: mem.namespace,
        content: 'Likes green tea',
        kind: 'note',
        tags: [],
        metadata: {},
      });
      expect(Date.parse(m.createdAt)).not.toBeNaN();
      expect(m.updatedAt).toBe(m.createdAt);
      expect(m.embedding).toBeUndefined();
      expect(m.importance).toBeUndefined();
    });

    it('a batch naming newIds is refused whole when one is taken, inside the store (newIds)', async () => {
      // A RemoteStore sends them with its push: the edge's store checks them in its transaction.
      const mem = await ctx.memory();
      const [kept, gone] = await mem.addMany([{ content: 'first' }, { content: 'gone' }]);
      await mem.remove(gone!.id);
      const create = (id: string) => otherProcessNote(mem.namespace, id, `taken by ${id}`);
      for (const taken of [kept!.id, gone!.id]) {
        const error = await ctx
          .store()
          .apply(mem.namespace, { memories: [create('fresh'), create(taken)], newIds: ['fresh', taken] })
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'CONFLICT', field: 'newIds' });
      }
      expect((await mem.get(kept!.id))?.content).toBe('first');
      expect(await mem.get('fresh')).toBeNull();
      await ctx.store().apply(mem.namespace, { memories: [create('fresh')], newIds: ['fresh'] });
      expect((await mem.get('fresh'))?.content).toBe('taken by fresh');
    });

    it('a batch naming unchanged stamps is refused whole when one moved, inside the store (unchanged)', async () => {
      const mem = await ctx.memory();
      const [fact, gone] = await mem.addMany([{ content: 'fact' }, { content: 'gone' }]);
      const [read] = await ctx.store().getMemories(mem.namespace, [fact!.id]);
      const stamp = otherProcessStamp();
      const note = otherProcessNote(mem.namespace, 'decided', 'decided on the fact');
      const seen = { id: fact!.id, field: 'validTo', clock: read!.clocks.validTo ?? null };
      await mem.update(fact!.id, { validTo: '2999-01-01T00:00:00.000Z' });
      await mem.remove(gone!.id);
      for (const unchanged of [[seen], [{ id: gone!.id, field: 'content', clock: stamp }]]) {
        await expectRefusedWhole(ctx, mem, note, unchanged);
      }
      const [now] = await ctx.store().getMemories(mem.namespace, [fact!.id]);
      await ctx.store().apply(mem.namespace, {
        memories: [note],
        unchanged: [{ ...seen, clock: now!.clocks.validTo! }],
      });
      expect((await mem.get('decided'))?.content).toBe('decided on the fact');
    });

    it('an unchanged guard on a link refuses the batch when the link moved or went (entity link)', async () => {
      const mem = await ctx.memory();
      const [a, b, c] = await mem.addMany([{ content: 'a' }, { content: 'b' }, { content: 'c' }]);
      const kept = await mem.link(a!.id, b!.id, 'related_to', { weight: 0.5 });
      const gone = await mem.link(a!.id, c!.id, 'related_to');
      const [read] = await ctx.store().getLinks(mem.namespace, [kept.id]);
      const seen = { id: kept.id, field: 'weight', clock: read!.clocks.weight!, entity: 'link' as const };
      const stamp = otherProcessStamp();
      const note = otherProcessNote(mem.namespace, 'decided', 'decided on the link');
      // A memory guard of the link's id names no memory: refused too.
      await mem.link(a!.id, b!.id, 'related_to', { weight: 0.9 });
      await mem.unlink(gone.id);
      for (const unchanged of [
        [seen],
        [{ id: gone.id, field: 'type', clock: stamp, entity: 'link' as const }],
        [{ id: kept.id, field: 'content', clock: null }],
      ]) {
        await expectRefusedWhole(ctx, mem, note, unchanged);
      }
      const [now] = await ctx.store().getLinks(mem.namespace, [kept.id]);
      await ctx
        .store()
        .apply(mem.namespace, { memories: [note], unchanged: [{ ...seen, clock: now!.clocks.weight! }] });
      expect((await mem.get('decided'))?.content).toBe('decided on the link');
    });

    it('round-trips every field through get', async () => {
      const mem = await ctx.memory();
      const input = {
        content: 'Grüße aus Köln — 東京 🚀',
        kind: 'fact',
        tags: ['travel', 'de'],
        metadata: { source: 'chat', nested: { n: 1.5, ok: true, list: [1, 'two', null] } },
        embedding: [0.1, -0.2, 0.3],
        importance: 0.8,
        expiresAt: '2999-01-01T00:00:00.000Z',
      };
      const added = await mem.add(input);
      const got = await mem.get(added.id);
      expect(got).toEqual(added);
      expect(got).toMatchObject(input);
    });

    it('accepts a caller id and rejects it when taken', async () => {
      const mem = await ctx.memory();
      const m = await mem.add({ id: 'pref:coffee.1', content: 'Dark roast' });
      expect(m.id).toBe('pref:coffee.1');
      expect((await mem.get('pref:coffee.1'))?.content).toBe('Dark roast');
      await expectError(mem.add({ id: 'pref:coffee.1', content: 'again' }), 'CONFLICT');
    });

    it('refuses the id of an expired memory, saying it is hidden until purged, from the instant it expires', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const expiresAt = new Date(clock.now() + 3_600_000).toISOString();
      await mem.add({ id: 'brief', content: 'short-lived', expiresAt });
      const before = await expectError(mem.add({ id: 'brief', content: 'again' }), 'CONFLICT', 'add.id');
      expect(before.message).not.toContain('expired');
      // At expiresAt itself reads hide it: add() must not answer "exists" for what get() calls gone.
      clock.advance(3_600_000);
      expect(await mem.get('brief')).toBeNull();
      const after = await expectError(mem.add({ id: 'brief', content: 'again' }), 'CONFLICT', 'add.id');
      expect(after.message).toContain(`it expired at ${expiresAt} and is hidden until maintenance purges it`);
    });

    it('never reuses the id of a removed memory', async () => {
      const mem = await ctx.memory();
      await mem.add({ id: 'gone', content: 'temporary' });
      expect(await mem.remove('gone')).toBe(true);
      await expectError(mem.add({ id: 'gone', content: 'back' }), 'CONFLICT');
    });

    it("refuses a caller id that is a link's: memories and links share ids", async () => {
      const mem = await ctx.memory();
      const a = await mem.add({ content: 'one end' });
      const b = await mem.add({ content: 'other end' });
      const link = await mem.link(a.id, b.id, 'related_to');
      const error = await expectError(mem.add({ id: link.id, content: 'clash' }), 'CONFLICT', 'add.id');
      expect(error.message).toContain('is a link in this namespace');
      await expectError(mem.addMany([{ content: 'fine' }, { id: link.id, content: 'clash' }]), 'CONFLICT');
      expect(await mem.get(link.id)).toBeNull();
      expect((await mem.list()).items).toHaveLength(2);
      expect(await mem.links(a.id)).toEqual([link]);
    });

    it('generates increasing ids', async () => {
      const mem = await ctx.memory();
      const made = await Promise.all([1, 2, 3].map(() => mem.add({ content: 'x y z' })));
      const again = await mem.addMany([{ content: 'a' }, { content: 'b' }, { content: 'c' }]);
      const all = [...made, ...again].map((m) => m.id);
      const sequential = [];
      for (const input of [{ content: 'p' }, { content: 'q' }]) sequential.push((await mem.add(input)).id);
      expect(new Set(all).size).toBe(all.length);
      expect([...again.map((m) => m.id)]).toEqual([...again.map((m) => m.id)].sort());
      expect(sequential[0]! < sequential[1]!).toBe(true);
    });

    it('updates and removes called at once apply in call order', async () => {
      const mem = await ctx.memory();
      const { id } = await mem.add({ content: 'first', tags: ['a'] });
      const updates = await Promise.all(
        ['second', 'third', 'fourth', 'fifth'].map((content) => mem.update(id, { content })),
      );
      expect(updates.map((m) => m.id)).toEqual([id, id, id, id]);
      expect((await mem.get(id))!.content).toBe('fifth');
      const tags = await Promise.all([mem.update(id, { tags: ['b'] }), mem.update(id, { tags: ['c'] })]);
      expect(tags[1].tags).toEqual(['c']);
      expect((await mem.get(id))!.tags).toEqual(['c']);
      const [updated, removed] = await Promise.all([mem.update(id, { content: 'sixth' }), mem.remove(id)]);
      expect(updated.content).toBe('sixth');
      expect(removed).toBe(true);
      expect(await mem.get(id)).toBeNull();
      const other = await mem.add({ content: 'other' });
      const [gone, late] = await Promise.allSettled([
        mem.remove(other.id),
        mem.update(other.id, { content: 'late' }),
      ]);
      expect(gone).toEqual({ status: 'fulfilled', value: true });
      expect(late.status).toBe('rejected');
      expect(await mem.get(other.id)).toBeNull();
    });

    it("the store's reads by id answer in the order of the ids asked, skipping unknown ones", async () => {
      const mem = await ctx.memory();
      await mem.addMany([
        { id: 'a', content: 'first' },
        { id: 'b', content: 'second' },
        { id: 'c', content: 'third' },
      ]);
      const links = [await mem.link('a', 'b', 'related_to'), await mem.link('b', 'a', 'related_to')];
      const gone = await mem.link('b', 'c', 'related_to');
      await mem.remove('c');
      // Descending: not the order of the stores' keys.
      const descending = (ids: string[]) => [...ids].sort().reverse();
      const store = ctx.store();
      const memories = await store.getMemories(mem.namespace, ['b', 'x', 'a']);
      expect(memories.map((r) => r.memory.id)).toEqual(['b', 'a']);
      const linkIds = descending(links.map((l) => l.id));
      expect((await store.getLinks(mem.namespace, linkIds)).map((r) => r.link.id)).toEqual(linkIds);
      const buried = descending(['c', gone.id]);
      expect((await store.getTombstones(mem.namespace, buried)).map((t) => t.id)).toEqual(buried);
    });

    it('get of an unknown id is null', async () => {
      const mem = await ctx.memory();
      expect(await mem.get('nope')).toBeNull();
    });

    it('update changes only the named fields', async () => {
      const mem = await ctx.memory();
      const m = await mem.add({
        content: 'old text',
        kind: 'fact',
        tags: ['a'],
        metadata: { k: 1 },
        importance: 0.2,
      });
      await new Promise((r) => setTimeout(r, 5));
      const u = await mem.update(m.id, { content: 'new text', tags: ['b', 'c'] });
      expect(u).toMatchObject({
        id: m.id,
        content: 'new text',
        tags: ['b', 'c'],
        kind: 'fact',
        metadata: { k: 1 },
        importance: 0.2,
      });
      expect(u.createdAt).toBe(m.createdAt);
      expect(u.updatedAt > m.updatedAt).toBe(true);
      expect(await mem.get(m.id)).toEqual(u);
    });

    it('update with null clears optional fields', async () => {
      const mem = await ctx.memory();
      const m = await mem.add({
        content: 'x',
        embedding: [1, 0],
        importance: 0.5,
        expiresAt: '2999-01-01T00:00:00Z',
      });
      const u = await mem.update(m.id, { embedding: null, importance: null, expiresAt: null });
      expect(u.embedding).toBeUndefined();
      expect(u.importance).toBeUndefined();
      expect(u.expiresAt).toBeUndefined();
      const got = await mem.get(m.id);
      expect(got && 'importance' in got).toBe(false);
    });

    it('update of an unknown id is NOT_FOUND, a NotFoundError', async () => {
      const mem = await ctx.memory();
      const error = await expectError(mem.update('missing', { content: 'x' }), 'NOT_FOUND', 'update.id');
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error.name).toBe('NotFoundError');
    });

    it('update reindexes the content for search', async () => {
      const mem = await ctx.memory();
      const m = await mem.add({ content: 'zebra crossing' });
      await mem.update(m.id, { content: 'giraffe neck' });
      expect(await mem.search('zebra')).toEqual([]);
      expect((await mem.search('giraffe')).map((h) => h.memory.id)).toEqual([m.id]);
    });

    it('remove returns true once, then false', async () => {
      const mem = await ctx.memory();
      const m = await mem.add({ content: 'to delete' });
      expect(await mem.remove(m.id)).toBe(true);
      expect(await mem.remove(m.id)).toBe(false);
      expect(await mem.get(m.id)).toBeNull();
    });

    it('remove takes the memory out of list and search', async () => {
      const mem = await ctx.memory();
      const keep = await mem.add({ content: 'walrus one' });
      const drop = await mem.add({ content: 'walrus two' });
      await mem.remove(drop.id);
      expect((await mem.list()).items.map((m) => m.id)).toEqual([keep.id]);
      expect((await mem.search('walrus')).map((h) => h.memory.id)).toEqual([keep.id]);
    });

    it('addMany returns the memories in input order', async () => {
      const mem = await ctx.memory();
      const made = await mem.addMany([
        { content: 'one' },
        { content: 'two', kind: 'fact' },
        { content: 'three' },
      ]);
      expect(made.map((m) => m.content)).toEqual(['one', 'two', 'three']);
      for (const m of made) expect(await mem.get(m.id)).toEqual(m);
    });

    it('addMany writes nothing when one item is invalid', async () => {
      const mem = await ctx.memory();
      await expectError(
        mem.addMany([{ content: 'fine' }, { content: 'fine too' }, { content: '' }]),
        'VALIDATION',
        'addMany.2.content',
      );
      expect((await mem.list()).items).toEqual([]);
    });

    it('addMany rejects duplicate ids in one batch', async () => {
      const mem = await ctx.memory();
      await expectError(
        mem.addMany([
          { id: 'd', content: 'a' },
          { id: 'd', content: 'b' },
        ]),
        'VALIDATION',
        'addMany.1.id',
      );
      expect(await mem.get('d')).toBeNull();
    });

    it('addMany writes nothing when one id is taken', async () => {
      const mem = await ctx.memory();
      await mem.add({ id: 'taken', content: 'first' });
      // The error names the item whose id is taken.
      await expectError(
        mem.addMany([{ content: 'new one' }, { id: 'taken', content: 'clash' }]),
        'CONFLICT',
        'addMany.1.id',
      );
      expect((await mem.list()).items.map((m) => m.id)).toEqual(['taken']);
    });

    it('deduplicates tags', async () => {
      const mem = await ctx.memory();
      const m = await mem.add({ content: 'x', tags: ['a', 'b', 'a'] });
      expect(m.tags).toEqual(['a', 'b']);
    });

    it('returns copies: mutating a result does not change the store', async () => {
      const mem = await ctx.memory();
      const m = await mem.add({ content: 'stable', tags: ['t'], metadata: { a: 1 } });
      m.tags.push('mutated');
      m.metadata.a = 2;
      const got = await mem.get(m.id);
      got!.content = 'changed';
      expect(await mem.get(m.id)).toMatchObject({ content: 'stable', tags: ['t'], metadata: { a: 1 } });
    });
  });
}

/** A stamp of another process writing the same store. */
function otherProcessStamp(): string {
  return formatHlc({ wallMs: Date.now(), counter: 0, node: 'other-process' });
}

/** A new note that another process writes (with what its batch's guards name). */
function otherProcessNote(namespace: string, id: string, content: string): MemoryWrite {
  const stamp = otherProcessStamp();
  return {
    id,
    create: { namespace, createdAt: new Date().toISOString() },
    values: { content, kind: 'note', tags: [], metadata: {} },
    clocks: { content: stamp, kind: stamp, tags: stamp, metadata: stamp },
  };
}

/** `note` written with `unchanged` guards that no longer hold: refused whole (CONFLICT), nothing written. */
async function expectRefusedWhole(
  ctx: SuiteContext,
  mem: Engram,
  note: MemoryWrite,
  unchanged: NonNullable<WriteBatch['unchanged']>,
): Promise<void> {
  const error = await ctx
    .store()
    .apply(mem.namespace, { memories: [note], unchanged })
    .catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'CONFLICT', field: 'unchanged' });
  expect(await mem.get(note.id)).toBeNull();
}
