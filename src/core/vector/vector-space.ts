import { Int8Matrix } from './int8-matrix.js';
import { IvfIndex } from './ivf-index.js';
import { VectorMatrix } from './vector-matrix.js';
import type { VectorOptions } from './vector-options.js';
import type { VectorHit, VectorRows } from './vector-rows.js';

interface Group {
  model: string;
  rows: VectorRows;
  ivf?: IvfIndex;
}

/**
 * One namespace's embeddings in memory, grouped by model (and length): a Float32 or int8 matrix each,
 * with an IVF index over it when asked for, updated write by write. It only chooses candidates: the
 * store rescores them in float64 from the full embeddings, so exact mode returns exactly core's scores.
 */
export class VectorSpace {
  private readonly groups = new Map<string, Group>();
  private readonly groupOf = new Map<string, string>();

  constructor(private readonly options: Required<Omit<VectorOptions, 'ivf'>> & Pick<VectorOptions, 'ivf'>) {}

  /** Whether candidates come from an approximate order (int8 or IVF), which calls for a wider net. */
  get approximate(): boolean {
    return this.options.index === 'ivf' || this.options.quantize === 'int8';
  }

  /** How many candidates to take for `limit` results before the exact rescoring picks the final order. */
  candidates(limit: number): number {
    return limit * (this.approximate ? 4 : 2) + 10;
  }

  get size(): number {
    return this.groupOf.size;
  }

  put(id: string, embedding: ArrayLike<number> | undefined, model: string | undefined): void {
    this.delete(id);
    if (!embedding) return;
    const key = `${model ?? ''}\u0000${embedding.length}`;
    let group = this.groups.get(key);
    if (!group) {
      const rows =
        this.options.quantize === 'int8'
          ? new Int8Matrix(embedding.length, 64)
          : new VectorMatrix(embedding.length, 64);
      group = { model: model ?? '', rows };
      if (this.options.index === 'ivf') group.ivf = new IvfIndex(rows, this.options.ivf);
      this.groups.set(key, group);
    }
    const slot = group.rows.set(id, embedding);
    group.ivf?.add(slot);
    this.groupOf.set(id, key);
  }

  delete(id: string): void {
    const key = this.groupOf.get(id);
    if (key === undefined) return;
    const group = this.groups.get(key)!;
    const slot = group.rows.slot(id);
    if (slot !== undefined) group.ivf?.remove(slot);
    group.rows.delete(id);
    this.groupOf.delete(id);
  }

  /**
   * The `want` best candidates of `model` (training the IVF index first if the group outgrew it), and how
   * many embeddings of other models were skipped. A length that differs from the group's is a
   * VALIDATION error, as in core's scan.
   */
  nearest(
    vector: readonly number[],
    model: string,
    want: number,
    accept?: (id: string) => boolean,
  ): { hits: VectorHit[]; otherModels: number } {
    let otherModels = 0;
    const hits: VectorHit[] = [];
    for (const group of this.groups.values()) {
      if (group.model !== model) {
        otherModels += group.rows.size;
        continue;
      }
      if (group.rows.size === 0) continue;
      group.rows.checkDims(vector, 'vector');
      if (group.ivf?.stale) group.ivf.train();
      hits.push(
        ...(group.ivf ? group.ivf.search(vector, want, accept) : group.rows.search(vector, want, accept)),
      );
    }
    return { hits, otherModels };
  }

  /** Trains every IVF index that needs it now, rather than on the next search. */
  train(): void {
    for (const group of this.groups.values()) if (group.ivf?.stale) group.ivf.train();
  }

  /** Milliseconds the IVF trainings of this space took, summed over groups (for measuring rebuilds). */
  get trainMs(): number {
    let ms = 0;
    for (const group of this.groups.values()) ms += group.ivf?.lastTrainMs ?? 0;
    return ms;
  }
}
