import * as v from 'valibot';
import type { Embedder } from '../core/embedding/embedder.js';
import { EngramError } from '../core/errors.js';
import { parse, positiveInt } from '../core/validate.js';

/** The part of the Workers AI binding (`env.AI`) this embedder uses. */
export interface WorkersAiBinding {
  run(model: string, input: { text: string[] }): Promise<unknown>;
}

export interface WorkersAIEmbedderOptions {
  /** A Workers AI text-embedding model, e.g. `@cf/baai/bge-small-en-v1.5`. */
  model: string;
  /** Needed for models not in the built-in table. */
  dims?: number;
  /** Texts per `run` call (default 100, the Workers AI batch limit for bge models). */
  batchSize?: number;
}

const WORKERS_AI_OPTIONS = v.strictObject(
  {
    model: v.pipe(v.string('expected a model name'), v.minLength(1, 'expected a model name')),
    dims: v.optional(positiveInt),
    // A batch of 0 would never advance through the texts.
    batchSize: v.optional(positiveInt),
  },
  'expected options { model, dims?, batchSize? }',
);

const KNOWN_DIMS: Record<string, number> = {
  '@cf/baai/bge-small-en-v1.5': 384,
  '@cf/baai/bge-base-en-v1.5': 768,
  '@cf/baai/bge-large-en-v1.5': 1024,
  '@cf/baai/bge-m3': 1024,
};

/**
 * An embedder over the Workers AI binding, for memories written inside a Worker.
 *
 * @example
 * const embedder = workersAIEmbedder(env.AI, { model: '@cf/baai/bge-small-en-v1.5' });
 */
export function workersAIEmbedder(ai: WorkersAiBinding, options: WorkersAIEmbedderOptions): Embedder {
  if (!ai || typeof ai.run !== 'function') {
    throw new EngramError('VALIDATION', 'workersAIEmbedder: expected the AI binding (env.AI) with run()', {
      field: 'workersAIEmbedder.ai',
    });
  }
  parse(WORKERS_AI_OPTIONS, options, 'workersAIEmbedder');
  const dims = options.dims ?? KNOWN_DIMS[options.model];
  if (dims === undefined) {
    throw new EngramError(
      'VALIDATION',
      `workersAIEmbedder.dims: expected the vector length of ${options.model}, got nothing`,
      { field: 'workersAIEmbedder.dims' },
    );
  }
  const batchSize = options.batchSize ?? 100;
  return {
    id: options.model,
    dims,
    async embed(texts) {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += batchSize) {
        const input = texts.slice(i, i + batchSize);
        let result: unknown;
        try {
          result = await ai.run(options.model, { text: input });
        } catch (error) {
          throw new EngramError('OFFLINE', `workers ai ${options.model}: ${String(error)}`, { cause: error });
        }
        const data = (result as { data?: unknown })?.data;
        if (!Array.isArray(data) || data.length !== input.length) {
          throw new EngramError(
            'VALIDATION',
            `workers ai ${options.model}: expected { data } with ${input.length} vectors`,
            // The answer is wrong whatever the texts: the queue backs off, setting none aside.
            { field: 'embedder' },
          );
        }
        out.push(...(data as number[][]));
      }
      return out;
    },
  };
}
