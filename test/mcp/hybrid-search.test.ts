import { describe, expect, it } from 'vitest';
import { createMemory, type Embedder, InMemoryStore } from '../../src/index.js';
import { KnowledgeGraph } from '../../src/mcp/knowledge-graph.js';
import { connectInProcess } from './in-process-client.js';

/**
 * A stand-in model that knows two synonyms: "car" and "automobile" land on the same axis, every other
 * word on an axis of its own, so only a vector search links a question about automobiles to a car.
 */
const synonyms: Embedder = {
  id: 'stand-in-synonyms',
  dims: 8,
  async embed(texts) {
    return texts.map((text) => {
      const v = new Array(8).fill(0);
      for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
        const axis = word === 'car' || word === 'automobile' ? 0 : 1 + (word.length % 7);
        v[axis] += 1;
      }
      return v;
    });
  },
};

async function until(check: () => Promise<boolean>) {
  for (let i = 0; i < 1000 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('engram mcp: search_nodes with an embedder', () => {
  it('ranks by meaning as well as text when the memory has an embedder (hybrid)', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), embedder: synonyms });
    const graph = new KnowledgeGraph(mem, { hybrid: true });
    await graph.createEntities([
      { name: 'Alice', entityType: 'person', observations: ['drives a red car to work'] },
      { name: 'Bob', entityType: 'person', observations: ['likes tea in the morning'] },
    ]);
    await until(async () => mem.status.pendingEmbeddings === 0);
    const found = await graph.searchNodes('automobile');
    // Alice first: her car is an automobile to the model; the text index alone finds nobody.
    expect(found.entities[0]?.name).toBe('Alice');

    const textOnly = new KnowledgeGraph(mem);
    expect((await textOnly.searchNodes('automobile')).entities).toEqual([]);
    await mem.close();
  });

  it('recall ranks by meaning as well as text when the memory has an embedder (hybrid)', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), embedder: synonyms });
    await mem.add({ content: 'drives a red car to work' });
    await mem.add({ content: 'likes tea in the morning' });
    await until(async () => mem.status.pendingEmbeddings === 0);
    const recall = async (hybrid: boolean) => {
      const { client, close } = await connectInProcess(mem, { hybrid });
      const result = await client.callTool({ name: 'recall', arguments: { query: 'automobile' } });
      await close();
      return (result.structuredContent as { memories: { content: string }[] }).memories;
    };
    // The car is an automobile to the model; the text index alone finds nothing.
    expect((await recall(true))[0]?.content).toBe('drives a red car to work');
    expect(await recall(false)).toEqual([]);
    await mem.close();
  });
});
