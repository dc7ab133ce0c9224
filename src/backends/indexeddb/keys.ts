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

/** Keys `[ns, id]` with id strictly below `beforeId` (all of the namespace when undefined). */
export function belowRange(namespace: string, beforeId: string | undefined): IDBKeyRange {
  return beforeId === undefined
    ? namespaceRange(namespace)
    : IDBKeyRange.bound([namespace], [namespace, beforeId], false, true);
}

/** The first key past every `[namespace, ...]` key: where a distinct-namespace scan jumps to. */
export function nextNamespaceKey(namespace: string): IDBValidKey {
  return [namespace, AFTER_ANY_STRING];
}
