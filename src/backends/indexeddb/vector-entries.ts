import type { VectorEntry } from '../../core/store-contract.js';
import { memoryKey, namespaceRange } from './keys.js';
import type { Tx } from './namespace-bounds.js';

/** `MemoryStore.vectors`: the embeddings after `afterId` (all when null), id ascending, with their models. */
export async function readVectorEntries(
  tx: Tx<'readonly'>,
  namespace: string,
  afterId: string | null,
  limit: number,
): Promise<VectorEntry[]> {
  const store = tx.objectStore('vectors');
  const range = namespaceRange(namespace, afterId ?? undefined);
  const [keys, values] = await Promise.all([store.getAllKeys(range, limit), store.getAll(range, limit)]);
  // The model lives in the memory row; its rows are read in the same transaction, key by key.
  const memories = tx.objectStore('memories');
  const rows = await Promise.all(keys.map(([, id]) => memories.get(memoryKey(namespace, id))));
  return keys.map(([, id], i) => {
    const entry: VectorEntry = { id, embedding: Array.from(values[i]!) };
    const model = rows[i]?.memory.embeddingModel;
    if (model !== undefined) entry.model = model;
    return entry;
  });
}
