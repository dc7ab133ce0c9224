import { describe, expect, it } from 'vitest';
import type { MemoryStore } from '../../src/core/store-contract.js';
import { createMemory, InMemoryStore } from '../../src/index.js';

/** An InMemoryStore seen through the contract with some members taken away. */
function without(...names: (keyof MemoryStore)[]): MemoryStore {
  const inner = new InMemoryStore();
  return new Proxy(inner, {
    get: (target, key, receiver) =>
      names.includes(key as keyof MemoryStore) ? undefined : Reflect.get(target, key, receiver),
    has: (target, key) => !names.includes(key as keyof MemoryStore) && Reflect.has(target, key),
  });
}

describe('the text-index group of the store contract', () => {
  it('is optional for a store that answers search itself', async () => {
    const store = without('textStats', 'postings', 'vectors');
    let asked = 0;
    store.search = async () => {
      asked++;
      return [];
    };
    const mem = await createMemory({ store, namespace: 'own-search' });
    await mem.add({ content: 'answered by the store' });
    expect(await mem.search('answered')).toEqual([]);
    expect(asked).toBe(1);
    await mem.close();
  });

  it('is required without search: createMemory refuses the store, naming what is missing', async () => {
    await expect(createMemory({ store: without('postings', 'vectors') })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'store',
      message:
        'store: expected a store with search(), or with textStats(), postings() and vectors(), got a memory store without postings(), vectors()',
    });
  });
});

describe('the counting group of the store contract', () => {
  it('is optional: stats() reads the change feed and count() pages through list, past a page of 1,000', async () => {
    const mem = await createMemory({ store: without('stats', 'count'), namespace: 'counted' });
    const made = await mem.addMany(Array.from({ length: 1000 }, (_, i) => ({ content: `note ${i}` })));
    await mem.addMany([{ content: 'one more' }, { content: 'and another' }]);
    await mem.link(made[0]!.id, made[1]!.id, 'related');
    await mem.remove(made[2]!.id);
    expect(await mem.count()).toBe(1001);
    expect(await mem.stats()).toMatchObject({ memories: 1001, links: 1, tombstones: 1 });
    await mem.close();
  });
});

describe('the pair lookup of the store contract', () => {
  it('is optional: link() then finds the link to update among the links of its type from the from end', async () => {
    const mem = await createMemory({ store: without('linksBetween'), namespace: 'pairs' });
    await mem.addMany(['a', 'b', 'c'].map((id) => ({ id, content: id })));
    const ab = await mem.link('a', 'b', 'rel');
    const ac = await mem.link('a', 'c', 'rel');
    expect(ac.id).not.toBe(ab.id);
    expect((await mem.link('a', 'b', 'rel', { weight: 0.5 })).id).toBe(ab.id);
    expect((await mem.links('a')).map((l) => [l.to, l.weight]).sort()).toEqual([
      ['b', 0.5],
      ['c', 1],
    ]);
    await mem.close();
  });
});
