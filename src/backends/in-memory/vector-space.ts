import { compareIdsDesc, type MemoryFilter, matchesFilter } from '../../core/filter.js';
import type { MemoryRecord, NativeSearchHit } from '../../core/store-contract.js';
import { cosine, norm } from '../../core/vector/cosine.js';
import type { VectorSpace } from '../../core/vector/vector-space.js';

/**
 * The in-memory store's vector search: candidates from the namespace's VectorSpace, filtered during the
 * scan, then rescored in float64 from the records' embeddings exactly like core's scan.
 */
export function nearestInMemory(
  space: VectorSpace,
  records: Map<string, MemoryRecord>,
  query: { vector: readonly number[]; model: string; limit: number; filter: MemoryFilter },
): { hits: NativeSearchHit[]; otherModels: number } {
  const accept = (id: string) => matchesFilter(records.get(id)!.memory, query.filter);
  const found = space.nearest(query.vector, query.model, space.candidates(query.limit), accept);
  const normA = norm(query.vector as number[]);
  const scored = found.hits.map(({ id }) => ({
    id,
    score: cosine(query.vector as number[], records.get(id)!.memory.embedding!, normA),
  }));
  scored.sort((a, b) => b.score - a.score || compareIdsDesc(a.id, b.id));
  const hits = scored
    .slice(0, query.limit)
    .map(({ id, score }) => ({ record: structuredClone(records.get(id)!), score }));
  return { hits, otherModels: found.otherModels };
}
