import { type MemoryFilter, matchesFilter } from '../../core/filter.js';
import type { MemoryRecord, NativeSearchHit } from '../../core/store-contract.js';
import { rankExactly } from '../../core/vector/rank-exactly.js';
import type { VectorSpace } from '../../core/vector/vector-space.js';

/**
 * The in-memory store's vector search: candidates from the namespace's VectorSpace, filtered during the
 * scan, then rescored in float64 from the records' embeddings exactly like core's scan.
 */
export function nearestInMemory(
  space: VectorSpace,
  records: Map<string, MemoryRecord>,
  query: { vector: readonly number[]; model?: string; limit: number; filter: MemoryFilter },
): { hits: NativeSearchHit[]; otherModels: number } {
  const accept = (id: string) => matchesFilter(records.get(id)!.memory, query.filter);
  const found = space.nearest(query.vector, query.model, space.candidates(query.limit), accept);
  const candidates = found.hits.map(({ id }) => records.get(id)!);
  const hits = rankExactly(query.vector, candidates, query.limit).map(({ record, score }) => ({
    record: structuredClone(record),
    score,
  }));
  return { hits, otherModels: found.otherModels };
}
