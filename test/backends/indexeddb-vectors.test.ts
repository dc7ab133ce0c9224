import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { createMemory, type Engram, type VectorOptions } from '../../src/index.js';
import { clustered, recall } from '../core/clustered-vectors.js';

let databases = 0;
const freshName = () => `engram-vectors-${process.pid}-${Date.now()}-${++databases}`;

const data = clustered(1200, 16, 30, 1);
const queries = clustered(12, 16, 30, 2);
const IVF: VectorOptions = { index: 'ivf', ivf: { minTrain: 500 } };
const HNSW: VectorOptions = { index: 'hnsw', hnsw: { m: 8 } };

async function filled(name: string, vectors?: VectorOptions): Promise<Engram> {
  const mem = await createMemory({ store: new IndexedDBStore(vectors ? { name, vectors } : { name }) });
  for (let i = 0; i < data.length; i += 400) {
    await mem.addMany(
      data.slice(i, i + 400).map((v, j) => ({
        id: `v${String(i + j).padStart(4, '0')}`,
        content: `doc ${i + j}`,
        kind: (i + j) % 3 === 0 ? 'fact' : 'note',
        embedding: v,
        embeddingModel: 'm',
      })),
    );
  }
  return mem;
}

const ids = (hits: Array<{ memory: { id: string } }>) => hits.map((h) => h.memory.id);

describe('IndexedDBStore vector index (fake-indexeddb)', () => {
  it('is off by default: vector search stays core’s exact scan', () => {
    expect(new IndexedDBStore({ name: freshName() }).nearestVectors).toBeUndefined();
  });

  it.each([
    [IVF, 0.95],
    [HNSW, 0.95],
    [{ index: 'hnsw', hnsw: { linkMs: 0 } } as VectorOptions, 0.95],
    [{ quantize: 'int8' } as VectorOptions, 0.98],
  ])('%j: recall against the exact store, exact float64 scores, filters applied', async (vectors, floor) => {
    const exact = await filled(freshName());
    const approx = await filled(freshName(), vectors);
    const truth: string[][] = [];
    const got: string[][] = [];
    for (const q of queries) {
      const want = await exact.search('', { vector: q, model: 'm' });
      const hits = await approx.search('', { vector: q, model: 'm' });
      truth.push(ids(want));
      got.push(ids(hits));
      const score = new Map(want.map((h) => [h.memory.id, h.score]));
      for (const h of hits) if (score.has(h.memory.id)) expect(h.score).toBe(score.get(h.memory.id));
      const facts = await approx.search('', { vector: q, model: 'm', kind: 'fact', limit: 5 });
      expect(facts).toHaveLength(5);
      expect(facts.every((h) => h.memory.kind === 'fact')).toBe(true);
    }
    expect(recall(truth, got)).toBeGreaterThanOrEqual(floor);
    const store = approx.store as IndexedDBStore;
    expect(store.vectorIndex!.buildMs.get('default')).toBeGreaterThan(0);
    await exact.close();
    await approx.close();
  });

  it.each([IVF, HNSW])(
    '%j keeps up with writes without rebuilding: adds found, deletes gone, moved vectors moved',
    async (vectors) => {
      const mem = await filled(freshName(), vectors);
      const store = mem.store as IndexedDBStore;
      await mem.search('', { vector: queries[0]!, model: 'm' });
      const reads = vi.spyOn(store, 'vectors');
      await mem.add({ id: 'twin', content: 'twin', embedding: queries[1]!, embeddingModel: 'm' });
      expect(ids(await mem.search('', { vector: queries[1]!, model: 'm', limit: 1 }))).toEqual(['twin']);
      await mem.remove('twin');
      expect(ids(await mem.search('', { vector: queries[1]!, model: 'm' }))).not.toContain('twin');
      await mem.update('v0005', { embedding: queries[2]!, embeddingModel: 'm' });
      expect(ids(await mem.search('', { vector: queries[2]!, model: 'm', limit: 1 }))).toEqual(['v0005']);
      expect(reads).not.toHaveBeenCalled();
      await mem.close();
    },
  );

  it.each([IVF, HNSW])('%j hears other tabs’ writes over the change channel', async (vectors) => {
    const name = freshName();
    const mem = await filled(name, vectors);
    await mem.search('', { vector: queries[0]!, model: 'm' });
    const other = await createMemory({ store: new IndexedDBStore({ name }) });
    await other.add({ id: 'from-other-tab', content: 'x', embedding: queries[3]!, embeddingModel: 'm' });
    await vi.waitFor(async () => {
      expect(ids(await mem.search('', { vector: queries[3]!, model: 'm', limit: 1 }))).toEqual([
        'from-other-tab',
      ]);
    });
    await other.remove('from-other-tab');
    await vi.waitFor(async () => {
      expect(ids(await mem.search('', { vector: queries[3]!, model: 'm' }))).not.toContain('from-other-tab');
    });
    await other.close();
    await mem.close();
  });

  it('a failed build or catch-up is tried again by the next search, missing nothing', async () => {
    const mem = await createMemory({ store: new IndexedDBStore({ name: freshName(), vectors: HNSW }) });
    await mem.addMany(
      data
        .slice(0, 50)
        .map((v, i) => ({ id: `v${i}`, content: `doc ${i}`, embedding: v, embeddingModel: 'm' })),
    );
    const store = mem.store as IndexedDBStore;
    const vectors = vi.spyOn(store, 'vectors').mockRejectedValueOnce(new Error('read failed'));
    await expect(mem.search('', { vector: data[7]!, model: 'm', limit: 1 })).rejects.toThrow('read failed');
    expect(ids(await mem.search('', { vector: data[7]!, model: 'm', limit: 1 }))).toEqual(['v7']);
    expect(vectors).toHaveBeenCalledTimes(2);
    await mem.add({ id: 'late', content: 'late', embedding: queries[4]!, embeddingModel: 'm' });
    vi.spyOn(store, 'getMemories').mockRejectedValueOnce(new Error('catch-up failed'));
    await expect(mem.search('', { vector: queries[4]!, model: 'm', limit: 1 })).rejects.toThrow();
    expect(ids(await mem.search('', { vector: queries[4]!, model: 'm', limit: 1 }))).toEqual(['late']);
    vi.restoreAllMocks();
    await mem.close();
  });

  it.each([IVF, HNSW])('%j widens its net until enough candidates pass the filter', async (vectors) => {
    const mem = await filled(freshName(), vectors);
    // The one memory of its kind lies opposite the query: last in the index's order.
    const far = queries[5]!.map((x) => -x);
    await mem.add({ id: 'rare', content: 'rare', kind: 'rare', embedding: far, embeddingModel: 'm' });
    const hits = await mem.search('', { vector: queries[5]!, model: 'm', kind: 'rare', limit: 3 });
    expect(ids(hits)).toEqual(['rare']);
    await mem.close();
  });

  it('builds from every page of embeddings, however many reads that takes', async () => {
    const mem = await createMemory({ store: new IndexedDBStore({ name: freshName(), vectors: HNSW }) });
    const pages = clustered(2001, 4, 10, 3);
    for (let i = 0; i < pages.length; i += 1000) {
      await mem.addMany(
        pages.slice(i, i + 1000).map((v, j) => ({
          id: `p${String(i + j).padStart(4, '0')}`,
          content: 'x',
          embedding: v,
          embeddingModel: 'm',
        })),
      );
    }
    const last = `p${pages.length - 1}`;
    expect(ids(await mem.search('', { vector: pages.at(-1)!, model: 'm', limit: 1 }))).toEqual([last]);
    await mem.close();
  });

  it('rebuilds from IndexedDB after a reopen, and counts other models as skipped', async () => {
    const name = freshName();
    const first = await filled(name, IVF);
    await first.add({ id: 'other-model', content: 'y', embedding: queries[0]!, embeddingModel: 'other' });
    await first.close();
    const reopened = await createMemory({ store: new IndexedDBStore({ name, vectors: IVF }) });
    const warnings: string[] = [];
    reopened.on('warning', (w: { code: string }) => warnings.push(w.code));
    const hits = await reopened.search('', { vector: queries[0]!, model: 'm' });
    expect(hits).toHaveLength(10);
    expect(ids(hits)).not.toContain('other-model');
    expect(warnings).toContain('EMBEDDING_MODEL_MISMATCH');
    await expect(reopened.search('', { vector: [1, 2], model: 'm' })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'vector',
    });
    await reopened.close();
  });

  it('refuses bad vector options with the field named', () => {
    expect(() => new IndexedDBStore({ name: freshName(), vectors: { index: 'annoy' as 'ivf' } })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', field: 'vectors.index' }),
    );
    expect(
      () => new IndexedDBStore({ name: freshName(), vectors: { index: 'hnsw', hnsw: { efSearch: 0 } } }),
    ).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'vectors.hnsw.efSearch' }));
  });
});
