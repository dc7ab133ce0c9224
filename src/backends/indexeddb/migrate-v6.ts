import type { IDBPDatabase } from 'idb';
import type { EngramDatabase } from './schema.js';

/**
 * v5 -> v6: memory rows written from now on keep their change-feed entries in feed blocks, one row per
 * transaction (see FeedBlockRow), instead of behind the `feed` index. Rows already stored keep their
 * entry and index key until they are next written or deleted, and the feed reads both (feed.ts), so
 * nothing is copied: the step only creates the store, and costs the same at any size.
 */
export function migrateToVersion6(db: EngramDatabase): void {
  (db as unknown as IDBPDatabase).createObjectStore('feedBlocks');
}
