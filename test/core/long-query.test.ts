import { describe, expect, it } from 'vitest';
import { createMemory, InMemoryStore } from '../../src/index.js';

// The cut itself is tested in text.test.ts (`cutQuery`); this is what a user of the façade sees.
describe('a long query after blank lines', () => {
  it('searches the words after 2000 blank characters, and embeds them alone', async () => {
    const embedded: string[] = [];
    const embedder = {
      id: 'test:cut',
      dims: 2,
      embed: async (texts: string[]) => {
        embedded.push(...texts);
        return texts.map((t) => (t.includes('coffee') ? [1, 0] : [0, 1]));
      },
    };
    const mem = await createMemory({ store: new InMemoryStore(), embedder });
    const model = { embeddingModel: embedder.id };
    const coffee = await mem.add({ content: 'coffee beans from the market', embedding: [1, 0], ...model });
    await mem.add({ content: 'green tea', embedding: [0, 1], ...model });
    const hits = await mem.search(`${' '.repeat(2000)}coffee`);
    expect(hits.map((h) => h.memory.id)).toEqual([coffee.id]);
    const vector = await mem.search(`${'\n'.repeat(2000)}coffee`, { mode: 'vector', limit: 1 });
    expect(vector.map((h) => h.memory.id)).toEqual([coffee.id]);
    expect(embedded).toEqual(['coffee']);
    await expect(mem.search(' '.repeat(5000))).rejects.toMatchObject({ code: 'VALIDATION', field: 'query' });
    await mem.close();
  });
});
