import { describe, expect, it } from 'vitest';
import { restampSealedFields } from '../../src/core/crypto/rekey.js';
import { HybridLogicalClock } from '../../src/core/hlc.js';
import { createMemory, InMemoryStore } from '../../src/index.js';

describe('restampSealedFields', () => {
  it('re-stamps every record of a namespace longer than one page of its change feed', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'n' });
    // One more than the 500 entries a page of the feed holds: the last would be left under the old key.
    const made = await mem.addMany(Array.from({ length: 501 }, (_, i) => ({ content: `memory ${i}` })));
    const before = await store.getMemories('n', [made[0]!.id, made[500]!.id]);
    const clock = new HybridLogicalClock('rekey');
    expect(await restampSealedFields(store, 'n', clock)).toBe(501);
    const after = await store.getMemories('n', [made[0]!.id, made[500]!.id]);
    for (const [i, record] of after.entries()) {
      for (const field of ['content', 'tags', 'metadata'] as const) {
        expect(record.clocks[field], `${record.memory.id} ${field}`).not.toBe(before[i]!.clocks[field]);
      }
      expect(record.memory.content).toBe(before[i]!.memory.content);
    }
    await mem.close();
  });
});
