import { describe, expect, it } from 'vitest';
import {
  createMemory,
  type Engram,
  InMemoryStore,
  type Memory,
  type MemoryPatch,
  type WriteBatch,
} from '../../src/index.js';
import { inProcessSync } from '../edge/helpers.js';
import { edgeOnClock } from './fixtures.js';
import { type EdgeClient, heldEdge } from './held-edge.js';

// Within the edge's bound (60 s), so nothing refuses its stamps.
const AHEAD_MS = 20_000;

const edge = () => inProcessSync('ahead');

const pause = () => new Promise((resolve) => setTimeout(resolve, 30));

const FIRST = 'the fast clock edits first';
const LAST = 'the honest replica edits last';

/**
 * An honest replica adds a memory `m` (and `others`, as many as asked); a device pulls them into `store` and closes.
 * `reopen` opens the device again (same store) with its clock that far off and its requests held (see
 * `lastEditElsewhere`).
 */
async function sharedThenAhead(more = 0, store = new InMemoryStore()) {
  const edge = await heldEdge('ahead');
  const [toHonest, toFast] = [edge.client(), edge.client()];
  const honest = await createMemory({ namespace: 'ahead', sync: toHonest.sync });
  const m = await honest.add({ content: 'shared' });
  const others: Memory[] = [];
  for (let i = 0; i < more; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, more - i) }, (_, j) => ({ content: `other ${i + j}` }));
    others.push(...(await honest.addMany(batch)));
  }
  await honest.sync();
  store.close = async () => {};
  let skew = 0;
  const now = () => Date.now() + skew;
  const first = await createMemory({ store, namespace: 'ahead', now, sync: toFast.sync });
  await first.sync();
  await first.close();
  const reopen = (skewMs: number) => {
    skew = skewMs;
    toFast.hold();
    return createMemory({ store, namespace: 'ahead', now, sync: toFast.sync });
  };
  return { toHonest, toFast, honest, m, others, reopen };
}

/** A store whose next outbox read first makes the edit `during` holds (the pass before the push reads first). */
class EditsAsRead extends InMemoryStore {
  during: (() => Promise<unknown>) | undefined;
  override async changes(namespace: string, afterSeq: number, limit: number) {
    const edit = this.during;
    this.during = undefined;
    await edit?.();
    return super.changes(namespace, afterSeq, limit);
  }
}

/**
 * The fast device's first round hears the edge's time and pushes; while its first push request is out it
 * edits `id`, then the round ends. A little later the honest replica edits `id` too, before it could pull
 * the fast device's edit (its requests held meanwhile); then both sync.
 */
async function lastEditElsewhere(
  toHonest: EdgeClient,
  toFast: EdgeClient,
  honest: Engram,
  fast: Engram,
  id: string,
) {
  toHonest.hold();
  await toFast.firstPush(() => fast.update(id, { content: FIRST }));
  await fast.sync();
  await pause();
  await honest.update(id, { content: LAST });
  toHonest.release();
  await fast.sync();
  await honest.sync();
  await fast.sync();
}

/**
 * The fast device's held round goes (the honest replica's requests held meanwhile), after which its copy of
 * `id` is no longer ahead; a little later the honest replica makes `patch`, before it could pull that
 * round; then both sync.
 */
async function roundThenEditElsewhere(
  toHonest: EdgeClient,
  toFast: EdgeClient,
  honest: Engram,
  fast: Engram,
  id: string,
  patch: MemoryPatch,
) {
  toHonest.hold();
  toFast.release();
  await fast.sync();
  expect(Date.parse((await fast.get(id))!.updatedAt)).toBeLessThan(Date.now() + AHEAD_MS / 2);
  await pause();
  await honest.update(id, patch);
  toHonest.release();
  await honest.sync();
  await fast.sync();
  await honest.sync();
}

/** `edit` on the fast device, then a little later on the honest one, neither having pulled the other's; then both sync. */
async function editInTurn(
  fast: Engram,
  honest: Engram,
  edit: (mem: Engram, last: boolean) => Promise<unknown>,
) {
  await edit(fast, false);
  await pause();
  await edit(honest, true);
  await fast.sync();
  await honest.sync();
  await fast.sync();
}

// A device whose clock runs ahead, by less than the edge's bound, stamps its edits in the future until it
// hears the edge's time, and its clock kept that time afterwards: for as long as it ran ahead, its edits
// won over edits made after them elsewhere. Found by the skew property (seed 1141941807: skews
// [0, 20000, 0], one add by the skewed replica, then one edit each in turn).
describe('edits stamped by a clock that runs ahead within the bound, before the edge was heard', () => {
  it('a replica that never synced: an edit made after its own elsewhere wins', async () => {
    const sync = await edge();
    const honest = await createMemory({ namespace: 'ahead', sync });
    await honest.sync();
    const ahead = await createMemory({ namespace: 'ahead', now: () => Date.now() + AHEAD_MS, sync });
    // Bounds from the honest time it was made, not from when the rounds end (a slow machine's rounds take
    // seconds): moved back twice would put it a whole skew before this.
    const madeAt = Date.now();
    const m = await ahead.add({ content: 'added on a fast clock' });
    expect(Date.parse(m.createdAt)).toBeGreaterThan(Date.now() + AHEAD_MS / 2);
    await ahead.sync();
    await honest.sync();
    // Moved back to about when it was made (once: not by twice the skew), createdAt with it, on both.
    const seen = (await honest.get(m.id))!;
    for (const at of [seen.updatedAt, seen.createdAt]) {
      expect(Date.parse(at)).toBeLessThan(Date.now() + AHEAD_MS / 2);
      expect(Date.parse(at)).toBeGreaterThan(madeAt - AHEAD_MS / 2);
    }
    expect(await ahead.get(m.id)).toEqual(seen);

    await editInTurn(ahead, honest, (mem, last) => mem.update(m.id, { content: last ? LAST : FIRST }));
    expect((await honest.get(m.id))?.content).toBe(LAST);
    expect((await ahead.get(m.id))?.content).toBe(LAST);
    await Promise.all([honest.close(), ahead.close()]);
  });

  it('a memory edited while the push moves it keeps that edit; the others move', async () => {
    const sync = await edge();
    const honest = await createMemory({ namespace: 'ahead', sync });
    await honest.sync();
    let mem: Engram | undefined;
    let editedId: string | undefined;
    // An edit lands between the outbox read and the rewrite that moves the stamps back.
    class EditMeanwhile extends InMemoryStore {
      override async apply(namespace: string, batch: WriteBatch) {
        if (batch.unchanged && batch.clockCeiling !== undefined && editedId !== undefined && mem) {
          const id = editedId;
          editedId = undefined;
          await mem.update(id, { content: 'edited meanwhile' });
        }
        return super.apply(namespace, batch);
      }
    }
    mem = await createMemory({
      store: new EditMeanwhile(),
      namespace: 'ahead',
      now: () => Date.now() + AHEAD_MS,
      sync,
    });
    const edited = await mem.add({ content: 'first' });
    const other = await mem.add({ content: 'second' });
    editedId = edited.id;
    await mem.sync();
    await mem.sync();
    await honest.sync();
    expect(editedId).toBeUndefined();
    expect((await honest.get(edited.id))?.content).toBe('edited meanwhile');
    expect((await mem.get(edited.id))?.content).toBe('edited meanwhile');
    expect(Date.parse((await honest.get(other.id))!.updatedAt)).toBeLessThan(Date.now() + AHEAD_MS / 2);
    expect(await mem.get(other.id)).toEqual(await honest.get(other.id));
    expect(mem.status).toMatchObject({ state: 'online', pending: 0 });
    await Promise.all([honest.close(), mem.close()]);
  });
  it('a link stamped ahead moves back too: an edit made after its own elsewhere wins', async () => {
    const sync = await edge();
    const honest = await createMemory({ namespace: 'ahead', sync });
    await honest.sync();
    const ahead = await createMemory({ namespace: 'ahead', now: () => Date.now() + AHEAD_MS, sync });
    const [a, b] = await ahead.addMany([{ content: 'from' }, { content: 'to' }]);
    const link = await ahead.link(a!.id, b!.id, 'related_to', { weight: 0.5 });
    expect(Date.parse(link.updatedAt)).toBeGreaterThan(Date.now() + AHEAD_MS / 2);
    await ahead.sync();
    await honest.sync();
    const [seen] = await honest.links(a!.id);
    expect(Date.parse(seen!.updatedAt)).toBeLessThan(Date.now() + AHEAD_MS / 2);
    expect(Date.parse(seen!.createdAt)).toBeLessThan(Date.now() + AHEAD_MS / 2);
    expect(await ahead.links(a!.id)).toEqual([seen]);

    await editInTurn(ahead, honest, (mem, last) =>
      mem.link(a!.id, b!.id, 'related_to', { weight: last ? 0.9 : 0.7 }),
    );
    expect((await honest.links(a!.id)).map((l) => l.weight)).toEqual([0.9]);
    expect((await ahead.links(a!.id)).map((l) => l.weight)).toEqual([0.9]);
    await Promise.all([honest.close(), ahead.close()]);
  });
  it('a replica whose clock was set forward between sessions: an edit made after its own elsewhere wins', async () => {
    const sync = await edge();
    const honest = await createMemory({ namespace: 'ahead', sync });
    await honest.sync();
    // A store that outlives a session, as a file or IndexedDB does.
    const store = new InMemoryStore();
    store.close = async () => {};
    let skew = 0;
    const first = await createMemory({ store, namespace: 'ahead', now: () => Date.now() + skew, sync });
    const [a, b] = await first.addMany([{ content: 'from' }, { content: 'to' }]);
    await first.link(a!.id, b!.id, 'related_to', { weight: 0.5 });
    await first.sync();
    await first.close();
    await honest.sync();

    // The device's clock goes 20 s forward; it reopens and edits, then the honest replica edits after it.
    skew = AHEAD_MS;
    const second = await createMemory({ store, namespace: 'ahead', now: () => Date.now() + skew, sync });
    await editInTurn(second, honest, async (mem, last) => {
      await mem.update(a!.id, { content: last ? LAST : FIRST });
      await mem.link(a!.id, b!.id, 'related_to', { weight: last ? 0.9 : 0.7 });
    });
    for (const mem of [honest, second]) {
      expect((await mem.get(a!.id))?.content).toBe(LAST);
      expect((await mem.links(a!.id)).map((l) => l.weight)).toEqual([0.9]);
    }
    await Promise.all([honest.close(), second.close()]);
  });
  it('a first round that fails after the answer: edits made before the next round still lose to later ones', async () => {
    const { toFast, honest, m, reopen } = await sharedThenAhead();
    // Reopened 20 s ahead: the round hears the edge's time, then its push fails.
    const ahead = await reopen(AHEAD_MS);
    const made = await ahead.add({ content: 'made before the round' });
    toFast.failPushes(true);
    toFast.release();
    await expect(ahead.sync()).rejects.toMatchObject({ code: 'OFFLINE' });
    toFast.failPushes(false);
    expect(Date.parse((await ahead.get(made.id))!.updatedAt)).toBeLessThan(Date.now() + AHEAD_MS / 2);
    await editInTurn(ahead, honest, (mem, last) => mem.update(m.id, { content: last ? LAST : FIRST }));
    for (const mem of [honest, ahead]) {
      expect((await mem.get(m.id))?.content).toBe(LAST);
      expect(Date.parse((await mem.get(made.id))!.updatedAt)).toBeLessThan(Date.now() + AHEAD_MS / 2);
    }
    expect(ahead.status).toMatchObject({ state: 'online', pending: 0 });
    await Promise.all([honest.close(), ahead.close()]);
  });
  it('an edit made while the first push is out loses to a later one elsewhere', async () => {
    const { toHonest, toFast, honest, m, reopen } = await sharedThenAhead();
    const ahead = await reopen(AHEAD_MS);
    const made = await ahead.add({ content: 'made before the round' });
    await lastEditElsewhere(toHonest, toFast, honest, ahead, m.id);
    for (const mem of [honest, ahead]) {
      expect((await mem.get(m.id))?.content).toBe(LAST);
      expect(Date.parse((await mem.get(made.id))!.updatedAt)).toBeLessThan(Date.now() + AHEAD_MS / 2);
    }
    await Promise.all([honest.close(), ahead.close()]);
  });
  it('a device whose clock ran ahead in a session that ended before it synced, right since: those edits lose to later ones', async () => {
    const { toHonest, toFast, honest, m, reopen } = await sharedThenAhead();
    // The first session edits 20 s ahead and closes before its requests get through: it never heard the edge.
    const ahead = await reopen(AHEAD_MS);
    await ahead.update(m.id, { content: 'edited ahead, never synced' });
    const made = await ahead.add({ content: 'made ahead, never synced' });
    await ahead.close();
    // The next one opens with the clock right, so the offset it learns moves nothing; it edits `m` again
    // first (over the stamp from the future, which it observes).
    const right = await reopen(0);
    await right.update(m.id, { content: 'edited again before the round' });
    await lastEditElsewhere(toHonest, toFast, honest, right, m.id);
    for (const mem of [honest, right]) {
      expect((await mem.get(m.id))?.content).toBe(LAST);
      const { createdAt, updatedAt } = (await mem.get(made.id))!;
      expect(Date.parse(updatedAt)).toBeLessThan(Date.now() + AHEAD_MS / 2);
      expect(Date.parse(createdAt)).toBeLessThan(Date.now() + AHEAD_MS / 2);
    }
    await Promise.all([honest.close(), right.close()]);
  });
  it('an outbox of several pages moves back once: a memory moved on the first page is not moved again when it comes back', async () => {
    const edge = await heldEdge('ahead');
    const toFast = edge.client();
    toFast.hold();
    // Each outbox page read yields to timers: a pass that never ended (moving what came back, again and
    // again) would then meet the test's time limit instead of holding the event loop for good.
    class Yielding extends InMemoryStore {
      override async changes(namespace: string, afterSeq: number, limit: number) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        return super.changes(namespace, afterSeq, limit);
      }
    }
    const now = () => Date.now() + AHEAD_MS;
    const ahead = await createMemory({ store: new Yielding(), namespace: 'ahead', now, sync: toFast.sync });
    // More than the 4000 outbox entries the pass reads at a time: those it moves come back after the rest.
    const madeFrom = Date.now();
    const made: Memory[] = [];
    for (let i = 0; i < 5; i++) {
      made.push(
        ...(await ahead.addMany(Array.from({ length: 1000 }, (_, j) => ({ content: `note ${i} ${j}` })))),
      );
    }
    toFast.release();
    await ahead.sync();
    const [first, last] = [made[0]!, made.at(-1)!];
    for (const { id } of [first, last]) {
      const at = Date.parse((await ahead.get(id))!.updatedAt);
      expect(at).toBeLessThan(Date.now() + AHEAD_MS / 2);
      expect(at).toBeGreaterThan(madeFrom - AHEAD_MS / 2);
    }
    await ahead.close();
  }, 30_000);
  it('an outbox of several pages moves back before its push: an edit made meanwhile over its last page loses to a later one', async () => {
    const { toHonest, toFast, honest, m, others, reopen } = await sharedThenAhead(4000);
    const ahead = await reopen(AHEAD_MS);
    // 4000 removals fill the first page the push reads (tombstones are not moved); the edit is on the
    // second, sent after the first page's requests.
    for (const other of others) await ahead.remove(other.id);
    await ahead.update(m.id, { content: 'edited before the round' });
    await lastEditElsewhere(toHonest, toFast, honest, ahead, m.id);
    for (const mem of [honest, ahead]) expect((await mem.get(m.id))?.content).toBe(LAST);
    await Promise.all([honest.close(), ahead.close()]);
  }, 30_000);
  it('an edit made while the pass moves the window back is not moved with it: it wins over one made before it elsewhere', async () => {
    const store = new EditsAsRead();
    const { toFast, honest, m, reopen } = await sharedThenAhead(0, store);
    await pause();
    await honest.update(m.id, { content: 'edited elsewhere first' });
    await honest.sync();
    await pause();
    const ahead = await reopen(AHEAD_MS);
    store.during = () => ahead.update(m.id, { content: 'edited as the pass reads' });
    toFast.release();
    await ahead.sync();
    expect(store.during).toBeUndefined();
    await honest.sync();
    for (const mem of [honest, ahead])
      expect((await mem.get(m.id))?.content).toBe('edited as the pass reads');
    await Promise.all([honest.close(), ahead.close()]);
  });
  it('an edit made while the pass reads, over a record it moves back, does not keep the time the clock ran ahead to', async () => {
    const store = new EditsAsRead();
    const { toHonest, toFast, honest, m, reopen } = await sharedThenAhead(0, store);
    const ahead = await reopen(AHEAD_MS);
    await ahead.update(m.id, { tags: ['before the answer'] });
    // It observes the tags' stamp, 20 s ahead and not moved yet: its own is as far ahead.
    store.during = () => ahead.update(m.id, { content: 'edited as the pass reads' });
    await roundThenEditElsewhere(toHonest, toFast, honest, ahead, m.id, { content: LAST });
    expect(store.during).toBeUndefined();
    for (const mem of [honest, ahead]) {
      expect(await mem.get(m.id)).toMatchObject({ content: LAST, tags: ['before the answer'] });
    }
    await Promise.all([honest.close(), ahead.close()]);
  });
  it('a field stamped further ahead in an earlier session than this one ran moves back to now, not by this session’s offset', async () => {
    const { toHonest, toFast, honest, m, reopen } = await sharedThenAhead();
    // Closed 40 s ahead before it heard the edge, then reopened 20 s ahead.
    const further = await reopen(40_000);
    await further.update(m.id, { tags: ['40 s ahead'] });
    await further.close();
    const ahead = await reopen(AHEAD_MS);
    // This edit observed the tags' stamp: both are in the window the first answer moves back by 20 s.
    await ahead.update(m.id, { content: FIRST });
    await roundThenEditElsewhere(toHonest, toFast, honest, ahead, m.id, {
      content: LAST,
      tags: ['edited last'],
    });
    for (const mem of [honest, ahead]) {
      expect(await mem.get(m.id)).toMatchObject({ content: LAST, tags: ['edited last'] });
    }
    await Promise.all([honest.close(), ahead.close()]);
  });
  it('a removal stamped three hours ahead, pushed by a session one hour ahead, takes a fresh stamp the edge accepts', async () => {
    const HOUR = 3_600_000;
    const { toFast, honest, m, reopen } = await sharedThenAhead();
    const further = await reopen(3 * HOUR);
    await further.remove(m.id);
    await further.close();
    // Moved back by this session's offset (an hour), its stamp would still be two hours ahead: beyond
    // the edge's bound, refused.
    const ahead = await reopen(HOUR);
    toFast.release();
    await ahead.sync();
    expect(ahead.status).toMatchObject({ state: 'online', pending: 0 });
    expect(ahead.status.rejected).toBeUndefined();
    await honest.sync();
    expect(await honest.get(m.id)).toBeNull();
    await Promise.all([honest.close(), ahead.close()]);
  });
  for (const [skewMs, how] of [
    [AHEAD_MS, 'a device reopened 20 s ahead'],
    [0, 'a device with a right clock'],
  ] as const) {
    it(`an edit over a stamp that was itself ahead moves back no further than the last round: it still wins over it (${how})`, async () => {
      const edge = await heldEdge('ahead');
      const [toJumpy, toFast] = [edge.client(), edge.client()];
      let jump = 0;
      const jumpy = await createMemory({
        namespace: 'ahead',
        now: () => Date.now() + jump,
        sync: toJumpy.sync,
      });
      const m = await jumpy.add({ content: 'shared' });
      await jumpy.sync();
      // Its clock jumps 40 s ahead after its first answer (within the bound): this edit keeps that time.
      jump = 40_000;
      await jumpy.update(m.id, { content: 'stamped 40 s ahead' });
      await jumpy.sync();
      const store = new InMemoryStore();
      store.close = async () => {};
      let skew = 0;
      const now = () => Date.now() + skew;
      const first = await createMemory({ store, namespace: 'ahead', now, sync: toFast.sync });
      await first.sync();
      expect((await first.get(m.id))?.content).toBe('stamped 40 s ahead');
      await first.close();
      // Reopened, it writes over that edit before its first answer: the write observed the stamp 40 s ahead,
      // so moving it back by what its clock ran ahead (20 s), or to now (a right clock: restampStale), would
      // put it below what it wrote over.
      skew = skewMs;
      toFast.hold();
      const fast = await createMemory({ store, namespace: 'ahead', now, sync: toFast.sync });
      await fast.update(m.id, { content: 'written over it' });
      toFast.release();
      await fast.sync();
      await jumpy.sync();
      expect((await jumpy.get(m.id))?.content).toBe('written over it');
      expect((await fast.get(m.id))?.content).toBe('written over it');
      await Promise.all([jumpy.close(), fast.close()]);
    });
  }
});

describe('a clock ahead by less than one measurement’s error', () => {
  it('moves no stamp: edits made before the edge was heard go out as stamped', async () => {
    const server = new InMemoryStore();
    // Both clocks stand still: the device's offset is exactly its 1.5 s ahead, under the 2 s error.
    const { open } = await edgeOnClock(server, 'near', { startMs: Date.UTC(2026, 0, 1) });
    const mem = await open(new InMemoryStore(), 1500);
    const m = await mem.add({ content: 'stamped before the edge was heard' });
    const [stamped] = await mem.store.getMemories('near', [m.id]);
    await mem.sync();
    expect((await server.getMemories('near', [m.id]))[0]!.clocks).toEqual(stamped!.clocks);
    expect((await mem.store.getMemories('near', [m.id]))[0]!.clocks).toEqual(stamped!.clocks);
    await mem.close();
  });
});
