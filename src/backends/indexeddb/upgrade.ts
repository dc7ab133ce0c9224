import type { IDBPDatabase } from 'idb';
import { indexedOtherwiseBeforeRefold } from '../../core/text/refold.js';
import { indexedOtherwiseBeforeSegmenting } from '../../core/text/resegment.js';
import { migrateToVersion2 } from './migrate-v2.js';
import { migrateToVersion3 } from './migrate-v3.js';
import { migrateToVersion4 } from './migrate-v4.js';
import { migrateToVersion5 } from './migrate-v5.js';
import { migrateToVersion6 } from './migrate-v6.js';
import { migrateToVersion9 } from './migrate-v9.js';
import { rebuildChangedText } from './rebuild-changed-text.js';
import type { EngramDatabase, UpgradeTransaction } from './schema.js';

// The steps live apart from the schema's types, which every module reads: a step may use any of them
// (migrate-v2 rewrites rows and the text index) without the types importing it back.
export const SCHEMA_VERSION = 9;

/** Runs every step from the database's version to SCHEMA_VERSION; a new database takes them all. */
export async function upgradeSchema(
  db: EngramDatabase,
  oldVersion: number,
  tx: UpgradeTransaction,
  /** Tests build databases of an older version with this. */
  target = SCHEMA_VERSION,
): Promise<void> {
  if (oldVersion < 1) createVersion1(db as unknown as IDBPDatabase);
  if (oldVersion < 2 && target >= 2) await migrateToVersion2(db, tx);
  // v2's step already indexes with today's tokenizer and layout; later steps rebuild an older index once.
  else if (oldVersion < 3 && target >= 3) await migrateToVersion3(db, tx);
  else if (oldVersion < 4 && target >= 4) await migrateToVersion4(db, tx);
  // Every database below v5, a new one too, still keys its memory rows by key path: they move once.
  if (oldVersion < 5 && target >= 5) await migrateToVersion5(db, tx);
  if (oldVersion < 6 && target >= 6) await migrateToVersion6(db, tx);
  // Every existing database: its text was indexed with the keys of its version. v7 folds by script (refold.ts),
  // v8 splits Thai, Lao, Khmer and Myanmar by dictionary (resegment.ts); the namespaces holding a text that a
  // step to take indexes otherwise are rebuilt, once for all of them, with today's keys (after v2's or v3's
  // rebuild, which already use today's, such a namespace is indexed a second time: harmless).
  const changes: Array<(content: string) => boolean> = [];
  if (oldVersion >= 1 && oldVersion < 7 && target >= 7) changes.push(indexedOtherwiseBeforeRefold);
  if (oldVersion >= 1 && oldVersion < 8 && target >= 8) changes.push(indexedOtherwiseBeforeSegmenting);
  if (changes.length > 0)
    await rebuildChangedText(tx, (content) => changes.some((changed) => changed(content)));
  // Shard rows are stored packed from v9 on; the rows of a database below it move once (rows the steps
  // above rebuilt are packed already).
  if (oldVersion >= 1 && oldVersion < 9 && target >= 9) await migrateToVersion9(tx);
}

/**
 * v1: embeddings inside memory rows, a separate change-feed store, one row per posting and no
 * statistics, so a bulk write cost ~35 requests per memory and opening meant summing the index.
 */
function createVersion1(db: IDBPDatabase): void {
  const memories = db.createObjectStore('memories', { keyPath: ['memory.namespace', 'memory.id'] });
  memories.createIndex('kind', ['memory.namespace', 'memory.kind']);
  const links = db.createObjectStore('links', { keyPath: ['link.namespace', 'link.id'] });
  links.createIndex('from', ['link.namespace', 'link.from']);
  links.createIndex('to', ['link.namespace', 'link.to']);
  db.createObjectStore('tombstones', { keyPath: ['namespace', 'id'] });
  const changes = db.createObjectStore('changes', { keyPath: ['namespace', 'seq'] });
  changes.createIndex('entity', ['namespace', 'entity', 'id']);
  db.createObjectStore('meta');
  db.createObjectStore('postings');
}
