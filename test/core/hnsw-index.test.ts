import { describe, expect, it } from 'vitest';
import { parseVectorOptions } from '../../src/core/vector/vector-options.js';
import { loadApproximate, VectorSpace } from '../../src/core/vector/vector-space.js';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { HnswIndex, Int8Matrix, VectorMatrix } from '../../src/store/index.js';
import { clustered, recall } from './clustered-vectors.js';

const data = clustered(4000, 32, 80, 21);
const queries = clustered(40, 32, 80, 22);

function filledGraph(options = {}, rows: VectorMatrix | Int8Matrix = new VectorMatrix(32, 64, false)) {
  data.forEach((v, i) => {
    rows.set(`v${i}`, v);
  });
  return { rows, hnsw: new HnswIndex(rows, options) };
}

/** The exact top k of a matrix holding the same vectors. */
function truthOf(k: number): string[][] {
  const exact = new VectorMatrix(32);
  data.forEach((v, i) => {
    exact.set(`v${i}`, v);
  });
  return queries.map((q) => exact.search(q, k).map((h) => h.id));
}

describe('HnswIndex', () => {
  const truth = truthOf(10);

  it('finds the exact top 10 with recall ≥ 0.95 while scoring a fraction of the vectors', () => {
    const { hnsw } = filledGraph();
    // The filter is asked about every node good enough to enter the result set: a bound on the walk.
    let weighed = 0;
    const got = queries.map((q) =>
      hnsw
        .search(q, 10, () => {
          weighed += 1;
          return true;
        })
        .map((h) => h.id),
    );
    expect(recall(truth, got)).toBeGreaterThanOrEqual(0.95);
    expect(weighed / queries.length).toBeLessThan(data.length / 4);
    expect(hnsw.pending).toBe(0);
    expect(hnsw.bytes).toBeGreaterThan(0);
  });

  it('stops a walk once its frontier holds nothing better than the ef found: a search scores few vectors', () => {
    // Over int8 rows every similarity the walk takes goes through `score`, so it can be counted.
    const rows = new (class extends Int8Matrix {
      scored = 0;
      override score(query: Float32Array, slot: number): number {
        this.scored += 1;
        return super.score(query, slot);
      }
    })(32, 64, false);
    const { hnsw } = filledGraph({}, rows);
    hnsw.catchUp();
    rows.scored = 0;
    for (const q of queries) hnsw.search(q, 10);
    // About 520 of the 4000; walking on until the frontier is empty scores about 1170.
    expect(rows.scored / queries.length).toBeLessThan(data.length / 5);
  });

  it('keeps recall with few links (m 4): the base layer holds twice as many', () => {
    const { hnsw } = filledGraph({ m: 4 });
    // About 0.88; with m links on the base layer too it falls near 0.3.
    expect(
      recall(
        truth,
        queries.map((q) => hnsw.search(q, 10).map((h) => h.id)),
      ),
    ).toBeGreaterThanOrEqual(0.8);
  });

  it('reaches nodes linked in after their neighbours filled their lists: a full list takes a nearer one', () => {
    // m 2: four links per node on the base layer, full long before the late nodes arrive. A late node
    // that no full list takes in has no link leading to it, and no walk finds it (about 0.6 are found).
    const { rows, hnsw } = filledGraph({ m: 2 });
    hnsw.catchUp();
    const late = clustered(200, 32, 80, 25);
    late.forEach((v, i) => {
      rows.set(`late${i}`, v);
    });
    hnsw.catchUp();
    const found = late.filter((v, i) => hnsw.search(v, 1, undefined, 200)[0]!.id === `late${i}`);
    expect(found.length / late.length).toBeGreaterThanOrEqual(0.8);
  });

  it('scores every dimension of a length that is not a multiple of four', () => {
    const odd = clustered(300, 6, 10, 23);
    const rows = new VectorMatrix(6, 64, false);
    const exact = new VectorMatrix(6);
    odd.forEach((v, i) => {
      rows.set(`v${i}`, v);
      exact.set(`v${i}`, v);
    });
    const hnsw = new HnswIndex(rows);
    for (const q of clustered(10, 6, 10, 24)) {
      expect(hnsw.search(q, 5).map((h) => h.id)).toEqual(exact.search(q, 5).map((h) => h.id));
    }
  });

  it('links and walks many equal vectors, stopping at the first of equal neighbours', () => {
    const rows = new VectorMatrix(32, 64, false);
    for (let i = 0; i < 300; i++) rows.set(`same${i}`, data[0]!);
    data.slice(1, 300).forEach((v, i) => {
      rows.set(`v${i + 1}`, v);
    });
    const hits = new HnswIndex(rows).search(data[0]!, 10);
    expect(hits).toHaveLength(10);
    expect(hits.every((h) => h.id.startsWith('same') && Math.abs(h.score - 1) < 1e-6)).toBe(true);
  });

  it('refuses a matrix that reuses freed slots (a node is its slot)', () => {
    expect(() => new HnswIndex(new VectorMatrix(32))).toThrow(
      expect.objectContaining({ code: 'VALIDATION', field: 'matrix' }),
    );
  });

  it('builds the same graph from the same writes and seed, and another with another seed', () => {
    const a = filledGraph({ seed: 5 }).hnsw;
    const b = filledGraph({ seed: 5 }).hnsw;
    const c = filledGraph({ seed: 6, efSearch: 10 }).hnsw;
    const d = filledGraph({ seed: 5, efSearch: 10 }).hnsw;
    for (const q of queries.slice(0, 10)) expect(b.search(q, 10)).toEqual(a.search(q, 10));
    const differs = queries.some(
      (q) =>
        JSON.stringify(c.search(q, 10, undefined, 10)) !== JSON.stringify(d.search(q, 10, undefined, 10)),
    );
    expect(differs).toBe(true);
  });

  it('links inserts in at the next search, skips deleted nodes and finds updated ones at their new place', () => {
    const { rows, hnsw } = filledGraph();
    hnsw.search(queries[0]!, 1);
    rows.set('twin', queries[0]!);
    expect(hnsw.pending).toBe(1);
    expect(hnsw.search(queries[0]!, 1)[0]!.id).toBe('twin');
    expect(hnsw.pending).toBe(0);
    // Delete: the node still routes but never comes back.
    const best = hnsw.search(queries[1]!, 1)[0]!.id;
    rows.delete(best);
    expect(hnsw.search(queries[1]!, 50).map((h) => h.id)).not.toContain(best);
    expect(rows.rows).toBe(data.length + 1);
    // Update = delete + insert at a fresh slot.
    rows.delete('v7');
    rows.set('v7', queries[2]!);
    expect(hnsw.search(queries[2]!, 1)[0]!.id).toBe('v7');
    expect(hnsw.deletedShare).toBeCloseTo(2 / (data.length + 2));
    // Recall holds with a tenth of the nodes deleted (they keep routing).
    for (let i = 0; i < data.length; i += 10) rows.delete(`v${i}`);
    const live = truth.map((t) => t.filter((id) => rows.slot(id) !== undefined));
    const got = queries.map((q, i) => hnsw.search(q, live[i]!.length).map((h) => h.id));
    expect(recall(live, got)).toBeGreaterThanOrEqual(0.95);
  });

  it('links within linkMs per search and scans the rest exactly, ending with the same graph', () => {
    const { rows, hnsw } = filledGraph({ linkMs: 0 });
    const exact = new VectorMatrix(32);
    data.forEach((v, i) => {
      exact.set(`v${i}`, v);
    });
    // With no time to link, a search links one batch of 16 and scans the other rows exactly.
    expect(hnsw.search(queries[0]!, 10)).toEqual(exact.search(queries[0]!, 10));
    expect(hnsw.pending).toBe(data.length - 16);
    for (let i = 0; hnsw.pending > 0; i++) hnsw.search(queries[i % queries.length]!, 10);
    const whole = filledGraph().hnsw;
    for (const q of queries.slice(0, 10)) expect(hnsw.search(q, 10)).toEqual(whole.search(q, 10));
    expect(rows.rows).toBe(data.length);
  });

  it('filters the rows it scans exactly (not linked yet) as it filters the walk', () => {
    const { hnsw } = filledGraph({ linkMs: 0 });
    const rare = (id: string) => id.endsWith('37');
    const hits = hnsw.search(queries[3]!, 10, rare);
    expect(hnsw.pending).toBeGreaterThan(0);
    expect(hits).toHaveLength(10);
    expect(hits.every((h) => rare(h.id))).toBe(true);
  });

  it('filters during the walk and keeps looking until enough pass', () => {
    const { hnsw } = filledGraph();
    const rare = (id: string) => id.endsWith('37');
    const hits = hnsw.search(queries[3]!, 10, rare);
    expect(hits).toHaveLength(10);
    expect(hits.every((h) => rare(h.id))).toBe(true);
    const exact = new VectorMatrix(32);
    data.forEach((v, i) => {
      exact.set(`v${i}`, v);
    });
    expect(recall([exact.search(queries[3]!, 10, rare).map((h) => h.id)], [hits.map((h) => h.id)])).toBe(1);
  });

  it('works over int8 rows, and takes efSearch of at least k', () => {
    const { hnsw } = filledGraph({ efSearch: 4 }, new Int8Matrix(32, 64, false));
    expect(hnsw.search(queries[0]!, 30)).toHaveLength(30);
    const got = queries.map((q) =>
      hnsw
        .search(q, 40)
        .slice(0, 10)
        .map((h) => h.id),
    );
    expect(recall(truth, got)).toBeGreaterThanOrEqual(0.95);
  });
});

describe("VectorSpace { index: 'hnsw' }", () => {
  it('loads the index code on demand, and refuses to build an index before it is loaded', async () => {
    const options = parseVectorOptions({ index: 'hnsw' });
    expect(await loadApproximate(parseVectorOptions({}))).toBeUndefined();
    expect(() => new VectorSpace(options).put('v0', data[0]!, 'm')).toThrow(/loadApproximate/);
    const kit = await loadApproximate(parseVectorOptions({ quantize: 'int8' }));
    expect(kit?.Int8Matrix).toBeTypeOf('function');
  });

  it('rebuilds the graph from the live rows once deletes pass half of it', async () => {
    const options = parseVectorOptions({ index: 'hnsw' });
    const kit = await loadApproximate(options);
    const space = new VectorSpace(options, () => kit);
    data.slice(0, 1000).forEach((v, i) => {
      space.put(`v${i}`, v, 'm');
    });
    space.train();
    // train() links every row now: the next search has nothing left to link.
    const linked = space.trainMs;
    expect(linked).toBeGreaterThan(0);
    space.nearest(data[1]!, 'm', 5);
    expect(space.trainMs).toBe(linked);
    for (let i = 0; i < 500; i++) space.delete(`v${i}`);
    space.nearest(data[700]!, 'm', 5);
    expect(space.rebuildMs).toBe(0);
    space.delete('v500');
    const { hits } = space.nearest(data[700]!, 'm', 5);
    expect(space.rebuildMs).toBeGreaterThan(0);
    expect(hits[0]!.id).toBe('v700');
    expect(space.size).toBe(499);
    // The new graph's rows are the live ones only: a search for another model skips exactly those.
    expect(space.nearest(data[700]!, 'other', 5)).toEqual({ hits: [], otherModels: 499 });
  });
});

describe("InMemoryStore { index: 'hnsw' }", () => {
  it('rebuilds the graph once deletes pass half of it, and answers the same live set', async () => {
    const store = new InMemoryStore({ vectors: { index: 'hnsw' } });
    const mem = await createMemory({ store });
    const small = data.slice(0, 1000);
    await mem.addMany(
      small.map((v, i) => ({ id: `v${i}`, content: `d${i}`, embedding: v, embeddingModel: 'm' })),
    );
    expect((await mem.search('', { vector: small[5]!, model: 'm', limit: 1 }))[0]!.memory.id).toBe('v5');
    for (let i = 0; i < 600; i++) await mem.remove(`v${i}`);
    const hits = await mem.search('', { vector: small[700]!, model: 'm', limit: 5 });
    expect(hits[0]!.memory.id).toBe('v700');
    expect(hits.every((h) => Number(h.memory.id.slice(1)) >= 600)).toBe(true);
  });
});
