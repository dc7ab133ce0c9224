import { describe, expect, it } from 'vitest';
import { createMemory, InMemoryStore, migrate } from '../../src/index.js';
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

/** The memories of the name `name`, first created first. */
async function copiesOf(graph: KnowledgeGraph, name: string) {
  const copies = (await graph.mem.list({ kind: 'entity' })).items.filter((m) => m.metadata.name === name);
  return copies.sort((x, y) =>
    x.createdAt < y.createdAt ? -1 : x.createdAt > y.createdAt ? 1 : x.id < y.id ? -1 : 1,
  );
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
    const copies = await copiesOf(a, 'Alice');
    expect(copies).toHaveLength(2);
    const other = new KnowledgeGraph(await createMemory({ store }));
    await other.createRelations([{ from: 'Alice', to: 'Bob', relationType: 'knows' }]);
    const [first, second] = copies;
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

  it('does not create again a relation the first copy holds', async () => {
    const { a, close } = await twoServers();
    const met = { from: 'Alice', to: 'Bob', relationType: 'met' };
    expect(await a.createRelations([met])).toEqual([met]);
    expect(await a.createRelations([met])).toEqual([]);
    expect((await a.readGraph()).relations).toEqual([met]);
    await close();
  });

  it('shows the observations of three copies in the order the copies were made', async () => {
    const store = new InMemoryStore();
    const graphs = await Promise.all(
      [0, 1, 2].map(async () => new KnowledgeGraph(await createMemory({ store }))),
    );
    await Promise.all(
      graphs.map((graph, i) =>
        graph.createEntities([{ name: 'Alice', entityType: 'person', observations: [`from ${i}`] }]),
      ),
    );
    const copies = await copiesOf(graphs[0]!, 'Alice');
    expect(copies).toHaveLength(3);
    const observations = copies.flatMap((copy) => copy.metadata.observations as string[]);
    expect((await graphs[0]!.readGraph()).entities).toEqual([
      { name: 'Alice', entityType: copies[0]!.metadata.entityType, observations },
    ]);
    await Promise.all(graphs.map((graph) => graph.mem.close()));
  });

  it('delete_entities removes it for good', async () => {
    const { a, b, close } = await twoServers();
    await a.deleteEntities(['Alice']);
    expect((await a.readGraph()).entities.map((e) => e.name)).toEqual(['Bob']);
    expect(await b.openNodes(['Alice'])).toEqual({ entities: [], relations: [] });
    expect((await a.mem.list({ kind: 'entity' })).items.map((m) => m.metadata.name)).toEqual(['Bob']);
    await close();
  });

  it('does not create again a relation to itself that the copy holds', async () => {
    const { a, close } = await twoServers();
    // The other replica related its Alice to herself: the relation lives in the copy's metadata.
    const [, second] = await copiesOf(a, 'Alice');
    await a.mem.update(second!.id, {
      metadata: { ...second!.metadata, selfRelations: ['admires'], selfRelationsOrder: [Date.now()] },
    });
    const relation = { from: 'Alice', to: 'Alice', relationType: 'admires' };
    expect(await a.createRelations([relation])).toEqual([]);
    expect((await a.readGraph()).relations).toEqual([relation]);
    await close();
  });
});

describe('a name one replica only related to while the other created its entity', () => {
  it('is read as the entity, with the relation made to the bare name', async () => {
    // Two replicas offline, then synced: the first made `Carol` a bare name (a relation's end) before
    // the second, which never saw it, created the entity Carol.
    const [first, second, synced] = [new InMemoryStore(), new InMemoryStore(), new InMemoryStore()];
    const relating = new KnowledgeGraph(await createMemory({ store: first }));
    await relating.createRelations([{ from: 'Dan', to: 'Carol', relationType: 'knows' }]);
    // So that the bare name is the older memory of the two, as it was first here.
    await new Promise((r) => setTimeout(r, 5));
    const creating = new KnowledgeGraph(await createMemory({ store: second }));
    const carol = { name: 'Carol', entityType: 'person', observations: ['likes chess'] };
    await creating.createEntities([carol]);
    await migrate(first, synced);
    await migrate(second, synced);
    const graph = new KnowledgeGraph(await createMemory({ store: synced }));
    expect(await graph.readGraph()).toEqual({
      entities: [carol],
      relations: [{ from: 'Dan', to: 'Carol', relationType: 'knows' }],
    });
    expect((await graph.openNodes(['Carol'])).entities).toEqual([carol]);
    await Promise.all([relating, creating, graph].map((g) => g.mem.close()));
  });
});

describe('a memory of kind entity that holds no entity (another tool wrote it)', () => {
  it('does not hide the entity of its name, even when it is the older of the two', async () => {
    // Another tool wrote it on one replica; the other replica, which never saw it, created the entity.
    const [first, second, synced] = [new InMemoryStore(), new InMemoryStore(), new InMemoryStore()];
    const foreign = await createMemory({ store: first });
    // A name but no entityType or observations: no entity.
    await foreign.add({ kind: 'entity', content: 'Alice', metadata: { name: 'Alice' } });
    await new Promise((r) => setTimeout(r, 5));
    const creating = new KnowledgeGraph(await createMemory({ store: second }));
    const alice = { name: 'Alice', entityType: 'person', observations: ['likes tea'] };
    await creating.createEntities([alice]);
    await migrate(first, synced);
    await migrate(second, synced);
    const graph = new KnowledgeGraph(await createMemory({ store: synced }));
    expect((await graph.readGraph()).entities).toEqual([alice]);
    await Promise.all([foreign, creating.mem, graph.mem].map((m) => m.close()));
  });
});
