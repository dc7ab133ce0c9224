import {
  type GetOperation,
  InvalidNamespaceError,
  type ListNamespacesOperation,
  type Operation,
  type PutOperation,
  type SearchOperation,
  validateNamespace,
} from '@langchain/langgraph-checkpoint';
import { EngramError, errorMessage, validationError } from '../core/errors.js';
import { itemKey } from './item-records.js';

/** A put as it will be written: `json` is the value's JSON text, undefined for a delete (value null). */
export interface PendingPut {
  op: PutOperation;
  json: string | undefined;
}

/** A batch's operations by kind, with their positions in the results. */
export interface BatchPlan {
  gets: [number, GetOperation][];
  searches: [number, SearchOperation][];
  lists: [number, ListNamespacesOperation][];
  /** By item: several puts of one key keep the last, as in LangGraph's stores. */
  puts: Map<string, PendingPut>;
}

/**
 * Sorts the operations by kind and checks all that can be checked without the store: each namespace,
 * and each put's key and value. It throws before anything is read or written, so one bad put fails its
 * whole batch and the batch writes nothing.
 */
export function planBatch(operations: readonly Operation[]): BatchPlan {
  const plan: BatchPlan = { gets: [], searches: [], lists: [], puts: new Map() };
  operations.forEach((op, i) => {
    if (typeof op !== 'object' || op === null) throw unknownOperation(i, op);
    if ('namespace' in op) checkNamespace(op.namespace, `batch.${i}.namespace`);
    if ('namespacePrefix' in op) checkNamespace(op.namespacePrefix, `batch.${i}.namespacePrefix`, true);
    if ('key' in op && 'namespace' in op && !('value' in op)) {
      checkKey(op as GetOperation, 'get');
      plan.gets.push([i, op as GetOperation]);
    } else if ('namespacePrefix' in op) {
      checkSearch(op as SearchOperation, i);
      plan.searches.push([i, op as SearchOperation]);
    } else if ('value' in op && 'namespace' in op && 'key' in op) {
      const put = op as PutOperation;
      checkKey(put, 'put');
      checkIndex(put);
      plan.puts.set(itemKey(put.namespace, put.key), { op: put, json: jsonOf(put) });
    } else if ('matchConditions' in op || 'limit' in op) {
      const list = op as ListNamespacesOperation;
      checkListing(list, i);
      plan.lists.push([i, list]);
    } else throw unknownOperation(i, op);
  });
  return plan;
}

/** A namespace, or a search's prefix (`emptyAllowed`: the empty prefix is every namespace). */
function checkNamespace(namespace: unknown, field: string, emptyAllowed = false): void {
  if (!Array.isArray(namespace)) throw refused(field, 'an array of labels', namespace);
  if (namespace.length === 0 && emptyAllowed) return;
  validateNamespace(namespace, { allowReservedRoot: true });
  // Older versions of the peer allow these; LangGraph's own stores reject them, so do we.
  for (const label of namespace) {
    if (label.includes(':'))
      throw new InvalidNamespaceError(
        `Invalid namespace label '${label}': labels cannot contain colons (':').`,
      );
    if (label.includes('\u0000'))
      throw new InvalidNamespaceError('Namespace labels cannot contain NUL bytes.');
  }
}

/**
 * A search's and a listing's paging and filters are checked as its puts are: LangGraph's InMemoryStore
 * takes a negative limit or a text offset and answers with a wrong page, where the caller's mistake
 * should be named.
 */
function checkSearch(op: SearchOperation, index: number): void {
  checkPaging(op, index);
  const { query, filter } = op as { query?: unknown; filter?: unknown };
  if (query !== undefined && query !== null && typeof query !== 'string')
    throw refused(`batch.${index}.query`, 'a string', query);
  if (filter !== undefined && filter !== null && (typeof filter !== 'object' || Array.isArray(filter)))
    throw refused(`batch.${index}.filter`, 'an object of field conditions', filter);
}

/**
 * A listNamespaces condition matches by `prefix` or `suffix` on a path of labels (`*` for any); a
 * condition of another type would otherwise be read as a suffix and list the wrong namespaces
 * (InMemoryStore throws on it).
 */
function checkListing(op: ListNamespacesOperation, index: number): void {
  checkPaging(op, index);
  const at = `batch.${index}`;
  const { matchConditions: conditions, maxDepth } = op as { matchConditions?: unknown; maxDepth?: unknown };
  if (maxDepth !== undefined && !(Number.isSafeInteger(maxDepth) && (maxDepth as number) >= 1))
    throw refused(`${at}.maxDepth`, 'a whole number of at least 1', maxDepth);
  if (conditions === undefined) return;
  if (!Array.isArray(conditions))
    throw refused(`${at}.matchConditions`, 'an array of conditions', conditions);
  conditions.forEach((condition: unknown, j) => {
    const field = `${at}.matchConditions.${j}`;
    if (typeof condition !== 'object' || condition === null)
      throw refused(field, 'a condition { matchType, path }', condition);
    const { matchType, path } = condition as { matchType?: unknown; path?: unknown };
    if (matchType !== 'prefix' && matchType !== 'suffix')
      throw refused(`${field}.matchType`, '"prefix" or "suffix"', matchType);
    if (!Array.isArray(path) || !path.every((label) => typeof label === 'string'))
      throw refused(`${field}.path`, 'an array of labels ("*" for any)', path);
  });
}

function checkPaging(op: { limit?: unknown; offset?: unknown }, index: number): void {
  for (const name of ['limit', 'offset'] as const) {
    const value = op[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 0))
      throw refused(`batch.${index}.${name}`, 'a whole number of at least 0', value);
  }
}

/** VALIDATION naming the field, with the value as sent (JSON, cut at 60 characters). */
function refused(field: string, expected: string, got: unknown): EngramError {
  const shown = typeof got === 'bigint' ? `${got}n` : (JSON.stringify(got) ?? String(got));
  return validationError(field, expected, shown.length > 60 ? `${shown.slice(0, 60)}…` : shown);
}

/** `key "k" in namespace ["a","b"]`: which item a put error is about. */
export function itemLabel(namespace: string[], key: unknown): string {
  const shown = typeof key === 'string' && key.length > 60 ? `${key.slice(0, 60)}…` : key;
  return `key ${JSON.stringify(shown) ?? String(key)} in namespace ${JSON.stringify(namespace)}`;
}

/**
 * LangGraph types keys as strings; InMemoryStore keeps any value as given, but Engram finds an item by
 * its key's text, so a number key would be written and never found again.
 */
function checkKey(op: PutOperation | GetOperation, kind: 'put' | 'get'): void {
  const key: unknown = op.key;
  if (typeof key === 'string') return;
  const got = key === null ? 'null' : `${typeof key} ${String(key)}`;
  throw validationError(`${kind}.key`, 'a string', `${got} (in namespace ${JSON.stringify(op.namespace)})`);
}

/**
 * `index` is false (not embedded) or the field paths to embed, absent (or null, Python's None) for the
 * store's fields; anything else would be read as paths.
 */
function checkIndex(op: PutOperation): void {
  const index: unknown = op.index;
  if (index === undefined || index === null || index === false) return;
  if (Array.isArray(index) && index.every((path) => typeof path === 'string')) return;
  throw refused(
    'put.index',
    `false or an array of field paths for ${itemLabel(op.namespace, op.key)}`,
    index,
  );
}

/** The value's JSON text (values are kept as JSON, like LangGraph's persistent stores keep them). */
function jsonOf(op: PutOperation): string | undefined {
  if (op.value === null) return undefined;
  const value: unknown = op.value;
  let json: string | undefined;
  let reason: string;
  try {
    json = JSON.stringify(value);
    reason = value === undefined ? 'undefined' : `a ${typeof value}`;
  } catch (error) {
    reason = `a value JSON cannot hold (${errorMessage(error)})`;
  }
  if (json !== undefined) return json;
  throw new EngramError(
    'VALIDATION',
    `put.value: expected a JSON value (null deletes the item), got ${reason} for ${itemLabel(op.namespace, op.key)}`,
    { field: 'put.value' },
  );
}

function unknownOperation(index: number, op: unknown): EngramError {
  const got =
    typeof op === 'object' && op !== null
      ? `an object with ${Object.keys(op).length ? `keys ${Object.keys(op).join(', ')}` : 'no keys'}`
      : String(op);
  const field = `batch.${index}`;
  return new EngramError(
    'VALIDATION',
    `${field}: expected a get, search, put or listNamespaces operation, got ${got}`,
    { field },
  );
}
