import { KEY_INFO_META } from './crypto/namespace-key.js';
import { adoptLanguage } from './language.js';
import type { Json } from './model.js';
import { type NamespaceDump, type RestoreResult, restoreNamespace } from './restore.js';
import type { MemoryStore } from './store-contract.js';
import type { ImportResult, TransferEntry, TransferOptions } from './transfer.js';
import {
  languageField,
  NamespaceLines,
  sameBatch,
  validateBatch,
  validateKeyEntry,
  writeBatchOf,
} from './transfer-checks.js';
import { LIMITS } from './validate.js';

/**
 * Reads the whole dump (records by id per namespace), checking every line as a merge would, then restores
 * each namespace it names. Nothing is written until the whole dump has been read and found valid.
 */
export async function restoreEntries(
  store: MemoryStore,
  entries: AsyncIterable<TransferEntry> | Iterable<TransferEntry>,
  onProgress: TransferOptions['onProgress'],
): Promise<ImportResult> {
  const dumps = new Map<string, NamespaceDump>();
  const keys: Array<Extract<TransferEntry, { type: 'key' }>> = [];
  const firstLanguage = new Map<string, Extract<TransferEntry, { type: 'language' }>>();
  let group: TransferEntry[] = [];
  const check = () => {
    if (group.length > 0) validateBatch(writeBatchOf(group), group[0]!.namespace, group);
    group = [];
  };
  const lines = new NamespaceLines();
  const dumpOf = (namespace: string) => {
    let dump = dumps.get(namespace);
    if (!dump) {
      dump = { memories: new Map(), links: new Map(), tombstones: [] };
      dumps.set(namespace, dump);
    }
    return dump;
  };
  for await (const entry of entries) {
    lines.check(entry);
    if (entry.type === 'key' || entry.type === 'language') {
      // A namespace the dump names holds what the dump holds of it, nothing included.
      dumpOf(entry.namespace);
      if (entry.type === 'key') {
        validateKeyEntry(entry, entry.namespace);
        keys.push(entry);
      } else if (!firstLanguage.has(entry.namespace)) {
        firstLanguage.set(entry.namespace, entry);
      }
      continue;
    }
    if (group.length > 0 && !sameBatch(group[0]!, entry)) check();
    group.push(entry);
    if (group.length >= LIMITS.batch) check();
    const dump = dumpOf(entry.namespace);
    if (entry.type === 'memory') dump.memories.set(entry.record.memory.id, entry.record);
    else if (entry.type === 'link') dump.links.set(entry.record.link.id, entry.record);
    else dump.tombstones.push(entry.tombstone);
  }
  check();
  for (const entry of firstLanguage.values()) {
    await adoptLanguage(store, entry.namespace, entry.language, languageField(entry));
  }
  for (const key of keys) {
    await store.apply(key.namespace, { meta: { [KEY_INFO_META]: key.info as unknown as Json } });
  }
  const total: Required<ImportResult> = { imported: 0, renamed: {}, removed: 0 };
  for (const [namespace, dump] of dumps) {
    const result: RestoreResult = await restoreNamespace(store, namespace, dump);
    total.imported += result.restored;
    total.removed += result.removed;
    Object.assign(total.renamed, result.renamed);
    onProgress?.({ namespace, done: total.imported });
  }
  return total;
}
