/**
 * Key ranges over keys shaped `[namespace, ...]`. IndexedDB orders numbers < strings < arrays, and a
 * shorter array before any longer one it starts, so `[ns]` precedes and `[ns, []]` follows every key
 * of the namespace whatever its later parts.
 */
const AFTER_ANY_STRING: IDBValidKey = [];

export function namespaceRange(namespace: string, after?: string | number): IDBKeyRange {
  return after === undefined
    ? IDBKeyRange.bound([namespace], [namespace, AFTER_ANY_STRING])
    : IDBKeyRange.bound([namespace, after], [namespace, AFTER_ANY_STRING], true);
}

/** The first key past every `[namespace, ...]` key: where a distinct-namespace scan jumps to. */
export function nextNamespaceKey(namespace: string): IDBValidKey {
  return [namespace, AFTER_ANY_STRING];
}

/**
 * Memory rows (schema v5) are keyed by one string, `namespace NUL id`, and their kind and tag index
 * keys likewise (`namespace NUL kind`, `namespace NUL tag`): labels and ids cannot hold NUL (core's
 * validation), so the pair is unambiguous, and a namespace's keys sort by id after its own prefix.
 * Chromium clones a value to read its keys, in the page: measured there (raw puts, 10 x 1000 rows,
 * alternating), a put with string keys costs 0.65-0.86x one with `[namespace, id]` array keys.
 */
const NUL = '\u0000';

export const memoryKey = (namespace: string, id: string): string => `${namespace}${NUL}${id}`;

/** The kind and tags index key of a label (a kind or a tag) in a namespace. */
export const labelKey = memoryKey;

/** The id in a memory key. */
export const idOfMemoryKey = (key: string): string => key.slice(key.indexOf(NUL) + 1);

export const namespaceOfMemoryKey = (key: string): string => key.slice(0, key.indexOf(NUL));

/** Every memory key of the namespace, or those after the id `after`. */
export function memoryRange(namespace: string, after?: string): IDBKeyRange {
  const end = `${namespace}\u0001`;
  return after === undefined
    ? IDBKeyRange.bound(memoryKey(namespace, ''), end, false, true)
    : IDBKeyRange.bound(memoryKey(namespace, after), end, true, true);
}

/** Memory keys with id strictly below `beforeId` (all of the namespace when undefined). */
export function memoriesBelow(namespace: string, beforeId: string | undefined): IDBKeyRange {
  return beforeId === undefined
    ? memoryRange(namespace)
    : IDBKeyRange.bound(memoryKey(namespace, ''), memoryKey(namespace, beforeId), false, true);
}

/**
 * The `feed` index key of a memory row in schema v5: `namespace NUL seq`, the sequence number in 16
 * decimal digits (every safe integer fits), so that keys sort by number. Measured in Chromium (raw puts
 * of v5 rows, 10 x 1000, alternating): with the feed key a string instead of `[namespace, seq]`, a batch
 * took 0.71x the wall time. Schema v6 moved the entries into feed blocks and dropped the index.
 */
export const feedKey = (namespace: string, seq: number): string =>
  `${namespace}${NUL}${String(seq).padStart(16, '0')}`;

/** The first memory key past every key of `namespace`: where a distinct-namespace scan jumps to. */
export const nextNamespaceMemoryKey = (namespace: string): string => `${namespace}\u0001`;
