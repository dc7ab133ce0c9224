import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, type Engram, InMemoryStore, type MemoryStore } from '../../src/index.js';
import { edgeStores, testApp } from '../edge/helpers.js';

/*
 * A tombstone's `entity` must be what its id is. One calling a memory's id a link used to be kept while
 * the memory stayed readable on the server, and replicas disagreed about it for good. The edge now refuses
 * it for a record it holds; for an id it does not know yet (the record may be on its way) it is kept, and
 * every store's merge deletes whatever record has the id, so the server and every replica still agree.
 */

const { stores: servers, close } = await edgeStores('tomb_entity');
afterAll(close);

let counter = 0;
const replicaStores: Array<[string, () => MemoryStore]> = [
  ['InMemoryStore', () => new InMemoryStore()],
  ['SqlJsStore', () => new SqlJsStore()],
  ['IndexedDBStore', () => new IndexedDBStore({ name: `tomb-entity-${process.pid}-${++counter}` })],
];

const stamp = () => `${Date.now().toString(16).padStart(12, '0')}-0000-sloppy`;

async function edgeWithReplicas(makeServer: () => MemoryStore, makeReplica: () => MemoryStore) {
  const namespace = `t${++counter}`;
  const edge = await testApp({ store: makeServer(), ns: [namespace] });
  const opened: Engram[] = [];
  const replica = async (store = makeReplica()) => {
    const mem = await createMemory({
      store,
      namespace,
      sync: {
        url: 'http://edge.test',
        token: edge.token,
        fetch: (input, init) => Promise.resolve(edge.app.request(input, init)),
        intervalMs: 0,
        debounceMs: 3_600_000,
        live: false,
      },
    });
    opened.push(mem);
    return mem;
  };
  const pushTombstones = (tombstones: Array<{ entity: string; id: string }>) =>
    edge.call('POST', `/v1/ns/${namespace}/sync`, {
      push: { tombstones: tombstones.map((t) => ({ ...t, namespace, clock: stamp() })) },
    });
  const close = async () => {
    for (const mem of opened) await mem.close();
  };
  return { ...edge, namespace, replica, pushTombstones, close };
}

async function contents(mem: Engram) {
  const items = (await mem.list({ limit: 100 })).items;
  const links = (await Promise.all(items.map((m) => mem.links(m.id, { direction: 'out' })))).flat();
  return { memories: items.map((m) => m.content).sort(), links: links.map((l) => l.type).sort() };
}

describe.each(servers)('pushed tombstones name their entity (edge on %s)', (_, makeServer) => {
  it('a tombstone calling a held record the other kind is refused whole, naming its entity', async () => {
    const { call, store, namespace, replica, pushTombstones, close } = await edgeWithReplicas(
      makeServer,
      () => new InMemoryStore(),
    );
    const writer = await replica();
    const victim = await writer.add({ content: 'victim' });
    const other = await writer.add({ content: 'other' });
    const link = await writer.link(other.id, victim.id, 'rel');
    await writer.sync();
    const before = await store.changes(namespace, 0, 100);

    const asLink = await pushTombstones([{ entity: 'link', id: victim.id }]);
    expect(asLink.status).toBe(400);
    expect(asLink.json.error).toMatchObject({ code: 'VALIDATION', field: 'sync.push.tombstones.0.entity' });
    expect(asLink.json.error.message).toMatch(
      /expected 'memory' .* is a memory in this namespace\), got 'link'/,
    );
    // A good tombstone beside the bad one is not applied either: the request is refused whole.
    const asMemory = await pushTombstones([
      { entity: 'memory', id: 'never-seen' },
      { entity: 'memory', id: link.id },
    ]);
    expect(asMemory.status).toBe(400);
    expect(asMemory.json.error).toMatchObject({ code: 'VALIDATION', field: 'sync.push.tombstones.1.entity' });
    expect(await store.changes(namespace, 0, 100)).toEqual(before);

    expect((await call('GET', `/v1/ns/${namespace}/memories/${victim.id}`)).status).toBe(200);
    await writer.sync();
    const fresh = await replica();
    await fresh.sync();
    const expected = { memories: ['other', 'victim'], links: ['rel'] };
    expect(await contents(writer)).toEqual(expected);
    expect(await contents(fresh)).toEqual(expected);
    await close();
  });

  it("a pushed write whose id is the other kind's is refused whole, naming the write's id", async () => {
    const { store, namespace, replica, call, close } = await edgeWithReplicas(
      makeServer,
      () => new InMemoryStore(),
    );
    const writer = await replica();
    const a = await writer.add({ content: 'one end' });
    const b = await writer.add({ content: 'other end' });
    const link = await writer.link(a.id, b.id, 'rel');
    await writer.sync();
    const before = await store.changes(namespace, 0, 100);
    const createdAt = new Date().toISOString();
    const memoryWrite = (id: string) => ({
      id,
      create: { namespace, createdAt },
      values: { content: 'impostor', kind: 'note', tags: [], metadata: {} },
      clocks: { content: stamp(), kind: stamp(), tags: stamp(), metadata: stamp() },
    });
    const linkWrite = (id: string) => ({
      id,
      create: { namespace, from: a.id, to: b.id, createdAt },
      values: { type: 'impostor', metadata: {} },
      clocks: { type: stamp(), metadata: stamp() },
    });
    const push = (body: object) => call('POST', `/v1/ns/${namespace}/sync`, { push: body });

    const linkAsMemory = await push({ memories: [memoryWrite('fresh-one'), memoryWrite(link.id)] });
    expect(linkAsMemory.status).toBe(400);
    expect(linkAsMemory.json.error).toMatchObject({ code: 'VALIDATION', field: 'sync.push.memories.1.id' });
    expect(linkAsMemory.json.error.message).toContain('is a link in this namespace');
    const memoryAsLink = await push({ links: [linkWrite(a.id)] });
    expect(memoryAsLink.status).toBe(400);
    expect(memoryAsLink.json.error).toMatchObject({ code: 'VALIDATION', field: 'sync.push.links.0.id' });
    expect(memoryAsLink.json.error.message).toContain('is a memory in this namespace');
    const both = await push({ memories: [memoryWrite('twin')], links: [linkWrite('twin')] });
    expect(both.status).toBe(400);
    expect(both.json.error).toMatchObject({ code: 'VALIDATION', field: 'sync.push.links.0.id' });
    // A new id the push writes as a memory and deletes as a link: the push itself says what it is.
    const deletedAsLink = await push({
      memories: [memoryWrite('new-one')],
      tombstones: [{ entity: 'link', id: 'new-one', namespace, clock: stamp() }],
    });
    expect(deletedAsLink.status).toBe(400);
    expect(deletedAsLink.json.error).toMatchObject({
      code: 'VALIDATION',
      field: 'sync.push.tombstones.0.entity',
    });

    expect(await store.changes(namespace, 0, 100)).toEqual(before);
    const fresh = await replica();
    await fresh.sync();
    expect(await contents(fresh)).toEqual({ memories: ['one end', 'other end'], links: ['rel'] });
    await close();
  });

  it.each(replicaStores)(
    'a mislabelled tombstone for an id the edge does not know yet deletes the same record everywhere (replica on %s)',
    async (_replicaName, makeReplica) => {
      const { call, namespace, replica, pushTombstones, close } = await edgeWithReplicas(
        makeServer,
        makeReplica,
      );
      const writer = await replica();
      await writer.sync(); // the opening round is over: what follows stays local until the next one
      // Written offline: the edge has not heard of these yet.
      const doomed = await writer.add({ content: 'doomed' });
      const kept = await writer.add({ content: 'kept' });
      await writer.link(kept.id, doomed.id, 'rel');
      const early = await pushTombstones([{ entity: 'link', id: doomed.id }]);
      expect(early.status).toBe(200);

      await writer.sync();
      await writer.sync();
      const fresh = await replica();
      await fresh.sync();
      const expected = { memories: ['kept'], links: [] };
      expect(await contents(writer)).toEqual(expected);
      expect(await contents(fresh)).toEqual(expected);
      expect(await writer.get(doomed.id)).toBeNull();
      expect((await call('GET', `/v1/ns/${namespace}/memories/${doomed.id}`)).status).toBe(404);
      expect(writer.status).toMatchObject({ state: 'online', pending: 0 });
      await close();
    },
  );
});
