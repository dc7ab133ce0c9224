import { validationError } from '../errors.js';
import type { IvfOptions } from './ivf-index.js';

/**
 * How a store that keeps vectors in memory searches them. Exact by default, so every store returns
 * the same ids and scores; the rest is opt-in.
 */
export interface VectorOptions {
  /** `'exact'` (default) scans every vector; `'ivf'` scans the nearest lists of an IVF index (approximate). */
  index?: 'exact' | 'ivf';
  /** `'int8'` keeps vectors as int8 codes (a quarter of the Float32 bytes); candidates are rescored exactly. */
  quantize?: 'none' | 'int8';
  /** Tuning of the IVF index (`index: 'ivf'`). */
  ivf?: IvfOptions;
}

const IVF_LIMITS: Record<keyof IvfOptions, [number, number]> = {
  lists: [1, 65_536],
  probes: [1, 65_536],
  minTrain: [1, Number.MAX_SAFE_INTEGER],
  sample: [1, 10_000_000],
  rounds: [1, 100],
};

/** Checks store options' `vectors`; every bad value is a VALIDATION error naming its field. */
export function parseVectorOptions(
  value: unknown,
  field = 'vectors',
): Required<Omit<VectorOptions, 'ivf'>> & {
  ivf: IvfOptions;
} {
  if (value === undefined) return { index: 'exact', quantize: 'none', ivf: {} };
  const got = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw validationError(field, "an object like { index: 'ivf', quantize: 'int8' }", got(value));
  }
  const { index = 'exact', quantize = 'none', ivf = {}, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined)
    throw validationError(`${field}.${unknown}`, 'one of index, quantize, ivf', 'an unknown option');
  if (index !== 'exact' && index !== 'ivf')
    throw validationError(`${field}.index`, "'exact' or 'ivf'", got(index));
  if (quantize !== 'none' && quantize !== 'int8') {
    throw validationError(`${field}.quantize`, "'none' or 'int8'", got(quantize));
  }
  if (typeof ivf !== 'object' || ivf === null || Array.isArray(ivf)) {
    throw validationError(`${field}.ivf`, 'an object of IVF settings', got(ivf));
  }
  for (const [key, v] of Object.entries(ivf)) {
    const limits = IVF_LIMITS[key as keyof IvfOptions];
    if (!limits)
      throw validationError(
        `${field}.ivf.${key}`,
        `one of ${Object.keys(IVF_LIMITS).join(', ')}`,
        'an unknown option',
      );
    if (v === undefined) continue;
    if (!Number.isInteger(v) || (v as number) < limits[0] || (v as number) > limits[1]) {
      throw validationError(`${field}.ivf.${key}`, `an integer from ${limits[0]} to ${limits[1]}`, got(v));
    }
  }
  return { index, quantize, ivf: ivf as IvfOptions };
}
