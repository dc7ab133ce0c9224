import {
  type GetOperation,
  InvalidNamespaceError,
  type ListNamespacesOperation,
  type Operation,
  type PutOperation,
  type SearchOperation,
  validateNamespace,
} from '@langchain/langgraph-checkpoint';
import { EngramError } from '../core/errors.js';
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
    if ('namespace' in op) checkNamespace(op.namespace);
    if ('namespacePrefix' in op && op.namespacePrefix.length > 0) checkNamespace(op.namespacePrefix);
    if ('key' in op && 'namespace' in op && !('value' in op)) plan.gets.push([i, op as GetOperation]);
    else if ('namespacePrefix' in op) plan.searches.push([i, op as SearchOperation]);
    else if ('value' in op && 'namespace' in op && 'key' in op) {
      const put = op as PutOperation;
      checkKey(put);
      plan.puts.set(itemKey(put.namespace, put.key), { op: put, json: jsonOf(put) });
    } else if ('matchConditions' in op || 'limit' in op) {
      const list = op as ListNamespacesOperation;
      checkMatchTypes(list, i);
      plan.lists.push([i, list]);
    } else throw unknownOperation(i, op);
  });
  return plan;
}

function checkNamespace(namespace: string[]): void {
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
 * A listNamespaces condition matches by `prefix` or `suffix`; InMemoryStore throws on any other type, which
 * would otherwise be read here as a suffix and list the wrong namespaces.
 */
function checkMatchTypes(op: ListNamespacesOperation, index: number): void {
  (op.matchConditions ?? []).forEach(({ matchType }, j) => {
    if (matchType === 'prefix' || matchType === 'suffix') return;
    const field = `batch.${index}.matchConditions.${j}.matchType`;
    const got = JSON.stringify(matchType) ?? String(matchType);
    throw new EngramError('VALIDATION', `${field}: expected "prefix" or "suffix", got ${got}`, { field });
  });
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
function checkKey(op: PutOperation): void {
  const key: unknown = op.key;
  if (typeof key === 'string') return;
  const got = key === null ? 'null' : `${typeof key} ${String(key)}`;
  throw new EngramError(
    'VALIDATION',
    `put.key: expected a string, got ${got} (in namespace ${JSON.stringify(op.namespace)})`,
    { field: 'put.key' },
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
    reason = `a value JSON cannot hold (${error instanceof Error ? error.message : String(error)})`;
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
