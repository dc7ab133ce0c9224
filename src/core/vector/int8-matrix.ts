import { TopK } from './top-k.js';
import { normalizeInto, type VectorHit, VectorRows } from './vector-rows.js';

/**
 * Scalar-quantised vectors: each unit vector stored as int8 codes with one float scale per row, a
 * quarter of the Float32 matrix. A scan ranks by the quantised dot product; callers rescore the best
 * few times k exactly from the full vectors (kept elsewhere: the store's records), which recovers the
 * order the quantisation blurred.
 */
export class Int8Matrix extends VectorRows {
  codes: Int8Array;
  scales: Float32Array;
  private readonly scratch: Float32Array;

  constructor(dims: number, capacity = 1024, recycle = true) {
    super(dims, recycle);
    this.codes = new Int8Array(dims * capacity);
    this.scales = new Float32Array(capacity);
    this.scratch = new Float32Array(dims);
  }

  get bytes(): number {
    return this.rows * (this.dims + 4);
  }

  score(query: Float32Array, slot: number): number {
    const { codes, dims } = this;
    const base = slot * dims;
    let dot = 0;
    for (let d = 0; d < dims; d++) dot += query[d]! * codes[base + d]!;
    return dot * this.scales[slot]!;
  }

  rowInto(slot: number, out: Float32Array, offset = 0): void {
    const scale = this.scales[slot]!;
    const base = slot * this.dims;
    for (let d = 0; d < this.dims; d++) out[offset + d] = this.codes[base + d]! * scale;
  }

  /**
   * The k nearest; with `exact` (the full vector of an id), the best `k × rescore` by the quantised
   * score are rescored exactly and the k best of those returned.
   */
  override search(
    vector: ArrayLike<number>,
    k: number,
    accept?: (id: string) => boolean,
    options: { rescore?: number; exact?: (id: string) => ArrayLike<number> | undefined } = {},
  ): VectorHit[] {
    const { exact } = options;
    const candidates = super.search(vector, exact ? k * (options.rescore ?? 4) : k, accept);
    if (!exact) return candidates;
    const q = this.query(vector);
    const rescored = new TopK(k);
    const unit = new Float32Array(this.dims);
    candidates.forEach(({ id }, i) => {
      const full = exact(id);
      if (!full) return;
      normalizeInto(full, unit);
      let dot = 0;
      for (let d = 0; d < this.dims; d++) dot += q[d]! * unit[d]!;
      rescored.push(i, dot);
    });
    return rescored.sorted().map(({ slot, score }) => ({ id: candidates[slot]!.id, score }));
  }

  protected write(slot: number, vector: ArrayLike<number>): void {
    const { dims, scratch } = this;
    normalizeInto(vector, scratch);
    let max = 0;
    for (let d = 0; d < dims; d++) max = Math.max(max, Math.abs(scratch[d]!));
    const scale = max === 0 ? 0 : 127 / max;
    const base = slot * dims;
    for (let d = 0; d < dims; d++) this.codes[base + d] = Math.round(scratch[d]! * scale);
    this.scales[slot] = scale === 0 ? 0 : 1 / scale;
  }

  protected clear(slot: number): void {
    this.codes.fill(0, slot * this.dims, (slot + 1) * this.dims);
    this.scales[slot] = 0;
  }

  protected ensure(rows: number): void {
    if (rows <= this.scales.length) return;
    const capacity = Math.max(rows, this.scales.length * 2);
    const codes = new Int8Array(capacity * this.dims);
    codes.set(this.codes);
    this.codes = codes;
    const scales = new Float32Array(capacity);
    scales.set(this.scales);
    this.scales = scales;
  }
}
