import { compareIdsDesc } from '../filter.js';
import type { MemoryRecord, NativeSearchHit } from '../store-contract.js';
import { cosine, norm } from './cosine.js';

/**
 * How every store's vector search ends: the candidate records (each with an embedding), whatever chose
 * them (a matrix scan, IVF, HNSW, pgvector), scored by core's float64 cosine against `vector`, best first,
 * equal scores by id descending, cut to `limit`. So scores never depend on the index that found them.
 */
export function rankExactly(
  vector: readonly number[],
  candidates: readonly MemoryRecord[],
  limit: number,
): NativeSearchHit[] {
  const normA = norm(vector as number[]);
  return candidates
    .map((record) => ({ record, score: cosine(vector as number[], record.memory.embedding!, normA) }))
    .sort((a, b) => b.score - a.score || compareIdsDesc(a.record.memory.id, b.record.memory.id))
    .slice(0, limit);
}
