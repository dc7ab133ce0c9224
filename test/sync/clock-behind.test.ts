import { describe, expect, it } from 'vitest';
import { createMemory, exportJsonl, InMemoryStore, importJsonl } from '../../src/index.js';
import { inProcessSync } from '../edge/helpers.js';
import { heldEdge } from './held-edge.js';

const HOUR = 3_600_000;

const edge = () => inProcessSync('skew');

type SyncOption = NonNullable<Parameters<typeof createMemory>[0]>['sync'];

/** A device whose store outlives its sessions (a file, IndexedDB): `open` starts one with its clock that far behind. */
function device(sync: SyncOption) {
  const store = new InMemoryStore();
  store.close = async () => {};
  const open = (behindMs = 0) =>
    createMemory({ store, namespace: 'skew', now: () => Date.now() - behindMs, sync });
  return { store, open };
}

// A device whose clock runs behind stamps its edits in the past until it hears the edge's time: an edit
// made later than another replica's lost to it. The first round of a session moves those stamps forward
// by what the clock turned out to be behind (up to now), so they land about when they were made.
describe('edits stamped by a clock that runs behind, before the edge was heard', () => {
  it('a replica that never synced: its edit made after another replica’s still wins', async () => {
    const sync = await edge();
    const honest = await createMemory({ namespace: 'skew', sync });
    const m = await honest.add({ content: 'original' });
    await honest.sync();
    // Never synced: its first memory's stamps say an hour ago.
    const behind = await createMemory({ namespace: 'skew', now: () => Date.now() - HOUR, sync });
    const own = await behind.add({ content: 'written just now on a slow clock' });
    expect(Date.parse(own.updatedAt)).toBeLessThan(Date.now() - HOUR + 60_000);
    await behind.sync();
    await honest.sync();
    const seen = await honest.get(own.id);
    // Its last change is about now, not an hour ago (createdAt is the record's own, and stays).
    expect(Date.parse(seen!.updatedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect((await behind.get(own.id))?.updatedAt).toBe(seen!.updatedAt);
    await behind.update(m.id, { content: 'behind edits after the first round' });
    await behind.sync();
    await honest.sync();
    expect((await honest.get(m.id))?.content).toBe('behind edits after the first round');
    await Promise.all([honest.close(), behind.close()]);
  });

  it('a replica whose clock was set back between sessions: its edit made last wins', async () => {
    const sync = await edge();
    const honest = await createMemory({ namespace: 'skew', sync });
    const m = await honest.add({ content: 'original' });
    await honest.sync();
    const { open } = device(sync);
    const first = await open();
    await first.sync();
    expect((await first.get(m.id))?.content).toBe('original');
    await first.close();

    await honest.update(m.id, { content: 'honest edits first' });
    await honest.sync();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The device's clock goes an hour back; it reopens offline and edits after the honest edit.
    const second = await open(HOUR);
    await second.update(m.id, { content: 'set-back device edits last' });
    await second.sync();
    await honest.sync();
    expect((await honest.get(m.id))?.content).toBe('set-back device edits last');
    expect((await second.get(m.id))?.content).toBe('set-back device edits last');
    await Promise.all([honest.close(), second.close()]);
  });

  it('edits of earlier sessions (other node ids of the same replica) before its first sync move too', async () => {
    const sync = await edge();
    const honest = await createMemory({ namespace: 'skew', sync });
    const { open } = device(sync);
    const behind = () => open(HOUR);
    // Yesterday's session (offline, closed before any round), then today's.
    const offline = await behind();
    const early = await offline.add({ content: 'made in the first session' });
    await offline.close();
    const today = await behind();
    await today.sync();
    await honest.sync();
    const seen = await honest.get(early.id);
    expect(seen?.content).toBe('made in the first session');
    expect(Date.parse(seen!.updatedAt)).toBeGreaterThan(Date.now() - 60_000);
    await Promise.all([honest.close(), today.close()]);
  });
  it('an edit over a right clock’s last one, by a session whose clock runs behind, does not move past now', async () => {
    const sync = await edge();
    const honest = await createMemory({ namespace: 'skew', sync });
    const m = await honest.add({ content: 'original' });
    await honest.sync();
    const { open } = device(sync);
    const right = await open();
    await right.sync();
    // Made offline on a right clock, after the last round; the device closes.
    await right.update(m.id, { content: 'edited on a right clock' });
    await right.close();
    // It reopens at once with its clock 30 s behind (within the edge's bound) and edits the memory again
    // offline: that edit observed the last one, so it carries its time, though the clock says 30 s
    // earlier. The first answer moves the session's stamps forward by 30 s, which would put this one 30 s
    // past now: it takes a fresh stamp instead.
    const lagging = await open(30_000);
    await lagging.update(m.id, { content: 'edited again after reopening' });
    await lagging.sync();
    await honest.sync();
    const moved = await honest.get(m.id);
    expect(moved?.content).toBe('edited again after reopening');
    expect(Date.parse(moved!.updatedAt)).toBeLessThanOrEqual(Date.now());
    await honest.update(m.id, { content: 'honest edits last' });
    await honest.sync();
    await lagging.sync();
    expect((await honest.get(m.id))?.content).toBe('honest edits last');
    expect((await lagging.get(m.id))?.content).toBe('honest edits last');
    await Promise.all([honest.close(), lagging.close()]);
  });
  it('stamps of other replicas in the window stay: an imported record edited offline keeps their edit’s place', async () => {
    const sync = await edge();
    const honestStore = new InMemoryStore();
    const honest = await createMemory({ store: honestStore, namespace: 'skew', sync });
    const m = await honest.add({ content: 'original' });
    await honest.sync();
    const lines: string[] = [];
    for await (const line of exportJsonl(honestStore)) lines.push(line);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await honest.update(m.id, { content: 'edited after the export' });
    await honest.sync();
    // A device that never synced, its clock an hour behind, takes in the export and tags the memory:
    // the tag's stamp carries the imported content's time (it observed it), so that stamp, the honest
    // replica's, is in the window the first answer moves forward, but it is not the device's to move.
    const store = new InMemoryStore();
    await importJsonl(store, lines);
    const behind = await createMemory({ store, namespace: 'skew', now: () => Date.now() - HOUR, sync });
    await behind.update(m.id, { tags: ['tagged offline'] });
    await behind.sync();
    await honest.sync();
    for (const mem of [honest, behind]) {
      expect(await mem.get(m.id)).toMatchObject({
        content: 'edited after the export',
        tags: ['tagged offline'],
      });
    }
    await Promise.all([honest.close(), behind.close()]);
  });
  it('stamps of its last rounds stay: a field it pushed before, since edited elsewhere, keeps that edit', async () => {
    const edge = await heldEdge('skew');
    const [toHonest, toDevice] = [edge.client(), edge.client()];
    const { open } = device(toDevice.sync);
    const first = await open();
    const m = await first.add({ content: 'original', tags: ['from the device'] });
    await first.sync();
    await first.close();
    const honest = await createMemory({ namespace: 'skew', sync: toHonest.sync });
    await honest.sync();
    await honest.update(m.id, { tags: ['edited elsewhere'] });
    await honest.sync();
    // Reopened an hour behind, it edits the content before its first answer: the window moved forward is
    // this session's stamps, not the tags' stamp from the round that pushed them (moved an hour forward,
    // it would land past now and take a fresh stamp, over the edit made elsewhere since).
    toDevice.hold();
    const second = await open(HOUR);
    await second.update(m.id, { content: 'edited after reopening' });
    toDevice.release();
    await second.sync();
    await honest.sync();
    for (const mem of [honest, second]) {
      expect(await mem.get(m.id)).toMatchObject({
        content: 'edited after reopening',
        tags: ['edited elsewhere'],
      });
    }
    await Promise.all([honest.close(), second.close()]);
  });
});
