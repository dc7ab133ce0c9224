export interface CorpusItem {
  content: string;
  kind: string;
  tags: string[];
}
export function makeCorpus(
  count: number,
  seed?: number,
): { items: CorpusItem[]; queries: string[]; words: string[] };
/** A seeded PRNG returning numbers in [0, 1). */
export function mulberry32(seed: number): () => number;
export function percentile(values: number[], p: number): number;
export function median(values: number[]): number;
export function time(fn: () => unknown): Promise<number>;
