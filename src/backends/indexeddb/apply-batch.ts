import { storageError } from '../../core/errors.js';
import { mergeBatch } from '../../core/merge.js';
import type { ApplyResult, WriteBatch } from '../../core/store-contract.js';
import { LANGUAGE_META, loadLanguage } from '../../core/text/index.js';
import type { Open } from './namespace-bounds.js';
import type { OpenGroupCache } from './open-group-cache.js';
import { ALL_STORES } from './schema.js';
import { IndexedDBWriteTransaction, type WriteTransaction } from './write-transaction.js';

const ignore = () => undefined;

/**
 * `MemoryStore.apply`: the batch merged in one readwrite transaction over every store. Once it has
 * committed, the namespace's open text group is kept for the next write and `committed` hears the ids
 * the write changed.
 */
export async function applyBatch(
  open: Open,
  namespace: string,
  batch: WriteBatch,
  textGroupSize: number,
  openGroups: OpenGroupCache,
  committed: (ids: string[]) => void,
): Promise<ApplyResult> {
  let tx: WriteTransaction | undefined;
  let writer: IndexedDBWriteTransaction | undefined;
  // A batch that sets the namespace's language loads it first: nothing but IDB may be awaited inside.
  await loadLanguage(batch.meta?.[LANGUAGE_META]);
  try {
    tx = await open(ALL_STORES, 'readwrite');
    tx.done.catch(ignore);
    const generation = openGroups.generation;
    writer = new IndexedDBWriteTransaction(
      tx,
      namespace,
      textGroupSize,
      batch.meta?.[LANGUAGE_META],
      openGroups.get(namespace),
      batch.memories?.length,
    );
    const result = await mergeBatch(writer, batch);
    if (batch.reportFeed) result.feed = await writer.feedRange();
    await writer.finish();
    const openGroup = await writer.openGroupAfter();
    await tx.done;
    if (openGroup) openGroups.set(namespace, openGroup, generation);
    committed(changedIds(result));
    return result;
  } catch (error) {
    try {
      tx?.abort();
    } catch {
      // Already aborted by the failed request, or already finished.
    }
    throw storageError('IndexedDB apply', writer?.failedWrite?.error ?? error);
  }
}

function changedIds(result: ApplyResult): string[] {
  const ids = [
    ...result.memories.map((r) => r.memory.id),
    ...result.links.map((r) => r.link.id),
    ...result.deleted,
  ];
  return [...new Set(ids)];
}
