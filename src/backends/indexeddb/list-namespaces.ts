import { namespaceOfMemoryKey, nextNamespaceKey, nextNamespaceMemoryKey } from './keys.js';
import type { Tx } from './namespace-bounds.js';
import type { StoreName } from './schema.js';

/** The stores whose keys name the namespaces listed. */
export const NAMESPACE_STORES: StoreName[] = ['memories', 'tombstones', 'meta'];

/** `MemoryStore.namespaces`: each namespace with a row in one of NAMESPACE_STORES, sorted. */
export async function listNamespaces(tx: Tx<'readonly'>): Promise<string[]> {
  const found = new Set<string>();
  for (const name of NAMESPACE_STORES) {
    const store = tx.objectStore(name);
    for (let cursor = await store.openKeyCursor(); cursor; ) {
      // Memory rows are keyed `namespace NUL id`, the others `[namespace, ...]`.
      const { key } = cursor;
      const namespace = typeof key === 'string' ? namespaceOfMemoryKey(key) : (key as [string, string])[0];
      found.add(namespace);
      const next = typeof key === 'string' ? nextNamespaceMemoryKey(namespace) : nextNamespaceKey(namespace);
      cursor = await cursor.continue(next as never);
    }
  }
  return [...found].sort();
}
