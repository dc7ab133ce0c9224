import { TopK } from './top-k.js';
import { normalizeInto, type VectorHit, VectorRows } from './vector-rows.js';

/**
 * How far apart two rows' float32 scores can lie while their float64 cosines rank the other way: the
 * query and each row are rounded to float32 (2^-24 of each component, so at most 2^-23 of a unit dot
 * product) and the score once more (2^-25), on either side: 2^-21 bounds the sum with room to spare.
 */
const FLOAT32_BLUR = 2 ** -21;

/**
 * Exact cosine search over vectors of one model kept in one growable Float32Array, unit length, one row
 * per slot.
 */
export class VectorMatrix extends VectorRows {
  data: Float32Array;

  constructor(dims: number, capacity = 1024, recycle = true) {
    super(dims, recycle);
    this.data = new Float32Array(dims * capacity);
  }

  get bytes(): number {
    return this.rows * this.dims * 4;
  }

  score(query: Float32Array, slot: number): number {
    const { data, dims } = this;
    const base = slot * dims;
    let dot = 0;
    for (let d = 0; d < dims; d++) dot += query[d]! * data[base + d]!;
    return dot;
  }

  rowInto(slot: number, out: Float32Array, offset = 0): void {
    out.set(this.data.subarray(slot * this.dims, (slot + 1) * this.dims), offset);
  }

  /**
   * The scan inlined on the Float32Array: this is the exact search's hot loop. The k best by float32
   * score, and with them every row that scores within {@link FLOAT32_BLUR} of the k-th: its float64
   * cosine may rank it above one of them, and the caller rescores in float64.
   */
  override search(vector: ArrayLike<number>, k: number, accept?: (id: string) => boolean): VectorHit[] {
    const q = this.query(vector);
    const { data, dims, ids } = this;
    const top = new TopK(k, ids);
    // The best score left out (accepted or not, it is only a hint that a second pass may be needed).
    let leftOut = Number.NEGATIVE_INFINITY;
    const rows = ids.length;
    for (let slot = 0, base = 0; slot < rows; slot++, base += dims) {
      const id = ids[slot];
      if (id === undefined) continue;
      let dot = 0;
      for (let d = 0; d < dims; d++) dot += q[d]! * data[base + d]!;
      const score = Math.fround(dot);
      if (score < top.threshold) {
        if (score > leftOut) leftOut = score;
        continue;
      }
      if (accept && !accept(id)) continue;
      // Full: the pushed row or the root it replaces is left out, scoring at least the threshold.
      if (top.size === k && top.threshold > leftOut) leftOut = top.threshold;
      top.push(slot, dot);
    }
    const floor = top.threshold - FLOAT32_BLUR;
    if (k <= 0 || top.size < k || leftOut < floor) return this.hits(top);
    return this.scoringAtLeast(q, floor, accept);
  }

  /** Every accepted row whose float32 score reaches `floor`, best first (equal scores by id, descending). */
  private scoringAtLeast(q: Float32Array, floor: number, accept?: (id: string) => boolean): VectorHit[] {
    const { ids } = this;
    const slots: number[] = [];
    const scores: number[] = [];
    for (let slot = 0; slot < ids.length; slot++) {
      const id = ids[slot];
      if (id === undefined) continue;
      const dot = this.score(q, slot);
      if (Math.fround(dot) < floor || (accept && !accept(id))) continue;
      slots.push(slot);
      scores.push(dot);
    }
    const all = new TopK(slots.length, ids);
    slots.forEach((slot, i) => {
      all.push(slot, scores[i]!);
    });
    return this.hits(all);
  }

  protected write(slot: number, vector: ArrayLike<number>): void {
    normalizeInto(vector, this.data, slot * this.dims);
  }

  protected clear(slot: number): void {
    this.data.fill(0, slot * this.dims, (slot + 1) * this.dims);
  }

  protected ensure(rows: number): void {
    if (rows * this.dims <= this.data.length) return;
    const grown = new Float32Array(Math.max(rows, (this.data.length / this.dims) * 2) * this.dims);
    grown.set(this.data);
    this.data = grown;
  }
}
