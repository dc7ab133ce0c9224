export interface CorpusItem {
  content: string;
  kind: string;
  tags: string[];
}
/** A seeded PRNG: the same numbers in [0, 1) on every run. */
export function mulberry32(seed: number): () => number;
export function makeCorpus(
  count: number,
  seed?: number,
): { items: CorpusItem[]; queries: string[]; words: string[] };
export function percentile(values: number[], p: number): number;
export function median(values: number[]): number;
export function time(fn: () => unknown): Promise<number>;
