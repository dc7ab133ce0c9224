import { EngramError } from '../errors.js';
import type { MemoryRecord } from '../store-contract.js';

/**
 * Turns texts into vectors. `id` names the model (it is recorded on every memory it embeds as
 * `embeddingModel`, and vector search compares only embeddings of one model); `dims` is the length of
 * every vector it returns.
 *
 * @example
 * const embedder: Embedder = { id: 'my-model', dims: 384, embed: async (texts) => texts.map(myModel) };
 * const mem = await createMemory({ embedder });
 */
export interface Embedder {
  readonly id: string;
  readonly dims: number;
  embed(texts: string[]): Promise<ArrayLike<number>[]>;
}

/** How the background embedding queue works; every field has a default. */
export interface EmbeddingOptions {
  /** Texts sent to the embedder per call (default 32). */
  batchSize?: number;
  /** Retry delays after a failed call: exponential from `baseMs` (1 000), capped at `maxMs` (60 000), jittered. */
  backoff?: { baseMs?: number; maxMs?: number };
}

/**
 * A memory needs an embedding when it has none, or when its content was written after its embedding
 * (the embedding describes an older content version). Comparing the two field clocks, not a local flag,
 * is what lets a replica see that another one already embedded this content version and synced it.
 */
export function needsEmbedding({ memory, clocks }: MemoryRecord): boolean {
  if (memory.embedding === undefined) return true;
  return (clocks.embedding ?? '') < (clocks.content ?? '');
}

/** Checks what an embedder returned, so a broken embedder is reported instead of storing garbage. */
export function checkVectors(embedder: Embedder, output: unknown, count: number): number[][] {
  if (!Array.isArray(output) || output.length !== count) {
    throw new EngramError(
      'VALIDATION',
      `embedder ${embedder.id}: expected ${count} vectors, got ${Array.isArray(output) ? output.length : typeof output}`,
      { field: 'embedder' },
    );
  }
  return output.map((vector: ArrayLike<number>, i) => {
    const values = Array.from(vector ?? [], Number);
    if (values.length !== embedder.dims || !values.every(Number.isFinite)) {
      throw new EngramError(
        'VALIDATION',
        `embedder ${embedder.id}: vector ${i} should have ${embedder.dims} finite numbers, got ${values.length}`,
        { field: 'embedder' },
      );
    }
    return values;
  });
}

export function assertEmbedder(embedder: unknown): asserts embedder is Embedder {
  const e = embedder as Partial<Embedder> | null;
  const ok =
    typeof e === 'object' &&
    e !== null &&
    typeof e.id === 'string' &&
    e.id.length > 0 &&
    e.id.length <= 256 &&
    Number.isInteger(e.dims) &&
    (e.dims as number) > 0 &&
    typeof e.embed === 'function';
  if (!ok) {
    throw new EngramError(
      'VALIDATION',
      'embedder: expected { id: non-empty string, dims: positive integer, embed(texts) }',
      { field: 'embedder' },
    );
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
