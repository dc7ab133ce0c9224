import type { Memory } from '../../core/model.js';
import { analyzerFor, isLanguageLoaded, LANGUAGE_META } from '../../core/text/index.js';
import { memoryKey, memoryRange, namespaceRange } from './keys.js';
import { PendingRequests } from './pending-requests.js';
import { emptyStats } from './rows.js';
import type { MemoryRow, UpgradeTransaction } from './schema.js';
import { TextIndexWriter } from './text-writer.js';

/** Memory rows read per request. */
const PAGE = 1000;

/**
 * Thrown by the step, before it writes anything, when a namespace it must index again has an index language
 * this process has not loaded: an upgrade transaction ends at the first wait that is not one of its own
 * requests, so it cannot import the analyzer itself. `connect` loads them and opens again.
 */
export class LanguagesToLoad extends Error {
  constructor(readonly languages: readonly unknown[]) {
    super(`IndexedDB upgrade needs the index languages ${languages.join(', ')} loaded first`);
  }
}

/**
 * Inside the upgrade transaction, for changes of the index keys of some texts (v7's folding, v8's
 * segmentation): the memory rows are read once, in pages; each namespace holding a text that
 * `indexedOtherwise` names has its text index rebuilt from the stored content, in its index language (see
 * LanguagesToLoad). Other namespaces, records, the change feed and sequence numbers stay as they are.
 */
export async function rebuildChangedText(
  tx: UpgradeTransaction,
  indexedOtherwise: (content: string) => boolean,
): Promise<void> {
  const memories = tx.objectStore('memories');
  const changed = new Set<string>();
  for (let after: string | undefined; ; ) {
    const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true);
    const rows: MemoryRow[] = await memories.getAll(range, PAGE);
    for (const { memory } of rows) {
      if (!changed.has(memory.namespace) && indexedOtherwise(memory.content)) changed.add(memory.namespace);
    }
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1]!.memory;
    after = memoryKey(last.namespace, last.id);
  }
  const meta = tx.objectStore('meta');
  const languages = new Map<string, unknown>();
  for (const namespace of changed) languages.set(namespace, await meta.get([namespace, LANGUAGE_META]));
  const missing = new Set([...languages.values()].filter((language) => !isLanguageLoaded(language)));
  if (missing.size > 0) throw new LanguagesToLoad([...missing]);
  for (const [namespace, language] of languages) await rebuildNamespace(tx, namespace, language);
}

async function rebuildNamespace(tx: UpgradeTransaction, namespace: string, language: unknown): Promise<void> {
  const stores = { tables: tx.objectStore('textTables'), shards: tx.objectStore('textShards') };
  await stores.tables.delete(namespaceRange(namespace));
  await stores.shards.delete(namespaceRange(namespace));
  const statsStore = tx.objectStore('stats');
  const before = await statsStore.get(namespace);
  // Only the text counters start again; the feed's number and the expiry and validity bounds hold.
  const stats = { ...(before ?? emptyStats()), docs: 0, tokens: 0, openGroup: 0, openGroupSlots: 0 };
  const writes = new PendingRequests();
  const text = new TextIndexWriter(analyzerFor(language).language, stores, namespace, stats, writes);
  const memories = tx.objectStore('memories');
  for (
    let cursor = await memories.openCursor(memoryRange(namespace));
    cursor;
    cursor = await cursor.continue()
  ) {
    const row: MemoryRow = cursor.value;
    const { id, content } = row.memory as Memory;
    const place = text.add(id, content);
    writes.track(cursor.update({ ...row, group: place.group, slot: place.slot }));
  }
  await text.flush();
  writes.track(statsStore.put(stats, namespace));
  await writes.settle();
}
