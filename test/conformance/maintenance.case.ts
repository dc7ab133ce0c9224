import { describe, expect, it } from 'vitest';
import { COLLECTED_SEQ_META, createMemory, type MemoryStore } from '../../src/index.js';
import { expectError, freshNamespace, ids, manualClock, type SuiteContext } from './harness.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Purge of expired memories and collection of tombstones. A store without `expiredIds` /
 * `collectTombstones` declares that it keeps no data of its own to maintain (RemoteStore: the edge does
 * it); for it the cases check that `maintain()` says it did nothing.
 */
export function maintenanceCases(ctx: SuiteContext): void {
  const maintains = (store: MemoryStore) => !!store.expiredIds && !!store.collectTombstones;

  describe('maintenance', () => {
    it('maintain() drops expired memories and their links for good, without tombstones or feed entries', async () => {
      const clock = manualClock();
      const namespace = freshNamespace('purge');
      const mem = await ctx.memory({ now: clock.now, namespace });
      const store = ctx.store();
      await mem.addMany([
        { id: 'gone', content: 'short lived coffee note', expiresAt: iso(clock.now() + 1000) },
        { id: 'kept', content: 'lasting coffee note', expiresAt: iso(clock.now() + DAY) },
        { id: 'plain', content: 'plain tea note' },
      ]);
      const link = await mem.link('kept', 'gone', 'related_to');
      const before = (await mem.search('coffee note')).map((h) => [h.memory.id, h.score]);
      clock.advance(1000);
      if (!maintains(store)) {
        expect(await mem.maintain()).toEqual({ purged: 0, collected: 0 });
        return;
      }
      expect(await mem.maintain()).toEqual({ purged: 1, collected: 0 });
      expect(await store.getMemories(namespace, ['gone', 'kept'])).toHaveLength(1);
      expect(await store.getLinks(namespace, [link.id])).toEqual([]);
      expect(await store.getTombstones(namespace, ['gone', link.id])).toEqual([]);
      const feed = (await store.changes(namespace, 0, 100)).map((e) => e.id);
      expect(feed).not.toContain('gone');
      expect(feed).not.toContain(link.id);
      expect(await store.expiredIds!(namespace, { now: iso(clock.now()), limit: 10 })).toEqual([]);
      // The text index forgot it too: scores are those of a namespace that never held it.
      const fresh = await ctx.memory({ now: clock.now });
      await fresh.addMany([
        { id: 'kept', content: 'lasting coffee note' },
        { id: 'plain', content: 'plain tea note' },
      ]);
      const after = (await mem.search('coffee note')).map((h) => [h.memory.id, h.score]);
      expect(after).toEqual((await fresh.search('coffee note')).map((h) => [h.memory.id, h.score]));
      expect(after).not.toEqual(before);
      expect((await mem.stats()).memories).toBe(2);
      // Twice is a no-op.
      expect(await mem.maintain()).toEqual({ purged: 0, collected: 0 });
    });

    it('a forget batch re-checks expiry: a memory extended meanwhile is kept', async () => {
      const clock = manualClock();
      const namespace = freshNamespace('extend');
      const mem = await ctx.memory({ now: clock.now, namespace });
      const store = ctx.store();
      await mem.add({ id: 'x', content: 'x', expiresAt: iso(clock.now() + 10) });
      const result = await store.apply(namespace, {
        forget: { memories: ['x'], expiredAt: iso(clock.now()) },
      });
      expect(result.deleted).toEqual([]);
      expect(await mem.get('x')).not.toBeNull();
    });

    it('tombstones older than the horizon are collected with their feed entries; the collected seq is kept', async () => {
      const clock = manualClock();
      const namespace = freshNamespace('collect');
      const store = ctx.store();
      const mem = await createMemory({
        store,
        namespace,
        now: clock.now,
        maintenance: { tombstoneHorizonMs: 10 * DAY, intervalMs: 0 },
      });
      const [a, b] = await mem.addMany([{ content: 'old' }, { content: 'other' }]);
      await mem.link(a!.id, b!.id, 'rel');
      await mem.remove(a!.id);
      const oldEntries = (await store.changes(namespace, 0, 100)).filter((e) => e.id !== b!.id);
      clock.advance(10 * DAY + 1);
      const recent = await mem.add({ content: 'recent' });
      await mem.remove(recent.id);
      if (!maintains(store)) {
        expect(await mem.maintain()).toEqual({ purged: 0, collected: 0 });
        return;
      }
      // The memory's tombstone and its link's (cascaded); the recent one stays.
      expect(await mem.maintain()).toEqual({ purged: 0, collected: 2 });
      expect(await store.getTombstones(namespace, [a!.id, recent.id])).toEqual([
        expect.objectContaining({ id: recent.id }),
      ]);
      const feed = (await store.changes(namespace, 0, 100)).map((e) => e.id);
      expect(feed).toEqual([b!.id, recent.id]);
      expect(await store.getMeta(namespace, COLLECTED_SEQ_META)).toBe(
        Math.max(...oldEntries.map((e) => e.seq)),
      );
      expect(ids((await mem.list()).items)).toEqual([b!.id]);
      expect(await mem.stats()).toEqual(expect.objectContaining({ memories: 1, links: 0, tombstones: 1 }));
    });

    it('unpushed local deletes are kept past the horizon (keepLocalAfter); pulled ones are not', async () => {
      const clock = manualClock();
      const namespace = freshNamespace('keep');
      const store = ctx.store();
      const mem = await ctx.memory({ now: clock.now, namespace });
      const local = await mem.add({ content: 'mine' });
      await mem.remove(local.id);
      const stamp = `${(clock.now() - 1).toString(16).padStart(12, '0')}-0000-elsewhere`;
      await store.apply(namespace, {
        origin: 'remote',
        tombstones: [{ entity: 'memory', id: 'theirs', namespace, clock: stamp }],
      });
      if (!maintains(store)) return;
      const far = `${(clock.now() + DAY).toString(16).padStart(12, '0')}-0000-`;
      expect(await store.collectTombstones!(namespace, { before: far, limit: 10, keepLocalAfter: 0 })).toBe(
        1,
      );
      expect((await store.getTombstones(namespace, [local.id, 'theirs'])).map((t) => t.id)).toEqual([
        local.id,
      ]);
      expect(await store.collectTombstones!(namespace, { before: far, limit: 10 })).toBe(1);
      expect(await store.getTombstones(namespace, [local.id])).toEqual([]);
    });

    it('collects at most limit tombstones a run', async (test) => {
      const namespace = freshNamespace('limit');
      const store = ctx.store();
      const at = (ms: number) => `${ms.toString(16).padStart(12, '0')}-0000-elsewhere`;
      const t0 = Date.parse('2030-01-01');
      const ids = ['a', 'b', 'c'];
      const tombstones = ids.map((id, i) => ({
        entity: 'memory' as const,
        id,
        namespace,
        clock: at(t0 + i),
      }));
      await store.apply(namespace, { origin: 'remote', tombstones });
      // A store that keeps no data of its own to maintain (RemoteStore) collects nothing.
      if (!maintains(store)) return test.skip();
      const before = at(t0 + 10_000);
      const left = async () => (await store.getTombstones(namespace, ids)).length;
      expect(await store.collectTombstones!(namespace, { before, limit: 1 })).toBe(1);
      expect(await left()).toBe(2);
      expect(await store.collectTombstones!(namespace, { before, limit: 1 })).toBe(1);
      expect(await left()).toBe(1);
      expect(await store.collectTombstones!(namespace, { before, limit: 5 })).toBe(1);
      expect(await left()).toBe(0);
    });

    it('tombstones stored in the feed after seqAtMost are kept, however old their stamps (the edge)', async () => {
      const namespace = freshNamespace('stored');
      const store = ctx.store();
      if (!maintains(store)) return;
      const old = (id: string) => ({
        entity: 'memory' as const,
        id,
        namespace,
        clock: '000000000001-0000-old',
      });
      await store.apply(namespace, { origin: 'remote', tombstones: [old('early')] });
      const [early] = await store.changes(namespace, 0, 10);
      await store.apply(namespace, { origin: 'remote', tombstones: [old('late')] });
      const far = '00ffffffffff-0000-';
      const options = { before: far, limit: 10, seqAtMost: early!.seq };
      expect(await store.collectTombstones!(namespace, options)).toBe(1);
      expect((await store.getTombstones(namespace, ['early', 'late'])).map((t) => t.id)).toEqual(['late']);
      expect(await store.getMeta(namespace, COLLECTED_SEQ_META)).toBe(early!.seq);
      expect(await store.collectTombstones!(namespace, { before: far, limit: 10 })).toBe(1);
    });

    it('collection bounds: a stamp at the horizon is kept, a local delete pushed up to its seq is not', async (test) => {
      const namespace = freshNamespace('bounds');
      const store = ctx.store();
      // A store that keeps no data of its own to maintain (RemoteStore: the edge does it) has no bounds.
      if (!maintains(store)) return test.skip();
      const at = (wall: number) => `${wall.toString(16).padStart(12, '0')}-0000-elsewhere`;
      await store.apply(namespace, {
        origin: 'remote',
        tombstones: [
          { entity: 'memory', id: 'below', namespace, clock: at(1) },
          { entity: 'memory', id: 'at', namespace, clock: at(2) },
        ],
      });
      expect(await store.collectTombstones!(namespace, { before: at(2), limit: 10 })).toBe(1);
      expect((await store.getTombstones(namespace, ['below', 'at'])).map((t) => t.id)).toEqual(['at']);
      // A local delete whose entry is at keepLocalAfter has been pushed: it goes.
      await store.apply(namespace, {
        tombstones: [{ entity: 'memory', id: 'mine', namespace, clock: at(1) }],
      });
      const mine = (await store.changes(namespace, 0, 10)).find((e) => e.id === 'mine')!;
      const options = { before: at(2), limit: 10, keepLocalAfter: mine.seq };
      expect(await store.collectTombstones!(namespace, options)).toBe(1);
      expect(await store.getTombstones(namespace, ['mine'])).toEqual([]);
    });

    it('an unpushed local delete does not take the place of a due one; the collected seq never goes back', async (test) => {
      const namespace = freshNamespace('in-place');
      const store = ctx.store();
      // As above: a store that keeps no data of its own to maintain (RemoteStore) collects nothing.
      if (!maintains(store)) return test.skip();
      const at = (wall: number) => `${wall.toString(16).padStart(12, '0')}-0000-elsewhere`;
      await store.apply(namespace, {
        tombstones: [{ entity: 'memory', id: 'mine', namespace, clock: at(0) }],
      });
      await store.apply(namespace, {
        origin: 'remote',
        tombstones: [{ entity: 'memory', id: 'theirs', namespace, clock: at(1) }],
      });
      const seqOf = new Map((await store.changes(namespace, 0, 10)).map((e) => [e.id, e.seq]));
      const left = async () => (await store.getTombstones(namespace, ['mine', 'theirs'])).map((t) => t.id);
      expect(await store.collectTombstones!(namespace, { before: at(5), limit: 1, keepLocalAfter: 0 })).toBe(
        1,
      );
      expect(await left()).toEqual(['mine']);
      expect(await store.getMeta(namespace, COLLECTED_SEQ_META)).toBe(seqOf.get('theirs'));
      // Pushed, it goes; its feed position is below the one already collected, which stays.
      expect(await store.collectTombstones!(namespace, { before: at(5), limit: 1 })).toBe(1);
      expect(await left()).toEqual([]);
      expect(await store.getMeta(namespace, COLLECTED_SEQ_META)).toBe(seqOf.get('theirs'));
    });

    it('a bad maintenance option is a VALIDATION error naming the field', async () => {
      for (const [maintenance, field] of [
        [{ tombstoneHorizonMs: 0 }, 'maintenance.tombstoneHorizonMs'],
        [{ tombstoneHorizonMs: 'long' }, 'maintenance.tombstoneHorizonMs'],
        [{ intervalMs: -1 }, 'maintenance.intervalMs'],
        [{ horizon: 1 }, 'maintenance.horizon'],
      ] as const) {
        await expectError(
          createMemory({
            store: ctx.store(),
            namespace: freshNamespace(),
            maintenance: maintenance as never,
          }),
          'VALIDATION',
          field,
        );
      }
    });
  });
}
