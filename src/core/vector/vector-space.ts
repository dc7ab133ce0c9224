import type * as Approximate from './approximate.js';
import type { HnswIndex } from './hnsw.js';
import type { IvfIndex } from './ivf-index.js';
import { LengthTally } from './query-length.js';
import { VectorMatrix } from './vector-matrix.js';
import type { VectorOptions } from './vector-options.js';
import type { VectorHit, VectorRows } from './vector-rows.js';

/** The IVF, HNSW and int8 code, which only `vectors` options other than the default need. */
export type ApproximateKit = typeof Approximate;

type SpaceOptions = Required<Omit<VectorOptions, 'ivf' | 'hnsw'>> & Pick<VectorOptions, 'ivf' | 'hnsw'>;

const needsApproximate = (options: SpaceOptions): boolean =>
  options.index !== 'exact' || options.quantize === 'int8';

/**
 * The code a VectorSpace with these options needs beyond exact Float32 rows (undefined when it needs
 * none): a dynamic import, so the default bundle does not carry the indexes.
 */
export async function loadApproximate(options: SpaceOptions): Promise<ApproximateKit | undefined> {
  return needsApproximate(options) ? import('./approximate.js') : undefined;
}

interface Group {
  model: string;
  rows: VectorRows;
  ivf?: IvfIndex;
  hnsw?: HnswIndex;
}

/**
 * Deleted nodes keep routing HNSW queries but cost memory and walk time; past this share of the graph
 * it is rebuilt from the live rows at the next search (measured in the bench).
 */
const HNSW_REBUILD_SHARE = 0.5;

/**
 * One namespace's embeddings in memory, grouped by model (and length): a Float32 or int8 matrix each,
 * with an IVF index over it when asked for, updated write by write. It only chooses candidates: the
 * store rescores them in float64 from the full embeddings, so exact mode returns exactly core's scores.
 */
export class VectorSpace {
  private readonly groups = new Map<string, Group>();
  private readonly groupOf = new Map<string, string>();

  /** Milliseconds the HNSW rebuilds (after many deletes) took, summed. */
  rebuildMs = 0;

  /**
   * `loaded` returns what `loadApproximate(options)` loaded; the store loads it before its first
   * write or search, and a space made earlier (a read) picks it up then.
   */
  constructor(
    private readonly options: SpaceOptions,
    private readonly loaded: () => ApproximateKit | undefined = () => undefined,
  ) {}

  private kit(): ApproximateKit {
    const kit = this.loaded();
    // A store bug, not a user error: the options were validated, only the load was skipped.
    if (!kit) throw new Error('VectorSpace: loadApproximate() must finish before the first write or search');
    return kit;
  }

  /** Whether candidates come from an approximate order (int8, IVF or HNSW), which calls for a wider net. */
  get approximate(): boolean {
    return needsApproximate(this.options);
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
      const rows = this.rowsFor(embedding.length, 64);
      group = { model: model ?? '', rows };
      if (this.options.index === 'ivf') group.ivf = new (this.kit().IvfIndex)(rows, this.options.ivf);
      if (this.options.index === 'hnsw') group.hnsw = new (this.kit().HnswIndex)(rows, this.options.hnsw);
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
   * The `want` best candidates of `model` (of every model when undefined: each group's best, together),
   * training the IVF index first if the group outgrew it, and how many embeddings of other models, or of
   * another length, were skipped. When the compared embeddings all have another length, a VALIDATION
   * error, as in core's scan (LengthTally).
   */
  nearest(
    vector: readonly number[],
    model: string | undefined,
    want: number,
    accept?: (id: string) => boolean,
  ): { hits: VectorHit[]; otherModels: number } {
    let otherModels = 0;
    const lengths = new LengthTally(vector.length);
    const hits: VectorHit[] = [];
    for (const group of this.groups.values()) {
      if (model !== undefined && group.model !== model) {
        otherModels += group.rows.size;
        continue;
      }
      if (!lengths.admits(group.rows.dims, group.rows.size)) continue;
      if (group.ivf?.stale) group.ivf.train();
      if (group.hnsw && group.hnsw.deletedShare > HNSW_REBUILD_SHARE) this.rebuild(group);
      const index = group.ivf ?? group.hnsw ?? group.rows;
      hits.push(...index.search(vector, want, accept));
    }
    return { hits, otherModels: otherModels + lengths.settle() };
  }

  /**
   * Trains every IVF index that needs it, and links pending rows into every HNSW graph (within
   * `hnsw.linkMs`, if set), now.
   */
  train(): void {
    for (const group of this.groups.values()) {
      if (group.ivf?.stale) group.ivf.train();
      group.hnsw?.catchUp(this.options.hnsw?.linkMs);
    }
  }

  /**
   * Milliseconds the IVF trainings (the last of each group) or HNSW linking (over the graphs' life)
   * took, summed over groups (for measuring rebuilds).
   */
  get trainMs(): number {
    let ms = 0;
    for (const group of this.groups.values()) ms += group.ivf?.lastTrainMs ?? group.hnsw?.buildMs ?? 0;
    return ms;
  }

  private rowsFor(dims: number, capacity: number): VectorRows {
    // An HNSW node is its slot, so its rows must not be reused (see HnswIndex).
    const recycle = this.options.index !== 'hnsw';
    return this.options.quantize === 'int8'
      ? new (this.kit().Int8Matrix)(dims, capacity, recycle)
      : new VectorMatrix(dims, capacity, recycle);
  }

  /** A fresh matrix of the live rows and a graph over them, replacing one grown heavy with deletes. */
  private rebuild(group: Group): void {
    const started = performance.now();
    const old = group.rows;
    const rows = this.rowsFor(old.dims, Math.max(64, old.size));
    const row = new Float32Array(old.dims);
    for (let slot = 0; slot < old.rows; slot++) {
      const id = old.ids[slot];
      if (id === undefined) continue;
      old.rowInto(slot, row);
      rows.set(id, row);
    }
    group.rows = rows;
    group.hnsw = new (this.kit().HnswIndex)(rows, this.options.hnsw);
    group.hnsw.catchUp(this.options.hnsw?.linkMs);
    this.rebuildMs += performance.now() - started;
  }
}
