import type { Memory, SearchHit } from './model.js';

const DAY_MS = 86_400_000;
const DEFAULT_WEIGHT = 0.5;

/** Opt-in ranking boosts: `search(q, { boost })`. Without it, ranking is pure relevance. */
export interface SearchBoost {
  /** Lifts recent facts: up to `weight` (default 0.5) × relevance, halving every `halfLifeDays` of age. */
  recency?: { halfLifeDays: number; weight?: number };
  /** Lifts important memories by `importance` × this weight (`true` = 0.5) × relevance. */
  importance?: boolean | number;
}

/** The share of a hit's relevance each boost adds; these are the `boosts` parts of `explain`. */
export function boostContributions(
  memory: Memory,
  relevance: number,
  boost: SearchBoost,
  at: number,
): Record<string, number> {
  const parts: Record<string, number> = {};
  if (boost.recency) {
    const since = Date.parse(memory.validFrom ?? memory.createdAt);
    const ageDays = Math.max(0, (at - since) / DAY_MS);
    const weight = boost.recency.weight ?? DEFAULT_WEIGHT;
    parts.recency = relevance * weight * 2 ** (-ageDays / boost.recency.halfLifeDays);
  }
  if (boost.importance !== undefined && boost.importance !== false) {
    const weight = boost.importance === true ? DEFAULT_WEIGHT : boost.importance;
    parts.importance = relevance * weight * (memory.importance ?? 0);
  }
  return parts;
}

/**
 * Re-ranks hits with the boosts added to their scores. Boosts only ever add, so a relevant memory is
 * never pushed below zero or dropped: it can only be overtaken. Equal scores stay by id descending.
 */
export function applyBoost(hits: readonly SearchHit[], boost: SearchBoost, at: number, limit: number) {
  return hits
    .map((hit) => {
      const boosts = boostContributions(hit.memory, hit.score, boost, at);
      const extra = Object.values(boosts).reduce((sum, part) => sum + part, 0);
      const boosted: SearchHit = { memory: hit.memory, score: hit.score + extra };
      // With explain, the boosts are parts of the score like the rest: the parts still add up.
      if (hit.explain) boosted.explain = { ...hit.explain, boosts };
      return { hit: boosted, boosts };
    })
    .sort(
      (a, b) =>
        b.hit.score - a.hit.score ||
        (a.hit.memory.id < b.hit.memory.id ? 1 : a.hit.memory.id > b.hit.memory.id ? -1 : 0),
    )
    .slice(0, limit);
}
