import * as v from 'valibot';
import type { Embedder } from '../core/embedding/embedder.js';
import { EngramError } from '../core/errors.js';
import { parse, positiveInt } from '../core/validate.js';

/** What a transformers.js `feature-extraction` pipeline returns: a Tensor of shape [texts, dims]. */
export interface FeatureTensor {
  dims: readonly number[];
  data: ArrayLike<number>;
  tolist?(): number[][];
}

/** The call shape of `await pipeline('feature-extraction', model)` from `@huggingface/transformers`. */
export type FeatureExtractor = (
  texts: string[],
  options: { pooling: 'mean' | 'cls' | 'none'; normalize: boolean },
) => Promise<FeatureTensor>;

export interface TransformersEmbedderOptions {
  /** The model id, recorded on each memory, e.g. `Xenova/all-MiniLM-L6-v2`. */
  id: string;
  dims: number;
  /** Default `mean`, as sentence-transformers models expect. */
  pooling?: 'mean' | 'cls';
  /** Default true. */
  normalize?: boolean;
}

const TRANSFORMERS_OPTIONS = v.strictObject(
  {
    id: v.pipe(v.string('expected the model id'), v.minLength(1, 'expected the model id')),
    dims: positiveInt,
    pooling: v.optional(v.picklist(['mean', 'cls'], "expected 'mean' or 'cls'")),
    normalize: v.optional(v.boolean('expected true or false')),
  },
  'expected options { id, dims, pooling?, normalize? }',
);

/**
 * Wraps a transformers.js pipeline the app created (the library and model are the app's, not
 * Engram's dependency), so embeddings run on the device: in the browser, in Node or in a worker.
 *
 * @example
 * import { pipeline } from '@huggingface/transformers';
 * const extractor = await pipeline('feature-extraction', 'Xenova/all-MiniLM-L6-v2');
 * const embedder = transformersEmbedder(extractor, { id: 'Xenova/all-MiniLM-L6-v2', dims: 384 });
 */
export function transformersEmbedder(
  extractor: FeatureExtractor,
  options: TransformersEmbedderOptions,
): Embedder {
  if (typeof extractor !== 'function') {
    throw new EngramError('VALIDATION', 'transformersEmbedder: expected a feature-extraction pipeline', {
      field: 'transformersEmbedder.extractor',
    });
  }
  parse(TRANSFORMERS_OPTIONS, options, 'transformersEmbedder');
  const call = { pooling: options.pooling ?? 'mean', normalize: options.normalize ?? true } as const;
  return {
    id: options.id,
    dims: options.dims,
    async embed(texts) {
      const tensor = await extractor(texts, call);
      if (tensor.tolist) return tensor.tolist();
      const [rows, width] = tensor.dims;
      if (rows !== texts.length || width === undefined) {
        throw new EngramError(
          'VALIDATION',
          `transformers ${options.id}: expected a tensor of shape [${texts.length}, dims], got [${tensor.dims.join(', ')}]`,
          // The answer is wrong whatever the texts: the queue backs off, setting none aside.
          { field: 'embedder' },
        );
      }
      return Array.from({ length: rows }, (_, i) =>
        Array.from(tensor.data).slice(i * width, (i + 1) * width),
      );
    },
  };
}
