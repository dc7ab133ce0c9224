import type { Explanation } from './model.js';

/**
 * The parts of an explanation in one fixed order, so that whoever adds a part (a vector similarity, a
 * fusion term, a boost) and whoever checks the sum agree: `score` is exactly the sum of these.
 */
export function explanationParts(explain: Explanation): number[] {
  return [
    ...Object.values(explain.text ?? {}),
    ...(explain.vector === undefined ? [] : [explain.vector]),
    ...(explain.fused === undefined ? [] : [explain.fused]),
    ...Object.values(explain.boosts ?? {}),
  ];
}

/** The score an explanation adds up to. */
export function explainedScore(explain: Explanation): number {
  return explanationParts(explain).reduce((sum, part) => sum + part, 0);
}

/** Text parts as explain shows them: each clause's label and its share, in clause order. */
export function textExplanation(parts: ReadonlyArray<readonly [string, number]>): Explanation {
  const text: { [term: string]: number } = {};
  for (const [label, share] of parts) text[label] = share;
  return { text };
}

/** The same explanation scaled by `factor` (hybrid search turns a list's score into its fused share). */
export function scaleExplanation(explain: Explanation, factor: number): Explanation {
  const scaled: Explanation = {};
  if (explain.text) {
    scaled.text = Object.fromEntries(Object.entries(explain.text).map(([k, v]) => [k, v * factor]));
  }
  if (explain.vector !== undefined) scaled.vector = explain.vector * factor;
  if (explain.fused !== undefined) scaled.fused = explain.fused * factor;
  if (explain.boosts) {
    scaled.boosts = Object.fromEntries(Object.entries(explain.boosts).map(([k, v]) => [k, v * factor]));
  }
  return scaled;
}

/** Two explanations of one memory side by side (text from one list, vector from another). */
export function mergeExplanations(a: Explanation | undefined, b: Explanation): Explanation {
  if (!a) return b;
  const merged: Explanation = { ...a };
  if (b.text) merged.text = { ...a.text, ...b.text };
  if (b.vector !== undefined) merged.vector = (a.vector ?? 0) + b.vector;
  if (b.fused !== undefined) merged.fused = (a.fused ?? 0) + b.fused;
  if (b.boosts) merged.boosts = { ...a.boosts, ...b.boosts };
  return merged;
}
