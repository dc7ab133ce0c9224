import { TopK } from './top-k.js';
import { normalizeInto, type VectorHit } from './vector-matrix.js';

/**
 * Scalar-quantised vectors: each unit vector stored as int8 codes with one float scale per row, a
 * quarter of the Float32 matrix. Search ranks by the quantised dot product, then rescores the best
 * `k × rescore` candidates exactly with `exact(id)` (full vectors read from the store), which recovers
 * the order the quantisation blurred.
 */
export class Int8Matrix {
  codes: Int8Array;
  scales: Float32Array;
  readonly ids: string[] = [];
  private readonly scratch: Float32Array;

  constructor(
    readonly dims: number,
    capacity = 1024,
  ) {
    this.codes = new Int8Array(dims * capacity);
    this.scales = new Float32Array(capacity);
    this.scratch = new Float32Array(dims);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Bytes held by the codes and scales (the ids aside). */
  get bytes(): number {
    return this.ids.length * (this.dims + 4);
  }

  add(id: string, vector: ArrayLike<number>): void {
    const slot = this.ids.length;
    this.ids.push(id);
    if ((slot + 1) * this.dims > this.codes.length) {
      const codes = new Int8Array(this.codes.length * 2);
      codes.set(this.codes);
      this.codes = codes;
      const scales = new Float32Array(this.scales.length * 2);
      scales.set(this.scales);
      this.scales = scales;
    }
    normalizeInto(vector, this.scratch);
    let max = 0;
    for (let d = 0; d < this.dims; d++) max = Math.max(max, Math.abs(this.scratch[d]!));
    const scale = max === 0 ? 0 : 127 / max;
    const base = slot * this.dims;
    for (let d = 0; d < this.dims; d++) this.codes[base + d] = Math.round(this.scratch[d]! * scale);
    this.scales[slot] = scale === 0 ? 0 : 1 / scale;
  }

  search(
    vector: ArrayLike<number>,
    k: number,
    options: { rescore?: number; exact?: (id: string) => ArrayLike<number> | undefined } = {},
  ): VectorHit[] {
    const q = new Float32Array(this.dims);
    normalizeInto(vector, q);
    const wanted = options.exact ? k * (options.rescore ?? 4) : k;
    const top = new TopK(wanted);
    const { codes, scales, dims } = this;
    for (let slot = 0, base = 0; slot < this.ids.length; slot++, base += dims) {
      let dot = 0;
      for (let d = 0; d < dims; d++) dot += q[d]! * codes[base + d]!;
      top.push(slot, dot * scales[slot]!);
    }
    const candidates = top.sorted().map(({ slot, score }) => ({ id: this.ids[slot]!, score }));
    if (!options.exact) return candidates;
    const rescored = new TopK(k);
    const unit = new Float32Array(dims);
    candidates.forEach(({ id }, i) => {
      const full = options.exact!(id);
      if (!full) return;
      normalizeInto(full, unit);
      let dot = 0;
      for (let d = 0; d < dims; d++) dot += q[d]! * unit[d]!;
      rescored.push(i, dot);
    });
    return rescored.sorted().map(({ slot, score }) => ({ id: candidates[slot]!.id, score }));
  }
}
