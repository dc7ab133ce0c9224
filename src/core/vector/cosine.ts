/*
 * Embeddings are any finite numbers, so a sum of squares can overflow (components near 1e155 and up) or
 * lose its digits to underflow (near 1e-155 and down): the plain formula then gives NaN or 0 where the
 * cosine is well defined. Both sums are taken plainly first, which is exact enough whenever the squared
 * norms lie in [2^-600, 2^600] (every real embedding); outside it, the vectors are scaled by their
 * largest component, which keeps every term in [-1, 1]. Same float64 steps on every store, so scores
 * stay equal everywhere.
 */

/** Squared norms inside this range are summed plainly: no overflow, and underflowed terms are negligible. */
const SAFE_MIN = 2 ** -600;
const SAFE_MAX = 2 ** 600;
/** Whether a sum of squares was taken without overflow or a significant underflow. */
export const plainlySummable = (squared: number) => squared >= SAFE_MIN && squared <= SAFE_MAX;

/**
 * Rounding can take a cosine a few units past ±1 (`[0.1, 0.2, 0.7]` against three times itself gives
 * 1.0000000000000002): held to [-1, 1], as a cosine is. It can as well leave one a few units short of 1
 * (against other multiples of itself, 0.9999999999999997), so multiples of one vector do not all tie;
 * copies of one vector do (the same float64 steps), and rank by id like any equal scores.
 */
const clamped = (score: number) => Math.min(1, Math.max(-1, score));

/**
 * Cosine similarity in float64, in [-1, 1]; `normA` is the query's norm (`norm(a)`), computed once per
 * search. 0 when either vector is all zeros; never NaN for finite input.
 */
export function cosine(a: readonly number[], b: readonly number[], normA: number): number {
  let dot = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normB += b[i]! * b[i]!;
  }
  if (plainlySummable(normB) && plainlySummable(normA * normA)) {
    return clamped(dot / (normA * Math.sqrt(normB)));
  }
  return clamped(scaledCosine(a, b));
}

/** The cosine of vectors whose squared norms leave the safe range: each scaled by its largest component. */
function scaledCosine(a: readonly number[], b: readonly number[]): number {
  const maxA = largestComponent(a);
  const maxB = largestComponent(b);
  if (maxA === 0 || maxB === 0 || !Number.isFinite(maxA) || !Number.isFinite(maxB)) return 0;
  let dot = 0;
  let sumA = 0;
  let sumB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! / maxA;
    const y = b[i]! / maxB;
    dot += x * y;
    sumA += x * x;
    sumB += y * y;
  }
  return dot / (Math.sqrt(sumA) * Math.sqrt(sumB));
}

/** The largest absolute component (NaN if one is NaN). */
export function largestComponent(vector: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < vector.length; i++) max = Math.max(max, Math.abs(vector[i]!));
  return max;
}

/**
 * The Euclidean norm, without overflow or underflow in between (it is Infinity only when the norm itself
 * exceeds the largest double).
 */
export function norm(vector: ArrayLike<number>): number {
  let squared = 0;
  for (let i = 0; i < vector.length; i++) squared += vector[i]! * vector[i]!;
  if (plainlySummable(squared)) return Math.sqrt(squared);
  const max = largestComponent(vector);
  if (max === 0 || !Number.isFinite(max)) return max;
  let scaled = 0;
  for (let i = 0; i < vector.length; i++) scaled += (vector[i]! / max) ** 2;
  return max * Math.sqrt(scaled);
}
