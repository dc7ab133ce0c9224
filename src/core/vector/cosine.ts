/** Cosine similarity in float64; `normA` is the query's norm, computed once per search. */
export function cosine(a: readonly number[], b: readonly number[], normA: number): number {
  let dot = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normB += b[i]! * b[i]!;
  }
  return normA === 0 || normB === 0 ? 0 : dot / (normA * Math.sqrt(normB));
}

export function norm(vector: readonly number[]): number {
  return Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
}
