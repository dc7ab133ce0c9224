import { describe, expect, it } from 'vitest';
import { ScoreHeap } from '../../src/core/vector/score-heap.js';
import { TopK } from '../../src/core/vector/top-k.js';
import { parseVectorOptions } from '../../src/core/vector/vector-options.js';
import { loadApproximate, VectorSpace } from '../../src/core/vector/vector-space.js';
import type { VectorOptions } from '../../src/index.js';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { Int8Matrix, IvfIndex, VectorMatrix } from '../../src/store/index.js';
import { clustered, recall, seeded } from './clustered-vectors.js';

function bruteForce(data: number[][], query: number[], k: number): string[] {
  const cos = (a: number[], b: number[]) => {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i]! * b[i]!;
      na += a[i]! ** 2;
      nb += b[i]! ** 2;
    }
    return dot / Math.sqrt(na * nb);
  };
  return data
    .map((v, i) => ({ id: `v${i}`, score: cos(query, v) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map((h) => h.id);
}

describe('TopK', () => {
  it('keeps the k best of a stream, best first', () => {
    const random = seeded(1);
    const scores = Array.from({ length: 500 }, () => random());
    const top = new TopK(7);
    scores.forEach((s, i) => {
      top.push(i, s);
    });
    expect(top.sorted().map((h) => h.score)).toEqual(
      [...scores]
        .sort((a, b) => b - a)
        .slice(0, 7)
        .map((s) => Math.fround(s)),
    );
  });
});

describe('ScoreHeap', () => {
  it('pops equal scores by slot, lowest first, whatever order they were pushed in', () => {
    for (const order of ['best', 'worst'] as const) {
      const heap = new ScoreHeap(order);
      for (const slot of [1, 3, 0, 2]) heap.push(slot, 0.5);
      expect([heap.pop(), heap.pop(), heap.pop(), heap.pop()], order).toEqual([0, 1, 2, 3]);
    }
  });
});

describe('VectorMatrix (exact)', () => {
  const data = clustered(800, 24, 20, 2);
  const queries = clustered(20, 24, 20, 3);

  it('finds the same nearest neighbours as a float64 brute force', () => {
    const matrix = new VectorMatrix(24, 4);
    data.forEach((v, i) => {
      matrix.set(`v${i}`, v);
    });
    for (const q of queries) expect(matrix.search(q, 10).map((h) => h.id)).toEqual(bruteForce(data, q, 10));
  });

  it('hands out beside its k best every row a float64 rescoring could rank above them, whatever the slot order', () => {
    // Rows a billionth apart, whose float64 cosines against [1, 1] rise with i: find two whose float32
    // scores rank the other way (an earlier row scoring above a later one).
    const near = Array.from({ length: 1000 }, (_, i) => [1, 0.5 + i * 1e-9]);
    const scratch = new VectorMatrix(2);
    near.forEach((v, i) => {
      scratch.set(`v${i}`, v);
    });
    const q = scratch.query([1, 1]);
    const float32 = (slot: number) => Math.fround(scratch.score(q, slot));
    let earlier = 0;
    let later = 1;
    for (; float32(later) >= float32(earlier); later++)
      if (float32(later) > float32(earlier)) earlier = later;
    expect(later).toBeLessThan(near.length);
    const rows = { worse: near[earlier]!, better: near[later]! };
    // Scanned second, the better one scores below the k-th; scanned first, it is pushed out of the top k.
    for (const [first, second] of [
      ['worse', 'better'],
      ['better', 'worse'],
    ] as const) {
      const matrix = new VectorMatrix(2);
      matrix.set(first, rows[first]);
      matrix.set(second, rows[second]);
      expect(
        matrix.search([1, 1], 1).map((h) => h.id),
        first,
      ).toContain('better');
    }
  });

  it('reuses deleted slots, never returns deleted ids, and filters during the scan', () => {
    const matrix = new VectorMatrix(24);
    data.forEach((v, i) => {
      matrix.set(`v${i}`, v);
    });
    const best = matrix.search(queries[0]!, 1)[0]!.id;
    matrix.delete(best);
    expect(matrix.size).toBe(799);
    expect(matrix.search(queries[0]!, 50).map((h) => h.id)).not.toContain(best);
    matrix.set('new', data[0]!);
    expect(matrix.rows).toBe(800);
    const even = matrix.search(queries[1]!, 10, (id) => id.endsWith('0'));
    expect(even.every((h) => h.id.endsWith('0'))).toBe(true);
    expect(() => matrix.search([1, 2], 1)).toThrow(/expected 24 dimensions/);
  });
});

describe('Int8Matrix', () => {
  it('holds about a quarter of the bytes and keeps recall@10 ≥ 0.98 with rescoring', () => {
    const data = clustered(3000, 64, 60, 4);
    const queries = clustered(40, 64, 60, 5);
    const int8 = new Int8Matrix(64);
    data.forEach((v, i) => {
      int8.set(`v${i}`, v);
    });
    expect(int8.bytes).toBeLessThanOrEqual(3000 * 64 * 4 * 0.3);
    const exact = (id: string) => data[Number(id.slice(1))];
    const got = queries.map((q) => int8.search(q, 10, undefined, { exact }).map((h) => h.id));
    expect(
      recall(
        queries.map((q) => bruteForce(data, q, 10)),
        got,
      ),
    ).toBeGreaterThanOrEqual(0.98);
    int8.delete(got[0]![0]!);
    expect(int8.search(queries[0]!, 50).map((h) => h.id)).not.toContain(got[0]![0]);
  });

  it('rescores k × rescore candidates: tight clusters the int8 order blurs still come back exact', () => {
    const data = clustered(3000, 64, 60, 4, 0.2);
    const queries = clustered(40, 64, 60, 5, 0.2);
    const int8 = new Int8Matrix(64);
    data.forEach((v, i) => {
      int8.set(`v${i}`, v);
    });
    const exact = (id: string) => data[Number(id.slice(1))];
    const truth = queries.map((q) => bruteForce(data, q, 10));
    // By the int8 scores alone about 0.93 of the true top 10 are found; rescoring 40 recovers them all.
    const got = queries.map((q) => int8.search(q, 10, undefined, { exact }).map((h) => h.id));
    expect(recall(truth, got)).toBeGreaterThanOrEqual(0.99);
  });

  it('decodes each component within half a step of its row: 1/254 of the largest component', () => {
    const data = clustered(200, 64, 10, 12);
    const int8 = new Int8Matrix(64);
    const unit = new VectorMatrix(64);
    data.forEach((v, i) => {
      int8.set(`v${i}`, v);
      unit.set(`v${i}`, v);
    });
    const decoded = new Float32Array(64);
    const expected = new Float32Array(64);
    let worst = 0;
    for (let slot = 0; slot < data.length; slot++) {
      int8.rowInto(slot, decoded);
      unit.rowInto(slot, expected);
      const largest = Math.max(...expected.map(Math.abs));
      for (let d = 0; d < 64; d++) worst = Math.max(worst, Math.abs(decoded[d]! - expected[d]!) / largest);
    }
    // Rounding to the nearest of ±127 codes: the worst error is half a step (a step of 100 codes is 1.27×).
    expect(worst * 254).toBeLessThanOrEqual(1.001);
    expect(worst * 254).toBeGreaterThan(0.9);
  });

  it('ranks equal rescored scores by id, descending, as the stores do', () => {
    const int8 = new Int8Matrix(3);
    const vectors: Record<string, number[]> = { a: [1, 2, 3], c: [1, 2, 3], b: [1, 2, 3], far: [3, -2, 0] };
    for (const [id, v] of Object.entries(vectors)) int8.set(id, v);
    const hits = int8.search([1, 2, 3], 4, undefined, { exact: (id) => vectors[id] });
    expect(hits.map((h) => h.id)).toEqual(['c', 'b', 'a', 'far']);
  });
});

/** The IVF's candidates rescored exactly, as the stores do. */
function ivfTop(ivf: IvfIndex, exact: VectorMatrix, q: number[], k: number): string[] {
  const unit = exact.query(q);
  return ivf
    .search(q, k * 4)
    .map((h) => ({ id: h.id, score: exact.score(unit, exact.slot(h.id)!) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map((h) => h.id);
}

/** Counts the rows training reads, to show that k-means reads a bounded sample. */
class CountingMatrix extends VectorMatrix {
  reads = 0;
  override rowInto(slot: number, out: Float32Array, offset = 0): void {
    this.reads += 1;
    super.rowInto(slot, out, offset);
  }
}

describe('IvfIndex (approximate)', () => {
  const data = clustered(6000, 32, 120, 6);
  const queries = clustered(40, 32, 120, 7);

  it('searches exactly until trained, then keeps recall@10 ≥ 0.95 scanning a fraction of the lists', () => {
    const matrix = new VectorMatrix(32);
    const ivf = new IvfIndex(matrix, { minTrain: 5000 });
    data.slice(0, 100).forEach((v, i) => {
      ivf.add(matrix.set(`v${i}`, v));
    });
    expect(ivf.trained).toBe(false);
    expect(ivf.search(queries[0]!, 10)).toEqual(matrix.search(queries[0]!, 10));
    data.slice(100).forEach((v, i) => {
      ivf.add(matrix.set(`v${i + 100}`, v));
    });
    expect(ivf.stale).toBe(true);
    ivf.train(seeded(8));
    expect(ivf.stale).toBe(false);
    const got = queries.map((q) => ivfTop(ivf, matrix, q, 10));
    expect(
      recall(
        queries.map((q) => bruteForce(data, q, 10)),
        got,
      ),
    ).toBeGreaterThanOrEqual(0.95);
    // Stale again only once the set has doubled since training.
    for (let i = 0; i < 6000; i++) ivf.add(matrix.set(`w${i}`, data[i]!));
    expect(ivf.stale).toBe(false);
    ivf.add(matrix.set('one-more', data[0]!));
    expect(ivf.stale).toBe(true);
  });

  it('is stale, due for training, from its 5000th vector by default (minTrain), not before', () => {
    const matrix = new VectorMatrix(32);
    const ivf = new IvfIndex(matrix);
    for (let i = 0; i < 4999; i++) matrix.set(`v${i}`, data[i]!);
    expect(ivf.stale).toBe(false);
    matrix.set('v4999', data[4999]!);
    expect(ivf.stale).toBe(true);
  });

  it('scans 48 lists per query by default (probes): with 48 lists every row is reached', () => {
    const matrix = new VectorMatrix(32);
    data.forEach((v, i) => {
      matrix.set(`v${i}`, v);
    });
    const ivf = new IvfIndex(matrix, { lists: 48 });
    ivf.train(seeded(3));
    expect(ivf.search(queries[0]!, data.length)).toHaveLength(data.length);
  });

  it('trains on a bounded sample: k-means reads `sample` rows, then each row once to file it', () => {
    const matrix = new CountingMatrix(32);
    data.forEach((v, i) => {
      matrix.set(`v${i}`, v);
    });
    const ivf = new IvfIndex(matrix, { sample: 500, lists: 40 });
    ivf.train(seeded(1));
    expect(matrix.reads).toBe(500 + 6000);
    const again = new IvfIndex(matrix, { sample: 500, lists: 40 });
    again.train(seeded(1));
    expect(again.search(queries[0]!, 10)).toEqual(ivf.search(queries[0]!, 10));
    // A sample smaller than 4 rows per list is raised to that floor.
    const small = new CountingMatrix(32);
    data.forEach((v, i) => {
      small.set(`v${i}`, v);
    });
    new IvfIndex(small, { sample: 10, lists: 40 }).train(seeded(1));
    expect(small.reads).toBe(160 + 6000);
    // By default k-means reads at most 4096 rows, though 300 lists would take 16 each (4800).
    const many = new CountingMatrix(32);
    data.forEach((v, i) => {
      many.set(`v${i}`, v);
    });
    new IvfIndex(many, { lists: 300 }).train(seeded(1));
    expect(many.reads).toBe(4096 + 6000);
  });

  it('files later vectors incrementally and forgets removed ones', () => {
    const matrix = new VectorMatrix(32);
    const ivf = new IvfIndex(matrix, { minTrain: 1000 });
    data.forEach((v, i) => {
      matrix.set(`v${i}`, v);
    });
    ivf.train(seeded(9));
    const probe = queries[2]!;
    ivf.add(matrix.set('exact-twin', probe));
    expect(ivf.search(probe, 1)[0]!.id).toBe('exact-twin');
    ivf.remove(matrix.slot('exact-twin')!);
    matrix.delete('exact-twin');
    expect(ivf.search(probe, 20).map((h) => h.id)).not.toContain('exact-twin');
    // A moved vector leaves its old list: it is found near its new value only.
    const old = data[0]!;
    ivf.add(matrix.set('v0', queries[3]!));
    expect(ivf.search(queries[3]!, 1)[0]!.id).toBe('v0');
    expect(ivf.search(old, 20).map((h) => h.id)).not.toContain('v0');
    const ids = ivf.search(queries[3]!, 200).map((h) => h.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('ranks well by its own int8 scores and k-means lists: recall@10 without over-fetching', () => {
    const matrix = new VectorMatrix(32);
    data.forEach((v, i) => {
      matrix.set(`v${i}`, v);
    });
    const ivf = new IvfIndex(matrix);
    ivf.train(seeded(8));
    const truth = queries.map((q) => bruteForce(data, q, 10));
    // About 0.99 with the default 48 probes and 0.96 with 8 (lists around k-means centroids).
    expect(
      recall(
        truth,
        queries.map((q) => ivf.search(q, 10).map((h) => h.id)),
      ),
    ).toBeGreaterThanOrEqual(0.95);
    const eight = queries.map((q) => ivf.search(q, 10, undefined, 8).map((h) => h.id));
    expect(recall(truth, eight)).toBeGreaterThanOrEqual(0.93);
    // √6000 ≈ 77 lists by default: one probe scans one list of about 6000 / 77 rows.
    expect(ivf.search(queries[0]!, 6000, undefined, 1).length).toBeLessThan(150);
  });

  it('moves a centroid left empty onto another row: a sample that repeats one vector still fills its lists', () => {
    // Half the rows are one vector, so many centroids start on it and all but one of them stay empty.
    const distinct = data.slice(0, 2000);
    const matrix = new VectorMatrix(32);
    distinct.forEach((v, i) => {
      matrix.set(`v${i}`, v);
    });
    for (let i = 0; i < 2000; i++) matrix.set(`same${i}`, distinct[0]!);
    const ivf = new IvfIndex(matrix, { lists: 40 });
    ivf.train(seeded(1));
    // One probe scans one list: the lists reached from the distinct rows, told apart by their rows.
    const lists = new Set(
      distinct.map((q) =>
        ivf
          .search(q, matrix.size, undefined, 1)
          .map((h) => h.id)
          .sort()
          .join(),
      ),
    );
    // All 40 are reached; with the empty centroids left where they were, 17.
    expect(lists.size).toBeGreaterThanOrEqual(36);
  });

  it('keeps every row filed through removals that move rows and a freed slot used again', () => {
    const matrix = new VectorMatrix(2);
    matrix.set('seed', [0, 1]);
    const ivf = new IvfIndex(matrix, { lists: 1 });
    ivf.train(seeded(1));
    // Filed after training, in this order, behind the seed in its one list.
    const vectors = { a: [1, 0], b: [0.9, 0.1], c: [0.8, 0.2], d: [0.7, 0.3] };
    for (const [id, v] of Object.entries(vectors)) ivf.add(matrix.set(id, v));
    const drop = (id: string) => {
      ivf.remove(matrix.slot(id)!);
      matrix.delete(id);
    };
    // Removing a moves the last row (d) into its place.
    drop('a');
    // e takes a's freed slot, then d is removed from where it was moved to.
    ivf.add(matrix.set('e', [0.6, 0.4]));
    drop('d');
    expect(ivf.search([1, 0], 10).map((h) => h.id)).toEqual(['b', 'c', 'e', 'seed']);
    // Each row's int8 codes moved with it: by them e is the second candidate for [0, 1].
    expect(ivf.search([0, 1], 2).map((h) => h.id)).toEqual(['seed', 'e']);
    // A filter applies during the scan.
    expect(ivf.search([1, 0], 1, (id) => id !== 'b').map((h) => h.id)).toEqual(['c']);
  });

  it('works over int8 rows too', () => {
    const rows = new Int8Matrix(32);
    const exact = new VectorMatrix(32);
    data.forEach((v, i) => {
      rows.set(`v${i}`, v);
      exact.set(`v${i}`, v);
    });
    const ivf = new IvfIndex(rows);
    ivf.train(seeded(2));
    const got = queries.map((q) => ivfTop(ivf, exact, q, 10));
    expect(
      recall(
        queries.map((q) => bruteForce(data, q, 10)),
        got,
      ),
    ).toBeGreaterThanOrEqual(0.95);
  });
});

async function filled(vectors: VectorOptions | undefined, data: number[][]) {
  const mem = await createMemory({ store: new InMemoryStore(vectors ? { vectors } : {}) });
  for (let i = 0; i < data.length; i += 500) {
    await mem.addMany(
      data
        .slice(i, i + 500)
        .map((v, j) => ({ id: `v${i + j}`, content: `doc ${i + j}`, embedding: v, embeddingModel: 'm' })),
    );
  }
  return mem;
}

describe('InMemoryStore vector options', () => {
  const data = clustered(1500, 16, 40, 10);
  const queries = clustered(15, 16, 40, 11);

  it.each([
    [{ index: 'ivf', ivf: { minTrain: 1000 } } as const, 0.95],
    [{ quantize: 'int8' } as const, 0.98],
    [{ index: 'ivf', quantize: 'int8', ivf: { minTrain: 1000 } } as const, 0.95],
    [{ index: 'hnsw' } as const, 0.95],
    [{ index: 'hnsw', quantize: 'int8', hnsw: { m: 8, efSearch: 32 } } as const, 0.95],
  ])('%j answers with recall ≥ %d of the exact store, exact scores, deletes gone', async (vectors, floor) => {
    const exact = await filled(undefined, data);
    const approx = await filled(vectors, data);
    await approx.remove('v0');
    await exact.remove('v0');
    const got: string[][] = [];
    const truth: string[][] = [];
    for (const q of queries) {
      truth.push((await exact.search('', { vector: q, model: 'm' })).map((h) => h.memory.id));
      const hits = await approx.search('', { vector: q, model: 'm' });
      got.push(hits.map((h) => h.memory.id));
      expect(hits.map((h) => h.memory.id)).not.toContain('v0');
      // Whatever chose the candidates, the scores are core's float64 cosine of the stored embedding.
      const byId = new Map(
        (await exact.search('', { vector: q, model: 'm', limit: 100 })).map((h) => [h.memory.id, h.score]),
      );
      for (const h of hits) if (byId.has(h.memory.id)) expect(h.score).toBe(byId.get(h.memory.id));
    }
    expect(recall(truth, got)).toBeGreaterThanOrEqual(floor);
  });

  it('int8: filters during the scan, and keeps the highest ids of more equal vectors than candidates', async () => {
    const mem = await createMemory({ store: new InMemoryStore({ vectors: { quantize: 'int8' } }) });
    await mem.addMany(
      Array.from({ length: 40 }, (_, i) => ({
        id: `t${String(i).padStart(2, '0')}`,
        content: `tie ${i}`,
        kind: i % 2 === 0 ? 'even' : 'odd',
        embedding: [0.6, 0.8, 0],
        embeddingModel: 'm',
      })),
    );
    const ids = async (options: object) =>
      (await mem.search('', { vector: [0.6, 0.8, 0], model: 'm', limit: 3, ...options })).map(
        (h) => h.memory.id,
      );
    // 40 ties, 22 candidates: core keeps the highest ids.
    expect(await ids({})).toEqual(['t39', 't38', 't37']);
    expect(await ids({ kind: 'even' })).toEqual(['t38', 't36', 't34']);
  });

  it('ivf: searches exactly below minTrain (default 5000), and trains at the first search past it', async () => {
    const defaults = parseVectorOptions({ index: 'ivf' });
    const kit = await loadApproximate(defaults);
    const space = new VectorSpace(defaults, () => kit);
    const matrix = new VectorMatrix(16);
    data.forEach((v, i) => {
      space.put(`v${i}`, v, 'm');
      matrix.set(`v${i}`, v);
    });
    // Float32 scores, not the int8 ones of IVF lists.
    expect(space.nearest(queries[0]!, 'm', 20).hits).toEqual(matrix.search(queries[0]!, 20));
    const options = parseVectorOptions({ index: 'ivf', ivf: { minTrain: 1000 } });
    const trained = new VectorSpace(options, () => kit);
    data.forEach((v, i) => {
      trained.put(`v${i}`, v, 'm');
    });
    expect(trained.trainMs).toBe(0);
    trained.nearest(queries[0]!, 'm', 20);
    expect(trained.trainMs).toBeGreaterThan(0);
  });

  it('ivf: files a vector written after training at once, and never hands out a deleted one', async () => {
    const options = parseVectorOptions({ index: 'ivf', ivf: { minTrain: 1000 } });
    const kit = await loadApproximate(options);
    const space = new VectorSpace(options, () => kit);
    data.slice(0, 1200).forEach((v, i) => {
      space.put(`v${i}`, v, 'm');
    });
    space.train();
    space.put('twin', queries[1]!, 'm');
    expect(space.nearest(queries[1]!, 'm', 1).hits.map((h) => h.id)).toEqual(['twin']);
    space.delete('twin');
    space.delete('v5');
    const { hits } = space.nearest(data[5]!, 'm', 5);
    expect(hits).toHaveLength(5);
    for (const { id } of hits) expect(['twin', 'v5', undefined]).not.toContain(id);
  });

  it('exact mode goes through the matrix and equals core float64 scan of every embedding', async () => {
    const exact = await filled(undefined, data.slice(0, 600));
    const legacy = await exact.search('', { vector: queries[0]! });
    const viaMatrix = await exact.search('', { vector: queries[0]!, model: 'm' });
    expect(viaMatrix).toEqual(legacy);
  });

  it('exact mode ranks vectors nearer than float32 can tell apart by their float64 cosine', async () => {
    // A billionth apart: against [1, 1] their float32 scores tie or fall in another order than their
    // float64 cosines, which rise with i. A float32 top k rescored kept the wrong ones (v946 first).
    const near = Array.from({ length: 1000 }, (_, i) => [1, 0.5 + i * 1e-9]);
    const mem = await createMemory({ store: new InMemoryStore() });
    await mem.addMany(
      near.map((v, i) => ({
        id: `v${i}`,
        content: `doc ${i}`,
        kind: i % 2 === 0 ? 'even' : 'odd',
        embedding: v,
        embeddingModel: 'm',
      })),
    );
    const ranked = bruteForce(near, [1, 1], near.length);
    for (const limit of [1, 3]) {
      const hits = await mem.search('', { vector: [1, 1], model: 'm', limit });
      expect(hits.map((h) => h.memory.id)).toEqual(ranked.slice(0, limit));
      const odd = await mem.search('', { vector: [1, 1], model: 'm', limit, kind: 'odd' });
      expect(odd.map((h) => h.memory.id)).toEqual(
        ranked.filter((id) => Number(id.slice(1)) % 2 === 1).slice(0, limit),
      );
    }
  });

  it('takes every setting at its bounds, and an undefined one as unset', () => {
    const ivf = { lists: 65_536, probes: 1, minTrain: 1, sample: 1, rounds: 100 };
    const hnsw = { m: 2, efConstruction: 4096, seed: 0, linkMs: 0, efSearch: undefined };
    expect(parseVectorOptions({ index: 'hnsw', ivf, hnsw })).toEqual({
      index: 'hnsw',
      quantize: 'none',
      ivf,
      hnsw,
    });
  });

  it('refuses bad options with a VALIDATION error naming the field', () => {
    const bad: Array<[unknown, string]> = [
      ['int8', 'vectors'],
      [[], 'vectors'],
      [{ quantize: 'int4' }, 'vectors.quantize'],
      [{ index: 'annoy' }, 'vectors.index'],
      [{ index: 'hnsw', hnsw: { m: 1 } }, 'vectors.hnsw.m'],
      [{ index: 'hnsw', hnsw: { efSearch: 10.5 } }, 'vectors.hnsw.efSearch'],
      [{ index: 'hnsw', hnsw: { efSearch: 0 } }, 'vectors.hnsw.efSearch'],
      [{ index: 'hnsw', hnsw: { efConstruction: '64' } }, 'vectors.hnsw.efConstruction'],
      [{ index: 'hnsw', hnsw: { seed: -1 } }, 'vectors.hnsw.seed'],
      [{ index: 'hnsw', hnsw: { linkMs: -5 } }, 'vectors.hnsw.linkMs'],
      [{ index: 'hnsw', hnsw: { ef: 64 } }, 'vectors.hnsw.ef'],
      [{ index: 'hnsw', hnsw: 16 }, 'vectors.hnsw'],
      [{ ivf: { probes: 0 } }, 'vectors.ivf.probes'],
      [{ ivf: { lists: 2.5 } }, 'vectors.ivf.lists'],
      [{ ivf: { lists: 65_537 } }, 'vectors.ivf.lists'],
      [{ index: 'hnsw', hnsw: [16] }, 'vectors.hnsw'],
      [{ ivf: { nprobe: 4 } }, 'vectors.ivf.nprobe'],
      [{ quantise: 'int8' }, 'vectors.quantise'],
    ];
    for (const [vectors, field] of bad) {
      expect(() => new InMemoryStore({ vectors: vectors as VectorOptions }), field).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field }),
      );
    }
  });
});
