import { EngramError } from '../errors.js';
import { largestComponent, plainlySummable } from './cosine.js';
import { TopK } from './top-k.js';

export interface VectorHit {
  id: string;
  score: number;
}

/**
 * Scales a vector to unit length into `out` (cosine becomes a dot product); a zero vector stays zero.
 * Huge or tiny components are first divided by the largest one (see cosine.ts), so that neither the
 * sum of squares nor its inverse overflows or vanishes.
 */
export function normalizeInto(vector: ArrayLike<number>, out: Float32Array, offset = 0): void {
  let squared = 0;
  for (let i = 0; i < vector.length; i++) squared += vector[i]! * vector[i]!;
  let divisor = 1;
  if (!plainlySummable(squared)) {
    divisor = largestComponent(vector);
    if (divisor === 0 || !Number.isFinite(divisor)) {
      out.fill(0, offset, offset + vector.length);
      return;
    }
    squared = 0;
    for (let i = 0; i < vector.length; i++) squared += (vector[i]! / divisor) ** 2;
  }
  const scale = 1 / Math.sqrt(squared);
  if (divisor === 1) for (let i = 0; i < vector.length; i++) out[offset + i] = vector[i]! * scale;
  else for (let i = 0; i < vector.length; i++) out[offset + i] = (vector[i]! / divisor) * scale;
}

/**
 * Unit vectors of one length kept in one slot each, by id: the bookkeeping shared by the Float32 matrix
 * (exact) and the int8 one (quantised). Deleted slots are reused, so storage stays as large as the live
 * set at its peak; a search allocates one query copy and a k-sized heap, never an array per vector.
 */
export abstract class VectorRows {
  readonly ids: Array<string | undefined> = [];
  private readonly slotOf = new Map<string, number>();
  private readonly free: number[] = [];

  /**
   * With `recycle` off, a deleted row keeps its slot and values (a graph index still routes through
   * it) and new rows always take fresh slots.
   */
  constructor(
    readonly dims: number,
    readonly recycle = true,
  ) {}

  /** Bytes held by the vector storage (the ids aside). */
  abstract get bytes(): number;
  /** Dot product of a unit query with the row at `slot`. */
  abstract score(query: Float32Array, slot: number): number;
  /** The row at `slot` as floats (decoded when quantised). */
  abstract rowInto(slot: number, out: Float32Array, offset?: number): void;
  protected abstract write(slot: number, vector: ArrayLike<number>): void;
  protected abstract clear(slot: number): void;
  protected abstract ensure(rows: number): void;

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
    this.write(slot, vector);
    return slot;
  }

  /** Removes; returns the freed slot. */
  delete(id: string): number | undefined {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return undefined;
    this.slotOf.delete(id);
    this.ids[slot] = undefined;
    if (this.recycle) {
      this.clear(slot);
      this.free.push(slot);
    }
    return slot;
  }

  query(vector: ArrayLike<number>): Float32Array {
    this.checkDims(vector, 'vector');
    const q = new Float32Array(this.dims);
    normalizeInto(vector, q);
    return q;
  }

  /** The k nearest by cosine (as stored), best first; `accept` filters by id during the scan. */
  search(vector: ArrayLike<number>, k: number, accept?: (id: string) => boolean): VectorHit[] {
    const q = this.query(vector);
    const { ids } = this;
    const top = new TopK(k, ids);
    for (let slot = 0; slot < ids.length; slot++) {
      const id = ids[slot];
      if (id === undefined) continue;
      const dot = this.score(q, slot);
      if (Math.fround(dot) < top.threshold) continue;
      if (accept && !accept(id)) continue;
      top.push(slot, dot);
    }
    return this.hits(top);
  }

  hits(top: TopK): VectorHit[] {
    return top.sorted().map(({ slot, score }) => ({ id: this.ids[slot]!, score }));
  }
}
