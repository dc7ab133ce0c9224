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

/** Postings `[ns, term, id]` of one exact term. */
export function termRange(namespace: string, term: string): IDBKeyRange {
  return IDBKeyRange.bound([namespace, term], [namespace, term, AFTER_ANY_STRING]);
}

/** Postings of every term starting with `prefix` ('\uffff' is the largest code unit keys compare by). */
export function prefixRange(namespace: string, prefix: string): IDBKeyRange {
  return IDBKeyRange.bound([namespace, prefix], [namespace, `${prefix}\uffff`]);
}

/**
 * A posting's value packs tf and the document length into one number: the cheapest value IndexedDB
 * stores and decodes, and search then needs no per-document length lookup. Content is at most 64 KiB,
 * so both stay far below the span.
 */
const TF_SPAN = 2 ** 24;

export function packPosting(tf: number, length: number): number {
  return length * TF_SPAN + tf;
}

export function unpackPosting(value: number): { tf: number; length: number } {
  return { tf: value % TF_SPAN, length: Math.floor(value / TF_SPAN) };
}
