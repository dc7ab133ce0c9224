import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { type Engram, InMemoryStore, type MemoryStore } from '../../src/index.js';
import { edgeStores } from '../edge/helpers.js';
import { edgeOnClock } from './fixtures.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
// The edge on the in-memory store, PGlite and (with DATABASE_URL) the real Postgres.
const { stores: servers, close } = await edgeStores('reused');
afterAll(close);

type StoreCase = [string, () => MemoryStore];
let counter = 0;
const replicas: StoreCase[] = [
  ['InMemoryStore', () => new InMemoryStore()],
  ['SqlJsStore', () => new SqlJsStore()],
  ['IndexedDBStore', () => new IndexedDBStore({ name: `reused-${process.pid}-${++counter}` })],
];

/** An edge on `server` and replicas on one test clock, in a namespace of their own. */
async function setup(server: MemoryStore) {
  const ns = `reuse-${++counter}-${Date.now().toString(36)}`;
  const edge = await edgeOnClock(server, ns, { startMs: Date.parse('2031-03-01T00:00:00.000Z') });
  return { ...edge, ns };
}

const contentOf = async (mem: Engram, id: string) => (await mem.get(id))?.content ?? null;

/** Three in-memory replicas on the edge, each with its start-up exchange done. */
async function threeReplicas(
  open: (store: MemoryStore) => Promise<Engram>,
): Promise<[Engram, Engram, Engram]> {
  const replicas: [Engram, Engram, Engram] = [
    await open(new InMemoryStore()),
    await open(new InMemoryStore()),
    await open(new InMemoryStore()),
  ];
  for (const mem of replicas) await mem.sync();
  return replicas;
}

/** `threeReplicas` on an edge over `server`, and `step`, which runs an act a second of the test clock on. */
async function threeStepping(server: MemoryStore) {
  const { clock, ns, open } = await setup(server);
  const [a, b, c] = await threeReplicas(open);
  const step = async (act: () => Promise<unknown>) => {
    clock.t += 1000;
    await act();
  };
  return { server, ns, a, b, c, step };
}

describe.each(servers)('an id deleted, collected and added again (edge on %s)', (_, makeServer) => {
  it.each(replicas)(
    'reaches a replica that still holds the old tombstone (%s)',
    async (_name, makeReplica) => {
      const server = makeServer();
      const { clock, ns, open } = await setup(server);
      const a = await open(new InMemoryStore());
      const c = await open(makeReplica());
      await a.add({ id: 'x', content: 'the first x' });
      await a.sync();
      await c.sync();
      await a.remove('x');
      await a.sync();
      await c.sync();
      expect(await c.get('x')).toBeNull();

      // The edge collects the tombstone past its horizon; a collects its copy, c (no maintenance) keeps it.
      clock.t += MINUTE;
      await a.sync();
      clock.t += 31 * DAY;
      await a.sync();
      await c.sync();
      expect(await server.getTombstones(ns, ['x'])).toEqual([]);
      expect((await a.maintain()).collected).toBe(1);
      expect(await c.store.getTombstones(ns, ['x'])).toHaveLength(1);

      // The id is free on a again: the new memory reaches the edge and c, whose tombstone is older.
      await a.add({ id: 'x', content: 'a new x' });
      await a.sync();
      await c.sync();
      expect(await contentOf(a, 'x')).toBe('a new x');
      expect((await server.getMemories(ns, ['x'])).map((r) => r.memory.content)).toEqual(['a new x']);
      expect(await contentOf(c, 'x')).toBe('a new x');
      expect(await c.store.getTombstones(ns, ['x'])).toEqual([]);
      // Deleting it again deletes it everywhere.
      await c.remove('x');
      await c.sync();
      await a.sync();
      expect(await a.get('x')).toBeNull();
      expect(await server.getMemories(ns, ['x'])).toEqual([]);
      await a.close();
      await c.close();
    },
  );

  it.each(replicas)(
    'a record made before a delete the edge collected comes back from the edge: a replica still holding the tombstone sends it back (%s)',
    async (_name, makeReplica) => {
      const server = makeServer();
      const { clock, ns, open } = await setup(server);
      const a = await open(new InMemoryStore());
      const c = await open(makeReplica());
      // Each start-up exchange done first: one still running would pull the delete into a.
      await a.sync();
      await c.sync();
      // Both make x apart; c deletes its x and pushes the delete; a's x (made before it) stays unpushed.
      await c.add({ id: 'x', content: 'c made x' });
      clock.t += 1000;
      await a.add({ id: 'x', content: 'a made x' });
      clock.t += 1000;
      await c.remove('x');
      await c.sync();
      // The edge collects the tombstone past its horizon; c, whose maintenance has not run, keeps it.
      clock.t += MINUTE;
      await c.sync();
      clock.t += 31 * DAY;
      await c.sync();
      expect(await server.getTombstones(ns, ['x'])).toEqual([]);
      expect(await c.store.getTombstones(ns, ['x'])).toHaveLength(1);

      // a pushes its x: the edge, holding no tombstone any more, takes it and sends it to c, which refuses it
      // (its tombstone is later than every stamp of a's x) and pushes the tombstone back.
      await a.sync();
      expect((await server.getMemories(ns, ['x'])).map((r) => r.memory.content)).toEqual(['a made x']);
      await c.sync();
      expect(await c.get('x')).toBeNull();
      // The tombstone went back in the same round: c holds nothing it has yet to send.
      expect(c.status.pending).toBe(0);
      expect(await server.getMemories(ns, ['x'])).toEqual([]);
      await a.sync();
      expect(await a.get('x')).toBeNull();
      expect(c.status).toMatchObject({ state: 'online', pending: 0 });
      await a.close();
      await c.close();
    },
  );

  it('reaches the edge while it still holds a tombstone whose stamp is past the horizon', async () => {
    const server = makeServer();
    const { clock, ns, open } = await setup(server);
    const a = await open(new InMemoryStore());
    const d = await open(new InMemoryStore());
    await a.add({ id: 'y', content: 'the first y' });
    await a.sync();
    await d.sync();
    // d deletes y and is offline for 20 days: the edge receives the tombstone then, with its old stamp.
    await d.remove('y');
    clock.t += 20 * DAY;
    await d.sync();
    await a.sync();
    expect(await a.get('y')).toBeNull();
    clock.t += 11 * DAY;
    expect((await a.maintain()).collected).toBe(1);
    await a.sync();
    expect(await server.getTombstones(ns, ['y'])).toHaveLength(1);

    await a.add({ id: 'y', content: 'a new y' });
    await a.sync();
    await d.sync();
    expect((await server.getMemories(ns, ['y'])).map((r) => r.memory.content)).toEqual(['a new y']);
    expect(await contentOf(d, 'y')).toBe('a new y');
    await a.close();
    await d.close();
  });

  it('added by a replica that never saw the deleted memory, beside an older creation of the id', async () => {
    const server = makeServer();
    const { clock, ns, open } = await setup(server);
    const [a, b, c] = await threeReplicas(open);
    // b and c create the id apart, c deletes its copy; a, a day later, knows nothing of either.
    await c.add({ id: 'v', content: 'made on c' });
    clock.t += 1000;
    await b.add({ id: 'v', content: 'made on b' });
    clock.t += 1000;
    await c.remove('v');
    clock.t += DAY;
    await c.sync();
    await a.add({ id: 'v', content: 'made on a, later' });
    // a's memory is newer than the delete; b's, older, merges into it (its createdAt is earlier) and must not
    // turn it back into the deleted one for c, which holds the tombstone.
    for (let round = 0; round < 2; round++) for (const mem of [a, b, c]) await mem.sync();
    for (const mem of [a, b, c]) expect(await contentOf(mem, 'v')).toBe('made on a, later');
    expect((await server.getMemories(ns, ['v'])).map((r) => r.memory.content)).toEqual(['made on a, later']);
    const created = await Promise.all([a, b, c].map(async (mem) => (await mem.get('v'))?.createdAt));
    expect(new Set(created).size).toBe(1);
    for (const mem of [a, b, c]) await mem.close();
  });

  it('reaches a replica that never heard of the delete and holds an older creation of the id', async () => {
    const server = makeServer();
    const { clock, ns, open } = await setup(server);
    const [a, b, c] = await threeReplicas(open);
    await a.add({ id: 'u', content: 'made on a' });
    clock.t += 1000;
    await c.add({ id: 'u', content: 'made on c' });
    clock.t += 1000;
    await a.remove('u');
    await c.sync();
    clock.t += 1000;
    await b.add({ id: 'u', content: 'made on b, after the delete' });
    // a's delete removes c's memory at the edge, b's memory takes the id again; c merges b's into its own,
    // keeping its earlier createdAt, and must push that back (its next round) for all to agree.
    for (let round = 0; round < 3; round++) for (const mem of [a, b, c]) await mem.sync();
    for (const mem of [a, b, c]) expect(await contentOf(mem, 'u')).toBe('made on b, after the delete');
    const [stored] = await server.getMemories(ns, ['u']);
    for (const mem of [a, b, c]) expect((await mem.get('u'))?.createdAt).toBe(stored!.memory.createdAt);
    for (const mem of [a, b, c]) await mem.close();
  });

  it('a delete that reaches the edge after a memory made anew under the id deletes nothing', async () => {
    const { server, ns, a, b, c, step } = await threeStepping(makeServer());
    await step(() => b.add({ id: 's', content: 'made on b' }));
    await step(() => b.sync());
    // b deletes its memory; c and a, which never heard of it, make their own under the id after that.
    await step(() => b.remove('s'));
    await step(() => c.add({ id: 's', content: 'made on c, after the delete' }));
    await step(() => a.add({ id: 's', content: 'made on a, after the delete' }));
    // a's memory reaches the edge first, over b's; then b's delete, older than every field of it; then c's.
    // Before, the edge deleted a's memory (and took c's), while a kept its own: they disagreed for good.
    for (let round = 0; round < 2; round++) for (const mem of [a, b, c]) await mem.sync();
    for (const mem of [a, b, c]) expect(await contentOf(mem, 's')).toBe('made on a, after the delete');
    const [stored] = await server.getMemories(ns, ['s']);
    expect(stored?.memory.content).toBe('made on a, after the delete');
    for (const mem of [a, b, c]) expect((await mem.get('s'))?.createdAt).toBe(stored!.memory.createdAt);
    for (const mem of [a, b, c]) expect(await mem.store.getTombstones(ns, ['s'])).toEqual([]);
    for (const mem of [a, b, c]) await mem.close();
  });

  it('two deletes of the id apart, a memory made between them: every replica reaches one verdict', async () => {
    const { server, ns, a, b, c, step } = await threeStepping(makeServer());
    await step(() => a.add({ id: 't', content: 'made on a' }));
    await step(() => b.add({ id: 't', content: 'made on b' }));
    await step(() => b.remove('t'));
    await step(() => c.add({ id: 't', content: 'made on c, between the deletes' }));
    await step(() => a.remove('t'));
    // The edge gets b's delete first, then a's later one: it keeps the later stamp, which c's memory,
    // made before it, does not pass, as on a.
    await b.sync();
    await a.sync();
    for (let round = 0; round < 3; round++) for (const mem of [a, b, c]) await mem.sync();
    for (const mem of [a, b, c]) expect(await mem.get('t')).toBeNull();
    expect(await server.getMemories(ns, ['t'])).toEqual([]);
    const stamps = await Promise.all(
      [a, b, c].map(async (mem) => (await mem.store.getTombstones(ns, ['t']))[0]?.clock),
    );
    expect(new Set([...stamps, (await server.getTombstones(ns, ['t']))[0]?.clock]).size).toBe(1);
    for (const mem of [a, b, c]) await mem.close();
  });

  it('a push whose createdAt is later than the delete but whose stamps are not stays deleted', async () => {
    const server = makeServer();
    const { clock, ns, open, app, token } = await setup(server);
    const a = await open(new InMemoryStore());
    await a.add({ id: 'w', content: 'the first w' });
    await a.sync();
    const [stored] = await server.getMemories(ns, ['w']);
    await a.remove('w');
    await a.sync();
    clock.t += DAY;
    // A raw HTTP push of the old record, its createdAt moved past the delete, its stamps as they were.
    const push = {
      memories: [
        {
          id: 'w',
          create: { namespace: ns, createdAt: new Date(clock.t).toISOString() },
          values: { content: 'brought back?', kind: 'note', tags: [], metadata: {} },
          clocks: stored!.clocks,
        },
      ],
    };
    const response = await app.fetch(
      new Request(`http://edge.test/v1/ns/${ns}/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ push }),
      }),
    );
    expect(response.status).toBe(200);
    expect(await server.getMemories(ns, ['w'])).toEqual([]);
    expect(await server.getTombstones(ns, ['w'])).toHaveLength(1);
    await a.close();
  });

  it('an edit of the deleted memory made after the delete stays deleted', async () => {
    const server = makeServer();
    const { clock, ns, open } = await setup(server);
    const a = await open(new InMemoryStore());
    const b = await open(new InMemoryStore());
    await a.add({ id: 'z', content: 'the first z' });
    await a.sync();
    await b.sync();
    await a.remove('z');
    await a.sync();
    clock.t += DAY;
    // b has not heard of the delete: its edit is later than the tombstone, but of the memory it deleted.
    await b.update('z', { content: 'edited later on b' });
    await b.sync();
    await a.sync();
    expect(await b.get('z')).toBeNull();
    expect(await a.get('z')).toBeNull();
    expect(await server.getMemories(ns, ['z'])).toEqual([]);
    await a.close();
    await b.close();
  });
});
