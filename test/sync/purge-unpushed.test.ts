import { describe, expect, it } from 'vitest';
import { MAINTENANCE_BATCH } from '../../src/core/maintenance.js';
import { createMemory, type Engram, InMemoryStore, type MemoryStore } from '../../src/index.js';
import { edgeOnClock } from './fixtures.js';
import { localStores } from './stores.js';

// docs/lifecycle.md, "Purge on a replica": an expired memory with an edit of this replica not pushed yet
// stays until the push; one this replica made and never pushed goes at once. The edge's own purge (a
// tombstone a pull brings) is off, so that only the replica's purge can drop anything here.
const NS = 'purge-unpushed';
const HOUR = 3_600_000;
const START = Date.parse('2026-12-04T09:00:00.000Z');

/**
 * A sync that leaves no round behind: a write the store reports during a round (IndexedDB's change events
 * come a little later) queues another one, which would push what the test adds next.
 */
async function round(memory: Engram): Promise<void> {
  await memory.sync();
  await memory.sync();
}

const kinds = (await localStores()).map((store) => store.constructor.name);

async function edgeAndTwo(kind: number) {
  const server = new InMemoryStore();
  const edge = await edgeOnClock(server, NS, { startMs: START, maintenance: { intervalMs: 0 } });
  const a = await edge.open(new InMemoryStore());
  const c = await edge.open((await localStores())[kind] as MemoryStore);
  return { server, edge, a, c, close: () => Promise.all([a.close(), c.close()]) };
}

describe.each(kinds.map((name, kind) => [name, kind] as const))('replica on %s', (_, kind) => {
  it('keeps a memory its unpushed edit made expire until the push; then it expires everywhere', async () => {
    const { edge, a, c, close } = await edgeAndTwo(kind);
    const x = await a.add({ content: 'the parking code is 4512' });
    await round(a);
    await round(c);
    await c.update(x.id, { expiresAt: new Date(START + HOUR).toISOString() });
    edge.clock.t += 2 * HOUR;

    // Expired here, so hidden, but its edit is still in the outbox: the purge leaves it.
    expect(await c.get(x.id)).toBeNull();
    expect(await c.maintain()).toEqual({ purged: 0, collected: 0 });
    await round(c);
    await round(a);
    expect(await a.get(x.id)).toBeNull();
    expect((await a.store.getMemories(NS, [x.id]))[0]?.memory.expiresAt).toBe(
      new Date(START + HOUR).toISOString(),
    );
    // Pushed: now it may go.
    expect(await c.maintain()).toEqual({ purged: 1, collected: 0 });
    expect(await a.maintain()).toEqual({ purged: 1, collected: 0 });
    await close();
  });

  it('purges at once a memory it made and never pushed, and one whose edits are all pushed', async () => {
    const { server, edge, a, c, close } = await edgeAndTwo(kind);
    const pushed = await c.add({
      content: 'pushed reminder',
      expiresAt: new Date(START + HOUR).toISOString(),
    });
    await round(c);
    const local = await c.add({ content: 'local reminder', expiresAt: new Date(START + HOUR).toISOString() });
    edge.clock.t += 2 * HOUR;
    expect(await c.maintain()).toEqual({ purged: 2, collected: 0 });
    expect(await c.store.getMemories(NS, [pushed.id, local.id])).toEqual([]);
    await round(c);
    await round(a);
    expect(await server.getMemories(NS, [local.id])).toEqual([]);
    expect(await a.get(pushed.id)).toBeNull();
    await close();
  });

  it('holds its own pushed memory whose expiry it then edited, until that edit is pushed', async () => {
    const { edge, a, c, close } = await edgeAndTwo(kind);
    const x = await c.add({ content: 'pushed, then given a life', tags: ['t'] });
    await round(c);
    await round(a);
    await c.update(x.id, { expiresAt: new Date(START + HOUR).toISOString() });
    edge.clock.t += 2 * HOUR;
    expect(await c.maintain()).toEqual({ purged: 0, collected: 0 });
    await round(c);
    await round(a);
    expect(await a.get(x.id)).toBeNull();
    expect(await c.maintain()).toEqual({ purged: 1, collected: 0 });
    await close();
  });

  // docs/lifecycle.md: a replica never collects its own deletes the edge has not acknowledged; collected
  // before the push, the delete would be lost and the memory stay everywhere else.
  it('keeps its unpushed delete past the tombstone horizon until the push; then it may go', async () => {
    const { server, edge, a, c, close } = await edgeAndTwo(kind);
    const x = await a.add({ content: 'the old alarm code' });
    await round(a);
    await round(c);
    await c.remove(x.id);
    edge.clock.t += 31 * 24 * HOUR;
    expect(await c.maintain()).toEqual({ purged: 0, collected: 0 });
    await round(c);
    expect(await server.getMemories(NS, [x.id])).toEqual([]);
    await round(a);
    expect(await a.get(x.id)).toBeNull();
    // Pushed: now it may go.
    expect(await c.maintain()).toEqual({ purged: 0, collected: 1 });
    await close();
  });
});

describe.each(kinds.map((name, kind) => [name, kind] as const))('with a replica on %s', (_, kind) => {
  it('a memory made anew under the id of an expired one does not bring back its links', async () => {
    const { edge, a, c, close } = await edgeAndTwo(kind);
    const b = await edge.open(new InMemoryStore());
    const expiresAt = new Date(START + HOUR).toISOString();
    await b.add({ id: 'old', content: 'the old one', expiresAt });
    await b.add({ id: 'other', content: 'the other one' });
    await b.link('old', 'other', 'about');
    await round(b);
    await round(c);
    edge.clock.t += 2 * HOUR;
    // c drops the expired memory and its link by itself (b and the edge still hold them), and makes a new
    // one under the id.
    expect(await c.maintain()).toEqual({ purged: 1, collected: 0 });
    edge.clock.t += 1000;
    await c.add({ id: 'old', content: 'a new one under the id' });
    for (const mem of [a, b, c, a, b, c]) await round(mem);
    for (const mem of [a, b, c]) {
      expect((await mem.get('old'))?.content).toBe('a new one under the id');
      expect(await mem.links('old')).toEqual([]);
      expect(await mem.links('other')).toEqual([]);
    }
    await b.close();
    await close();
  });
});

it('more held memories than a batch never stop the purge of the others behind them', async () => {
  const { edge, a, c, close } = await edgeAndTwo(0);
  const expiresAt = new Date(START + HOUR).toISOString();
  const theirs = await a.addMany(
    Array.from({ length: MAINTENANCE_BATCH + 3 }, (_, n) => ({ content: `theirs ${n}` })),
  );
  await round(a);
  await round(c);
  for (const m of theirs) await c.update(m.id, { expiresAt });
  const mine = await c.addMany(
    Array.from({ length: MAINTENANCE_BATCH + 7 }, (_, n) => ({ content: `mine ${n}`, expiresAt })),
  );
  edge.clock.t += 2 * HOUR;
  expect(await c.maintain()).toEqual({ purged: mine.length, collected: 0 });
  expect(
    (
      await c.store.getMemories(
        NS,
        theirs.map((m) => m.id),
      )
    ).length,
  ).toBe(theirs.length);
  await round(c);
  expect(await c.maintain()).toEqual({ purged: theirs.length, collected: 0 });
  await round(a);
  for (const m of theirs) expect(await a.get(m.id)).toBeNull();
  await close();
});

it('purges at once an expired memory a pull brought, though the round broke off after it', async () => {
  const edge = await edgeOnClock(new InMemoryStore(), NS, { startMs: START, maintenance: { intervalMs: 0 } });
  const a = await edge.open(new InMemoryStore());
  // A network lost on the second page of a pull leaves the first page's entries past the outbox cursor,
  // where the purge reads this replica's unpushed edits: none of them is one.
  let cut = false;
  let pulls = 0;
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    if (cut && String(init?.body ?? '').includes('"pull"') && ++pulls > 1) {
      throw new TypeError('fetch failed: network lost');
    }
    return edge.fetch(input, init);
  };
  const c = await createMemory({
    store: new InMemoryStore(),
    namespace: NS,
    now: () => edge.clock.t,
    maintenance: { intervalMs: 0 },
    sync: {
      url: 'http://edge.test',
      token: edge.token,
      fetch,
      intervalMs: 0,
      live: false,
      debounceMs: 600_000,
    },
  });
  await c.add({ content: 'pushed, so the replica has an outbox cursor' });
  await round(c);
  const x = await a.add({ content: 'brought by a pull', expiresAt: new Date(START + HOUR).toISOString() });
  // Past a pull page (1000) with x on the first.
  await a.addMany(Array.from({ length: 1000 }, (_, n) => ({ content: `filler ${n}` })));
  await round(a);
  cut = true;
  await expect(c.sync()).rejects.toThrow();
  expect(await c.store.getMemories(NS, [x.id])).toHaveLength(1);
  edge.clock.t += 2 * HOUR;
  expect(await c.maintain()).toEqual({ purged: 1, collected: 0 });
  await Promise.all([a.close(), c.close()]);
});
