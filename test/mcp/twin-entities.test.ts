import { describe, expect, it } from 'vitest';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { KnowledgeGraph } from '../../src/mcp/knowledge-graph.js';

// Two servers on one memory (two `engram mcp` on one edge or Postgres), or two replicas offline, may
// each create an entity of one name: the graph keeps two memories of that name and shows the first.

async function twoServers() {
  const store = new InMemoryStore();
  const a = new KnowledgeGraph(await createMemory({ store }));
  const b = new KnowledgeGraph(await createMemory({ store }));
  await Promise.all([
    a.createEntities([{ name: 'Alice', entityType: 'person', observations: ['from a'] }]),
    b.createEntities([{ name: 'Alice', entityType: 'robot', observations: ['from b'] }]),
  ]);
  return { a, b, close: () => Promise.all([a.mem.close(), b.mem.close()]) };
}

describe('an entity two servers created at once', () => {
  it('is read as the first created, and delete_entities removes it for good', async () => {
    const { a, b, close } = await twoServers();
    expect((await a.readGraph()).entities).toEqual([
      { name: 'Alice', entityType: 'person', observations: ['from a'] },
    ]);
    await a.deleteEntities(['Alice']);
    expect(await a.readGraph()).toEqual({ entities: [], relations: [] });
    expect(await b.openNodes(['Alice'])).toEqual({ entities: [], relations: [] });
    expect(await a.mem.list({ kind: 'entity' })).toMatchObject({ items: [] });
    await close();
  });
});
