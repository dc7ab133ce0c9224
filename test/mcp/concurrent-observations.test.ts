import { describe, expect, it } from 'vitest';
import { RemoteStore } from '../../src/backends/remote/index.js';
import { createMemory, InMemoryStore, type MemoryStore } from '../../src/index.js';
import { KnowledgeGraph } from '../../src/mcp/knowledge-graph.js';
import { edgeStores, testApp } from '../edge/helpers.js';

// Two servers on one memory (two `engram mcp` on one edge or one Postgres) each read an entity and write
// it back whole: without a check that it is unchanged, the later write drops the other's observations.

async function twoServers(stores: [MemoryStore, MemoryStore]) {
  const [a, b] = await Promise.all(
    stores.map(async (store) => new KnowledgeGraph(await createMemory({ store, namespace: 'demo' }))),
  );
  await a!.createEntities([{ name: 'Alice', entityType: 'person', observations: ['first'] }]);
  return { a: a!, b: b!, close: () => Promise.all([a!.mem.close(), b!.mem.close()]) };
}

async function race(a: KnowledgeGraph, b: KnowledgeGraph) {
  const calls = [a, b, a, b, a, b].map((graph, i) =>
    graph.addObservations([{ entityName: 'Alice', contents: [`seen ${i}`] }]),
  );
  const answers = await Promise.all(calls);
  for (const [i, answer] of answers.entries()) {
    expect(answer).toEqual([{ entityName: 'Alice', addedObservations: [`seen ${i}`] }]);
  }
}

describe('add_observations from two servers at once', () => {
  it('keeps every observation on one store', async () => {
    const store = new InMemoryStore();
    const { a, b, close } = await twoServers([store, store]);
    await race(a, b);
    const [alice] = (await b.openNodes(['Alice'])).entities;
    expect(new Set(alice?.observations)).toEqual(
      new Set(['first', ...[0, 1, 2, 3, 4, 5].map((i) => `seen ${i}`)]),
    );
    await close();
  });

  it('keeps every observation through one edge (two RemoteStores)', async () => {
    const { app, token } = await testApp();
    const remote = () =>
      new RemoteStore({
        url: 'http://edge.test',
        token,
        fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
          app.request(String(input), init)) as typeof fetch,
      });
    const { a, b, close } = await twoServers([remote(), remote()]);
    await race(a, b);
    const [alice] = (await a.openNodes(['Alice'])).entities;
    expect(alice?.observations).toHaveLength(7);
    // A removal raced against additions removes only what it names.
    await Promise.all([
      a.deleteObservations([{ entityName: 'Alice', observations: ['first'] }]),
      b.addObservations([{ entityName: 'Alice', contents: ['late'] }]),
    ]);
    const [after] = (await b.openNodes(['Alice'])).entities;
    expect(after?.observations).toHaveLength(7);
    expect(after?.observations).toContain('late');
    expect(after?.observations).not.toContain('first');
    // A relation of the entity to itself lives in the same metadata: raced with additions, both stay.
    await Promise.all([
      a.createRelations([{ from: 'Alice', to: 'Alice', relationType: 'knows' }]),
      b.addObservations([{ entityName: 'Alice', contents: ['later still'] }]),
      a.createRelations([{ from: 'Alice', to: 'Alice', relationType: 'admires' }]),
      b.deleteObservations([{ entityName: 'Alice', observations: ['late'] }]),
    ]);
    const graph = await a.openNodes(['Alice']);
    expect(graph.entities[0]?.observations).toContain('later still');
    expect(graph.entities[0]?.observations).not.toContain('late');
    expect(graph.relations.map((r) => r.relationType).sort()).toEqual(['admires', 'knows']);
    await close();
  });

  it('keeps every observation with two stores on one real Postgres', async (ctx) => {
    const { stores, close: drop } = await edgeStores('mcp_observations');
    const postgres = stores.find(([name]) => name === 'Postgres')?.[1];
    if (!postgres) {
      await drop();
      ctx.skip('needs a real Postgres: set DATABASE_URL (.ci/run does)');
      return;
    }
    const { a, b, close } = await twoServers([postgres(), postgres()]);
    await race(a, b);
    const [alice] = (await a.openNodes(['Alice'])).entities;
    expect(alice?.observations).toHaveLength(7);
    await close();
    await drop();
  });
});
