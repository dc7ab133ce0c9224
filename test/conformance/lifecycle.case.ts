import { describe, expect, it } from 'vitest';
import { type CountOptions, createMemory, exportJsonl, importJsonl } from '../../src/index.js';
import { expectError, freshNamespace, ids, manualClock, type SuiteContext } from './harness.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

export function validityCases(ctx: SuiteContext): void {
  describe('validity in time', () => {
    it('stores validFrom/validTo normalized and reads only memories valid now by default', async () => {
      const clock = manualClock();
      const t = clock.now();
      const mem = await ctx.memory({ now: clock.now });
      const past = await mem.add({
        content: 'lived in Rome',
        validFrom: iso(t - 10 * DAY),
        validTo: iso(t - DAY),
      });
      const now = await mem.add({ content: 'lives in Oslo', validFrom: '2029-12-31T00:00:00+00:00' });
      const future = await mem.add({ content: 'will live in Lima', validFrom: iso(t + DAY) });
      const open = await mem.add({ content: 'likes to live by the sea' });
      expect(now.validFrom).toBe('2029-12-31T00:00:00.000Z');
      expect(past.validTo).toBe(iso(t - DAY));
      expect(await mem.get(past.id)).toEqual(past);
      expect(ids((await mem.list()).items)).toEqual([open.id, now.id]);
      expect(ids(await mem.search('live'))).toEqual(ids(await mem.search('live', { asOf: iso(t) })));
      expect(new Set(ids(await mem.search('live')))).toEqual(new Set([open.id, now.id]));
      expect(ids((await mem.list({ asOf: iso(t - 2 * DAY) })).items)).toEqual([open.id, past.id]);
      expect(ids((await mem.list({ asOf: iso(t + DAY) })).items)).toEqual([open.id, future.id, now.id]);
      expect(ids((await mem.list({ history: true })).items)).toEqual([open.id, future.id, now.id, past.id]);
      expect(new Set(ids(await mem.search('live', { history: true })))).toEqual(
        new Set([past.id, now.id, future.id, open.id]),
      );
      expect(ids(await mem.search('rome', { asOf: iso(t - 5 * DAY) }))).toEqual([past.id]);
      expect(await mem.search('rome')).toEqual([]);
      // validTo is exclusive, validFrom inclusive.
      expect(ids((await mem.list({ asOf: iso(t - DAY), kind: 'note' })).items)).toEqual([open.id, now.id]);
      expect(ids((await mem.list({ asOf: iso(t - 10 * DAY) })).items)).toEqual([open.id, past.id]);
      clock.advance(2 * DAY);
      expect(ids((await mem.list()).items)).toEqual([open.id, future.id, now.id]);
    });

    it('update sets and clears validity fields', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const m = await mem.add({ content: 'works at Acme' });
      const closed = await mem.update(m.id, { validTo: iso(clock.now() - 1) });
      expect(closed.validTo).toBe(iso(clock.now() - 1));
      expect((await mem.list()).items).toEqual([]);
      const reopened = await mem.update(m.id, { validTo: null });
      expect(reopened.validTo).toBeUndefined();
      expect(ids((await mem.list()).items)).toEqual([m.id]);
    });

    it('refuses a period that ends before it starts, and an asOf that is not a date', async () => {
      const mem = await ctx.memory();
      await expectError(
        mem.add({ content: 'x', validFrom: '2024-02-01T00:00:00Z', validTo: '2024-01-01T00:00:00Z' }),
        'VALIDATION',
        'add.validTo',
      );
      await expectError(
        mem.addMany([
          { content: 'ok' },
          { content: 'x', validFrom: '2024-02-01T00:00:00Z', validTo: '2024-01-01T00:00:00Z' },
        ]),
        'VALIDATION',
        'addMany.1.validTo',
      );
      const m = await mem.add({ content: 'y', validFrom: '2024-02-01T00:00:00Z' });
      await expectError(
        mem.update(m.id, { validTo: '2024-01-01T00:00:00Z' }),
        'VALIDATION',
        'update.patch.validTo',
      );
      // Only the start was given: the error names it, not the stored end it would pass.
      const ended = await ctx.memory();
      const period = await ended.add({ content: 'p', validTo: '2024-03-01T00:00:00Z' });
      await expectError(
        ended.update(period.id, { validFrom: '2024-04-01T00:00:00Z' }),
        'VALIDATION',
        'update.patch.validFrom',
      );
      await expectError(mem.add({ content: 'z', validFrom: 'yesterday' }), 'VALIDATION', 'add.validFrom');
      // A date-time without its zone would be read in the zone of whatever machine parses it.
      await expectError(
        mem.add({ content: 'z', validFrom: '2024-02-01T10:00:00' }),
        'VALIDATION',
        'add.validFrom',
      );
      await expectError(mem.list({ asOf: '2024-02-01T10:00' }), 'VALIDATION', 'list.asOf');
      await expectError(
        mem.update(m.id, { expiresAt: '2099-01-01 00:00' }),
        'VALIDATION',
        'update.patch.expiresAt',
      );
      expect((await mem.add({ content: 'zoned', validFrom: '2024-02-01T10:00:00+02:00' })).validFrom).toBe(
        '2024-02-01T08:00:00.000Z',
      );
      expect((await mem.add({ content: 'dated', validFrom: '2024-02-01' })).validFrom).toBe(
        '2024-02-01T00:00:00.000Z',
      );
      await expectError(mem.list({ asOf: 'last week' }), 'VALIDATION', 'list.asOf');
      await expectError(mem.search('y', { asOf: 'soon' }), 'VALIDATION', 'search.asOf');
      await expectError(mem.count({ asOf: '2024-13-45' }), 'VALIDATION', 'count.asOf');
      await expectError(mem.list({ history: 'yes' as unknown as boolean }), 'VALIDATION', 'list.history');
      expect((await mem.list({ history: true })).items).toHaveLength(3);
      // An empty period (it ends where it starts) is allowed: valid at no instant.
      const instant = '2024-05-01T00:00:00.000Z';
      const empty = await mem.add({ content: 'never in force', validFrom: instant, validTo: instant });
      expect(empty).toMatchObject({ validFrom: instant, validTo: instant });
      expect(ids((await mem.list({ asOf: instant })).items)).not.toContain(empty.id);
    });

    it('survives a reopen of a persistent store', async () => {
      // Only persistent stores have a reopen; the in-memory store has nothing to reload.
      if (!ctx.options.capabilities?.persistent || !ctx.options.reopen) return;
      const namespace = freshNamespace('validity');
      const scratch = await ctx.options.create();
      const mem = await createMemory({ store: scratch, namespace });
      const m = await mem.add({
        content: 'kept period',
        validFrom: '2020-01-01T00:00:00Z',
        validTo: '2021-01-01T00:00:00Z',
      });
      const reopened = await ctx.options.reopen(scratch);
      const [record] = await reopened.getMemories(namespace, [m.id]);
      expect(record?.memory.validFrom).toBe('2020-01-01T00:00:00.000Z');
      expect(record?.memory.validTo).toBe('2021-01-01T00:00:00.000Z');
      expect(record?.clocks.validTo).toBeDefined();
      const again = await createMemory({ store: reopened, namespace });
      expect(ids((await again.list({ asOf: '2020-06-01T00:00:00Z' })).items)).toEqual([m.id]);
      await again.close();
    });
  });

  describe('supersede', () => {
    it('two writes checking the same thing at once: one wins, the other is refused, nothing is lost', async () => {
      const namespace = `race-${Math.random().toString(36).slice(2, 10)}`;
      const mem = await ctx.memory({ namespace });
      const other = await ctx.memory({ namespace });
      // Two adds of one given id in flight together (also through two façades on one store).
      const adds = await Promise.allSettled([
        mem.add({ id: 'same', content: 'first caller', metadata: { by: 1 } }),
        other.add({ id: 'same', content: 'second caller' }),
      ]);
      expect(adds.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
      expect((adds[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT', field: 'add.id' });
      expect((await mem.get('same'))?.metadata).toEqual({ by: 1 });
      const many = await Promise.allSettled([
        mem.addMany([{ id: 'b1', content: 'x' }]),
        other.addMany([{ id: 'b1', content: 'y' }]),
      ]);
      expect(many.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
      // Two supersedes of one fact in flight together: one current fact after them, not two.
      const home = await mem.add({ content: 'The user lives in Berlin', kind: 'fact' });
      const moves = await Promise.allSettled([
        mem.supersede(home.id, { content: 'The user lives in Paris', kind: 'fact' }),
        other.supersede(home.id, { content: 'The user lives in Rome', kind: 'fact' }),
      ]);
      expect(moves.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
      expect((moves[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT' });
      const current = (await mem.list({ kind: 'fact' })).items.map((m) => m.content);
      expect(current).toEqual(['The user lives in Paris']);
    });

    it('adds the new memory, closes the old one and links new -> old', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const berlin = await mem.add({ content: 'user lives in Berlin', kind: 'fact', tags: ['home'] });
      clock.advance(DAY);
      const paris = await mem.supersede(berlin.id, {
        content: 'user lives in Paris',
        kind: 'fact',
        tags: ['home'],
      });
      expect(paris.validFrom).toBe(iso(clock.now()));
      const old = await mem.get(berlin.id);
      expect(old?.validTo).toBe(iso(clock.now()));
      const [link] = await mem.links(paris.id, { direction: 'out' });
      expect(link).toMatchObject({ from: paris.id, to: berlin.id, type: 'supersedes' });
      expect(ids((await mem.list()).items)).toEqual([paris.id]);
      expect(ids(await mem.search('lives'))).toEqual([paris.id]);
      expect(ids((await mem.list({ asOf: iso(clock.now() - 1) })).items)).toEqual([berlin.id]);
      expect(ids((await mem.list({ history: true })).items)).toEqual([paris.id, berlin.id]);
      expect(ids(await mem.neighbors(paris.id))).toEqual([berlin.id]);
    });

    it('takes the successor validFrom as the end of the old period', async () => {
      const mem = await ctx.memory();
      const a = await mem.add({ content: 'plan A', validFrom: '2024-01-01T00:00:00Z' });
      const b = await mem.supersede(a.id, { content: 'plan B', validFrom: '2024-06-01T00:00:00Z' });
      expect((await mem.get(a.id))?.validTo).toBe('2024-06-01T00:00:00.000Z');
      expect(ids((await mem.list({ asOf: '2024-03-01T00:00:00Z' })).items)).toEqual([a.id]);
      expect(ids((await mem.list({ asOf: '2024-07-01T00:00:00Z' })).items)).toEqual([b.id]);
      await expectError(
        mem.supersede(b.id, { content: 'plan C', validFrom: '2024-02-01T00:00:00Z' }),
        'VALIDATION',
        'supersede.input.validFrom',
      );
      // A successor may start with the old fact (its period is then empty), not end before it starts.
      const same = await mem.add({ content: 'plan X', validFrom: '2024-01-01T00:00:00Z' });
      const replaced = await mem.supersede(same.id, { content: 'plan Y', validFrom: '2024-01-01T00:00:00Z' });
      expect((await mem.get(same.id))?.validTo).toBe(replaced.validFrom);
      await expectError(
        mem.supersede(replaced.id, { content: 'plan Z', validTo: '2000-01-01T00:00:00Z' }),
        'VALIDATION',
        'supersede.input.validTo',
      );
      expect((await mem.get(replaced.id))?.validTo).toBeUndefined();
    });

    it('refuses a missing or already superseded memory, and bad input', async () => {
      const mem = await ctx.memory();
      await expectError(mem.supersede('nope', { content: 'x' }), 'NOT_FOUND', 'supersede.oldId');
      const a = await mem.add({ content: 'first' });
      await mem.supersede(a.id, { content: 'second' });
      await expectError(mem.supersede(a.id, { content: 'third' }), 'CONFLICT', 'supersede.oldId');
      await expectError(mem.supersede(a.id, { content: '' }), 'VALIDATION', 'supersede.input.content');
      await expectError(mem.supersede('bad id!', { content: 'x' }), 'VALIDATION', 'supersede.oldId');
      // An option supersede does not take is refused, not ignored.
      const b = await mem.add({ content: 'current' });
      await expectError(
        (mem.supersede as (...args: unknown[]) => Promise<unknown>)(
          b.id,
          { content: 'next' },
          { dedupe: true },
        ),
        'VALIDATION',
        'supersede.options',
      );
      await expectError(mem.supersede(b.id, { id: a.id, content: 'next' }), 'CONFLICT', 'supersede.input.id');
      expect((await mem.list({ history: true })).items).toHaveLength(3);
    });

    it('closes a fact written by a clock an hour ahead of its own', async (test) => {
      // An edge refuses stamps from the future, so a RemoteStore cannot hold any.
      if (ctx.store().kind === 'remote') test.skip();
      const mem = await ctx.memory();
      const ahead = await ctx.memory({ namespace: mem.namespace, now: () => Date.now() + HOUR });
      const berlin = await ahead.add({ content: 'lives in Berlin' });
      const paris = await mem.supersede(berlin.id, { content: 'lives in Paris' });
      expect((await mem.get(berlin.id))?.validTo).toBe(paris.validFrom);
      expect(ids((await mem.list()).items)).toEqual([paris.id]);
    });

    it('refuses to supersede a fact at the instant its period ends: it is no longer in force (validTo is exclusive)', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const lease = await mem.add({ content: 'the lease runs', validTo: iso(clock.now() + DAY) });
      clock.advance(DAY);
      await expectError(
        mem.supersede(lease.id, { content: 'the lease was renewed' }),
        'CONFLICT',
        'supersede.oldId',
      );
      expect((await mem.get(lease.id))?.validTo).toBe(iso(clock.now()));
    });

    it('refuses to supersede a fact whose successor takes over later: two successors would overlap', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const old = await mem.add({ content: 'the price is 10', validFrom: iso(clock.now() - DAY) });
      const later = await mem.supersede(old.id, {
        content: 'the price is 12',
        validFrom: iso(clock.now() + DAY),
      });
      await expectError(mem.supersede(old.id, { content: 'the price is 11' }), 'CONFLICT', 'supersede.oldId');
      expect((await mem.get(old.id))?.validTo).toBe(later.validFrom);
      expect(ids((await mem.list({ asOf: iso(clock.now() + 2 * DAY) })).items)).toEqual([later.id]);
      // A validTo set by an update, with no successor, is ended now as any current fact.
      const lease = await mem.add({ content: 'the lease runs', validTo: iso(clock.now() + 10 * DAY) });
      const renewed = await mem.supersede(lease.id, { content: 'the lease was renewed' });
      expect((await mem.get(lease.id))?.validTo).toBe(renewed.validFrom);
      // Once the successor is removed, the fact may be superseded again.
      await mem.remove(later.id);
      const instead = await mem.supersede(old.id, { content: 'the price is 11' });
      expect(ids((await mem.list()).items)).toContain(instead.id);
    });

    it('lets a fact be superseded again once the successor that was to take over later has expired', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const old = await mem.add({ content: 'the price is 10', validFrom: iso(clock.now() - DAY) });
      await mem.supersede(old.id, {
        content: 'the price is 12',
        validFrom: iso(clock.now() + 10 * DAY),
        expiresAt: iso(clock.now() + DAY),
      });
      await expectError(mem.supersede(old.id, { content: 'the price is 11' }), 'CONFLICT', 'supersede.oldId');
      clock.advance(2 * DAY);
      const instead = await mem.supersede(old.id, { content: 'the price is 11' });
      expect((await mem.get(old.id))?.validTo).toBe(instead.validFrom);
    });
  });
}

export function lifecycleCases(ctx: SuiteContext): void {
  describe('clear, count, stats', () => {
    it('clear removes every memory and link as tombstones and returns the memory count', async () => {
      const mem = await ctx.memory();
      const [a, b] = await mem.addMany([
        { content: 'one' },
        { content: 'two' },
        { content: 'old', validTo: '2001-01-01T00:00:00Z' },
      ]);
      await mem.link(a!.id, b!.id, 'rel');
      expect(await mem.stats()).toMatchObject({ memories: 3, links: 1, tombstones: 0 });
      expect(await mem.clear()).toBe(3);
      expect((await mem.list({ history: true })).items).toEqual([]);
      expect(await mem.get(a!.id)).toBeNull();
      expect(await mem.search('one')).toEqual([]);
      expect(await mem.stats()).toEqual({
        memories: 0,
        links: 0,
        tombstones: 4,
        pendingSync: 0,
        pendingEmbeddings: 0,
      });
      const tombstones = await ctx.store().getTombstones(mem.namespace, [a!.id, b!.id]);
      expect(tombstones.map((t) => t.entity)).toEqual(['memory', 'memory']);
      expect(await mem.clear()).toBe(0);
      const again = await mem.add({ content: 'fresh start' });
      expect(ids((await mem.list()).items)).toEqual([again.id]);
    });

    it('clear counts what reads still return, not memories expired and not yet purged', async () => {
      let clock = Date.parse('2030-01-01T00:00:00Z');
      const mem = await ctx.memory({ now: () => clock });
      await mem.add({ content: 'kept' });
      const short = await mem.add({ content: 'short-lived', expiresAt: '2030-01-01T00:00:01Z' });
      clock += 5000;
      expect(await mem.count({ history: true })).toBe(1);
      expect(await mem.clear()).toBe(1);
      expect(await ctx.store().getTombstones(mem.namespace, [short.id])).toHaveLength(1);
    });

    it('remove of a memory expired and not yet purged buries it and returns false, as reads no longer had it', async () => {
      let clock = Date.parse('2030-01-01T00:00:00Z');
      const mem = await ctx.memory({ now: () => clock });
      const short = await mem.add({ content: 'short-lived', expiresAt: '2030-01-01T00:00:01Z' });
      clock += 5000;
      expect(await mem.remove(short.id)).toBe(false);
      expect(await ctx.store().getTombstones(mem.namespace, [short.id])).toHaveLength(1);
    });

    it('clear takes its turn with the writes called around it', async () => {
      const mem = await ctx.memory();
      const x = await mem.add({ id: 'x', content: 'kept until the clear' });
      const [before, , , , cleared, after, plainAfter] = await Promise.all([
        mem.add({ id: 'called-before', content: 'added before the clear' }),
        mem.add({ content: 'added before the clear, no id' }),
        mem.addMany([{ content: 'many before the clear' }, { content: 'many more' }]),
        mem.update(x.id, { content: 'edited before the clear' }),
        mem.clear(),
        mem.add({ id: 'called-after', content: 'added after the clear' }),
        mem.add({ content: 'added after the clear, no id' }),
      ]);
      expect(before.id).toBe('called-before');
      expect(cleared).toBe(5);
      expect(new Set(ids((await mem.list({ history: true })).items))).toEqual(
        new Set([after.id, plainAfter.id]),
      );
    });

    it('update takes a key set to undefined as a field not given, and refuses options', async () => {
      const mem = await ctx.memory();
      const m = await mem.add({ content: 'alpha', kind: 'fact', tags: ['t'], metadata: { k: 1 } });
      const patched = await mem.update(m.id, {
        tags: undefined,
        kind: undefined,
        metadata: undefined,
        importance: 0.3,
      });
      expect(patched).toMatchObject({
        content: 'alpha',
        kind: 'fact',
        tags: ['t'],
        metadata: { k: 1 },
        importance: 0.3,
      });
      expect(await mem.get(m.id)).toEqual(patched);
      await expectError(mem.update(m.id, { content: undefined }), 'VALIDATION', 'update.patch');
      // Untyped callers (JavaScript) passing options these calls do not take.
      const loose = (call: unknown, ...args: unknown[]) =>
        (call as (...a: unknown[]) => Promise<unknown>).apply(mem, args);
      await expectError(
        loose(mem.update, m.id, { content: 'beta' }, { upsert: true }),
        'VALIDATION',
        'update.options',
      );
      await expectError(loose(mem.remove, m.id, { cascade: false }), 'VALIDATION', 'remove.options');
      expect(await mem.get(m.id)).toEqual(patched);
      expect(await mem.search('alpha')).toHaveLength(1);
    });

    it('count applies the list filters, validity included', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      await mem.addMany([
        { content: 'a', kind: 'fact', tags: ['x'] },
        { content: 'b', kind: 'fact', tags: ['y'] },
        { content: 'c', tags: ['x', 'y'] },
        { content: 'd', validTo: iso(clock.now() - 1) },
        { content: 'e', expiresAt: iso(clock.now() + 1000) },
      ]);
      expect(await mem.count()).toBe(4);
      expect(await mem.count({ kind: 'fact' })).toBe(2);
      expect(await mem.count({ tags: ['x', 'y'], tagMode: 'all' })).toBe(1);
      expect(await mem.count({ tags: ['x'] })).toBe(2);
      expect(await mem.count({ history: true })).toBe(5);
      expect(await mem.count({ asOf: iso(clock.now() - 10) })).toBe(5);
      clock.advance(1000);
      expect(await mem.count()).toBe(3);
      expect(await mem.count({ until: iso(clock.now() + 1) })).toBe(3);
      await expectError(mem.count({ limit: 3 } as never), 'VALIDATION', 'count.limit');
    });

    it('count applies the metadata filter like list', async () => {
      const mem = await ctx.memory();
      await mem.addMany([
        { content: 'a', kind: 'fact', tags: ['x'], metadata: { project: 'p1', n: 1 } },
        { content: 'b', kind: 'fact', metadata: { project: 'p2' } },
        { content: 'c', tags: ['x'], metadata: { project: 'p1', n: 2.0, where: { room: 'a' } } },
      ]);
      const filters: CountOptions[] = [
        { metadata: { project: 'p1' } },
        { metadata: { project: 'p1' }, kind: 'fact' },
        { metadata: { project: 'p1' }, tags: ['x'] },
        { metadata: { n: 2, where: { room: 'a' } } },
        { metadata: { project: 'p3' } },
      ];
      for (const filter of filters) {
        expect(await mem.count(filter)).toBe((await mem.list(filter)).items.length);
      }
      expect(await mem.count({ metadata: { project: 'p1' } })).toBe(2);
    });

    it('count follows every write that moves a validity or expiry bound', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const [a, , c] = await mem.addMany([
        { content: 'a', kind: 'fact', tags: ['x'] },
        { content: 'b', kind: 'fact' },
        { content: 'c', tags: ['x'] },
      ]);
      const counts = async () => [
        await mem.count(),
        await mem.count({ kind: 'fact' }),
        await mem.count({ tags: ['x'] }),
        await mem.count({ history: true }),
      ];
      expect(await counts()).toEqual([3, 2, 2, 3]);
      await mem.add({ content: 'later', kind: 'fact', tags: ['x'], validFrom: iso(clock.now() + 500) });
      expect(await counts()).toEqual([3, 2, 2, 4]);
      clock.advance(500);
      expect(await counts()).toEqual([4, 3, 3, 4]);
      await mem.supersede(a!.id, { content: 'a again' });
      expect(await counts()).toEqual([4, 2, 2, 5]);
      expect(await mem.count({ asOf: iso(clock.now() - 1) })).toBe(3);
      await mem.add({ content: 'brief', tags: ['x'], expiresAt: iso(clock.now() + 100) });
      expect(await counts()).toEqual([5, 2, 3, 6]);
      clock.advance(100);
      expect(await counts()).toEqual([4, 2, 2, 5]);
      await mem.remove(c!.id);
      expect(await counts()).toEqual([3, 2, 1, 4]);
      expect(await mem.count({ since: iso(clock.now() + 1) })).toBe(0);
    });

    it('adding the id of an expired memory not yet purged says it expired, not just that it exists', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      await mem.add({ id: 'brief', content: 'brief', expiresAt: iso(clock.now() + 100) });
      clock.advance(200);
      expect(await mem.get('brief')).toBeNull();
      const error = await expectError(mem.add({ id: 'brief', content: 'again' }), 'CONFLICT', 'add.id');
      expect(error.message).toMatch(/expired at .* hidden/);
    });

    it('stats counts stored records and tombstones', async () => {
      const mem = await ctx.memory();
      const [a, b, c] = await mem.addMany([{ content: 'a' }, { content: 'b' }, { content: 'c' }]);
      await mem.link(a!.id, b!.id, 'rel');
      await mem.link(b!.id, c!.id, 'rel');
      await mem.remove(c!.id);
      expect(await mem.stats()).toEqual({
        memories: 2,
        links: 1,
        tombstones: 2,
        pendingSync: 0,
        pendingEmbeddings: 0,
      });
    });
  });

  describe('dedupe', () => {
    it('returns the existing memory for the same normalized content and merges tags', async () => {
      const mem = await ctx.memory();
      const first = await mem.add({ content: 'User likes  Café au lait', tags: ['drink'] });
      const decomposed = 'user likes\ncafe\u0301 AU LAIT ';
      const again = await mem.add({ content: decomposed, tags: ['morning', 'drink'] }, { dedupe: true });
      expect(again.id).toBe(first.id);
      expect(again.content).toBe(first.content);
      expect(again.tags).toEqual(['drink', 'morning']);
      expect((await mem.get(first.id))?.tags).toEqual(['drink', 'morning']);
      expect(await mem.count()).toBe(1);
      const same = await mem.add({ content: 'user likes café au lait' }, { dedupe: true });
      expect(same).toEqual(await mem.get(first.id));
      const other = await mem.add({ content: 'user likes café au lait a lot' }, { dedupe: true });
      expect(other.id).not.toBe(first.id);
      const copy = await mem.add({ content: 'user likes café au lait' });
      expect(copy.id).not.toBe(first.id);
    });

    it('ignores memories that are no longer valid, and handles text without words', async () => {
      const mem = await ctx.memory();
      const old = await mem.add({ content: 'status: active' });
      const next = await mem.supersede(old.id, { content: 'status: paused' });
      const revived = await mem.add({ content: 'Status: Active' }, { dedupe: true });
      expect([old.id, next.id]).not.toContain(revived.id);
      const emoji = await mem.add({ content: '🎉🎉' });
      expect((await mem.add({ content: ' 🎉🎉 ' }, { dedupe: true })).id).toBe(emoji.id);
      await expectError(
        mem.add({ content: 'x' }, { dedupe: 'yes' } as never),
        'VALIDATION',
        'add.options.dedupe',
      );
    });

    it('finds the copy however many memories outrank it, and dedupes adds made at once', async () => {
      const mem = await ctx.memory();
      const first = await mem.add({ content: 'coffee' });
      // Each holds "coffee" twice: every one scores above the memory that is the copy.
      await mem.addMany(Array.from({ length: 60 }, (_, i) => ({ content: `coffee coffee note ${i}` })));
      expect((await mem.add({ content: 'Coffee' }, { dedupe: true })).id).toBe(first.id);
      const tagged = await mem.add({ content: 'tea time', tags: ['x'] });
      const [a, b, c] = await Promise.all([
        mem.add({ content: 'Tea  time', tags: ['y'] }, { dedupe: true }),
        mem.add({ content: 'tea TIME', tags: ['z'] }, { dedupe: true }),
        mem.add({ content: 'green tea', tags: ['w'] }, { dedupe: true }),
      ]);
      expect([a.id, b.id]).toEqual([tagged.id, tagged.id]);
      expect((await mem.get(tagged.id))?.tags).toEqual(['x', 'y', 'z']);
      const twice = await Promise.all([
        mem.add({ content: 'green tea' }, { dedupe: true }),
        mem.add({ content: 'GREEN tea' }, { dedupe: true }),
      ]);
      expect(twice.map((m) => m.id)).toEqual([c.id, c.id]);
      expect(await mem.count()).toBe(63);
      const many = Array.from({ length: 64 }, (_, i) => `t${i}`);
      await expectError(
        mem.add({ content: 'tea time', tags: many }, { dedupe: true }),
        'VALIDATION',
        'add.tags',
      );
    });
  });

  describe('context', () => {
    it('renders the best memories, newest fact first among equal relevance, within maxChars', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      await mem.add({ content: 'coffee is brewed at 7', validFrom: iso(clock.now() - 3 * DAY) });
      await mem.add({ content: 'coffee is brewed at 8', validFrom: iso(clock.now() - DAY) });
      await mem.add({ content: 'tea is brewed at 9' });
      const text = await mem.context('coffee');
      expect(text).toBe('- coffee is brewed at 8\n- coffee is brewed at 7');
      expect(await mem.context('coffee', { limit: 1 })).toBe('- coffee is brewed at 8');
      expect(await mem.context('coffee', { maxChars: 30 })).toBe('- coffee is brewed at 8');
      const cut = await mem.context('coffee', { maxChars: 10 });
      expect(cut).toBe('- coffee …');
      expect(cut.length).toBeLessThanOrEqual(10);
      expect(await mem.context('nothing matches')).toBe('');
      const recent = await mem.context('', { maxChars: 1000 });
      expect(recent.split('\n')).toHaveLength(3);
      await mem.add({ content: 'plays tennis', metadata: { topic: 'sport' } });
      // Without a query, the newest memories: every filter still holds.
      expect(await mem.context('', { metadata: { topic: 'sport' } })).toBe('- plays tennis');
      expect(await mem.context('', { metadata: { topic: 'none' } })).toBe('');
      await expectError(mem.context('coffee', { maxChars: 0 }), 'VALIDATION', 'context.maxChars');
    });

    it('orders equal scores by when each fact took effect, not when it was written, then by id descending', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      // Written first but took effect last, under the smaller id: neither write order nor id decides.
      await mem.add({ id: 'c1', content: 'coffee is brewed at 8', validFrom: iso(clock.now() - DAY) });
      clock.advance(1000);
      await mem.add({ id: 'c2', content: 'coffee is brewed at 7', validFrom: iso(clock.now() - 3 * DAY) });
      expect(await mem.context('coffee')).toBe('- coffee is brewed at 8\n- coffee is brewed at 7');
      const from = iso(clock.now() - DAY);
      await mem.add({ id: 't1', content: 'tea is brewed at 5', validFrom: from });
      await mem.add({ id: 't2', content: 'tea is brewed at 6', validFrom: from });
      expect(await mem.context('tea')).toBe('- tea is brewed at 6\n- tea is brewed at 5');
    });

    it('keeps lines that end exactly at maxChars and never cuts a character in half', async () => {
      const mem = await ctx.memory();
      await mem.add({ content: 'coffee is brewed at 8' });
      await mem.add({ content: 'coffee is brewed at 9' });
      const line = '- coffee is brewed at 9';
      expect(await mem.context('coffee', { maxChars: line.length })).toBe(line);
      expect(await mem.context('coffee', { maxChars: 2 * line.length + 1 })).toBe(
        `${line}\n- coffee is brewed at 8`,
      );
      // "- 😀 espresso" cut to 3 units would end on the emoji's first half: the whole emoji goes.
      await mem.add({ content: '😀 espresso' });
      expect(await mem.context('espresso', { maxChars: 4 })).toBe('- …');
    });

    it('stops at the first line that does not fit: a shorter line after it is not taken out of order', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      await mem.add({ content: 'tea at 9', validFrom: iso(clock.now() - DAY) });
      await mem.add({ content: 'tea with milk and honey at 10', validFrom: iso(clock.now() - 2 * DAY) });
      await mem.add({ content: 'tea at 8', validFrom: iso(clock.now() - 3 * DAY) });
      expect(await mem.context('')).toBe('- tea at 9\n- tea with milk and honey at 10\n- tea at 8');
      // Room for the first and the last line, not the second: the context ends after the first.
      expect(await mem.context('', { maxChars: '- tea at 9\n- tea at 8'.length })).toBe('- tea at 9');
    });
  });

  describe('ranking boosts (opt-in)', () => {
    it('recency and importance lift scores only when asked; default ranking is pure relevance', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const old = await mem.add({ content: 'coffee coffee beans', validFrom: iso(clock.now() - 300 * DAY) });
      const recent = await mem.add({ content: 'coffee beans', validFrom: iso(clock.now() - 30 * DAY) });
      const vital = await mem.add({ content: 'beans', importance: 1 });
      const plain = await mem.search('coffee');
      expect(ids(plain)).toEqual([old.id, recent.id]);
      const boosted = await mem.search('coffee', { boost: { recency: { halfLifeDays: 30, weight: 4 } } });
      expect(ids(boosted)).toEqual([recent.id, old.id]);
      const base = new Map(plain.map((h) => [h.memory.id, h.score]));
      expect(boosted[0]!.score).toBeCloseTo(base.get(recent.id)! * (1 + 4 * 0.5), 9);
      expect(boosted[1]!.score).toBeCloseTo(base.get(old.id)! * (1 + 4 * 2 ** -10), 9);
      // With asOf, age is measured to asOf, not to now: 20 days ago the recent fact was 10 days old.
      const then = await mem.search('coffee', {
        asOf: iso(clock.now() - 20 * DAY),
        boost: { recency: { halfLifeDays: 30, weight: 4 } },
      });
      expect(ids(then)).toEqual([recent.id, old.id]);
      expect(then[0]!.score).toBeCloseTo(base.get(recent.id)! * (1 + 4 * 2 ** (-10 / 30)), 9);
      expect(then[1]!.score).toBeCloseTo(base.get(old.id)! * (1 + 4 * 2 ** (-280 / 30)), 9);
      const beans = await mem.search('beans', { boost: { importance: true } });
      expect(ids(beans)[0]).toBe(vital.id);
      const plainBeans = await mem.search('beans');
      const vitalBase = plainBeans.find((h) => h.memory.id === vital.id)!.score;
      expect(beans[0]!.score).toBeCloseTo(vitalBase * 1.5, 9);
      await expectError(
        mem.search('coffee', { boost: { recency: { halfLifeDays: 0 } } }),
        'VALIDATION',
        'search.boost.recency.halfLifeDays',
      );
      await expectError(
        mem.search('coffee', { boost: { importance: -1 } }),
        'VALIDATION',
        'search.boost.importance',
      );
    });
  });

  describe('restore', () => {
    it('makes the namespace equal to the dump again, bringing deleted memories back', async () => {
      const mem = await ctx.memory();
      const [a, b, c] = await mem.addMany([
        { id: 'a', content: 'alpha', tags: ['t'] },
        { id: 'b', content: 'beta', validFrom: '2024-01-01T00:00:00Z' },
        { id: 'c', content: 'gamma' },
      ]);
      await mem.link(a!.id, b!.id, 'rel');
      await mem.remove(c!.id);
      const dump: string[] = [];
      for await (const line of exportJsonl(ctx.store(), { namespaces: [mem.namespace] })) dump.push(line);

      await mem.update(a!.id, { content: 'alpha edited' });
      await mem.remove(b!.id);
      const extra = await mem.add({ content: 'added after the dump' });

      await importJsonl(ctx.store(), dump, { mode: 'restore' });
      const items = (await mem.list({ history: true })).items;
      expect(items.map((m) => m.content).sort()).toEqual(['alpha', 'beta']);
      expect(await mem.get(extra.id)).toBeNull();
      expect((await mem.get(a!.id))?.tags).toEqual(['t']);
      const beta = items.find((m) => m.content === 'beta')!;
      expect(beta.validFrom).toBe('2024-01-01T00:00:00.000Z');
      expect(beta.id).toBe('b.r1');
      expect(beta.metadata).toEqual({});
      expect(ids(await mem.neighbors(a!.id))).toEqual([beta.id]);
      expect(ids(await mem.search('beta'))).toEqual([beta.id]);
      // Idempotent: restoring again changes nothing visible.
      await importJsonl(ctx.store(), dump, { mode: 'restore' });
      expect((await mem.list({ history: true })).items.map((m) => m.content).sort()).toEqual([
        'alpha',
        'beta',
      ]);
      // Two full restores and an export are dozens of round-trips over HTTP for RemoteStore (workerd).
    }, 120_000);

    it('wins over edits a clock an hour ahead stamped after the dump', async (test) => {
      // An edge refuses stamps from the future, so a RemoteStore cannot hold any.
      if (ctx.store().kind === 'remote') test.skip();
      const mem = await ctx.memory();
      const kept = await mem.add({ content: 'as dumped', tags: ['t'] });
      const dump: string[] = [];
      for await (const line of exportJsonl(ctx.store(), { namespaces: [mem.namespace] })) dump.push(line);
      const ahead = await ctx.memory({ namespace: mem.namespace, now: () => Date.now() + HOUR });
      await ahead.update(kept.id, { content: 'edited by a clock an hour ahead', tags: ['u'] });
      await importJsonl(ctx.store(), dump, { mode: 'restore' });
      expect(await mem.get(kept.id)).toMatchObject({ content: 'as dumped', tags: ['t'] });
    });

    it('wins over edits a clock days ahead stamped after the dump', async (test) => {
      // An edge refuses stamps from the future, so a RemoteStore cannot hold any.
      if (ctx.store().kind === 'remote') test.skip();
      const mem = await ctx.memory();
      const [kept, gone] = await mem.addMany([
        { content: 'as dumped', tags: ['t'] },
        { content: 'removed later' },
      ]);
      const dump: string[] = [];
      for await (const line of exportJsonl(ctx.store(), { namespaces: [mem.namespace] })) dump.push(line);
      const ahead = await ctx.memory({ namespace: mem.namespace, now: () => Date.now() + 3 * 86_400_000 });
      await ahead.update(kept!.id, { content: 'edited by a clock three days ahead', tags: ['u'] });
      await ahead.remove(gone!.id);
      await ahead.add({ content: 'added by the fast clock' });
      await importJsonl(ctx.store(), dump, { mode: 'restore' });
      const items = (await mem.list()).items.map((m) => [m.content, m.tags]);
      expect(items.sort()).toEqual([
        ['as dumped', ['t']],
        ['removed later', []],
      ]);
    });
  });
}
