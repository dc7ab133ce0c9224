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
