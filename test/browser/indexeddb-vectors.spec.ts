import { describe, expect, it, vi } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { createMemory, type Engram, type VectorOptions } from '../../src/index.js';
import { clustered, recall } from '../core/clustered-vectors.js';

const data = clustered(3000, 32, 60, 1);
const queries = clustered(15, 32, 60, 2);
const IVF: VectorOptions = { index: 'ivf', ivf: { minTrain: 1000 } };
const HNSW: VectorOptions = { index: 'hnsw' };
const ids = (hits: Array<{ memory: { id: string } }>) => hits.map((h) => h.memory.id);

async function filled(name: string, vectors?: VectorOptions): Promise<Engram> {
  const mem = await createMemory({ store: new IndexedDBStore(vectors ? { name, vectors } : { name }) });
  for (let i = 0; i < data.length; i += 1000) {
    await mem.addMany(
      data.slice(i, i + 1000).map((v, j) => ({
        id: `v${String(i + j).padStart(5, '0')}`,
        content: `doc ${i + j}`,
        embedding: v,
        embeddingModel: 'm',
      })),
    );
  }
  return mem;
}

describe('IndexedDBStore vector index in Chromium', () => {
  it.each([IVF, HNSW])(
    '%j matches the exact store (recall ≥ 0.95), follows another tab’s writes, rebuilds after reopen',
    async (vectors) => {
      const name = `engram-${vectors.index}-${Date.now()}`;
      const exact = await filled(`${name}-exact`);
      const approx = await filled(name, vectors);
      const truth: string[][] = [];
      const got: string[][] = [];
      for (const q of queries) {
        truth.push(ids(await exact.search('', { vector: q, model: 'm' })));
        got.push(ids(await approx.search('', { vector: q, model: 'm' })));
      }
      expect(recall(truth, got)).toBeGreaterThanOrEqual(0.95);
      const store = approx.store as IndexedDBStore;
      expect(store.vectorIndex!.buildMs.get('default')).toBeGreaterThan(0);

      // Another store on the same database (as another tab would be) writes; the index hears of it.
      const other = await createMemory({ store: new IndexedDBStore({ name }) });
      await other.add({ id: 'other-tab', content: 'x', embedding: queries[0]!, embeddingModel: 'm' });
      await vi.waitFor(async () => {
        expect(ids(await approx.search('', { vector: queries[0]!, model: 'm', limit: 1 }))).toEqual([
          'other-tab',
        ]);
      });
      await other.close();
      await approx.close();

      const reopened = await createMemory({ store: new IndexedDBStore({ name, vectors }) });
      expect(ids(await reopened.search('', { vector: queries[0]!, model: 'm', limit: 1 }))).toEqual([
        'other-tab',
      ]);
      expect((reopened.store as IndexedDBStore).vectorIndex!.buildMs.get('default')).toBeGreaterThan(0);
      await reopened.close();
      await exact.close();
    },
  );
});
