import type { HnswIndex } from './hnsw.js';
import { InvertedList } from './inverted-list.js';
import { kMeans, nearestCentroid, seededRandom } from './k-means.js';
import { TopK } from './top-k.js';
import type { VectorHit, VectorRows } from './vector-rows.js';

export interface IvfOptions {
  /** Lists (centroids); default √n at training time, from 16 to 4 096. */
  lists?: number;
  /** Lists scanned per query (default 48); more is slower and closer to exact. */
  probes?: number;
  /** Vectors below this count are searched exactly (default 5 000): an index would not pay for itself. */
  minTrain?: number;
  /** At most this many vectors k-means learns from (default 4 096; 16 per list if fewer): bounds training. */
  sample?: number;
  /** k-means rounds on that sample (default 5). */
  rounds?: number;
}

/** Centroid groups tried per vector when filing it (see {@link IvfIndex.fileUnder}). */
const GROUPS_TRIED = 8;

/**
 * Approximate search by inverted file (IVF): k-means centroids split the vectors into lists; a query
 * scans only the lists of its nearest centroids. Written here rather than taken from a library because
 * none fits Node, browsers and Workers alike (see {@link HnswIndex} for the libraries weighed).
 *
 * Each list keeps its vectors as int8 codes side by side (IVF-SQ8): a query reads a few contiguous
 * blocks, which is what makes it fast (scanning the same rows scattered over the exact matrix is ~2.5×
 * slower, bound by memory), at a quarter of a Float32 copy. Scores are therefore approximate: callers
 * ask for a few times k candidates and rescore them exactly.
 *
 * Training is bounded: k-means runs on a seeded sample of `sample` vectors, not on all of them, and
 * filing every vector under its centroid goes through a second, coarse level (centroids grouped by
 * k-means too), so a vector is compared with a few groups and their members instead of all √n
 * centroids. A vector added later joins its nearest list at once; training is redone only when the set
 * has doubled since the last one, so its cost is amortised over the adds that caused it.
 */
export class IvfIndex {
  private centroids: Float32Array = new Float32Array(0);
  private groupCentres: Float32Array = new Float32Array(0);
  private groupMembers: Int32Array[] = [];
  private lists: InvertedList[] = [];
  private listOfSlot = new Int32Array(0);
  private posOfSlot = new Int32Array(0);
  private trainedAt = 0;
  private readonly row: Float32Array;
  private readonly options: Required<IvfOptions>;
  /** How long the last `train()` took, in ms (0 before the first). */
  lastTrainMs = 0;

  constructor(
    readonly matrix: VectorRows,
    options: IvfOptions = {},
  ) {
    this.options = {
      lists: options.lists ?? 0,
      probes: options.probes ?? 48,
      minTrain: options.minTrain ?? 5000,
      sample: options.sample ?? 4096,
      rounds: options.rounds ?? 5,
    };
    this.row = new Float32Array(matrix.dims);
  }

  get trained(): boolean {
    return this.lists.length > 0;
  }

  /** True when the set has doubled since training (or reached the size where an index pays). */
  get stale(): boolean {
    const n = this.matrix.size;
    return this.trained ? n > this.trainedAt * 2 : n >= this.options.minTrain;
  }

  /** Bytes held by the lists (codes, scales, slots) and centroids. */
  get bytes(): number {
    let bytes = (this.centroids.length + this.groupCentres.length) * 4 + this.listOfSlot.length * 8;
    for (const list of this.lists) bytes += list.bytes;
    return bytes;
  }

  /** k-means on a bounded sample, then every row filed under its nearest centroid. */
  train(random: () => number = seededRandom(1)): void {
    const started = performance.now();
    const { matrix } = this;
    const { dims } = matrix;
    const live: number[] = [];
    for (let slot = 0; slot < matrix.rows; slot++) if (matrix.ids[slot] !== undefined) live.push(slot);
    const count = Math.min(
      live.length,
      this.options.lists || Math.min(4096, Math.max(16, Math.round(Math.sqrt(live.length)))),
    );
    // 16 vectors per list are plenty for k-means; `sample` caps the total, 4 per list is the floor.
    const take = Math.min(live.length, Math.max(count * 4, Math.min(this.options.sample, count * 16)));
    const sample = new Float32Array(take * dims);
    // A partial Fisher–Yates shuffle: the first `take` slots become a uniform sample.
    for (let i = 0; i < take; i++) {
      const j = i + Math.floor(random() * (live.length - i));
      [live[i], live[j]] = [live[j]!, live[i]!];
      matrix.rowInto(live[i]!, sample, i * dims);
    }
    this.centroids = kMeans(sample, take, dims, count, this.options.rounds, random);
    const groups = Math.max(1, Math.round(Math.sqrt(count)));
    this.groupCentres = kMeans(this.centroids, count, dims, groups, 4, random);
    const members: number[][] = Array.from({ length: groups }, () => []);
    for (let c = 0; c < count; c++) {
      members[nearestCentroid(this.groupCentres, groups, dims, this.centroids, c * dims)]!.push(c);
    }
    this.groupMembers = members.map((m) => Int32Array.from(m));
    this.lists = Array.from({ length: count }, () => new InvertedList(dims));
    this.listOfSlot = new Int32Array(Math.max(matrix.rows, 1024)).fill(-1);
    this.posOfSlot = new Int32Array(this.listOfSlot.length);
    for (const slot of live) this.add(slot);
    this.trainedAt = live.length;
    this.lastTrainMs = performance.now() - started;
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
    this.matrix.rowInto(slot, this.row);
    const c = this.fileUnder(this.row);
    this.listOfSlot[slot] = c;
    this.posOfSlot[slot] = this.lists[c]!.push(slot, this.row);
  }

  remove(slot: number): void {
    if (!this.trained || slot >= this.listOfSlot.length) return;
    const c = this.listOfSlot[slot]!;
    if (c < 0) return;
    const moved = this.lists[c]!.removeAt(this.posOfSlot[slot]!);
    if (moved !== undefined) this.posOfSlot[moved] = this.posOfSlot[slot]!;
    this.listOfSlot[slot] = -1;
  }

  /**
   * The k best candidates by the lists' int8 scores, best first (the scores are approximate: rescore
   * them). Before training, an exact scan of the rows.
   */
  search(
    vector: ArrayLike<number>,
    k: number,
    accept?: (id: string) => boolean,
    probes?: number,
  ): VectorHit[] {
    const { matrix } = this;
    if (!this.trained) return matrix.search(vector, k, accept);
    const q = matrix.query(vector);
    const { dims, ids } = matrix;
    const count = this.lists.length;
    const near = new TopK(Math.min(count, probes ?? this.options.probes));
    for (let c = 0; c < count; c++) near.push(c, dotAt(q, this.centroids, c * dims, dims));
    const top = new TopK(k);
    for (let i = 0; i < near.size; i++) this.lists[near.slots[i]!]!.scan(q, top, ids, accept);
    return matrix.hits(top);
  }

  /** The list for a unit row: its nearest centroid among the members of its few nearest groups. */
  private fileUnder(row: Float32Array): number {
    const { dims } = this.matrix;
    const { groupCentres, groupMembers, centroids } = this;
    const groups = new TopK(Math.min(GROUPS_TRIED, groupMembers.length));
    for (let g = 0; g < groupMembers.length; g++) groups.push(g, dotAt(row, groupCentres, g * dims, dims));
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < groups.size; i++) {
      for (const c of groupMembers[groups.slots[i]!]!) {
        const score = dotAt(row, centroids, c * dims, dims);
        if (score > bestScore) {
          bestScore = score;
          best = c;
        }
      }
    }
    return best;
  }
}

function dotAt(q: Float32Array, data: Float32Array, base: number, dims: number): number {
  let dot = 0;
  for (let d = 0; d < dims; d++) dot += q[d]! * data[base + d]!;
  return dot;
}
