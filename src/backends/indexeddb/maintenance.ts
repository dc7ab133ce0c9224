import type { IDBPTransaction } from 'idb';
import { COLLECTED_SEQ_META } from '../../core/store-contract.js';
import { namespaceRange } from './keys.js';
import type { EngramSchema, StoreName } from './schema.js';

type Tx<Stores extends StoreName[], Mode extends IDBTransactionMode> = IDBPTransaction<
  EngramSchema,
  Stores,
  Mode
>;

/** Memories expired at `now`: a scan of the namespace's rows (there is no expiry index; see docs/stores.md). */
export async function expiredIds(
  tx: Tx<['memories'], 'readonly'>,
  namespace: string,
  options: { now: string; limit: number },
): Promise<string[]> {
  const now = Date.parse(options.now);
  const ids: string[] = [];
  let cursor = await tx.objectStore('memories').openCursor(namespaceRange(namespace));
  for (; cursor && ids.length < options.limit; cursor = await cursor.continue()) {
    const { expiresAt, id } = cursor.value.memory;
    if (expiresAt !== undefined && Date.parse(expiresAt) <= now) ids.push(id);
  }
  return ids;
}

/**
 * `MemoryStore.collectTombstones`: a tombstone row carries its own feed entry, so deleting the row drops
 * the entry; the raised `gc.collectedSeq` is written in the same transaction.
 */
export async function collectTombstones(
  tx: Tx<['tombstones', 'meta'], 'readwrite'>,
  namespace: string,
  options: { before: string; limit: number; keepLocalAfter?: number },
): Promise<number> {
  const meta = tx.objectStore('meta');
  let highest = Number((await meta.get([namespace, COLLECTED_SEQ_META])) ?? 0);
  let removed = 0;
  let cursor = await tx.objectStore('tombstones').openCursor(namespaceRange(namespace));
  for (; cursor && removed < options.limit; cursor = await cursor.continue()) {
    const row = cursor.value;
    if (row.clock >= options.before) continue;
    if (row.origin === 'local' && options.keepLocalAfter !== undefined && row.seq > options.keepLocalAfter)
      continue;
    await cursor.delete();
    highest = Math.max(highest, row.seq);
    removed++;
  }
  if (removed > 0) await meta.put(highest, [namespace, COLLECTED_SEQ_META]);
  await tx.done;
  return removed;
}
