import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { Engram } from '../../src/index.js';
import { twoTabsAndReference } from './indexeddb-test-kit.js';

const name = `engram-slot-cache-${process.pid}-${Date.now()}`;

const hits = async (mem: Engram, query: string) =>
  (await mem.search(query, { limit: 20 })).map((h) => [h.memory.id, h.score]);

describe('IndexedDBStore slot tables kept between searches', () => {
  it('stay right while another tab adds, edits and removes memories in the same groups', async () => {
    const { tabA, tabB, reference, both } = await twoTabsAndReference(name, { textGroupSize: 4 });
    await both(
      (m) =>
        m.addMany([
          { id: 'a1', content: 'kiwi tart' },
          { id: 'a2', content: 'kiwi kiwi jam' },
        ]),
      tabA,
    );
    expect(await hits(tabA, 'kiwi')).toEqual(await hits(reference, 'kiwi')); // tab A keeps group 0's table

    // Tab B fills the rest of group 0 and starts group 1, then empties a slot A has kept.
    await both(
      (m) =>
        m.addMany([
          { id: 'b1', content: 'kiwi' },
          { id: 'b2', content: 'jam tart kiwi' },
        ]),
      tabB,
    );
    await both((m) => m.add({ id: 'b3', content: 'more kiwi' }), tabB);
    await both((m) => m.remove('a1'), tabB);
    await both((m) => m.update('a2', { content: 'jam only' }), tabB);
    for (const query of ['kiwi', 'jam', 'tart kiwi', 'ki*']) {
      expect(await hits(tabA, query), query).toEqual(await hits(reference, query));
    }
    expect((await hits(tabA, 'kiwi')).map(([id]) => id).sort()).toEqual(['b1', 'b2', 'b3']);
    await tabA.close();
    await tabB.close();
  });

  it('a search hitting more table rows than it fetches one by one reads them all, the last group too', async () => {
    // One memory per group: a term held by 70 memories names 70 table rows, none kept yet.
    const { tabA, tabB, reference, both } = await twoTabsAndReference(`${name}-wide`, { textGroupSize: 1 });
    const inputs = Array.from({ length: 70 }, (_, i) => ({
      id: `m${String(i).padStart(2, '0')}`,
      content: `kiwi ${i}`,
    }));
    await both((m) => m.addMany(inputs), tabA);
    const all = async (mem: Engram) =>
      (await mem.search('kiwi', { limit: 100 })).map((h) => [h.memory.id, h.score]);
    const found = await all(tabB);
    expect(found).toHaveLength(70);
    expect(found).toEqual(await all(reference));
    await tabA.close();
    await tabB.close();
  });
});
