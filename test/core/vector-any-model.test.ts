import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { createMemory, type Engram, InMemoryStore, type MemoryStore } from '../../src/index.js';
import { clustered } from './clustered-vectors.js';

// A search given a vector and no model compares every embedding whatever its model. A store whose
// `nearestVectors` says it can (`nearestAnyModel`) answers it from its index; the answer must be core's
// scan of `vectors()`, ids and scores, with filters, limits and ties.
const data = clustered(900, 12, 20, 3);
const queries = clustered(8, 12, 20, 4);
const modelOf = (i: number) => (i % 3 === 0 ? 'model-a' : i % 3 === 1 ? 'model-b' : undefined);

async function filled(store: MemoryStore): Promise<Engram> {
  const mem = await createMemory({ store, namespace: 'any' });
  const items = data.map((v, i) => {
    const model = modelOf(i);
    return {
      id: `v${String(i).padStart(4, '0')}`,
      content: `doc ${i}`,
      kind: i % 4 === 0 ? 'fact' : 'note',
      // Exact copies of one vector under different models: a tie broken by id on every store.
      embedding: i === 500 || i === 501 ? [...data[7]!] : v,
      ...(model ? { embeddingModel: model } : {}),
    };
  });
  for (let i = 0; i < items.length; i += 300) await mem.addMany(items.slice(i, i + 300));
  return mem;
}

const scanning = () => Object.assign(new InMemoryStore(), { nearestAnyModel: false });
let databases = 0;
const stores: Array<[string, () => MemoryStore]> = [
  ['InMemoryStore (exact)', () => new InMemoryStore()],
  ['InMemoryStore (hnsw)', () => new InMemoryStore({ vectors: { index: 'hnsw' } })],
  [
    'IndexedDBStore (ivf)',
    () => new IndexedDBStore({ name: `any-model-${process.pid}-${++databases}`, vectors: { index: 'ivf' } }),
  ],
];

describe.each(stores)('a vector search without a model on %s', (_, create) => {
  it("is answered by the store's index, with the ids and scores of core's scan", async () => {
    const reference = await filled(scanning());
    const store = create();
    const mem = await filled(store);
    // IndexedDB builds its index from `vectors()` on the first search: spy after it.
    await mem.search('', { vector: queries[0]!, model: 'model-a' });
    const scan = vi.spyOn(store, 'vectors');
    const exact = String(_).includes('exact');
    for (const vector of [data[7]!, ...queries]) {
      for (const options of [
        { vector, limit: 10 },
        { vector, limit: 3, kind: 'fact' },
        { vector, limit: 40 },
      ]) {
        const expected = (await reference.search('', options)).map((h) => [h.memory.id, h.score]);
        const got = (await mem.search('', options)).map((h) => [h.memory.id, h.score]);
        expect(expected.length).toBeGreaterThan(0);
        // Every model's memories are compared, not only one's.
        if (options.limit === 40) {
          const models = new Set(got.map(([id]) => String(modelOf(Number(String(id).slice(1))))));
          expect(models.size).toBe(3);
        }
        if (exact) expect(got).toEqual(expected);
        else
          expect(got.filter(([id]) => expected.some(([e]) => e === id)).length).toBeGreaterThan(
            got.length * 0.9,
          );
      }
    }
    expect(scan).not.toHaveBeenCalled();
    await reference.close();
    await mem.close();
  });
});

describe("core's scan of vectors()", () => {
  it('serves a search without a model when the store cannot: its nearestVectors is asked only with one', async () => {
    const store = scanning();
    const nearest = vi.spyOn(store, 'nearestVectors');
    const mem = await createMemory({ store, namespace: 'scan' });
    await mem.addMany([
      { content: 'a', embedding: [1, 0], embeddingModel: 'model-a' },
      { content: 'b', embedding: [0, 1] },
    ]);
    expect(await mem.search('', { vector: [1, 0] })).toHaveLength(2);
    expect(nearest).not.toHaveBeenCalled();
    expect(await mem.search('', { vector: [1, 0], model: 'model-a' })).toHaveLength(1);
    expect(nearest).toHaveBeenCalledTimes(1);
  });

  it('reads every page of vectors(), past the first thousand', async () => {
    const mem = await createMemory({ store: scanning(), namespace: 'pages' });
    const items = Array.from({ length: 1001 }, (_, i) => ({
      id: `p${String(i).padStart(4, '0')}`,
      content: `page ${i}`,
      embedding: i === 1000 ? [1, 0] : [0, 1],
    }));
    for (let i = 0; i < items.length; i += 500) await mem.addMany(items.slice(i, i + 500));
    const [best] = await mem.search('', { vector: [1, 0], limit: 1 });
    expect(best!.memory.id).toBe('p1000');
  });
});
