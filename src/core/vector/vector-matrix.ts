import { EngramError } from '../errors.js';
import { TopK } from './top-k.js';

export interface VectorHit {
  id: string;
  score: number;
}

/** Scales a vector to unit length into `out` (cosine becomes a dot product); a zero vector stays zero. */
export function normalizeInto(vector: ArrayLike<number>, out: Float32Array, offset = 0): void {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
  const scale = norm === 0 ? 0 : 1 / Math.sqrt(norm);
  for (let i = 0; i < vector.length; i++) out[offset + i] = vector[i]! * scale;
}

/**
 * Exact cosine search over vectors of one model kept in one growable Float32Array, unit length, one row
 * per slot. A search allocates one query copy and a k-sized heap, never an array per stored vector.
 * Deleted slots are reused, so the matrix stays as large as the live set at its peak.
 */
export class VectorMatrix {
  data: Float32Array;
  readonly ids: Array<string | undefined> = [];
  private readonly slotOf = new Map<string, number>();
  private readonly free: number[] = [];

  constructor(
    readonly dims: number,
    capacity = 1024,
  ) {
    this.data = new Float32Array(dims * capacity);
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** Slots in use plus freed ones: the rows a full scan visits. */
  get rows(): number {
    return this.ids.length;
  }

  slot(id: string): number | undefined {
    return this.slotOf.get(id);
  }

  checkDims(vector: ArrayLike<number>, field: string): void {
    if (vector.length !== this.dims) {
      throw new EngramError(
        'VALIDATION',
        `${field}: expected ${this.dims} dimensions like the stored embeddings, got ${vector.length}`,
        { field },
      );
    }
  }

  /** Adds or replaces; returns the slot. */
  set(id: string, vector: ArrayLike<number>): number {
    this.checkDims(vector, 'embedding');
    let slot = this.slotOf.get(id);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.ids.length;
      if (slot === this.ids.length) this.ids.push(id);
      else this.ids[slot] = id;
      this.slotOf.set(id, slot);
      this.ensure(slot + 1);
    }
    normalizeInto(vector, this.data, slot * this.dims);
    return slot;
  }

  /** Removes; returns the freed slot. */
  delete(id: string): number | undefined {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return undefined;
    this.slotOf.delete(id);
    this.ids[slot] = undefined;
    this.data.fill(0, slot * this.dims, (slot + 1) * this.dims);
    this.free.push(slot);
    return slot;
  }

  /** Dot product of a unit query with the row at `slot`. */
  score(query: Float32Array, slot: number): number {
    const { data, dims } = this;
    const base = slot * dims;
    let dot = 0;
    for (let d = 0; d < dims; d++) dot += query[d]! * data[base + d]!;
    return dot;
  }

  query(vector: ArrayLike<number>): Float32Array {
    this.checkDims(vector, 'vector');
    const q = new Float32Array(this.dims);
    normalizeInto(vector, q);
    return q;
  }

  /** The k nearest by cosine, best first; `accept` filters by id (kind, tags, expiry) during the scan. */
  search(vector: ArrayLike<number>, k: number, accept?: (id: string) => boolean): VectorHit[] {
    const q = this.query(vector);
    const top = new TopK(k);
    const { data, dims, ids } = this;
    const rows = ids.length;
    for (let slot = 0, base = 0; slot < rows; slot++, base += dims) {
      const id = ids[slot];
      if (id === undefined) continue;
      let dot = 0;
      for (let d = 0; d < dims; d++) dot += q[d]! * data[base + d]!;
      if (dot <= top.threshold) continue;
      if (accept && !accept(id)) continue;
      top.push(slot, dot);
    }
    return this.hits(top);
  }

  hits(top: TopK): VectorHit[] {
    return top.sorted().map(({ slot, score }) => ({ id: this.ids[slot]!, score }));
  }

  private ensure(rows: number): void {
    if (rows * this.dims <= this.data.length) return;
    const grown = new Float32Array(Math.max(rows, (this.data.length / this.dims) * 2) * this.dims);
    grown.set(this.data);
    this.data = grown;
  }
}
