import { describe, expect, it } from 'vitest';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { KnowledgeGraph } from '../../src/mcp/knowledge-graph.js';

const big = 'x'.repeat(70_000);

async function graphWithTwo() {
  const mem = await createMemory({ store: new InMemoryStore() });
  const graph = new KnowledgeGraph(mem);
  await graph.createEntities([
    { name: 'A', entityType: 'person', observations: [] },
    { name: 'B', entityType: 'person', observations: [] },
  ]);
  return graph;
}

describe('create_relations checks everything before writing anything', () => {
  it('a relation too large for Engram, after good ones, leaves the graph as it was', async () => {
    const calls = [
      [
        { from: 'A', to: 'B', relationType: 'knows' },
        { from: 'A', to: big, relationType: 'knows' },
      ],
      [
        { from: 'B', to: 'A', relationType: 'likes' },
        { from: 'A', to: 'B', relationType: big },
      ],
      [
        { from: 'B', to: 'B', relationType: 'self1' },
        { from: 'A', to: 'A', relationType: big },
      ],
      [
        { from: 'B', to: 'B', relationType: 'self1' },
        ...Array.from({ length: 20 }, (_, i) => ({
          from: 'B',
          to: 'B',
          relationType: `${i}${'y'.repeat(4000)}`,
        })),
      ],
    ];
    for (const relations of calls) {
      const graph = await graphWithTwo();
      const before = await graph.readGraph();
      await expect(graph.createRelations(relations)).rejects.toThrow(/64 KiB.*nothing was written/);
      expect(await graph.readGraph()).toEqual(before);
    }
  });

  it('relations that fit are all written', async () => {
    const graph = await graphWithTwo();
    const relations = [
      { from: 'A', to: 'B', relationType: 'knows' },
      { from: 'B', to: 'B', relationType: 'self' },
      { from: 'A', to: 'C', relationType: 'y'.repeat(4000) },
    ];
    expect(await graph.createRelations(relations)).toEqual(relations);
    expect((await graph.readGraph()).relations).toHaveLength(3);
  });

  it('lists links and relations to itself in the order they were made, even made within a millisecond', async () => {
    const graph = await graphWithTwo();
    const made: { from: string; to: string; relationType: string }[] = [];
    for (let round = 0; round < 15; round++) {
      const batch = [
        { from: 'A', to: 'B', relationType: `knows-${round}` },
        { from: 'A', to: 'A', relationType: `self-${round}` },
        { from: 'B', to: 'A', relationType: `likes-${round}` },
        { from: 'B', to: 'B', relationType: `self-${round}` },
      ];
      // One call per relation as well as whole batches: both orders of link and self relation, back to back.
      if (round % 2) await graph.createRelations(batch);
      else for (const relation of batch) await graph.createRelations([relation]);
      made.push(...batch);
    }
    expect((await graph.readGraph()).relations).toEqual(made);
  });
});

describe('search_nodes', () => {
  it('lists entities matched only as substrings in creation order, as the reference does', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const graph = new KnowledgeGraph(mem);
    for (const name of ['xabcx1', 'xabcx2', 'xabcx3']) {
      await graph.createEntities([{ name, entityType: 'thing', observations: [] }]);
    }
    expect((await graph.searchNodes('abc')).entities.map((e) => e.name)).toEqual([
      'xabcx1',
      'xabcx2',
      'xabcx3',
    ]);
    expect((await graph.searchNodes('')).entities.map((e) => e.name)).toEqual(['xabcx1', 'xabcx2', 'xabcx3']);
  });
});

describe('read_graph', () => {
  it('lists entities in the order they were made, a bare name made an entity among them', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const graph = new KnowledgeGraph(mem);
    const names: string[] = [];
    for (let round = 0; round < 15; round++) {
      // A relation to a name no entity has yet makes it a bare name; creating the entity later lists it then.
      await graph.createRelations([{ from: `bare-${round}`, to: `bare-${round}-b`, relationType: 'r' }]);
      await graph.createEntities([{ name: `new-${round}`, entityType: 't', observations: [] }]);
      await graph.createEntities([{ name: `bare-${round}`, entityType: 't', observations: [] }]);
      names.push(`new-${round}`, `bare-${round}`);
    }
    expect((await graph.readGraph()).entities.map((e) => e.name)).toEqual(names);
  });
});

describe('create_graph (engram import of a memory.jsonl) checks everything before writing anything', () => {
  it('an entity that its relations to itself would take past 64 KiB leaves the graph as it was', async () => {
    const graph = new KnowledgeGraph(await createMemory({ store: new InMemoryStore() }));
    const entities = [{ name: 'A', entityType: 't', observations: ['o'.repeat(60_000)] }];
    // Each part fits alone; the entity's memory with its relation to itself does not.
    const relations = [{ from: 'A', to: 'A', relationType: 's'.repeat(6000) }];
    await expect(graph.createGraph({ entities, relations })).rejects.toThrow(
      /"A" would hold more than 64 KiB with its relations to itself.*nothing was written/,
    );
    expect(await graph.readGraph()).toEqual({ entities: [], relations: [] });
  });
});

describe('create_entities', () => {
  it('creates the first of a name given twice in one call, and answers only what it created', async () => {
    const graph = new KnowledgeGraph(await createMemory({ store: new InMemoryStore() }));
    const first = { name: 'A', entityType: 'person', observations: ['one'] };
    const other = { name: 'B', entityType: 'person', observations: [] };
    const created = await graph.createEntities([
      first,
      { name: 'A', entityType: 'robot', observations: ['two'] },
      other,
    ]);
    expect(created).toEqual([first, other]);
    expect((await graph.readGraph()).entities).toEqual([first, other]);
  });
});

describe('add_observations', () => {
  it('refuses text Engram cannot store before writing to any entity of the call', async () => {
    const graph = await graphWithTwo();
    for (const bad of ['x\u0000y', 'x\ud800y']) {
      await expect(
        graph.addObservations([
          { entityName: 'A', contents: ['fine'] },
          { entityName: 'B', contents: ['ok', bad] },
        ]),
      ).rejects.toThrow(
        /An observation of entity "B" contains a (NUL character|lone surrogate).*nothing was written/,
      );
      expect((await graph.readGraph()).entities.map((e) => e.observations)).toEqual([[], []]);
    }
  });
});
