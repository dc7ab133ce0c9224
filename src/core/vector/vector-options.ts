import { validationError } from '../errors.js';
import type { HnswOptions } from './hnsw.js';
import type { IvfOptions } from './ivf-index.js';

/**
 * How a store that keeps vectors in memory searches them. Exact by default, so every store returns
 * the same ids and scores; the rest is opt-in.
 */
export interface VectorOptions {
  /**
   * `'exact'` (default) scans every vector; `'ivf'` scans the nearest lists of an IVF index and `'hnsw'`
   * walks an HNSW graph (both approximate, rescored exactly).
   */
  index?: 'exact' | 'ivf' | 'hnsw';
  /** `'int8'` keeps vectors as int8 codes (a quarter of the Float32 bytes); candidates are rescored exactly. */
  quantize?: 'none' | 'int8';
  /** Tuning of the IVF index (`index: 'ivf'`). */
  ivf?: IvfOptions;
  /** Tuning of the HNSW graph (`index: 'hnsw'`). */
  hnsw?: HnswOptions;
}

const IVF_LIMITS: Record<keyof IvfOptions, [number, number]> = {
  lists: [1, 65_536],
  probes: [1, 65_536],
  minTrain: [1, Number.MAX_SAFE_INTEGER],
  sample: [1, 10_000_000],
  rounds: [1, 100],
};

const HNSW_LIMITS: Record<keyof HnswOptions, [number, number]> = {
  m: [2, 64],
  efConstruction: [1, 4096],
  efSearch: [1, 4096],
  seed: [0, 2 ** 32 - 1],
  linkMs: [0, 3_600_000],
};

function checkIntegers(
  settings: unknown,
  limits: Record<string, [number, number]>,
  field: string,
  what: string,
  got: (v: unknown) => string,
): void {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw validationError(field, `an object of ${what} settings`, got(settings));
  }
  for (const [key, v] of Object.entries(settings)) {
    const range = limits[key];
    if (!range)
      throw validationError(
        `${field}.${key}`,
        `one of ${Object.keys(limits).join(', ')}`,
        'an unknown option',
      );
    if (v === undefined) continue;
    if (!Number.isInteger(v) || (v as number) < range[0] || (v as number) > range[1]) {
      throw validationError(`${field}.${key}`, `an integer from ${range[0]} to ${range[1]}`, got(v));
    }
  }
}

/** Checks store options' `vectors`; every bad value is a VALIDATION error naming its field. */
export function parseVectorOptions(
  value: unknown,
  field = 'vectors',
): Required<Omit<VectorOptions, 'ivf' | 'hnsw'>> & {
  ivf: IvfOptions;
  hnsw: HnswOptions;
} {
  if (value === undefined) return { index: 'exact', quantize: 'none', ivf: {}, hnsw: {} };
  const got = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw validationError(field, "an object like { index: 'hnsw', quantize: 'int8' }", got(value));
  }
  const {
    index = 'exact',
    quantize = 'none',
    ivf = {},
    hnsw = {},
    ...rest
  } = value as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined)
    throw validationError(`${field}.${unknown}`, 'one of index, quantize, ivf, hnsw', 'an unknown option');
  if (index !== 'exact' && index !== 'ivf' && index !== 'hnsw')
    throw validationError(`${field}.index`, "'exact', 'ivf' or 'hnsw'", got(index));
  if (quantize !== 'none' && quantize !== 'int8') {
    throw validationError(`${field}.quantize`, "'none' or 'int8'", got(quantize));
  }
  checkIntegers(ivf, IVF_LIMITS, `${field}.ivf`, 'IVF', got);
  checkIntegers(hnsw, HNSW_LIMITS, `${field}.hnsw`, 'HNSW', got);
  return { index, quantize, ivf: ivf as IvfOptions, hnsw: hnsw as HnswOptions };
}
