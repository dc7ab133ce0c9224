import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { makeCorpus } from '../bench/corpus.mjs';
import { IndexedDBStore } from '../src/backends/indexeddb/index.js';
import { SqlJsStore } from '../src/backends/sqljs/index.js';
import { createMemory, type Engram, InMemoryStore } from '../src/index.js';

const SIZE = 10_000;
const { items, queries, words } = makeCorpus(SIZE, 7);
const withIds = items.map((item, i) => ({ ...item, id: `m-${String(i).padStart(5, '0')}` }));

/** Plain terms from the shared query set plus every operator: prefixes, phrases, exclusions, filters. */
const cases: Array<[string, Parameters<Engram['search']>[1]]> = [
  ...queries.slice(0, 30).map((q) => [q, {}] as [string, Parameters<Engram['search']>[1]]),
  [`${words[60]!.slice(0, 3)}*`, {}],
  [`${words[70]!.slice(0, 4)}* ${words[80]}`, {}],
  [`"${items[3]!.content.split(' ').slice(2, 4).join(' ')}"`, {}],
  [`${words[90]} -${words[91]}`, {}],
  [queries[40]!, { kind: 'fact' }],
  [queries[41]!, { tags: ['work', 'home'], tagMode: 'all' }],
  [queries[42]!, { limit: 25 }],
];

async function load(mem: Engram): Promise<Engram> {
  for (let i = 0; i < withIds.length; i += 1000) await mem.addMany(withIds.slice(i, i + 1000));
  return mem;
}

describe(`search parity on a generated ${SIZE / 1000}K corpus`, () => {
  it('memory, IndexedDB and sql.js return the same top results with identical scores', async () => {
    const stores = {
      memory: await load(await createMemory({ store: new InMemoryStore(), namespace: 'parity' })),
      indexeddb: await load(
        await createMemory({
          store: new IndexedDBStore({ name: `parity-${Date.now()}` }),
          namespace: 'parity',
        }),
      ),
      sqljs: await load(await createMemory({ store: new SqlJsStore(), namespace: 'parity' })),
    };
    let compared = 0;
    for (const [query, options] of cases) {
      const reference = (await stores.memory.search(query, options)).map((h) => [h.memory.id, h.score]);
      expect(reference.length, `"${query}" should match something`).toBeGreaterThan(0);
      for (const name of ['indexeddb', 'sqljs'] as const) {
        const got = (await stores[name].search(query, options)).map((h) => [h.memory.id, h.score]);
        expect(got, `${name} vs memory for "${query}"`).toEqual(reference);
        compared++;
      }
    }
    expect(compared).toBe(cases.length * 2);
    for (const mem of Object.values(stores)) await mem.close();
  }, 180_000);
});
