import { TopK } from './top-k.js';
import { normalizeInto, type VectorHit, VectorRows } from './vector-rows.js';

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

  /** The scan inlined on the Float32Array: this is the exact search's hot loop. */
  override search(vector: ArrayLike<number>, k: number, accept?: (id: string) => boolean): VectorHit[] {
    const q = this.query(vector);
    const { data, dims, ids } = this;
    const top = new TopK(k, ids);
    const rows = ids.length;
    for (let slot = 0, base = 0; slot < rows; slot++, base += dims) {
      const id = ids[slot];
      if (id === undefined) continue;
      let dot = 0;
      for (let d = 0; d < dims; d++) dot += q[d]! * data[base + d]!;
      if (Math.fround(dot) < top.threshold) continue;
      if (accept && !accept(id)) continue;
      top.push(slot, dot);
    }
    return this.hits(top);
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
