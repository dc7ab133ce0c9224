import { describe, expect, it } from 'vitest';
import { createMemory } from '../../src/index.js';

// A deduping add finds copies by search; a text without words has no search to find them by, and a copy
// that a thousand better matches outrank is past what search answers: then it lists the namespace through.

describe('dedupe of a text without words', () => {
  it('finds a copy valid now that sits past the first 1,000 memories listed', async () => {
    const mem = await createMemory({ namespace: 'wordless' });
    const first = await mem.add({ content: '?!' });
    await mem.add({
      content: '…',
      validTo: '2000-01-01T00:00:00.000Z',
      validFrom: '1999-01-01T00:00:00.000Z',
    });
    await mem.addMany(Array.from({ length: 1000 }, (_, i) => ({ content: '!'.repeat(i + 1) })));
    expect((await mem.add({ content: ' ?! ' }, { dedupe: true })).id).toBe(first.id);
    // One no longer valid is no copy.
    const fresh = await mem.add({ content: '…' }, { dedupe: true });
    expect(await mem.count()).toBe(1002);
    expect(fresh.validTo).toBeUndefined();
    await mem.close();
  });
});

describe('dedupe of a text a thousand memories outrank', () => {
  it('lists the namespace through to find the copy', async () => {
    const mem = await createMemory({ namespace: 'outranked' });
    const first = await mem.add({ content: 'green tea leaves' });
    await mem.addMany(
      Array.from({ length: 1000 }, (_, i) => ({ content: `green tea leaves green tea leaves n${i}` })),
    );
    const hits = await mem.search('green tea leaves', { limit: 1000 });
    expect(hits.map((h) => h.memory.id)).not.toContain(first.id);
    expect((await mem.add({ content: 'Green  tea LEAVES' }, { dedupe: true })).id).toBe(first.id);
    expect(await mem.count()).toBe(1001);
    await mem.close();
  });
});
