import { describe, expect, it } from 'vitest';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { KnowledgeGraph } from '../../src/mcp/knowledge-graph.js';

// `save` makes a write durable before the call answers (SqlJsStore's flush behind `engram mcp`).

describe('KnowledgeGraph options.save', () => {
  it('runs after every write before it answers, a failed write included, and never after a read', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    let saves = 0;
    const graph = new KnowledgeGraph(mem, {
      save: async () => {
        saves++;
      },
    });
    await graph.createEntities([{ name: 'A', entityType: 'person', observations: [] }]);
    expect(saves).toBe(1);
    // A call that fails writes nothing, but one the store failed midway may have: it is saved too.
    await expect(graph.addObservations([{ entityName: 'missing', contents: ['x'] }])).rejects.toThrow(
      'Entity with name missing not found',
    );
    expect(saves).toBe(2);
    await graph.readGraph();
    await graph.searchNodes('A');
    await graph.openNodes(['A']);
    expect(saves).toBe(2);
    await mem.close();
  });

  it('answers a failed write with its own error, even when the save after it fails too', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const graph = new KnowledgeGraph(mem, {
      save: async () => {
        throw new Error('disk full');
      },
    });
    await expect(graph.addObservations([{ entityName: 'missing', contents: ['x'] }])).rejects.toThrow(
      'Entity with name missing not found',
    );
    // A write that succeeded but could not be saved fails with the save's error, and says the change
    // was kept: a call made again finds it made (the reference, which keeps nothing, would make it anew).
    const failed = graph.createEntities([{ name: 'A', entityType: 'person', observations: [] }]);
    await expect(failed).rejects.toThrow(
      'disk full. The change was made and is kept in memory, and is saved with the next save (the next write, or shutdown): it need not be made again',
    );
    await expect(failed).rejects.toMatchObject({ code: 'STORAGE' });
    await expect(
      graph.createEntities([{ name: 'A', entityType: 'person', observations: [] }]),
    ).rejects.toThrow('disk full');
    expect((await graph.openNodes(['A'])).entities.map((e) => e.name)).toEqual(['A']);
    await mem.close();
  });
});
