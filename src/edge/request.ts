import type { Context } from 'hono';
import { validationError } from '../core/errors.js';
import { setOwnKey } from '../core/own-key.js';
import { fieldSchemas, parse } from '../core/validate.js';
import { bodyCutOff } from './errors.js';

/** Fails on bytes that are not UTF-8, where `Request.text()` would put U+FFFD in their place. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the body as JSON whatever its content type; a missing or malformed body is VALIDATION, not a 500.
 * A body that is not UTF-8 is refused rather than stored with replacement characters (a silent change).
 */
export async function readJson(c: Context): Promise<unknown> {
  // Compressed bodies are not read (a gzip body would be refused as bytes that are not UTF-8, which
  // tells a client nothing about why); say what was sent and what to do instead.
  const encoding = c.req.header('content-encoding')?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw validationError(
      'body',
      'a body sent uncompressed (no Content-Encoding)',
      `Content-Encoding: ${encoding}`,
    );
  }
  let bytes: ArrayBuffer;
  try {
    bytes = await c.req.arrayBuffer();
  } catch (error) {
    throw bodyCutOff(error);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw validationError('body', 'UTF-8 text', 'bytes that are not UTF-8');
  }
  if (text.trim() === '') {
    throw validationError('body', 'a JSON body', 'nothing');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw validationError('body', 'valid JSON', 'malformed text');
  }
}

/**
 * Reads a body that must be one JSON object (`where` names it as the SDK would: `update.patch`), so an
 * array or `null` is refused as what it is rather than read as an object without fields.
 */
export async function readObject<T = Record<string, unknown>>(
  c: Context,
  where: string,
  example: string,
): Promise<T> {
  const body = await readJson(c);
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as T;
  throw validationError(where, `an object like ${example}`, jsonKind(body));
}

/** What a parsed JSON value is, for messages: `null`, `an array`, `a string`. */
function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

export interface QueryShape {
  /** Parameters converted to numbers when they look like one (otherwise the schema names the bad value). */
  numbers?: readonly string[];
  /** Parameters converted to booleans when they read `true` or `false`. */
  booleans?: readonly string[];
  /** Parameters that are lists: comma-separated, repeated, or both. */
  lists?: readonly string[];
  /** Parameters handled by the route itself, kept out of the object. */
  omit?: readonly string[];
  /** Objects given as `name.key=value` parameters (a value that parses as JSON is that JSON, else a string). */
  objects?: readonly string[];
  /** The parameters the route takes besides `omit`; any other is refused, naming it under `where`. */
  allowed: readonly string[];
  where: string;
}

/** The parameters a route takes, as a refusal lists them: an object's as `metadata.<key>`. */
function knownParameters(shape: QueryShape): string[] {
  return [...shape.allowed, ...(shape.omit ?? [])].map((key) =>
    shape.objects?.includes(key) ? `${key}.<key>` : key,
  );
}

/**
 * The query string as an options object for the same schema the SDK uses, so `?limit=x` fails exactly
 * like `list({ limit: 'x' })`, and a typo such as `?tag=` is refused rather than silently ignored.
 */
export function queryObject(c: Context, shape: QueryShape): Record<string, unknown> {
  const all = c.req.queries();
  // Hono drops parameters with an empty name (`?=x`, `?&=1`); the raw query string keeps them, and no
  // route takes one, so one is refused like any unknown parameter (`DELETE /memories?=x` clears nothing).
  if (new URL(c.req.url).searchParams.has('')) {
    const known = knownParameters(shape);
    throw validationError(
      `${shape.where}.`,
      known.length === 0
        ? 'no query parameters (this route takes none)'
        : `a known query parameter: one of ${known.join(', ')}`,
      '?= (a parameter with an empty name)',
    );
  }
  const out: Record<string, unknown> = {};
  for (const [key, values] of Object.entries(all)) {
    if (shape.omit?.includes(key)) {
      // Read by the route itself (`now`, `include`), which takes one value: two are refused as below.
      if (new Set(values).size > 1) throw twoValues(`${shape.where}.${key}`, values);
      continue;
    }
    if (shape.objects?.includes(key)) {
      // `?metadata={"team":"a"}` or `?metadata=x`: a query string carries an object as one parameter per
      // key, which the answer shows (the object's own check would only say a string is not an object).
      throw validationError(
        `${shape.where}.${key}`,
        `${key}.<key>=<value> parameters, one per key (e.g. ?${key}.team=a)`,
        `?${key}=… (one parameter for the whole object)`,
      );
    }
    const dot = key.indexOf('.');
    const object = dot > 0 ? key.slice(0, dot) : '';
    if (shape.objects?.includes(object)) {
      const entries = (out[object] ?? {}) as Record<string, unknown>;
      const distinct = new Set(values).size;
      if (distinct > 1) {
        // Equality on one key cannot hold two values: say so rather than answer nothing.
        throw validationError(`${shape.where}.${key}`, 'one value', `${distinct} different values`);
      }
      // `metadata.__proto__=1` is a key like any other (assigned, it set the prototype: no filter at all).
      setOwnKey(entries, key.slice(dot + 1), jsonOrString(values[0] ?? ''));
      out[object] = entries;
      continue;
    }
    if (!shape.allowed.includes(key)) {
      const field = `${shape.where}.${key}`;
      const known = knownParameters(shape);
      if (known.length === 0)
        throw validationError(field, 'no query parameters (this route takes none)', `?${key}`);
      throw validationError(field, `a known query parameter: one of ${known.join(', ')}`, 'an unknown one');
    }
    if (shape.lists?.includes(key)) {
      out[key] = values.flatMap(listItems).filter((v) => v !== '');
      continue;
    }
    // `?limit=2&limit=3`: which one was meant is unknown; answering with the last would be a guess.
    if (new Set(values).size > 1) throw twoValues(`${shape.where}.${key}`, values);
    const value = values[values.length - 1] ?? '';
    if (shape.booleans?.includes(key) && (value === 'true' || value === 'false')) out[key] = value === 'true';
    else out[key] = shape.numbers?.includes(key) && NUMERIC.test(value) ? Number(value) : value;
  }
  return out;
}

const twoValues = (field: string, values: readonly string[]) =>
  validationError(field, 'one value', `${new Set(values).size} different values`);

/**
 * One value of a list parameter: comma-separated items (`tags=coffee,tea`), or a JSON array of strings
 * (`tags=["a,b"]`), the only way to name an item that holds a comma, as RemoteStore does.
 */
function listItems(value: string): string[] {
  if (value.startsWith('[')) {
    const parsed = jsonOrString(value);
    if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) return parsed;
  }
  return value.split(',');
}

function jsonOrString(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * Refuses every query parameter but `allowed` on a route that reads the rest itself (or takes none): a
 * parameter it would ignore must not pass for a filter (`DELETE /memories?kind=x` would clear everything).
 */
export function refuseOtherQuery(c: Context, where: string, allowed: readonly string[] = []): void {
  queryObject(c, { where, allowed });
}

/** `?now=<ISO>`: the instant at which TTLs are judged, so a replica reads what its own clock says is alive. */
export function readInstant(c: Context): number | undefined {
  const now = c.req.query('now');
  if (now === undefined) return undefined;
  return Date.parse(parse(fieldSchemas.instant, now, 'now'));
}

/** `?include=clocks` asks for records with field clocks (what a replica such as RemoteStore needs). */
export function wantsClocks(c: Context): boolean {
  const include = c.req.query('include');
  if (include === undefined) return false;
  if (include !== 'clocks') {
    throw validationError('include', `'clocks'`, JSON.stringify(include));
  }
  return true;
}
