import { mergeExplanations, scaleExplanation } from './explain.js';
import { compareIdsDesc } from './filter.js';
import type { NativeSearchHit } from './store-contract.js';

/**
 * Reciprocal-rank-fusion constant: a memory ranked r (from 1) in a list gets 1 / (RRF_K + r) from it, so
 * one first in both lists scores 1. The usual 60 makes ranks 1 to 50 worth almost the same (1/61 to
 * 1/110): fusion then favours what both lists hold somewhere over what either ranks first, and on the
 * quality set (docs/search.md, "Hybrid fusion") it did no better than the better list alone (worse than
 * text at 432 memories a namespace). With 1 the top of each list leads; recall@10 and MRR rose for both
 * stand-in embedders on every seed, and anything from 0 to 3 measured the same.
 */
const RRF_K = 1;

/**
 * Reciprocal rank fusion. With explain, each list's explanation is scaled to that list's share of the
 * fused score (1 / (RRF_K + rank), rank from 1), so the parts still add up to the score.
 */
export function fuse(lists: readonly NativeSearchHit[][], limit: number): NativeSearchHit[] {
  const fused = new Map<string, NativeSearchHit>();
  for (const list of lists) {
    list.forEach((hit, rank) => {
      const id = hit.record.memory.id;
      const prior = fused.get(id);
      const share = 1 / (RRF_K + rank + 1);
      const score = (prior?.score ?? 0) + share;
      const next: NativeSearchHit = { record: hit.record, score };
      if (hit.explain) {
        const factor = hit.score === 0 ? 0 : share / hit.score;
        const part = hit.score === 0 ? { fused: share } : scaleExplanation(hit.explain, factor);
        next.explain = mergeExplanations(prior?.explain, part);
      }
      fused.set(id, next);
    });
  }
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || compareIdsDesc(a.record.memory.id, b.record.memory.id))
    .slice(0, limit);
}
