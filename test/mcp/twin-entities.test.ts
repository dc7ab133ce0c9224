import { describe, expect, it } from 'vitest';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { KnowledgeGraph } from '../../src/mcp/knowledge-graph.js';

// Two servers on one memory (two `engram mcp` on one edge or Postgres), or two replicas offline, may
// each create an entity of one name: the graph keeps two memories of that name, shows the first created
// with the other's observations and relations as its own, and changes them on both.

async function twoServers() {
  const store = new InMemoryStore();
  const a = new KnowledgeGraph(await createMemory({ store }));
  const b = new KnowledgeGraph(await createMemory({ store }));
  await Promise.all([
    a.createEntities([{ name: 'Alice', entityType: 'person', observations: ['from a', 'both'] }]),
    b.createEntities([{ name: 'Alice', entityType: 'robot', observations: ['from b', 'both'] }]),
  ]);
  await a.createEntities([{ name: 'Bob', entityType: 'person', observations: [] }]);
  return { a, b, close: () => Promise.all([a.mem.close(), b.mem.close()]) };
}

describe('an entity two servers created at once', () => {
  it('is read as the first created, with the copy’s observations after its own', async () => {
    const { a, b, close } = await twoServers();
    const alice = (await a.readGraph()).entities.find((e) => e.name === 'Alice');
    expect(alice).toEqual({
      name: 'Alice',
      entityType: 'person',
      observations: ['from a', 'both', 'from b'],
    });
    expect((await b.openNodes(['Alice'])).entities).toEqual([alice]);
    expect((await a.searchNodes('from b')).entities.map((e) => e.name)).toEqual(['Alice']);
    // Already shown (it is the copy's): not added again.
    expect(await b.addObservations([{ entityName: 'Alice', contents: ['from b', 'new'] }])).toEqual([
      { entityName: 'Alice', addedObservations: ['new'] },
    ]);
    // Removed from both copies, so it does not come back from the other.
    await a.deleteObservations([{ entityName: 'Alice', observations: ['both', 'from b'] }]);
    expect((await b.openNodes(['Alice'])).entities[0]?.observations).toEqual(['from a', 'new']);
    await close();
  });

  it('shows the relations of either copy once, and deletes them from both', async () => {
    const { a, close } = await twoServers();
    const store = a.mem.store;
    // A relation made on the copy (as the other replica would have): link from the second Alice.
    const copies = (await a.mem.list({ kind: 'entity' })).items.filter((m) => m.metadata.name === 'Alice');
    expect(copies).toHaveLength(2);
    const other = new KnowledgeGraph(await createMemory({ store }));
    await other.createRelations([{ from: 'Alice', to: 'Bob', relationType: 'knows' }]);
    const [first, second] = copies.sort((x, y) =>
      x.createdAt < y.createdAt ? -1 : x.createdAt > y.createdAt ? 1 : x.id < y.id ? -1 : 1,
    );
    const bob = (await a.mem.list({ kind: 'entity' })).items.find((m) => m.metadata.name === 'Bob')!;
    await a.mem.link(second!.id, bob.id, 'likes', {
      metadata: { relationType: 'likes', order: Date.now() },
    });
    await a.mem.link(second!.id, bob.id, 'knows', {
      metadata: { relationType: 'knows', order: Date.now() },
    });
    expect(first).toBeDefined();
    const graph = await a.readGraph();
    expect(graph.relations).toEqual([
      { from: 'Alice', to: 'Bob', relationType: 'knows' },
      { from: 'Alice', to: 'Bob', relationType: 'likes' },
    ]);
    expect((await a.openNodes(['Bob'])).relations).toHaveLength(2);
    // Held by a copy already: not created again.
    expect(await a.createRelations([{ from: 'Alice', to: 'Bob', relationType: 'likes' }])).toEqual([]);
    await a.deleteRelations([{ from: 'Alice', to: 'Bob', relationType: 'knows' }]);
    expect((await a.readGraph()).relations).toEqual([{ from: 'Alice', to: 'Bob', relationType: 'likes' }]);
    await other.mem.close();
    await close();
  });

  it('delete_entities removes it for good', async () => {
    const { a, b, close } = await twoServers();
    await a.deleteEntities(['Alice']);
    expect((await a.readGraph()).entities.map((e) => e.name)).toEqual(['Bob']);
    expect(await b.openNodes(['Alice'])).toEqual({ entities: [], relations: [] });
    expect((await a.mem.list({ kind: 'entity' })).items.map((m) => m.metadata.name)).toEqual(['Bob']);
    await close();
  });
});
