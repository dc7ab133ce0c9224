import type { IDBPTransaction } from 'idb';
import type { ChangeEntry } from '../../core/store-contract.js';
import { feedRange, namespaceRange } from './keys.js';
import type { EngramSchema, StoreName } from './schema.js';

type ReadTransaction = IDBPTransaction<EngramSchema, StoreName[], 'readonly'>;

/**
 * The change feed after `afterSeq`: entries live on memory, link and tombstone rows (see FeedEntry),
 * so a page is the first `limit` of three index reads merged by sequence number.
 */
export async function readFeed(
  tx: ReadTransaction,
  namespace: string,
  afterSeq: number,
  limit: number,
): Promise<ChangeEntry[]> {
  const range = namespaceRange(namespace, afterSeq);
  const [memories, links, tombstones] = await Promise.all([
    tx.objectStore('memories').index('feed').getAll(feedRange(namespace, afterSeq), limit),
    tx.objectStore('links').index('feed').getAll(range, limit),
    tx.objectStore('tombstones').index('feed').getAll(range, limit),
  ]);
  const entries: ChangeEntry[] = [
    ...memories.map(({ seq, origin, memory }) => ({ seq, entity: 'memory' as const, id: memory.id, origin })),
    ...links.map(({ seq, origin, link }) => ({ seq, entity: 'link' as const, id: link.id, origin })),
    ...tombstones.map(({ seq, origin, entity, id }) => ({ seq, entity, id, origin })),
  ];
  return entries.sort((a, b) => a.seq - b.seq).slice(0, limit);
}
