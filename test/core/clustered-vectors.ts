import { seededRandom } from '../../src/core/vector/k-means.js';

/** The seeded PRNG the indexes train with, for test data. */
export const seeded = seededRandom;

/**
 * Seeded test vectors shaped like sentence embeddings: noisy points around a few topic centres, each
 * component moved by up to ±spread/2.
 */
export function clustered(
  count: number,
  dims: number,
  topics: number,
  seed: number,
  spread = 0.8,
): number[][] {
  const random = seeded(seed);
  const centreRandom = seeded(99);
  const centres = Array.from({ length: topics }, () =>
    Array.from({ length: dims }, () => centreRandom() - 0.5),
  );
  return Array.from({ length: count }, () =>
    centres[Math.floor(random() * topics)]!.map((x) => x + (random() - 0.5) * spread),
  );
}

/** Mean share of each truth list found in the matching result list. */
export function recall(truth: string[][], got: string[][]): number {
  return (
    truth.reduce((sum, t, i) => sum + got[i]!.filter((id) => t.includes(id)).length / t.length, 0) /
    truth.length
  );
}
