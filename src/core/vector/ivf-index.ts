import { TopK } from './top-k.js';
import type { VectorHit, VectorMatrix } from './vector-matrix.js';

export interface IvfOptions {
  /** Lists (centroids); default √n at training time, at least 16. */
  lists?: number;
  /** Lists scanned per query (default 48); more is slower and closer to exact. */
  probes?: number;
  /** Vectors below this count are searched exactly (default 5 000): an index would not pay for itself. */
  minTrain?: number;
  /** k-means rounds at training (default 8). */
  rounds?: number;
}

/**
 * Approximate search by inverted file (IVF): k-means centroids split the vectors into lists; a query
 * scans only the lists of its nearest centroids. Written here rather than taken from a library because
 * none fits all three runtimes and the data model: hnswlib-wasm needs a WASM file loaded at run time
 * (awkward in Workers) and keeps its own copy of every vector; the pure-JS `hnsw` package keeps a
 * JS array and Map per node, has no delete, and builds 100K × 384 too slowly (see bench/vector.mjs).
 * IVF works on the VectorMatrix rows already held for exact search (no second copy), supports delete,
 * and adds incrementally: a new vector joins its nearest list; training is redone only when the set has
 * grown 4× since the last one (its time is measured in the bench).
 */
export class IvfIndex {
  private centroids = new Float32Array(0);
  private lists: Int32Array[] = [];
  private lengths: number[] = [];
  private listOfSlot = new Int32Array(0);
  private posOfSlot = new Int32Array(0);
  private trainedAt = 0;
  private readonly options: Required<IvfOptions>;

  constructor(
    readonly matrix: VectorMatrix,
    options: IvfOptions = {},
  ) {
    this.options = {
      lists: options.lists ?? 0,
      probes: options.probes ?? 48,
      minTrain: options.minTrain ?? 5000,
      rounds: options.rounds ?? 8,
    };
  }

  get trained(): boolean {
    return this.lists.length > 0;
  }

  /** True when the set has outgrown its training (or reached the size where an index pays). */
  get stale(): boolean {
    const n = this.matrix.size;
    return this.trained ? n > this.trainedAt * 4 : n >= this.options.minTrain;
  }

  /** k-means on a sample, then every row assigned to its nearest centroid. */
  train(random: () => number = Math.random): void {
    const { matrix } = this;
    const { dims } = matrix;
    const live: number[] = [];
    for (let slot = 0; slot < matrix.rows; slot++) if (matrix.ids[slot] !== undefined) live.push(slot);
    const count = this.options.lists || Math.max(16, Math.round(Math.sqrt(live.length)));
    const sample = shuffle(live, random).slice(0, Math.min(live.length, count * 16));
    const centroids = new Float32Array(count * dims);
    for (let c = 0; c < count; c++) {
      centroids.set(
        matrix.data.subarray(sample[c % sample.length]! * dims, (sample[c % sample.length]! + 1) * dims),
        c * dims,
      );
    }
    const sums = new Float64Array(count * dims);
    const sizes = new Int32Array(count);
    for (let round = 0; round < this.options.rounds; round++) {
      sums.fill(0);
      sizes.fill(0);
      for (const slot of sample) {
        const c = nearest(centroids, count, dims, matrix.data, slot * dims);
        sizes[c]! += 1;
        for (let d = 0; d < dims; d++) sums[c * dims + d]! += matrix.data[slot * dims + d]!;
      }
      for (let c = 0; c < count; c++) {
        if (sizes[c] === 0) continue;
        let norm = 0;
        for (let d = 0; d < dims; d++) norm += sums[c * dims + d]! ** 2;
        const scale = norm === 0 ? 0 : 1 / Math.sqrt(norm);
        for (let d = 0; d < dims; d++) centroids[c * dims + d] = sums[c * dims + d]! * scale;
      }
    }
    this.centroids = centroids;
    this.lists = Array.from({ length: count }, () => new Int32Array(16));
    this.lengths = new Array<number>(count).fill(0);
    this.listOfSlot = new Int32Array(Math.max(matrix.rows, 1024)).fill(-1);
    this.posOfSlot = new Int32Array(this.listOfSlot.length);
    for (const slot of live) this.add(slot);
    this.trainedAt = live.length;
  }

  /** Files a new or changed row under its nearest centroid. */
  add(slot: number): void {
    if (!this.trained) return;
    this.remove(slot);
    if (slot >= this.listOfSlot.length) {
      const size = Math.max(slot + 1, this.listOfSlot.length * 2);
      const lists = new Int32Array(size).fill(-1);
      lists.set(this.listOfSlot);
      const positions = new Int32Array(size);
      positions.set(this.posOfSlot);
      this.listOfSlot = lists;
      this.posOfSlot = positions;
    }
    const { dims } = this.matrix;
    const c = nearest(this.centroids, this.lists.length, dims, this.matrix.data, slot * dims);
    let list = this.lists[c]!;
    const length = this.lengths[c]!;
    if (length === list.length) {
      const grown = new Int32Array(list.length * 2);
      grown.set(list);
      list = grown;
      this.lists[c] = list;
    }
    list[length] = slot;
    this.lengths[c] = length + 1;
    this.listOfSlot[slot] = c;
    this.posOfSlot[slot] = length;
  }

  remove(slot: number): void {
    if (!this.trained || slot >= this.listOfSlot.length) return;
    const c = this.listOfSlot[slot]!;
    if (c < 0) return;
    const list = this.lists[c]!;
    const last = this.lengths[c]! - 1;
    const pos = this.posOfSlot[slot]!;
    const moved = list[last]!;
    list[pos] = moved;
    this.posOfSlot[moved] = pos;
    this.lengths[c] = last;
    this.listOfSlot[slot] = -1;
  }

  search(
    vector: ArrayLike<number>,
    k: number,
    accept?: (id: string) => boolean,
    probes?: number,
  ): VectorHit[] {
    const { matrix } = this;
    if (!this.trained) return matrix.search(vector, k, accept);
    const q = matrix.query(vector);
    const { dims, data, ids } = matrix;
    const count = this.lists.length;
    const near = new TopK(Math.min(count, probes ?? this.options.probes));
    for (let c = 0; c < count; c++) {
      let dot = 0;
      const base = c * dims;
      for (let d = 0; d < dims; d++) dot += q[d]! * this.centroids[base + d]!;
      near.push(c, dot);
    }
    const top = new TopK(k);
    for (let i = 0; i < near.size; i++) {
      const c = near.slots[i]!;
      const list = this.lists[c]!;
      const length = this.lengths[c]!;
      for (let j = 0; j < length; j++) {
        const slot = list[j]!;
        const base = slot * dims;
        let dot = 0;
        for (let d = 0; d < dims; d++) dot += q[d]! * data[base + d]!;
        if (dot <= top.threshold) continue;
        if (accept && !accept(ids[slot]!)) continue;
        top.push(slot, dot);
      }
    }
    return matrix.hits(top);
  }
}

function nearest(
  centroids: Float32Array,
  count: number,
  dims: number,
  data: Float32Array,
  offset: number,
): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < count; c++) {
    let dot = 0;
    const base = c * dims;
    for (let d = 0; d < dims; d++) dot += centroids[base + d]! * data[offset + d]!;
    if (dot > bestScore) {
      bestScore = dot;
      best = c;
    }
  }
  return best;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
