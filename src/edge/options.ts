import * as v from 'valibot';
import { validationError } from '../core/errors.js';
import { assertKnownOptions, parse, timeoutMs } from '../core/validate.js';

/**
 * `createEdgeApp`'s options, checked as a whole when the app is made: a misspelt option (`ratelimit`,
 * `quota: { memory }`) would otherwise be ignored, and an edge the operator believes rate-limited or
 * capped would run without it. Values the app parses itself (numbers with their own ranges, the
 * secret, maintenance) are checked where they are read; here, unknown keys and the shape of the rest.
 */
const KNOWN = [
  'store',
  'secret',
  'cors',
  'logger',
  'bodyLimit',
  'demo',
  'health',
  'maxClockSkewMs',
  'maintenance',
  'rateLimit',
  'now',
  'live',
  'heartbeatMs',
  'maxStreamsPerToken',
  'quota',
] as const;

const fn = v.function('expected a function');
const strings = v.array(v.string(), 'expected an array of strings');

const shapes: Partial<Record<(typeof KNOWN)[number], v.GenericSchema>> = {
  store: v.union(
    [fn, v.looseObject({ apply: fn, getMemories: fn })],
    'expected a MemoryStore or a function of the request returning one',
  ),
  cors: v.union(
    [
      v.literal(false),
      v.strictObject({
        origin: v.optional(v.union([v.string(), strings, fn], 'expected a string, strings or a function')),
        allowMethods: v.optional(v.union([strings, fn], 'expected an array of strings or a function')),
        allowHeaders: v.optional(strings),
        maxAge: v.optional(v.number('expected seconds')),
        credentials: v.optional(v.boolean('expected true or false')),
        exposeHeaders: v.optional(strings),
      }),
    ],
    'expected false or CORS options { origin, allowMethods, allowHeaders, maxAge, credentials, exposeHeaders }',
  ),
  demo: v.union(
    [
      v.boolean(),
      v.string(),
      v.strictObject({
        html: v.string('expected the page as a string'),
        assets: v.optional(v.record(v.string(), v.string('expected a file as a string'))),
        namespace: v.optional(v.string('expected a namespace')),
        tokenTtl: v.optional(v.union([v.string(), v.number()], 'expected "15m" or seconds')),
      }),
    ],
    'expected true, the page as a string, or { html, assets?, namespace?, tokenTtl? }',
  ),
  health: v.strictObject(
    {
      check: v.optional(fn),
      timeoutMs: v.optional(timeoutMs),
    },
    'expected { check?, timeoutMs? }',
  ),
  rateLimit: v.union(
    [
      v.literal(false),
      v.looseObject({ take: fn }),
      v.strictObject({
        requests: v.number('expected requests per window'),
        windowMs: v.optional(v.number('expected milliseconds')),
        burst: v.optional(v.number('expected a number of requests')),
        maxKeys: v.optional(v.number('expected a number of keys')),
      }),
    ],
    'expected false, a RateLimiter { take }, or { requests, windowMs?, burst?, maxKeys? }',
  ),
  live: v.union(
    [v.literal(false), v.looseObject({ publish: fn, stream: fn })],
    'expected false or a LiveHub { publish, stream }',
  ),
  quota: v.strictObject(
    {
      memories: v.optional(v.number('expected a whole number')),
      bytes: v.optional(v.number('expected a whole number')),
    },
    'expected { memories?, bytes? }',
  ),
};

/** Refuses unknown options (the field is the key) and options of the wrong shape (`quota.memory`). */
export function checkEdgeOptions(options: unknown): void {
  assertKnownOptions(options, KNOWN, 'createEdgeApp', 'an options object with store and secret');
  if (options.store === undefined)
    throw validationError('store', 'a MemoryStore, or a function returning one', 'nothing');
  for (const [key, shape] of Object.entries(shapes)) {
    if (options[key] === undefined) continue;
    // A nested issue names its path (`quota.memory`); a wrong kind of value names the option.
    if (shape.type === 'union') {
      const loose = v.safeParse(shape, options[key]);
      if (loose.success) continue;
      const strict = (shape as unknown as { options: v.GenericSchema[] }).options.find(
        (o) => o.type === 'strict_object' && isPlainObject(options[key]),
      );
      if (strict) parse(strict, options[key], key);
      parse(shape, options[key], key);
    } else parse(shape, options[key], key);
  }
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
