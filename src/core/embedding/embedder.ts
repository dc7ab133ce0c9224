import * as v from 'valibot';
import { EngramError } from '../errors.js';
import type { MemoryRecord } from '../store-contract.js';
import { delayMs, fieldSchemas, LIMITS, parse, positiveInt, timeoutMs } from '../validate.js';

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

/**
 * Checks what an embedder returned, so a broken embedder is reported instead of storing garbage. A wrong
 * count or length of vectors is the embedder's fault whatever the texts (a model of another size, a
 * `dims` that does not match it): VALIDATION with field `embedder`, which `rejectsText` does not count as
 * a refused text, so the queue backs off instead of setting every memory aside.
 */
export function checkVectors(embedder: Embedder, output: unknown, count: number): number[][] {
  if (!Array.isArray(output) || output.length !== count) {
    throw new EngramError(
      'VALIDATION',
      `embedder ${embedder.id}: expected ${count} vectors, got ${Array.isArray(output) ? output.length : typeof output}`,
      { field: 'embedder' },
    );
  }
  return output.map((vector: ArrayLike<number>, i) => {
    // Not coerced: a null (a NaN once serialised to JSON), a string or a boolean is a wrong answer, not 0 or 1.
    const values: unknown[] = Array.from(vector ?? []);
    const bad = values.findIndex((value) => !Number.isFinite(value));
    if (values.length !== embedder.dims || bad !== -1) {
      const got =
        bad === -1 ? values.length : `${JSON.stringify(values[bad]) ?? String(values[bad])} at ${bad}`;
      throw new EngramError(
        'VALIDATION',
        `embedder ${embedder.id}: vector ${i} should have ${embedder.dims} finite numbers, got ${got}`,
        { field: 'embedder' },
      );
    }
    return values as number[];
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
 * True when the embedder may have refused the text itself (VALIDATION, PAYLOAD_TOO_LARGE: too long, a
 * 4xx from the API): asking again with the same text cannot succeed. A VALIDATION with field `embedder`
 * is the embedder answering wrongly, not a refusal. Anything else (offline, rate limited, unauthorized,
 * or an error of unknown kind) may pass on a later try. Whether the text alone is at fault is for the
 * caller to tell (`RefusalJudge`): an embedder that refuses every text refuses each one alone too.
 */
export function rejectsText(error: unknown): boolean {
  if (!(error instanceof EngramError) || error.field === 'embedder') return false;
  return error.code === 'VALIDATION' || error.code === 'PAYLOAD_TOO_LARGE';
}

/** True for a failure of the embedder itself, whatever the texts (offline, rate limited, not allowed). */
export function embedderDown(error: unknown): boolean {
  return error instanceof EngramError && !rejectsText(error);
}

/** Lone refusals in a row, with no text embedded in between, that mean the embedder refuses every text. */
export const REFUSALS_IN_A_ROW = 3;

/**
 * Tells a text the embedder refuses from an embedder that refuses every text (a bad `dimensions` or model
 * parameter makes every request an HTTP 400). A text that failed alone with a refusal (`rejectsText`) is
 * `'text'`, its own fault, only while the embedder has embedded another text since its last fault;
 * before that it is `'unsure'` (try the others first); the REFUSALS_IN_A_ROW-th refusal in a row with
 * nothing embedded in between is `'embedder'`: back off instead of trying, and setting aside, the rest.
 */
export class RefusalJudge {
  private works = false;
  private inARow = 0;

  /** The embedder embedded a text. */
  embedded(): void {
    this.works = true;
    this.inARow = 0;
  }

  /** The embedder failed as a whole (offline, refusing everything): nothing it refuses next is trusted yet. */
  faulted(): void {
    this.works = false;
    this.inARow = 0;
  }

  /** Called once per text that failed alone with a refusal. */
  judge(): 'text' | 'unsure' | 'embedder' {
    this.inARow += 1;
    if (this.inARow >= REFUSALS_IN_A_ROW) return 'embedder';
    return this.works ? 'text' : 'unsure';
  }
}
