import * as v from 'valibot';
import { EngramError } from '../errors.js';
import type { MemoryRecord } from '../store-contract.js';
import { fieldSchemas, LIMITS, parse } from '../validate.js';

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
  /**
   * An embedder call (the queue's, or a search's query) not answered within this many ms fails as
   * OFFLINE (default 30 000): the queue backs off, hybrid search answers by text, vector search rejects.
   */
  timeoutMs?: number;
}

export const EMBEDDER_TIMEOUT_MS_DEFAULT = 30_000;

/** The longest delay `setTimeout` keeps (about 24.8 days); a longer one would fire at once. */
export const MAX_DELAY_MS = 2_147_483_647;

/** A count of things, such as a batch size: an integer of at least 1. */
export const positiveInt = v.pipe(
  v.number('expected a number'),
  v.integer('expected an integer'),
  v.minValue(1, 'expected 1 or more'),
);

/** A timeout: a whole number of ms from 1 up to what a timer can wait. */
export const timeoutMs = v.pipe(
  positiveInt,
  v.maxValue(MAX_DELAY_MS, `expected at most ${MAX_DELAY_MS} (ms)`),
);

const delayMs = v.pipe(
  v.number('expected a number'),
  v.finite('expected a finite number'),
  v.minValue(0, 'expected 0 or more'),
  v.maxValue(MAX_DELAY_MS, `expected at most ${MAX_DELAY_MS} (ms)`),
);

const embeddingOptionsSchema = v.strictObject(
  {
    batchSize: v.optional(positiveInt),
    backoff: v.optional(
      v.strictObject(
        { baseMs: v.optional(delayMs), maxMs: v.optional(delayMs) },
        'expected { baseMs?, maxMs? }',
      ),
    ),
    timeoutMs: v.optional(timeoutMs),
  },
  'expected { batchSize?, backoff?, timeoutMs? }',
);

/** Validates `embedding` options (errors name the field, e.g. `embedding.batchSize`). */
export function embeddingOptions(given: unknown, where = 'embedding'): EmbeddingOptions {
  return given === undefined ? {} : parse(embeddingOptionsSchema, given, where);
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

const embedderSchema = v.looseObject(
  {
    id: fieldSchemas.embeddingModel,
    dims: v.pipe(
      positiveInt,
      v.maxValue(LIMITS.embeddingDims, `expected at most ${LIMITS.embeddingDims} dimensions`),
    ),
    embed: v.custom<Embedder['embed']>((f) => typeof f === 'function', 'expected a function embed(texts)'),
  },
  'expected { id: non-empty string, dims: positive integer, embed(texts) }',
);

/**
 * An embedder's `id` is recorded as every memory's `embeddingModel` and its vectors are stored: both
 * must pass the rules a stored memory does, or every write of its embeddings would be refused later
 * (by a RemoteStore, by sync) and retried for ever.
 */
export function assertEmbedder(embedder: unknown, where = 'embedder'): asserts embedder is Embedder {
  parse(embedderSchema, embedder, where);
}

/**
 * Calls the embedder with a deadline and checks its answer. No answer within `timeoutMs` fails as
 * OFFLINE, like an unreachable server: a hung model must not hang a search or the queue.
 */
export async function embedTexts(
  embedder: Embedder,
  texts: string[],
  timeoutMs = EMBEDDER_TIMEOUT_MS_DEFAULT,
): Promise<number[][]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new EngramError('OFFLINE', `embedder ${embedder.id}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    const output = await Promise.race([embedder.embed(texts), deadline]);
    return checkVectors(embedder, output, texts.length);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * True when the embedder refused the text itself (VALIDATION, PAYLOAD_TOO_LARGE: too long, a 4xx
 * from the API): asking again with the same text cannot succeed. Anything else (offline, rate
 * limited, unauthorized, or an error of unknown kind) may pass on a later try.
 */
export function rejectsText(error: unknown): boolean {
  return error instanceof EngramError && (error.code === 'VALIDATION' || error.code === 'PAYLOAD_TOO_LARGE');
}

/** True for a failure of the embedder itself, whatever the texts (offline, rate limited, not allowed). */
export function embedderDown(error: unknown): boolean {
  return error instanceof EngramError && !rejectsText(error);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
