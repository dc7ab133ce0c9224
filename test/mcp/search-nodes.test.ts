import { describe, expect, it } from 'vitest';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { KnowledgeGraph } from '../../src/mcp/knowledge-graph.js';

describe('engram mcp: search_nodes without ranked extras (searchExtra 0)', () => {
  it('matches as the reference does: the query within a name, type or observation, in any case', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const graph = new KnowledgeGraph(mem, { searchExtra: 0 });
    await graph.createEntities([
      { name: 'Alice', entityType: 'person', observations: ['lives in Lyon'] },
      { name: 'Acme', entityType: 'company', observations: ['makes anvils'] },
    ]);
    const found = async (query: string) => (await graph.searchNodes(query)).entities.map((e) => e.name);
    expect(await found('PERSON')).toEqual(['Alice']);
    expect(await found('Company')).toEqual(['Acme']);
    expect(await found('yon')).toEqual(['Alice']);
    expect(await found('ACM')).toEqual(['Acme']);
    expect(await found('nobody')).toEqual([]);
    await mem.close();
  });
});
