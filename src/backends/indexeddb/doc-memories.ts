import { isExpired, isValidAt } from '../../core/filter.js';
import type { LiveFilter, MemoryRecord } from '../../core/store-contract.js';
import { MEMORY_KEYS, readByIds, withVectors } from './reads.js';
import type { ReadTransaction } from './search-transactions.js';
import { docNumber, readDocIds, type SlotCache } from './slot-tables.js';

/** `MemoryStore.docMemories`: the records of the document numbers still live, read on a search's transaction. */
export async function readDocMemories(
  tx: ReadTransaction,
  namespace: string,
  docs: readonly number[],
  slots: SlotCache,
  filter: LiveFilter | undefined,
): Promise<Map<number, MemoryRecord>> {
  const ids = await readDocIds(tx, namespace, docs, slots);
  const rows = await readByIds(tx.objectStore('memories'), MEMORY_KEYS, namespace, [...ids.values()]);
  // A memory edited since its postings were read has a new slot: its old number is gone. One expired
  // or not valid (`filter`) is left out before its embedding is read.
  const live = rows.filter(
    (row) =>
      ids.get(docNumber(row.group, row.slot)) === row.memory.id &&
      (filter === undefined || (!isExpired(row.memory, filter.now) && isValidAt(row.memory, filter.validAt))),
  );
  const records = await withVectors(tx.objectStore('vectors'), live);
  return new Map(live.map((row, i) => [docNumber(row.group, row.slot), records[i]!]));
}
