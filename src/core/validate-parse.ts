import * as v from 'valibot';
import { EngramError } from './errors.js';

// The boundary between valibot and callers: its issues become one VALIDATION error naming the field.

/**
 * Parses `value` or throws VALIDATION naming the field: `add.tags.1: expected a non-empty tag`.
 * `where` is the argument's name as the caller wrote it.
 */
export function parse<S extends v.GenericSchema>(schema: S, value: unknown, where: string): v.InferOutput<S> {
  const array = arrayForObject(schema as unknown as SchemaShape, value);
  if (array) {
    const field = [where, ...array.path].join('.');
    throw new EngramError('VALIDATION', `${field}: expected an object, got ${describe(array.value)}`, {
      field,
    });
  }
  const result = v.safeParse(schema, value, { message: ownWords });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = v.getDotPath(issue);
  const field = path ? `${where}.${path}` : where;
  if (issue.type === 'strict_object' && issue.expected !== OBJECT && path) {
    // Valibot reports a missing required key and an unknown key alike; `expected` tells them apart.
    const missing = issue.expected !== 'never' && issue.input === undefined;
    const message = missing ? 'required, got nothing' : 'unknown field, remove it or check its spelling';
    throw new EngramError('VALIDATION', `${field}: ${message}`, { field });
  }
  const got = describe(issue.input);
  throw new EngramError('VALIDATION', `${field}: ${issue.message}, got ${got}`, { field });
}

/** What valibot expects of an object schema; an issue about a key expects the key or `never` instead. */
const OBJECT = 'Object';
const OBJECT_TYPES = new Set(['object', 'strict_object', 'loose_object', 'object_with_rest']);

/**
 * The message of an issue whose schema has none: valibot's "Invalid type: Expected Object but received
 * null" for options that are no object (`search(q, null)`, `list(5)`) reads `expected an object`.
 */
const ownWords = (issue: v.BaseIssue<unknown>): string =>
  OBJECT_TYPES.has(issue.type) && issue.expected === OBJECT ? 'expected an object' : issue.message;

/** What `arrayForObject` reads of a schema: object schemas' entries, and the schema an optional wraps. */
interface SchemaShape {
  type: string;
  entries?: Record<string, SchemaShape>;
  wrapped?: SchemaShape;
}

/**
 * The first array in `value` where `schema` wants an object, and the keys down to it. Valibot takes an
 * array for an object: `search(q, [])` or `{ boost: [] }` would pass as no options at all, and
 * `{ recency: [] }` would be told its `halfLifeDays` is missing.
 */
function arrayForObject(
  schema: SchemaShape,
  value: unknown,
): { path: string[]; value: unknown[] } | undefined {
  if (schema.wrapped) return arrayForObject(schema.wrapped, value);
  if (!OBJECT_TYPES.has(schema.type) || !schema.entries) return undefined;
  if (Array.isArray(value)) return { path: [], value };
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, entry] of entriesOf(schema.entries)) {
    // As valibot reads it: an inherited key too (a getter of an options class).
    if (!(key in value)) continue;
    const found = arrayForObject(entry, (value as Record<string, unknown>)[key]);
    if (found) {
      found.path.unshift(key);
      return found;
    }
  }
  return undefined;
}

/**
 * An object schema's entries as a list, made once per schema: every parse of every input (each memory
 * of an addMany) walks them, and listing them anew each time was a twentieth of the bytes a bulk add
 * allocated.
 */
const entryLists = new WeakMap<Record<string, SchemaShape>, [string, SchemaShape][]>();

function entriesOf(entries: Record<string, SchemaShape>): [string, SchemaShape][] {
  let list = entryLists.get(entries);
  if (list === undefined) {
    list = Object.entries(entries);
    entryLists.set(entries, list);
  }
  return list;
}

/**
 * Options of a function whose errors name bare keys (`ratelimit`, `expiresIn`): an object, holding none
 * but `known`. A misspelt option would otherwise be ignored without a word.
 */
export function assertKnownOptions(
  options: unknown,
  known: readonly string[],
  where: string,
  expected: string,
): asserts options is Record<string, unknown> {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new EngramError('VALIDATION', `${where}: expected ${expected}, got ${describe(options)}`, {
      field: where,
    });
  for (const key of Object.keys(options)) {
    if (!known.includes(key))
      throw new EngramError('VALIDATION', `${key}: unknown option, remove it or check its spelling`, {
        field: key,
      });
  }
}

/** What a bad value is, for messages: `nothing`, `null`, `an array of 2`, `"text"`, `number 5`. */
export function describe(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return `an array of ${input.length}`;
  if (ArrayBuffer.isView(input)) {
    const tag = Object.prototype.toString.call(input).slice(8, -1);
    const length = 'length' in input ? ` of ${input.length}` : '';
    return `${/^[AEIOU]/.test(tag) ? 'an' : 'a'} ${tag}${length}`;
  }
  if (typeof input === 'string')
    return input.length > 40 ? `a string of ${input.length} characters` : JSON.stringify(input);
  if (typeof input === 'object') return 'an object';
  return `${typeof input} ${String(input)}`;
}
