import { describe, expect, it } from 'vitest';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { matchesListQuery } from '../../src/store/index.js';

describe('matchesListQuery, the list filter a custom store may reuse', () => {
  it('pages a store that filters every memory with it: each memory once, the cursor memory not again', async () => {
    const store = new InMemoryStore();
    const list = store.list.bind(store);
    // A store whose storage cannot seek: it reads everything and leaves the filtering to the helper.
    store.list = async (namespace, query) => {
      const all = await list(namespace, { tagMode: 'any', history: true, now: query.now, limit: 1000 });
      return all.filter((r) => matchesListQuery(r.memory, query)).slice(0, query.limit);
    };
    const mem = await createMemory({ store, namespace: 'paged' });
    const made = await mem.addMany(['a', 'b', 'c', 'd', 'e'].map((content) => ({ content })));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await mem.list({ limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((m) => m.id));
      cursor = page.cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(
      made
        .map((m) => m.id)
        .sort()
        .reverse(),
    );
    await mem.close();
  });
});
