import * as v from 'valibot';
import { ID_PATTERN } from './ids.js';
import type { Json } from './model.js';

export { assertKnownOptions, describe, parse } from './validate-parse.js';
export {
  checkEdgeUrl,
  delayMs,
  encryptionSchema,
  MAX_TIMER_MS,
  nonNegativeInt,
  positiveInt,
  syncOptionsSchema,
  timeoutMs,
  timerMs,
} from './validate-settings.js';

export const LIMITS = {
  contentBytes: 64 * 1024,
  metadataBytes: 64 * 1024,
  labelLength: 64,
  tags: 64,
  embeddingDims: 4096,
  listLimit: 1000,
  searchLimit: 1000,
  depth: 10,
  batch: 1000,
} as const;

const encoder = new TextEncoder();
/**
 * True when `s` is at most `limit` bytes of UTF-8. A UTF-16 unit takes 1 to 3 bytes (a surrogate pair 4
 * for its two), so only a string between limit/3 and limit units long is encoded to know: encoding every
 * content cost more than the rest of a memory's validation.
 */
export function fitsUtf8(s: string, limit: number): boolean {
  if (s.length * 3 <= limit) return true;
  return s.length <= limit && encoder.encode(s).length <= limit;
}
/** U+0000 cannot be stored by Postgres text or jsonb, so no store accepts it. */
const hasNul = (s: string) => s.includes('\u0000');
/**
 * One Unicode rule for every route and store: text must be well-formed. A lone surrogate (half of a
 * UTF-16 pair) cannot be encoded as UTF-8, so Postgres would store U+FFFD instead of what was sent;
 * it is refused everywhere rather than silently changed in some stores.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
export const hasLoneSurrogate = (s: string) => LONE_SURROGATE.test(s);
/** `s` with each lone surrogate replaced by U+FFFD, as a UTF-8 encoder would write it. */
export const wellFormed = (s: string) => s.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\ufffd');
const WELL_FORMED = 'expected well-formed Unicode text (a lone surrogate such as \\ud800 is not)';

const id = v.pipe(
  v.string('expected a string id'),
  v.regex(ID_PATTERN, 'expected 1-128 characters of [A-Za-z0-9._:-]'),
);
const label = (what: string) =>
  v.pipe(
    v.string(`expected ${what} as a string`),
    v.minLength(1, `expected a non-empty ${what}`),
    v.maxLength(LIMITS.labelLength, `expected ${what} of at most ${LIMITS.labelLength} characters`),
    v.check((s) => !hasNul(s), `expected ${what} without NUL characters`),
    v.check((s) => !hasLoneSurrogate(s), WELL_FORMED),
  );
const instant = v.pipe(
  v.string('expected an ISO 8601 date-time string'),
  v.check((s) => !Number.isNaN(Date.parse(s)) && isCalendarDate(s), 'expected an ISO 8601 date-time'),
  v.check(
    (s) => s.length === 10 || ZONED.test(s),
    'expected an ISO 8601 date-time with its time zone (Z or ±hh:mm), or a date alone',
  ),
);

/**
 * A date-time ends with its zone. Without one, `Date.parse` reads it in the zone of the machine that parses
 * it, so one request would store another instant on an edge in Tokyo than on one in New York, and a replica
 * another than its edge. A date alone (`2024-05-01`) is midnight UTC, the same everywhere.
 */
const ZONED = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Starts with a date that exists. `Date.parse` rolls an impossible day over into the next month
 * ("2021-02-29" is March 1st), which would store another instant than the one sent.
 */
function isCalendarDate(s: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  return month >= 1 && month <= 12 && day >= 1 && day <= days;
}
const finite = v.pipe(v.number('expected a number'), v.finite('expected a finite number'));

const content = v.pipe(
  v.string('expected the content as a string'),
  v.check((s) => s.trim().length > 0, 'expected non-empty content'),
  v.check((s) => !hasNul(s), 'expected text without NUL (U+0000) characters'),
  v.check((s) => !hasLoneSurrogate(s), WELL_FORMED),
  v.check((s) => fitsUtf8(s, LIMITS.contentBytes), 'expected at most 64 KiB of UTF-8'),
);
const tags = v.pipe(
  v.array(label('tag'), 'expected an array of strings'),
  v.maxLength(LIMITS.tags, `expected at most ${LIMITS.tags} tags`),
);
/** Why a value is not JSON as every store keeps it, and where: `path` holds the keys and indexes down to it. */
interface JsonProblem {
  what: string;
  path: string[];
}

const problem = (what: string): JsonProblem => ({ what, path: [] });

/**
 * The first value in `value` that is not JSON as every store keeps it (no undefined, functions, class
 * instances, NaN, Infinity, NUL characters, lone surrogates, nesting past 32 levels), or undefined when
 * there is none. The path is built only on the way back from a problem, so a valid value costs a walk.
 */
function jsonProblem(value: unknown, depth = 0): JsonProblem | undefined {
  if (depth > 32) return problem('nesting deeper than 32 levels');
  if (typeof value === 'string') {
    if (hasNul(value)) return problem('a NUL (U+0000) character');
    return hasLoneSurrogate(value) ? problem('a lone surrogate') : undefined;
  }
  if (value === null || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : problem(String(value));
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = jsonProblem(item, depth + 1);
      if (found) return { ...found, path: [`[${i}]`, ...found.path] };
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      if (hasNul(key)) return problem(`a NUL (U+0000) character in the key ${JSON.stringify(key)}`);
      if (hasLoneSurrogate(key)) return problem('a lone surrogate in a key');
      const found = jsonProblem(item, depth + 1);
      if (found) return { ...found, path: [JSON.stringify(key), ...found.path] };
    }
    return undefined;
  }
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return problem(name ? `a ${name}` : 'an object without a prototype');
  }
  return problem(value === undefined ? 'undefined' : `a ${typeof value}`);
}

/** True when metadata can hold `value` as it is (see jsonProblem). */
export const isStorableJson = (value: unknown): boolean => jsonProblem(value) === undefined;

const isPlainObject = (m: unknown): m is object => typeof m === 'object' && m !== null && !Array.isArray(m);

const METADATA_EXPECTED =
  'expected a plain object of JSON values (no undefined, functions, dates, NaN, Infinity, NUL characters or lone surrogates)';

const metadata = v.pipe(
  v.custom<{ [k: string]: Json }>(
    (m) => isPlainObject(m) && jsonProblem(m) === undefined,
    ({ input }) => {
      const found = isPlainObject(input) ? jsonProblem(input) : undefined;
      if (!found) return METADATA_EXPECTED;
      const at = found.path.map((step, i) => (i === 0 || step.startsWith('[') ? step : `.${step}`)).join('');
      return `${METADATA_EXPECTED}; found ${found.what}${at ? ` at ${at}` : ''}`;
    },
  ),
  v.check((m) => fitsUtf8(JSON.stringify(m), LIMITS.metadataBytes), 'expected at most 64 KiB of JSON'),
);
/** The typed arrays a vector may come in: what embedders return (transformers.js, ONNX, native bindings). */
const FLOAT_ARRAYS = new Set(['Float32Array', 'Float64Array']);
/** By its tag rather than `instanceof`, so an array made in another realm (a worker, an iframe) counts. */
const isFloatArray = (x: unknown): x is Float32Array | Float64Array =>
  ArrayBuffer.isView(x) && FLOAT_ARRAYS.has((x as Float32Array)[Symbol.toStringTag]);
const VECTOR_EXPECTED = 'expected an array of numbers, a Float32Array or a Float64Array';
/**
 * A vector, an embedding or a query's: a typed array is read as the plain numbers it holds, then checked
 * as an array is (each one finite, 1 to 4096 of them), so every store keeps and compares the same numbers.
 */
const embedding = v.pipe(
  v.custom<number[] | Float32Array | Float64Array>(
    (x) => Array.isArray(x) || isFloatArray(x),
    VECTOR_EXPECTED,
  ),
  v.transform((x): unknown[] => (Array.isArray(x) ? x : Array.from(x))),
  v.array(finite, VECTOR_EXPECTED),
  v.minLength(1, 'expected at least one dimension'),
  v.maxLength(LIMITS.embeddingDims, `expected at most ${LIMITS.embeddingDims} dimensions`),
);
/** An embedder's id, e.g. `openai:text-embedding-3-small`; longer than a label for hub model names. */
const embeddingModel = v.pipe(
  v.string('expected the embedding model id as a string'),
  v.minLength(1, 'expected a non-empty embedding model id'),
  v.maxLength(256, 'expected an embedding model id of at most 256 characters'),
  v.check((s) => !hasNul(s), 'expected an embedding model id without NUL characters'),
  v.check((s) => !hasLoneSurrogate(s), 'expected an embedding model id without lone surrogates'),
);
const importance = v.pipe(
  finite,
  v.minValue(0, 'expected a number from 0 to 1'),
  v.maxValue(1, 'expected a number from 0 to 1'),
);
const limit = (max: number) =>
  v.pipe(
    v.number('expected a number'),
    v.integer('expected an integer'),
    v.minValue(1, 'expected at least 1'),
    v.maxValue(max, `expected at most ${max}`),
  );
const direction = v.picklist(['out', 'in', 'both'], "expected 'out', 'in' or 'both'");
const tagMode = v.picklist(['any', 'all'], "expected 'any' or 'all'");
const depth = v.pipe(
  v.number('expected a number'),
  v.integer('expected an integer'),
  v.minValue(1, 'expected at least 1'),
  v.maxValue(LIMITS.depth, `expected at most ${LIMITS.depth}`),
);

export const memoryInputSchema = v.strictObject(
  {
    content,
    kind: v.optional(label('kind')),
    tags: v.optional(tags),
    metadata: v.optional(metadata),
    embedding: v.optional(embedding),
    embeddingModel: v.optional(embeddingModel),
    importance: v.optional(importance),
    expiresAt: v.optional(instant),
    validFrom: v.optional(instant),
    validTo: v.optional(instant),
    id: v.optional(id),
  },
  'expected an object',
);

export const memoryPatchSchema = v.pipe(
  v.strictObject(
    {
      content: v.optional(content),
      kind: v.optional(label('kind')),
      tags: v.optional(tags),
      metadata: v.optional(metadata),
      embedding: v.optional(v.nullable(embedding)),
      embeddingModel: v.optional(v.nullable(embeddingModel)),
      importance: v.optional(v.nullable(importance)),
      expiresAt: v.optional(v.nullable(instant)),
      validFrom: v.optional(v.nullable(instant)),
      validTo: v.optional(v.nullable(instant)),
    },
    'expected an object',
  ),
  v.check((p) => Object.keys(p).length > 0, 'expected at least one field to change'),
);

/** `asOf` / `history` on list, search and count (see filter.ts `validAt`). */
const validityOptions = {
  asOf: v.optional(instant),
  history: v.optional(v.boolean('expected true or false')),
};

export const listOptionsSchema = v.strictObject({
  kind: v.optional(label('kind')),
  tags: v.optional(tags),
  tagMode: v.optional(tagMode),
  since: v.optional(instant),
  until: v.optional(instant),
  limit: v.optional(limit(LIMITS.listLimit)),
  cursor: v.optional(v.nullable(v.string('expected the cursor string returned by list'))),
  metadata: v.optional(metadata),
  ...validityOptions,
});

/**
 * The range of `search(q, { boost })`. A boost adds weight × relevance: past 100 it outweighs relevance a
 * hundredfold, and a weight near 1e308 overflows a score to Infinity, which JSON sends as null. A half-life
 * from a minute and a half (0.001 days) to a century covers chats to archives.
 */
const BOOST_LIMITS = { maxWeight: 100, minHalfLifeDays: 0.001, maxHalfLifeDays: 36_500 } as const;
const HALF_LIFE_EXPECTED = `expected a number of days from ${BOOST_LIMITS.minHalfLifeDays} to ${BOOST_LIMITS.maxHalfLifeDays}`;
const WEIGHT_EXPECTED = `expected a weight from 0 to ${BOOST_LIMITS.maxWeight}`;
const boostWeight = v.pipe(
  finite,
  v.minValue(0, WEIGHT_EXPECTED),
  v.maxValue(BOOST_LIMITS.maxWeight, WEIGHT_EXPECTED),
);

export const searchOptionsSchema = v.strictObject({
  limit: v.optional(limit(LIMITS.searchLimit)),
  kind: v.optional(label('kind')),
  tags: v.optional(tags),
  tagMode: v.optional(tagMode),
  vector: v.optional(embedding),
  model: v.optional(embeddingModel),
  mode: v.optional(v.picklist(['text', 'vector', 'hybrid'], "expected 'text', 'vector' or 'hybrid'")),
  match: v.optional(v.picklist(['any', 'all'], "expected 'any' or 'all'")),
  metadata: v.optional(metadata),
  since: v.optional(instant),
  until: v.optional(instant),
  explain: v.optional(v.boolean('expected true or false')),
  ...validityOptions,
  boost: v.optional(
    v.strictObject(
      {
        recency: v.optional(
          v.strictObject({
            halfLifeDays: v.pipe(
              finite,
              v.minValue(BOOST_LIMITS.minHalfLifeDays, HALF_LIFE_EXPECTED),
              v.maxValue(BOOST_LIMITS.maxHalfLifeDays, HALF_LIFE_EXPECTED),
            ),
            weight: v.optional(boostWeight),
          }),
        ),
        importance: v.optional(
          v.union(
            [v.boolean(), boostWeight],
            `expected true, false or a weight from 0 to ${BOOST_LIMITS.maxWeight}`,
          ),
        ),
      },
      'expected an object like { recency?: { halfLifeDays }, importance? }',
    ),
  ),
});

export const addOptionsSchema = v.strictObject(
  { dedupe: v.optional(v.boolean('expected true or false')) },
  'expected an object like { dedupe: true }',
);

export const countOptionsSchema = v.strictObject({
  kind: v.optional(label('kind')),
  tags: v.optional(tags),
  tagMode: v.optional(tagMode),
  since: v.optional(instant),
  until: v.optional(instant),
  metadata: v.optional(metadata),
  ...validityOptions,
});

export const contextOptionsSchema = v.strictObject({
  ...searchOptionsSchema.entries,
  maxChars: v.optional(
    v.pipe(
      v.number('expected a number'),
      v.integer('expected an integer'),
      v.minValue(1, 'expected at least 1'),
    ),
  ),
});

export const linkOptionsSchema = v.strictObject({
  weight: v.optional(finite),
  metadata: v.optional(metadata),
});

export const linksOptionsSchema = v.strictObject({
  direction: v.optional(direction),
  type: v.optional(label('type')),
});
export const neighborsOptionsSchema = v.strictObject({
  direction: v.optional(direction),
  type: v.optional(label('type')),
  depth: v.optional(depth),
});
export const pathOptionsSchema = v.strictObject({
  direction: v.optional(direction),
  type: v.optional(label('type')),
  maxDepth: v.optional(depth),
});

export const idSchema = id;
export const namespaceSchema = id;
export const labelSchema = label;
/**
 * A query: any string, of any length (search reads 1024 characters from its first word: `cutQuery`,
 * core/text/query.ts).
 * A lone surrogate (a message cut inside an emoji by the caller) becomes U+FFFD, as a
 * decoder would show it: a search stores nothing, and typed text never throws (docs/search.md).
 */
export const querySchema = v.pipe(
  v.string('expected the query as a string'),
  v.transform((s) => (hasLoneSurrogate(s) ? wellFormed(s) : s)),
);

/** Field rules shared with the sync protocol, so replicated writes obey the same limits as local ones. */
export const fieldSchemas = {
  id,
  content,
  tags,
  metadata,
  embedding,
  embeddingModel,
  importance,
  instant,
  label,
  finite,
};
