import { describe, expect, it } from 'vitest';
import { feedFloor } from '../../src/core/feed-number.js';
import type { LinkWrite, MemoryWrite } from '../../src/index.js';
import { formatHlc } from '../../src/store/index.js';
import { freshNamespace, type SuiteContext } from './harness.js';

const stamp = (ms: number, node = 'n1') => formatHlc({ wallMs: ms, counter: 0, node });
const FIELDS = ['content', 'kind', 'tags', 'metadata', 'embedding', 'importance', 'expiresAt'];

/** A new memory's write as a replica sends it: every field stamped at `at` by `node`. */
export function fullWrite(
  namespace: string,
  id: string,
  content: string,
  at: number,
  node = 'n1',
): MemoryWrite {
  return {
    id,
    create: { namespace, createdAt: new Date(at).toISOString() },
    values: { content, kind: 'note', tags: [], metadata: {} },
    clocks: Object.fromEntries(FIELDS.map((f) => [f, stamp(at, node)])),
  };
}

/** A link's write as a replica sends it: type `rel`, every field stamped at `at` by `node`, created at `createdAt`. */
function fullLinkWrite(
  namespace: string,
  link: { id: string; from: string; to: string; weight?: number },
  at: number,
  { node = 'n1', createdAt = at }: { node?: string; createdAt?: number } = {},
): LinkWrite {
  const { id, from, to, weight = 1 } = link;
  return {
    id,
    create: { namespace, from, to, createdAt: new Date(createdAt).toISOString() },
    values: { type: 'rel', weight, metadata: {} },
    clocks: { type: stamp(at, node), weight: stamp(at, node), metadata: stamp(at, node) },
  };
}

export function changeFeedCases(ctx: SuiteContext): void {
  describe('change feed and merge', () => {
    it('records one entry per entity, in increasing sequence', async () => {
      const mem = await ctx.memory();
      const a = await mem.add({ content: 'a' });
      const b = await mem.add({ content: 'b' });
      await mem.update(a.id, { content: 'a2' });
      const changes = await ctx.store().changes(mem.namespace, 0, 100);
      expect(changes.map((c) => [c.entity, c.id])).toEqual([
        ['memory', b.id],
        ['memory', a.id],
      ]);
      expect(changes[0]!.seq).toBeLessThan(changes[1]!.seq);
      expect(changes.every((c) => c.origin === 'local')).toBe(true);
    });

    it('numbers a change after the clock: above its floor then, at most one past its floor after', async () => {
      const mem = await ctx.memory();
      const before = Date.now();
      const a = await mem.add({ content: 'numbered after the clock' });
      const after = Date.now();
      const [entry] = await ctx.store().changes(mem.namespace, 0, 10);
      expect(entry?.id).toBe(a.id);
      // A new namespace's first number: one past the floor of the moment it was written (nextFeedNumber,
      // from engram/store).
      const numbered = `feed number ${entry!.seq}, clock floor ${feedFloor(before)}..${feedFloor(after)}`;
      expect(entry!.seq > feedFloor(before) && entry!.seq <= feedFloor(after) + 1, numbered).toBe(true);
    });

    it('lists many small writes of every entity in sequence order, whole and in pages', async () => {
      const mem = await ctx.memory();
      const store = ctx.store();
      const ids: string[] = [];
      let previous: string | undefined;
      for (let i = 0; i < 6; i++) {
        const made = await mem.add({ content: `small ${i}` });
        ids.push(made.id);
        if (previous) ids.push((await mem.link(previous, made.id, 'rel')).id);
        previous = made.id;
      }
      await mem.remove(previous!); // its link goes with it
      const changes = await store.changes(mem.namespace, 0, 100);
      const seqs = changes.map((c) => c.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      // One entry per entity: memories and links interleaved, then the two tombstones.
      expect(changes.map((c) => c.id).sort()).toEqual([...ids].sort());
      expect(changes.slice(0, 3).map((c) => c.entity)).toEqual(['memory', 'memory', 'link']);
      expect(await store.changes(mem.namespace, 0, 3)).toEqual(changes.slice(0, 3));
      expect(await store.changes(mem.namespace, changes[2]!.seq, 4)).toEqual(changes.slice(3, 7));
    });

    it('says where the feed entries of a batch went when asked (reportFeed), and only then', async () => {
      const store = ctx.store();
      const ns = freshNamespace('feed-range');
      const at = Date.now() - 1000;
      const first = await store.apply(ns, {
        memories: ['a', 'b', 'c'].map((id) => fullWrite(ns, id, `range ${id}`, at)),
        reportFeed: true,
      });
      const firstEntries = await store.changes(ns, 0, 100);
      const later = await store.apply(ns, {
        // One changed, one new, one the same as stored (no entry), and a link between two of them.
        memories: [
          fullWrite(ns, 'a', 'range a again', at + 10),
          fullWrite(ns, 'd', 'range d', at),
          fullWrite(ns, 'b', 'range b', at),
        ],
        links: [fullLinkWrite(ns, { id: 'l1', from: 'a', to: 'd' }, at)],
        reportFeed: true,
      });
      const unasked = await store.apply(ns, { memories: [fullWrite(ns, 'e', 'range e', at)] });
      const idle = await store.apply(ns, { memories: [fullWrite(ns, 'e', 'range e', at)], reportFeed: true });
      expect(unasked.feed).toBeUndefined();
      if (ctx.options.name.startsWith('RemoteStore')) {
        // Its apply is the edge's answer to a direct client, which says nothing of the feed.
        expect(first.feed).toBeUndefined();
        return;
      }
      const all = await store.changes(ns, 0, 100);
      const inRange = (feed: typeof first.feed, entries = all) =>
        entries.filter((e) => e.seq > feed!.after && e.seq <= feed!.last).map((e) => `${e.entity}:${e.id}`);
      expect(first.feed).toMatchObject({ after: 0, entries: 3 });
      expect(inRange(first.feed, firstEntries).sort()).toEqual(['memory:a', 'memory:b', 'memory:c']);
      // Its entry for `a` moved on with the later write: the range keeps the other two.
      expect(inRange(first.feed).sort()).toEqual(['memory:b', 'memory:c']);
      expect(later.feed!.after).toBe(first.feed!.last);
      expect(later.feed!.entries).toBe(3);
      expect(inRange(later.feed).sort()).toEqual(['link:l1', 'memory:a', 'memory:d']);
      // A batch that changed nothing took no number.
      expect(idle.feed).toMatchObject({ entries: 0 });
      expect(idle.feed!.last).toBe(idle.feed!.after);
      expect(idle.feed!.after).toBe(all.at(-1)!.seq);
    });

    it('pages by sequence number', async () => {
      const mem = await ctx.memory();
      const made = await mem.addMany(Array.from({ length: 7 }, (_, i) => ({ content: `c${i}` })));
      const store = ctx.store();
      const first = await store.changes(mem.namespace, 0, 3);
      const rest = await store.changes(mem.namespace, first[2]!.seq, 100);
      expect([...first, ...rest].map((c) => c.id)).toEqual(made.map((m) => m.id));
    });

    it('deletes leave tombstones in the feed, for the memory and its links', async () => {
      const mem = await ctx.memory();
      const [a, b] = await mem.addMany([{ content: 'a' }, { content: 'b' }]);
      const link = await mem.link(a!.id, b!.id, 'rel');
      await mem.remove(a!.id);
      const store = ctx.store();
      const tombstones = await store.getTombstones(mem.namespace, [a!.id, link.id, b!.id]);
      expect(tombstones.map((t) => [t.entity, t.id]).sort()).toEqual(
        [
          ['link', link.id],
          ['memory', a!.id],
        ].sort(),
      );
      const tail = (await store.changes(mem.namespace, 0, 100)).slice(-2).map((c) => c.id);
      expect(tail.sort()).toEqual([a!.id, link.id].sort());
      expect(await store.getMemories(mem.namespace, [a!.id])).toEqual([]);
    });

    it('applying the same write twice changes nothing the second time', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const write = fullWrite(ns, 'idem', 'hello', Date.parse('2030-01-01'));
      await store.apply(ns, { memories: [write], origin: 'remote' });
      const before = await store.changes(ns, 0, 10);
      const again = await store.apply(ns, { memories: [write], origin: 'remote' });
      expect(await store.changes(ns, 0, 10)).toEqual(before);
      expect(again.memories[0]?.memory.content).toBe('hello');
    });

    it('merges field by field: the greater clock wins each field', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, { memories: [fullWrite(ns, 'm', 'original', t0)] });
      await store.apply(ns, {
        memories: [
          { id: 'm', values: { content: 'newer content' }, clocks: { content: stamp(t0 + 20, 'b') } },
          { id: 'm', values: { tags: ['older'] }, clocks: { tags: stamp(t0 - 5, 'c') } },
          { id: 'm', values: { kind: 'fact' }, clocks: { kind: stamp(t0 + 10, 'c') } },
          { id: 'm', values: { content: 'stale content' }, clocks: { content: stamp(t0 + 15, 'c') } },
        ],
      });
      const [record] = await store.getMemories(ns, ['m']);
      expect(record!.memory).toMatchObject({ content: 'newer content', kind: 'fact', tags: [] });
      expect(record!.clocks.content).toBe(stamp(t0 + 20, 'b'));
      expect(record!.memory.updatedAt).toBe(new Date(t0 + 20).toISOString());
    });

    it('breaks equal wall clocks by client id', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, { memories: [fullWrite(ns, 'm', 'base', t0)] });
      await store.apply(ns, {
        memories: [{ id: 'm', values: { content: 'from zed' }, clocks: { content: stamp(t0 + 1, 'zed') } }],
      });
      await store.apply(ns, {
        memories: [{ id: 'm', values: { content: 'from amy' }, clocks: { content: stamp(t0 + 1, 'amy') } }],
      });
      expect((await store.getMemories(ns, ['m']))[0]!.memory.content).toBe('from zed');
    });

    it('a tombstone wins over writes stamped after it', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, { memories: [fullWrite(ns, 'm', 'base', t0)] });
      await store.apply(ns, {
        tombstones: [{ entity: 'memory', id: 'm', namespace: ns, clock: stamp(t0 + 1) }],
      });
      const late = await store.apply(ns, {
        memories: [{ id: 'm', values: { content: 'late edit' }, clocks: { content: stamp(t0 + 99, 'x') } }],
      });
      expect(late.rejected).toEqual(['m']);
      expect(await store.getMemories(ns, ['m'])).toEqual([]);
      // A pushed edit is the whole record, `create` included, its other fields older than the delete: it
      // would make the memory again if the tombstone did not win. Refused, it records nothing.
      const edit = fullWrite(ns, 'm', 'edited elsewhere', t0);
      edit.clocks.content = stamp(t0 + 99, 'x');
      const feed = await store.changes(ns, 0, 10);
      expect((await store.apply(ns, { memories: [edit], origin: 'remote' })).rejected).toEqual(['m']);
      expect(await store.getMemories(ns, ['m'])).toEqual([]);
      expect(await store.changes(ns, 0, 10)).toEqual(feed);
    });

    it('a later delete of a deleted id raises its tombstone to the later stamp; the same or an older one records nothing', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, { memories: [fullWrite(ns, 'm', 'base', t0)] });
      const remove = (at: number, node: string) => ({
        tombstones: [{ entity: 'memory' as const, id: 'm', namespace: ns, clock: stamp(at, node) }],
        origin: 'remote' as const,
      });
      await store.apply(ns, remove(t0 + 1, 'a'));
      const feed = await store.changes(ns, 0, 10);
      for (const again of [remove(t0 + 1, 'a'), remove(t0 - 5, 'z')]) {
        await store.apply(ns, again);
        expect(await store.changes(ns, 0, 10)).toEqual(feed);
        expect((await store.getTombstones(ns, ['m']))[0]!.clock).toBe(stamp(t0 + 1, 'a'));
      }
      await store.apply(ns, remove(t0 + 9, 'b'));
      expect((await store.getTombstones(ns, ['m']))[0]!.clock).toBe(stamp(t0 + 9, 'b'));
      // The raise syncs like any change, so every replica ends with the later delete...
      expect(await store.changes(ns, feed[0]!.seq, 10)).toEqual([
        expect.objectContaining({ entity: 'memory', id: 'm' }),
      ]);
      // ... against which a memory made between the two deletes stays deleted.
      const between = await store.apply(ns, {
        memories: [fullWrite(ns, 'm', 'made between the deletes', t0 + 5, 'c')],
        origin: 'remote',
      });
      expect(between.rejected).toEqual(['m']);
      expect(await store.getMemories(ns, ['m'])).toEqual([]);
    });

    it('a write stamped after the delete but lacking a stamp every creation makes is an edit: it stays deleted', async () => {
      // A memory an earlier release made holds its initial kind, tags and metadata unstamped; an edit of its
      // content after the delete is pushed whole, with `create`, and is no memory made anew.
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      const create = { namespace: ns, createdAt: new Date(t0).toISOString() };
      const values = { content: 'made by an earlier release', kind: 'note', tags: [], metadata: {} };
      await store.apply(ns, { memories: [{ id: 'm', create, values, clocks: { content: stamp(t0) } }] });
      await store.apply(ns, {
        tombstones: [{ entity: 'memory', id: 'm', namespace: ns, clock: stamp(t0 + 1) }],
      });
      const edit = {
        id: 'm',
        create,
        values: { ...values, content: 'edited after the delete' },
        clocks: { content: stamp(t0 + 9, 'x') },
      };
      expect((await store.apply(ns, { memories: [edit], origin: 'remote' })).rejected).toEqual(['m']);
      expect(await store.getMemories(ns, ['m'])).toEqual([]);
      expect(await store.getTombstones(ns, ['m'])).toHaveLength(1);
    });

    it.each([
      ['the edge', false, 'remote'],
      ['a replica', true, 'local'],
    ] as const)(
      'a replicated tombstone older than every field of the memory deletes nothing; %s announces the memory again',
      async (_, pushBackTombstones, origin) => {
        const store = ctx.store();
        // A RemoteStore writes to the edge's store: no pull ever reaches it.
        if (pushBackTombstones && store.kind === 'remote') return;
        const mem = await ctx.memory();
        const ns = mem.namespace;
        const t0 = Date.parse('2030-01-01');
        await store.apply(ns, { memories: [fullWrite(ns, 'm', 'made anew', t0 + 5)], origin: 'remote' });
        const [before] = await store.changes(ns, 0, 10);
        const result = await store.apply(ns, {
          tombstones: [{ entity: 'memory', id: 'm', namespace: ns, clock: stamp(t0 + 1, 'old') }],
          origin: 'remote',
          pushBackTombstones,
        });
        expect(result.deleted).toEqual([]);
        expect((await store.getMemories(ns, ['m']))[0]!.memory.content).toBe('made anew');
        expect(await store.getTombstones(ns, ['m'])).toEqual([]);
        const after = await store.changes(ns, 0, 10);
        expect(after.map((c) => [c.entity, c.id, c.origin])).toEqual([['memory', 'm', origin]]);
        expect(after[0]!.seq).toBeGreaterThan(before!.seq);
        // Put again as it was: searched once, counted once.
        expect((await mem.search('anew')).map((h) => h.memory.id)).toEqual(['m']);
        expect(await mem.count()).toBe(1);
        // One stamped after a field of it still deletes it, and a local delete always does.
        await store.apply(ns, {
          tombstones: [{ entity: 'memory', id: 'm', namespace: ns, clock: stamp(t0 + 5, 'zzz') }],
          origin: 'remote',
        });
        expect(await store.getMemories(ns, ['m'])).toEqual([]);
        await store.apply(ns, { memories: [fullWrite(ns, 'n', 'n', t0 + 5)] });
        await store.apply(ns, {
          tombstones: [{ entity: 'memory', id: 'n', namespace: ns, clock: stamp(t0 + 1) }],
        });
        expect(await store.getMemories(ns, ['n'])).toEqual([]);
      },
    );

    it('an older delete that comes with a write of the memory deletes nothing either', async () => {
      const store = ctx.store();
      const ns = freshNamespace();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, { memories: [fullWrite(ns, 'm', 'made anew', t0 + 5)], origin: 'remote' });
      const both = await store.apply(ns, {
        tombstones: [{ entity: 'memory', id: 'm', namespace: ns, clock: stamp(t0 + 1, 'old') }],
        memories: [fullWrite(ns, 'm', 'written again', t0 + 6)],
        origin: 'remote',
      });
      expect(both.deleted).toEqual([]);
      expect((await store.getMemories(ns, ['m']))[0]!.memory.content).toBe('written again');
      expect(await store.getTombstones(ns, ['m'])).toEqual([]);
      expect((await store.changes(ns, 0, 10)).map((c) => c.id)).toEqual(['m']);
    });

    it('a memory written whole after the one under its id expired replaces it; the old links go', async () => {
      const mem = await ctx.memory();
      const ns = mem.namespace;
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      const old = fullWrite(ns, 'm', 'the old reminder', t0);
      old.values.expiresAt = new Date(t0 + 10).toISOString();
      await store.apply(ns, { memories: [old, fullWrite(ns, 'o', 'other', t0)] });
      const link = {
        id: 'l1',
        create: { namespace: ns, from: 'm', to: 'o', createdAt: new Date(t0).toISOString() },
        values: { type: 'rel', weight: 1, metadata: {} },
        clocks: { type: stamp(t0), weight: stamp(t0), metadata: stamp(t0) },
      };
      await store.apply(ns, { links: [link] });
      // Written whole before the expiry: an edit (merged field by field), the link stays.
      const before = fullWrite(ns, 'm', 'edited before', t0 + 5, 'x');
      before.values.expiresAt = old.values.expiresAt;
      await store.apply(ns, { memories: [before], origin: 'remote' });
      expect((await store.getLinks(ns, ['l1'])).length).toBe(1);
      // An edit (no `create`) rewriting every field a creation stamps after the expiry makes nothing anew.
      const created = ['content', 'kind', 'tags', 'metadata'];
      const edit = {
        id: 'm',
        values: { content: 'edited after it expired', kind: 'note', tags: [], metadata: {} },
        clocks: Object.fromEntries(created.map((f) => [f, stamp(t0 + 15, 'x')])),
      };
      expect((await store.apply(ns, { memories: [edit], origin: 'remote' })).rejected).toEqual([]);
      expect((await store.getLinks(ns, ['l1'])).length).toBe(1);
      const replacing = fullWrite(ns, 'm', 'a new note', t0 + 20, 'y');
      const result = await store.apply(ns, { memories: [replacing], origin: 'remote' });
      expect(result.deleted).toEqual(['l1']);
      const [record] = await store.getMemories(ns, ['m']);
      expect(record!.memory).toMatchObject({
        content: 'a new note',
        createdAt: new Date(t0 + 20).toISOString(),
      });
      expect(record!.memory.expiresAt).toBeUndefined();
      expect(await store.getLinks(ns, ['l1'])).toEqual([]);
      expect((await store.getTombstones(ns, ['l1']))[0]!.clock).toBe(stamp(t0 + 20, 'y'));
      expect((await mem.search('note')).map((h) => h.memory.id)).toEqual(['m']);
      expect(await mem.search('reminder')).toEqual([]);
      // The link written again is refused, as any write of a deleted link.
      expect((await store.apply(ns, { links: [link], origin: 'remote' })).rejected).toEqual(['l1']);
    });

    it('a pulled batch replacing an expired memory and bringing its link live: the link is buried, and pushed', async () => {
      const store = ctx.store();
      const mem = await ctx.memory();
      const ns = mem.namespace;
      const t0 = Date.parse('2030-01-01');
      const old = fullWrite(ns, 'm', 'the old reminder', t0);
      old.values.expiresAt = new Date(t0 + 10).toISOString();
      const link = {
        id: 'l1',
        create: { namespace: ns, from: 'm', to: 'o', createdAt: new Date(t0).toISOString() },
        values: { type: 'rel', weight: 1, metadata: {} },
        clocks: { type: stamp(t0), weight: stamp(t0), metadata: stamp(t0) },
      };
      await store.apply(ns, { memories: [old, fullWrite(ns, 'o', 'other', t0)], links: [link] });
      // The edge had purged the old memory, took the new one as new and still holds the link.
      const result = await store.apply(ns, {
        memories: [fullWrite(ns, 'm', 'a new note', t0 + 20, 'y')],
        links: [link],
        origin: 'remote',
        pushBackTombstones: true,
      });
      expect(result.rejected).toEqual(['l1']);
      expect(await store.getLinks(ns, ['l1'])).toEqual([]);
      expect((await store.getTombstones(ns, ['l1'])).map((t) => t.clock)).toEqual([stamp(t0 + 20, 'y')]);
      const entry = (await store.changes(ns, 0, 10)).find((c) => c.id === 'l1');
      // A RemoteStore writes to the edge's store: nothing there is pushed.
      expect(entry?.origin).toBe(store.kind === 'remote' ? 'remote' : 'local');
    });

    it('a pulled link to a memory deleted here sends that delete back (pushBackTombstones)', async (test) => {
      const store = ctx.store();
      // A RemoteStore writes to the edge's store: no pull ever reaches it.
      if (store.kind === 'remote') test.skip();
      const ns = freshNamespace();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, {
        memories: [fullWrite(ns, 'a', 'a', t0), fullWrite(ns, 'b', 'b', t0)],
        origin: 'remote',
      });
      // The delete came from the edge, which has since collected it and took the link to b.
      await store.apply(ns, {
        tombstones: [{ entity: 'memory', id: 'b', namespace: ns, clock: stamp(t0 + 1) }],
        origin: 'remote',
      });
      const result = await store.apply(ns, {
        links: [fullLinkWrite(ns, { id: 'l1', from: 'a', to: 'b' }, t0 + 2, { createdAt: t0 })],
        origin: 'remote',
        pushBackTombstones: true,
      });
      expect(result.deleted).toEqual(['l1']);
      expect(await store.getLinks(ns, ['l1'])).toEqual([]);
      const entry = (await store.changes(ns, 0, 10)).find((c) => c.id === 'b');
      expect(entry?.origin).toBe('local');
    });

    it('a link to a deleted memory is tombstoned on arrival', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, { memories: [fullWrite(ns, 'a', 'a', t0), fullWrite(ns, 'b', 'b', t0)] });
      await store.apply(ns, {
        tombstones: [{ entity: 'memory', id: 'b', namespace: ns, clock: stamp(t0 + 1) }],
      });
      const result = await store.apply(ns, {
        links: [fullLinkWrite(ns, { id: 'l1', from: 'a', to: 'b' }, t0 + 2, { createdAt: t0 })],
      });
      expect(result.deleted).toEqual(['l1']);
      expect(await store.getLinks(ns, ['l1'])).toEqual([]);
      expect((await store.getTombstones(ns, ['l1']))[0]?.entity).toBe('link');
    });

    it('with foldTwinLinks, a new link of a held pair and type folds into the held one (fields by stamp)', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, { memories: [fullWrite(ns, 'a', 'a', t0), fullWrite(ns, 'b', 'b', t0)] });
      const link = (id: string, at: number, weight: number, type = 'rel', from = 'a', to = 'b') => ({
        id,
        create: { namespace: ns, from, to, createdAt: new Date(at).toISOString() },
        values: { type, weight, metadata: { by: id } },
        clocks: { type: stamp(at), weight: stamp(at), metadata: stamp(at) },
      });
      await store.apply(ns, { links: [link('held', t0 + 5, 0.2)] });
      // Without the flag (a replica's pull), a twin is kept as it came. A RemoteStore's writes are pushes
      // to an edge, which folds them.
      if (!ctx.options.name.startsWith('RemoteStore')) {
        const other = freshNamespace();
        await store.apply(other, {
          memories: [fullWrite(other, 'a', 'a', t0), fullWrite(other, 'b', 'b', t0)],
        });
        await store.apply(other, {
          links: [{ ...link('x', t0, 1), create: { ...link('x', t0, 1).create, namespace: other } }],
        });
        await store.apply(other, {
          links: [{ ...link('y', t0, 1), create: { ...link('y', t0, 1).create, namespace: other } }],
        });
        expect((await store.getLinks(other, ['x', 'y'])).length).toBe(2);
      }

      const result = await store.apply(ns, {
        links: [
          link('twin', t0 + 9, 0.9),
          link('kin', t0 + 9, 0.5, 'kin'),
          link('back', t0 + 9, 0.5, 'rel', 'b', 'a'),
        ],
        origin: 'remote',
        foldTwinLinks: true,
      });
      expect(result.deleted).toEqual(['twin']);
      expect(await store.getLinks(ns, ['twin'])).toEqual([]);
      expect((await store.getTombstones(ns, ['twin']))[0]).toMatchObject({ entity: 'link', id: 'twin' });
      const [held] = await store.getLinks(ns, ['held']);
      expect(held!.link).toMatchObject({ type: 'rel', weight: 0.9, metadata: { by: 'twin' } });
      expect(held!.link.createdAt).toBe(new Date(t0 + 5).toISOString());
      // Another type, or the other direction, is no twin.
      expect((await store.getLinks(ns, ['kin', 'back'])).length).toBe(2);
      // An older twin's fields lose to the held link's.
      await store.apply(ns, { links: [link('late', t0 + 1, 0.1)], origin: 'remote', foldTwinLinks: true });
      expect((await store.getLinks(ns, ['held']))[0]!.link).toMatchObject({ weight: 0.9 });
      expect(await store.getLinks(ns, ['late'])).toEqual([]);
    });

    it("with foldTwinLinks, a link the same batch deletes is no twin: its pair's new link is kept", async () => {
      // A device unlinks a pair and links it again before it syncs: its push holds both.
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, { memories: [fullWrite(ns, 'a', 'a', t0), fullWrite(ns, 'b', 'b', t0)] });
      const link = (id: string, at: number, weight: number) => ({
        id,
        create: { namespace: ns, from: 'a', to: 'b', createdAt: new Date(at).toISOString() },
        values: { type: 'rel', weight, metadata: {} },
        clocks: { type: stamp(at), weight: stamp(at), metadata: stamp(at) },
      });
      await store.apply(ns, { links: [link('old', t0 + 1, 0.1)] });
      const result = await store.apply(ns, {
        tombstones: [{ entity: 'link', id: 'old', namespace: ns, clock: stamp(t0 + 2) }],
        links: [link('new', t0 + 3, 0.3)],
        origin: 'remote',
        foldTwinLinks: true,
      });
      expect(result.deleted).toEqual(['old']);
      expect(await store.getLinks(ns, ['old'])).toEqual([]);
      expect((await store.getLinks(ns, ['new']))[0]?.link).toMatchObject({ weight: 0.3 });
      expect((await store.linksOf(ns, ['a'], { direction: 'out' })).map((r) => r.link.id)).toEqual(['new']);
    });

    it('with foldTwinLinks, twins within one push fold into one link, beside twins of held links', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      const ids = ['hub', 'x', 'y', 'z'];
      await store.apply(ns, { memories: ids.map((id) => fullWrite(ns, id, id, t0)) });
      const link = (id: string, to: string, at: number, weight: number) => ({
        id,
        create: { namespace: ns, from: 'hub', to, createdAt: new Date(at).toISOString() },
        values: { type: 'rel', weight, metadata: { by: id } },
        clocks: { type: stamp(at), weight: stamp(at), metadata: stamp(at) },
      });
      await store.apply(ns, { links: [link('held', 'x', t0 + 1, 0.1)] });
      const result = await store.apply(ns, {
        links: [
          link('first', 'y', t0 + 2, 0.2),
          link('onto-held', 'x', t0 + 3, 0.3),
          link('second', 'y', t0 + 4, 0.4),
          link('third', 'y', t0 + 1, 0.05),
          link('alone', 'z', t0 + 2, 0.6),
        ],
        origin: 'remote',
        foldTwinLinks: true,
      });
      expect([...result.deleted].sort()).toEqual(['onto-held', 'second', 'third']);
      const live = await store.getLinks(ns, ['held', 'first', 'onto-held', 'second', 'third', 'alone']);
      const byId = Object.fromEntries(live.map((r) => [r.link.id, r.link]));
      expect(Object.keys(byId).sort()).toEqual(['alone', 'first', 'held']);
      expect(byId.held).toMatchObject({ to: 'x', weight: 0.3, metadata: { by: 'onto-held' } });
      // The latest stamp wins whatever its place in the push; an older twin after it changes nothing.
      expect(byId.first).toMatchObject({ to: 'y', weight: 0.4, metadata: { by: 'second' } });
      expect(byId.alone).toMatchObject({ to: 'z', weight: 0.6 });
      expect((await store.linksOf(ns, ['hub'], { direction: 'out' })).length).toBe(3);
    });

    it('with foldTwinLinks, pairs whose ids join into the same text are no twins (p -> qr, pq -> r)', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, { memories: ['p', 'qr', 'pq', 'r'].map((id) => fullWrite(ns, id, id, t0)) });
      const link = (id: string, from: string, to: string) =>
        fullLinkWrite(ns, { id, from, to }, t0 + 1, { createdAt: t0 });
      const result = await store.apply(ns, {
        links: [link('one', 'p', 'qr'), link('two', 'pq', 'r')],
        origin: 'remote',
        foldTwinLinks: true,
      });
      expect(result.deleted).toEqual([]);
      const pairs = (await store.getLinks(ns, ['one', 'two'])).map((r) => `${r.link.from} -> ${r.link.to}`);
      expect(pairs.sort()).toEqual(['p -> qr', 'pq -> r']);
    });

    it('unchangedMeta refuses the whole batch when a guarded meta entry changed, compared as JSON', async () => {
      // A RemoteStore's batches become pushes, whose guard is the edge's own (test/crypto/rekey-race).
      if (ctx.options.name.startsWith('RemoteStore')) return;
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, { meta: { guarded: { a: 1, b: [2, { c: 3 }] } } });
      const refused = store.apply(ns, {
        memories: [fullWrite(ns, 'm1', 'refused', t0)],
        meta: { other: 1 },
        unchangedMeta: [{ key: 'guarded', value: { a: 1, b: [2] }, field: 'sync.key.id' }],
      });
      await expect(refused).rejects.toMatchObject({ code: 'CONFLICT', field: 'sync.key.id' });
      expect(await store.getMemories(ns, ['m1'])).toEqual([]);
      expect(await store.getMeta(ns, 'other')).toBeUndefined();
      const unset = store.apply(ns, {
        memories: [fullWrite(ns, 'm1', 'refused', t0)],
        unchangedMeta: [{ key: 'never-set', value: 'x', field: 'f' }],
      });
      await expect(unset).rejects.toMatchObject({ code: 'CONFLICT', field: 'f' });
      // The same value whatever its key order, and an unset entry guarded as null, let the batch through.
      const result = await store.apply(ns, {
        memories: [fullWrite(ns, 'm1', 'kept', t0)],
        unchangedMeta: [
          { key: 'guarded', value: { b: [2, { c: 3 }], a: 1 }, field: 'sync.key.id' },
          { key: 'never-set', value: null, field: 'f' },
        ],
      });
      expect(result.memories.map((r) => r.memory.content)).toEqual(['kept']);
    });

    it('a partial write for an unknown id is rejected, not half-created', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const result = await store.apply(ns, {
        memories: [
          { id: 'ghost', values: { content: 'x' }, clocks: { content: stamp(Date.parse('2030-01-01')) } },
        ],
      });
      expect(result.rejected).toEqual(['ghost']);
      expect(await store.changes(ns, 0, 10)).toEqual([]);
    });

    it('marks remote writes that lost a field to local data as still local', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, { memories: [fullWrite(ns, 'm', 'base', t0)] });
      await store.apply(ns, {
        memories: [{ id: 'm', values: { kind: 'fact' }, clocks: { kind: stamp(t0 + 50) } }],
      });
      await store.apply(ns, {
        memories: [fullWrite(ns, 'm', 'server copy', t0 + 10, 'srv')],
        origin: 'remote',
      });
      const [entry] = await store.changes(ns, 0, 10);
      expect(entry!.origin).toBe('local');
      const [record] = await store.getMemories(ns, ['m']);
      expect(record!.memory).toMatchObject({ content: 'server copy', kind: 'fact' });
      await store.apply(ns, { memories: [fullWrite(ns, 'n', 'plain remote', t0, 'srv')], origin: 'remote' });
      expect((await store.changes(ns, entry!.seq, 10))[0]).toMatchObject({ id: 'n', origin: 'remote' });
    });

    it('marks remote link writes that lost a field to local data as still local', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      const link = (at: number, weight: number, node = 'n1') =>
        fullLinkWrite(ns, { id: 'l', from: 'a', to: 'b', weight }, at, { node, createdAt: t0 });
      await store.apply(ns, {
        memories: [fullWrite(ns, 'a', 'a', t0), fullWrite(ns, 'b', 'b', t0)],
        links: [link(t0, 0.1)],
        origin: 'remote',
      });
      await store.apply(ns, {
        links: [{ id: 'l', values: { weight: 0.7 }, clocks: { weight: stamp(t0 + 50) } }],
      });
      await store.apply(ns, { links: [link(t0 + 10, 0.2, 'srv')], origin: 'remote' });
      const entry = (await store.changes(ns, 0, 10)).find((c) => c.id === 'l');
      // Still to push: the edge holds the pulled weight, not the local one that won here.
      expect(entry?.origin).toBe('local');
      expect((await store.getLinks(ns, ['l']))[0]!.link.weight).toBe(0.7);
    });

    it("an edit wins over what it overwrites even when this replica's clock lags behind", async () => {
      const ns = freshNamespace();
      const ahead = Date.now() + 3_600_000;
      await ctx
        .store()
        .apply(ns, { memories: [fullWrite(ns, 'm', 'from a fast clock', ahead, 'fast')], origin: 'remote' });
      const mem = await ctx.memory({ namespace: ns });
      const updated = await mem.update('m', { content: 'edited here' });
      expect(updated.content).toBe('edited here');
      expect((await mem.get('m'))?.content).toBe('edited here');
      await mem.link('m', (await mem.add({ content: 'other' })).id, 'rel');
      expect(await mem.remove('m')).toBe(true);
      expect(await mem.get('m')).toBeNull();
    });

    it("a remove stamps its tombstone after the memory's stamps even when this replica's clock lags behind", async () => {
      const ns = freshNamespace();
      const ahead = Date.now() + 3_600_000;
      const store = ctx.store();
      await store.apply(ns, {
        memories: [fullWrite(ns, 'm', 'from a fast clock', ahead, 'fast')],
        origin: 'remote',
      });
      const mem = await ctx.memory({ namespace: ns });
      expect(await mem.remove('m')).toBe(true);
      const [tombstone] = await store.getTombstones(ns, ['m']);
      // Stamped before them, the delete would delete nothing where the memory is held (merge rule 2).
      expect(tombstone!.clock > stamp(ahead, 'fast')).toBe(true);
    });

    it('keeps meta written with a batch', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      await store.apply(ns, { meta: { cursor: 42, info: { a: ['b'] } } });
      expect(await store.getMeta(ns, 'cursor')).toBe(42);
      expect(await store.getMeta(ns, 'info')).toEqual({ a: ['b'] });
      expect(await store.getMeta(ns, 'absent')).toBeUndefined();
    });

    it('a memory written twice in one batch is indexed by its final text, not the text in between', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, { memories: [fullWrite(ns, 'm', 'original walrus', t0)] });
      // The second write leaves the content the first one set: only the stored text may be compared.
      await store.apply(ns, {
        memories: [
          { id: 'm', values: { content: 'renamed penguin' }, clocks: { content: stamp(t0 + 10, 'b') } },
          { id: 'm', values: { kind: 'fact' }, clocks: { kind: stamp(t0 + 20, 'b') } },
        ],
      });
      const mem = await ctx.memory({ namespace: ns });
      const found = async (text: string) => (await mem.search(text)).map((hit) => hit.memory.id);
      expect(await found('penguin')).toEqual(['m']);
      expect(await found('walrus')).toEqual([]);
      const [record] = await store.getMemories(ns, ['m']);
      expect(record!.memory).toMatchObject({ content: 'renamed penguin', kind: 'fact' });
    });

    it('a link written without a weight reads back without one; a weight of 0 stays 0', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      const unweighted = fullLinkWrite(ns, { id: 'l1', from: 'a', to: 'b' }, t0);
      delete unweighted.values.weight;
      await store.apply(ns, {
        memories: [fullWrite(ns, 'a', 'one', t0), fullWrite(ns, 'b', 'two', t0)],
        links: [unweighted, fullLinkWrite(ns, { id: 'l2', from: 'b', to: 'a', weight: 0 }, t0)],
      });
      const links = await store.getLinks(ns, ['l1', 'l2']);
      const weights = Object.fromEntries(links.map(({ link }) => [link.id, link.weight]));
      expect(weights).toEqual({ l1: undefined, l2: 0 });
      expect('weight' in links.find(({ link }) => link.id === 'l1')!.link).toBe(false);
    });

    it('an entity changed again later in a batch takes the later feed number', async () => {
      const ns = freshNamespace();
      const store = ctx.store();
      const t0 = Date.parse('2030-01-01');
      await store.apply(ns, {
        memories: [
          fullWrite(ns, 'a', 'first', t0),
          fullWrite(ns, 'b', 'second', t0),
          { id: 'a', values: { kind: 'fact' }, clocks: { kind: stamp(t0 + 10) } },
        ],
      });
      const changes = await store.changes(ns, 0, 10);
      expect(changes.map((c) => c.id)).toEqual(['b', 'a']);
      expect(changes[0]!.seq).toBeLessThan(changes[1]!.seq);
      // Three writes of each, interleaved, in a later batch: still one entry each, at its last change.
      await store.apply(ns, {
        memories: [20, 30, 40].flatMap((ms) => [
          { id: 'a', values: { content: `a at ${ms}` }, clocks: { content: stamp(t0 + ms) } },
          { id: 'b', values: { content: `b at ${ms}` }, clocks: { content: stamp(t0 + ms + 1) } },
        ]),
      });
      const later = await store.changes(ns, 0, 10);
      expect(later.map((c) => c.id)).toEqual(['a', 'b']);
      expect(later[0]!.seq).toBeLessThan(later[1]!.seq);
      expect(later[0]!.seq).toBeGreaterThan(changes[1]!.seq);
    });
  });
}

export function eventCases(ctx: SuiteContext): void {
  describe('events and status', () => {
    it("on('change') reports writes until unsubscribed", async () => {
      const mem = await ctx.memory();
      const seen: string[] = [];
      const off = mem.on('change', (e) => seen.push(`${e.type}:${e.ids.length}`));
      const m = await mem.add({ content: 'x' });
      await mem.update(m.id, { content: 'y' });
      off();
      await mem.remove(m.id);
      expect(seen).toEqual(['add:1', 'update:1']);
    });

    it('a throwing listener does not break the write, and its error is reported, not swallowed', async () => {
      const mem = await ctx.memory();
      const host = globalThis as { reportError?: (error: unknown) => void };
      const original = host.reportError;
      const reported: unknown[] = [];
      host.reportError = (error) => reported.push(error);
      try {
        mem.on('change', () => {
          throw new Error('listener bug');
        });
        const m = await mem.add({ content: 'still saved' });
        expect(await mem.get(m.id)).not.toBeNull();
        expect(reported).toEqual([new Error('listener bug')]);
      } finally {
        if (original) host.reportError = original;
        else delete host.reportError;
      }
    });

    it('status is local with nothing pending when sync is off', async () => {
      const mem = await ctx.memory();
      await mem.add({ content: 'x' });
      expect(mem.status).toEqual({ state: 'local', pending: 0, lastSyncAt: null, pendingEmbeddings: 0 });
    });
  });
}
