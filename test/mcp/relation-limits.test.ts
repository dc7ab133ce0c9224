import { describe, expect, it, vi } from 'vitest';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { type Entity, KnowledgeGraph, type Relation } from '../../src/mcp/knowledge-graph.js';

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

  it('quotes only the start of a name too large for Engram', async () => {
    const graph = await graphWithTwo();
    const error = await graph
      .createRelations([{ from: 'A', to: big, relationType: 'knows' }])
      .catch((e) => e);
    expect(error.message).toMatch(/^Relation "A" -> "x{80}" names an entity of more than 64 KiB/);
    expect(error.message.length).toBeLessThan(300);
  });

  it('counts a relation to itself once, however often it is given or held already', async () => {
    const graph = await graphWithTwo();
    // Fits once in the entity's 64 KiB of metadata, not twice.
    const self = { from: 'A', to: 'A', relationType: 's'.repeat(35_000) };
    expect(await graph.createRelations([self, self])).toEqual([self]);
    expect(await graph.createRelations([self])).toEqual([]);
    expect((await graph.readGraph()).relations).toEqual([self]);
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

describe('search_nodes when ranked search fails', () => {
  it('still finds every entity holding the query, as the reference would', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const graph = new KnowledgeGraph(mem);
    await graph.createEntities([
      { name: 'Alice', entityType: 'person', observations: ['drives a car'] },
      { name: 'Bob', entityType: 'person', observations: ['likes tea'] },
    ]);
    mem.search = async () => {
      throw new Error('the index is unavailable');
    };
    expect((await graph.searchNodes('car')).entities.map((e) => e.name)).toEqual(['Alice']);
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

describe('read_graph after a restart with the clock set back', () => {
  it('lists a new relation after the relations to itself made before', async () => {
    const store = new InMemoryStore();
    const before = new KnowledgeGraph(await createMemory({ store }));
    await before.createEntities([
      { name: 'A', entityType: 't', observations: [] },
      { name: 'B', entityType: 't', observations: [] },
    ]);
    // So that the relation to itself is stamped later than either entity.
    await new Promise((r) => setTimeout(r, 5));
    const self = { from: 'A', to: 'A', relationType: 'is' };
    await before.createRelations([self]);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() - 3_600_000);
      // A new process (its own stamps), its clock an hour behind.
      const after = new KnowledgeGraph(await createMemory({ store }));
      const link = { from: 'A', to: 'B', relationType: 'knows' };
      await after.createRelations([link]);
      expect((await after.readGraph()).relations).toEqual([self, link]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('read_graph of data kept before order stamps', () => {
  it('lists an entity’s relations to itself by the instants it kept for them', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    await mem.add({
      kind: 'entity',
      content: 'A\nperson',
      metadata: {
        name: 'A',
        entityType: 'person',
        observations: [],
        selfRelations: ['made second', 'made first'],
        selfRelationsAt: ['2021-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z'],
      },
    });
    const graph = new KnowledgeGraph(mem);
    expect((await graph.readGraph()).relations.map((r) => r.relationType)).toEqual([
      'made first',
      'made second',
    ]);
  });
});

describe('read_graph of a graph larger than one page of the store', () => {
  it('reads every entity, the oldest on the last page included', async () => {
    const graph = new KnowledgeGraph(await createMemory({ store: new InMemoryStore() }));
    const entities = Array.from({ length: 1001 }, (_, i) => ({
      name: `e${i}`,
      entityType: 't',
      observations: [],
    }));
    await graph.createEntities(entities);
    expect((await graph.readGraph()).entities).toEqual(entities);
    // Known as an entity, so not created again.
    expect(await graph.createEntities([entities[0]!])).toEqual([]);
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

describe('create_graph refuses text Engram cannot store', () => {
  it('in a relation, before writing any of the graph', async () => {
    const graph = new KnowledgeGraph(await createMemory({ store: new InMemoryStore() }));
    const entities = [{ name: 'A', entityType: 't', observations: [] }];
    const relations = [{ from: 'B', to: 'C', relationType: 'r\u0000s' }];
    await expect(graph.createGraph({ entities, relations })).rejects.toThrow(
      /The type of relation "B" -> "C" contains a NUL character.*nothing was written/,
    );
    expect(await graph.readGraph()).toEqual({ entities: [], relations: [] });
  });
});

describe('create_graph', () => {
  it('refuses text Engram cannot store in an entity, before writing any of the graph', async () => {
    const graph = new KnowledgeGraph(await createMemory({ store: new InMemoryStore() }));
    const entities = [
      { name: 'A', entityType: 't', observations: [] },
      { name: 'B', entityType: 't', observations: ['o\u0000p'] },
    ];
    const relations = [{ from: 'A', to: 'C', relationType: 'r' }];
    await expect(graph.createGraph({ entities, relations })).rejects.toThrow(
      /An observation of entity "B" contains a NUL character.*nothing was written/,
    );
    expect(await graph.readGraph()).toEqual({ entities: [], relations: [] });
  });

  it('creates the first of a name given twice, and answers only what it created', async () => {
    const graph = new KnowledgeGraph(await createMemory({ store: new InMemoryStore() }));
    const first = { name: 'A', entityType: 'person', observations: ['one'] };
    const other = { name: 'B', entityType: 'person', observations: [] };
    const again = { name: 'A', entityType: 'robot', observations: ['two'] };
    const made = await graph.createGraph({ entities: [first, again, other], relations: [] });
    expect(made).toEqual({ entities: [first, other], relations: [] });
    expect((await graph.readGraph()).entities).toEqual([first, other]);
  });
});

describe('create_entities', () => {
  it('keeps an entity whose name, type and observations are all empty, as the reference does', async () => {
    const graph = new KnowledgeGraph(await createMemory({ store: new InMemoryStore() }));
    const empty = { name: '', entityType: ' ', observations: [] };
    expect(await graph.createEntities([empty])).toEqual([empty]);
    expect((await graph.readGraph()).entities).toEqual([empty]);
  });

  it('keeps a relation between names that are blank, as the reference does', async () => {
    const graph = new KnowledgeGraph(await createMemory({ store: new InMemoryStore() }));
    const relation = { from: '', to: ' ', relationType: 'r' };
    expect(await graph.createRelations([relation])).toEqual([relation]);
    expect(await graph.readGraph()).toEqual({ entities: [], relations: [relation] });
  });

  it('counts the order stamp the entity will get against 64 KiB before writing any entity of the call', async () => {
    const graph = new KnowledgeGraph(await createMemory({ store: new InMemoryStore() }));
    const bare = JSON.stringify({ name: 'B', entityType: 't', observations: [''] }).length;
    // Its metadata fits without the stamp, by a few bytes; with it, it does not.
    const boundary = { name: 'B', entityType: 't', observations: ['o'.repeat(65_536 - bare - 10)] };
    await expect(
      graph.createEntities([{ name: 'A', entityType: 't', observations: [] }, boundary]),
    ).rejects.toThrow(/"B" would hold more than 64 KiB.*nothing was written/);
    expect(await graph.readGraph()).toEqual({ entities: [], relations: [] });
  });

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
    // A name that is an entity already is not created again, nor answered.
    expect(await graph.createEntities([{ name: 'A', entityType: 'x', observations: ['three'] }])).toEqual([]);
    expect((await graph.readGraph()).entities).toEqual([first, other]);
  });
});

describe('delete_relations', () => {
  it('keeps the others of an entity’s relations to itself in their place in the list', async () => {
    const graph = await graphWithTwo();
    const first = { from: 'A', to: 'A', relationType: 'first' };
    const link = { from: 'A', to: 'B', relationType: 'knows' };
    const second = { from: 'A', to: 'A', relationType: 'second' };
    for (const relation of [first, link, second]) await graph.createRelations([relation]);
    await graph.deleteRelations([first]);
    expect((await graph.readGraph()).relations).toEqual([link, second]);
  });

  it('keeps those around one deleted from the middle in their place in the list', async () => {
    const graph = await graphWithTwo();
    const first = { from: 'A', to: 'A', relationType: 'first' };
    const link = { from: 'A', to: 'B', relationType: 'knows' };
    const second = { from: 'A', to: 'A', relationType: 'second' };
    const third = { from: 'A', to: 'A', relationType: 'third' };
    for (const relation of [first, link, second, third]) await graph.createRelations([relation]);
    await graph.deleteRelations([second]);
    expect((await graph.readGraph()).relations).toEqual([first, link, third]);
  });
});

describe('create_relations', () => {
  it('creates a relation given twice in one call once, and answers it once', async () => {
    const graph = await graphWithTwo();
    const link = { from: 'A', to: 'B', relationType: 'knows' };
    const self = { from: 'A', to: 'A', relationType: 'is' };
    expect(await graph.createRelations([link, self, link, self])).toEqual([link, self]);
    expect((await graph.readGraph()).relations).toEqual([link, self]);
  });
});

describe('create_entities and create_relations refuse text Engram cannot store', () => {
  it('naming where it is: an entity’s name or type, a relation’s source or target; nothing is written', async () => {
    const graph = await graphWithTwo();
    const before = await graph.readGraph();
    const bad = 'x\u0000y';
    const good = { name: 'C', entityType: 't', observations: [] };
    const entityCases: [Entity, RegExp][] = [
      [{ name: bad, entityType: 't', observations: [] }, /^The name of entity "x\\u0000y" contains a NUL/],
      [{ name: 'D', entityType: bad, observations: [] }, /^The type of entity "D" contains a NUL/],
    ];
    for (const [entity, message] of entityCases) {
      await expect(graph.createEntities([good, entity])).rejects.toThrow(message);
      expect(await graph.readGraph()).toEqual(before);
    }
    const link = { from: 'A', to: 'B', relationType: 'knows' };
    const relationCases: [Relation, RegExp][] = [
      [
        { from: bad, to: 'B', relationType: 'r' },
        /^The source of relation "x\\u0000y" -> "B" contains a NUL/,
      ],
      [
        { from: 'A', to: bad, relationType: 'r' },
        /^The target of relation "A" -> "x\\u0000y" contains a NUL/,
      ],
    ];
    for (const [relation, message] of relationCases) {
      await expect(graph.createRelations([link, relation])).rejects.toThrow(message);
      expect(await graph.readGraph()).toEqual(before);
    }
  });
});

describe('add_observations', () => {
  it('refuses a name only relations use, as the reference: it is no entity', async () => {
    const graph = await graphWithTwo();
    await graph.createRelations([{ from: 'A', to: 'Ghost', relationType: 'knows' }]);
    const before = await graph.readGraph();
    await expect(graph.addObservations([{ entityName: 'Ghost', contents: ['boo'] }])).rejects.toThrow(
      'Entity with name Ghost not found',
    );
    expect(await graph.readGraph()).toEqual(before);
  });

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

  it('refuses observations that would take an entity past 64 KiB before writing to any entity of the call', async () => {
    const graph = await graphWithTwo();
    await expect(
      graph.addObservations([
        { entityName: 'A', contents: ['fine'] },
        { entityName: 'B', contents: ['ok', big] },
      ]),
    ).rejects.toThrow(/Entity "B" would hold more than 64 KiB.*nothing was written/);
    expect((await graph.readGraph()).entities.map((e) => e.observations)).toEqual([[], []]);
  });

  it('writes nothing when every observation is there already', async () => {
    const graph = await graphWithTwo();
    await graph.addObservations([{ entityName: 'A', contents: ['one'] }]);
    let changes = 0;
    const stop = graph.mem.on('change', () => {
      changes++;
    });
    expect(await graph.addObservations([{ entityName: 'A', contents: ['one'] }])).toEqual([
      { entityName: 'A', addedObservations: [] },
    ]);
    stop();
    expect(changes).toBe(0);
  });
});
