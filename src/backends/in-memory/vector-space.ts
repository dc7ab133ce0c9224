import { EngramError } from '../../core/errors.js';
import { compareIdsDesc, type MemoryFilter, matchesFilter } from '../../core/filter.js';
import type { MemoryRecord, NativeSearchHit } from '../../core/store-contract.js';
import { cosine, norm } from '../../core/vector/cosine.js';
import { IvfIndex, type IvfOptions } from '../../core/vector/ivf-index.js';
import { VectorMatrix } from '../../core/vector/vector-matrix.js';

/** How the in-memory store indexes embeddings: an exact scan of a Float32Array, or IVF (approximate). */
export type VectorIndexOption = 'exact' | { ivf: IvfOptions };

interface Group {
  model: string;
  matrix: VectorMatrix;
  ivf?: IvfIndex;
}

/** Candidates taken from the index per wanted hit, before exact float64 rescoring picks the final order. */
const MARGIN = 2;

/**
 * One namespace's embeddings grouped by model (and length): a VectorMatrix each, updated as memories
 * are written, so a vector query scans typed arrays instead of copying every embedding out of the store.
 */
export class VectorSpace {
  private readonly groups = new Map<string, Group>();
  private readonly groupOf = new Map<string, string>();

  constructor(private readonly option: VectorIndexOption) {}

  put(record: MemoryRecord): void {
    const { id, embedding, embeddingModel } = record.memory;
    this.delete(id);
    if (!embedding) return;
    const key = `${embeddingModel ?? ''}\u0000${embedding.length}`;
    let group = this.groups.get(key);
    if (!group) {
      group = { model: embeddingModel ?? '', matrix: new VectorMatrix(embedding.length, 64) };
      if (this.option !== 'exact') group.ivf = new IvfIndex(group.matrix, this.option.ivf);
      this.groups.set(key, group);
    }
    const slot = group.matrix.set(id, embedding);
    group.ivf?.add(slot);
    this.groupOf.set(id, key);
  }

  delete(id: string): void {
    const key = this.groupOf.get(id);
    if (key === undefined) return;
    const group = this.groups.get(key)!;
    const slot = group.matrix.slot(id);
    if (slot !== undefined) group.ivf?.remove(slot);
    group.matrix.delete(id);
    this.groupOf.delete(id);
  }

  nearest(
    records: Map<string, MemoryRecord>,
    query: { vector: readonly number[]; model: string; limit: number; filter: MemoryFilter },
  ): { hits: NativeSearchHit[]; otherModels: number } {
    let otherModels = 0;
    const candidates: Array<{ id: string; score: number }> = [];
    const accept = (id: string) => matchesFilter(records.get(id)!.memory, query.filter);
    const normA = norm(query.vector as number[]);
    for (const group of this.groups.values()) {
      if (group.model !== query.model) {
        otherModels += group.matrix.size;
        continue;
      }
      if (group.matrix.size === 0) continue;
      if (group.matrix.dims !== query.vector.length) {
        throw new EngramError(
          'VALIDATION',
          `vector: expected ${group.matrix.dims} dimensions like the stored embeddings, got ${query.vector.length}`,
          { field: 'vector' },
        );
      }
      const want = query.limit * MARGIN + 10;
      if (group.ivf?.stale) group.ivf.train();
      const found = group.ivf
        ? group.ivf.search(query.vector, want, accept)
        : group.matrix.search(query.vector, want, accept);
      for (const { id } of found) {
        candidates.push({
          id,
          score: cosine(query.vector as number[], records.get(id)!.memory.embedding!, normA),
        });
      }
    }
    candidates.sort((a, b) => b.score - a.score || compareIdsDesc(a.id, b.id));
    const hits = candidates
      .slice(0, query.limit)
      .map(({ id, score }) => ({ record: structuredClone(records.get(id)!), score }));
    return { hits, otherModels };
  }
}
