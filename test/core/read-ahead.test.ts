import { describe, expect, it } from 'vitest';
import { firstChunk, nextChunk, noteAcceptance } from '../../src/core/read-ahead.js';
import { createMemory, InMemoryStore } from '../../src/index.js';

describe('search read-ahead', () => {
  it('reads limit while searches accept everything, more once a filter rejects some', () => {
    const store = {};
    expect(firstChunk(store, 'ns', 10)).toBe(10);
    noteAcceptance(store, 'ns', 10, 10);
    expect(firstChunk(store, 'ns', 10)).toBe(10);
    for (let i = 0; i < 20; i++) noteAcceptance(store, 'ns', 7, 10);
    expect(firstChunk(store, 'ns', 10)).toBe(Math.ceil((10 / 0.7) * 1.25));
    expect(firstChunk(store, 'other', 10)).toBe(10);
    expect(firstChunk({}, 'ns', 10)).toBe(10);
    for (let i = 0; i < 50; i++) noteAcceptance(store, 'ns', 0, 10);
    expect(firstChunk(store, 'ns', 10)).toBe(200);
  });

  it('sizes a follow-up read by the acceptance seen, doubling when nothing passed', () => {
    expect(nextChunk(10, 10, 0, 10)).toBe(20);
    expect(nextChunk(10, 10, 7, 10)).toBe(Math.ceil((3 / 0.7) * 1.25));
    expect(nextChunk(10, 10, 9, 9)).toBe(1);
  });

  it('finds the same hits in fewer store reads when 30% of memories are superseded', async () => {
    const store = new InMemoryStore();
    let reads = 0;
    let records = 0;
    const getMemories = store.getMemories.bind(store);
    store.getMemories = (namespace, ids) => {
      reads++;
      records += ids.length;
      return getMemories(namespace, ids);
    };
    const mem = await createMemory({ store });
    await mem.addMany(
      Array.from({ length: 300 }, (_, i) => ({
        content: `note ${i} about apples`,
        ...(i % 10 < 3 ? { validTo: '2001-01-01T00:00:00Z' } : {}),
      })),
    );
    const expected = (await mem.search('apples', { limit: 50, history: true })).filter(
      (h) => h.memory.validTo === undefined,
    );
    for (let i = 0; i < 10; i++) {
      await mem.search('apples', { limit: 10 });
      await mem.search('apples', { limit: 10, history: true });
    }
    reads = 0;
    const hits = await mem.search('apples', { limit: 10 });
    expect(reads).toBe(1);
    // Learned per filter: `history: true` accepts everything and keeps reading exactly `limit`.
    records = 0;
    await mem.search('apples', { limit: 10, history: true });
    expect(records).toBe(10);
    expect(hits.map((h) => h.memory.id)).toEqual(expected.slice(0, 10).map((h) => h.memory.id));
  });
});
