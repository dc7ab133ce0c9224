import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import { indexText } from '../../core/text/index.js';
import type {
  ChangeEntry,
  FieldClocks,
  Json,
  LinkRecord,
  Memory,
  MemoryRecord,
  TextStats,
  Tombstone,
} from '../../core/types.js';
import { PendingRequests } from './pending-requests.js';

export const SCHEMA_VERSION = 2;

/**
 * A memory as stored. The embedding lives in `vectors` (`hasVector` says so), so text reads never
 * decode vectors and vector scans never decode text.
 */
export interface MemoryRow {
  memory: Omit<Memory, 'embedding'>;
  clocks: FieldClocks;
  /** `[namespace, tag]` pairs: keys of the multiEntry `tags` index. */
  tagKeys: [string, string][];
  hasVector?: true;
}

export type LinkRow = LinkRecord;
export type ChangeRow = ChangeEntry & { namespace: string };

/** Every store is keyed by namespace first, so a namespace is one contiguous key range everywhere. */
export interface EngramSchema extends DBSchema {
  memories: {
    key: [string, string];
    value: MemoryRow;
    indexes: { kind: [string, string]; tags: [string, string] };
  };
  vectors: { key: [string, string]; value: Float64Array };
  links: { key: [string, string]; value: LinkRow; indexes: { from: [string, string]; to: [string, string] } };
  tombstones: { key: [string, string]; value: Tombstone };
  changes: { key: [string, number]; value: ChangeRow; indexes: { entity: [string, string, string] } };
  meta: { key: [string, string]; value: Json };
  /** `[namespace, term, id]` -> packed tf and document length (see rows.ts). */
  postings: { key: [string, string, string]; value: number };
  stats: { key: string; value: TextStats };
}

export type StoreName = StoreNames<EngramSchema>;
export type EngramDatabase = IDBPDatabase<EngramSchema>;
export type UpgradeTransaction = IDBPTransaction<EngramSchema, StoreName[], 'versionchange'>;

export const ALL_STORES: StoreName[] = [
  'memories',
  'vectors',
  'links',
  'tombstones',
  'changes',
  'meta',
  'postings',
  'stats',
];

/** Runs every step from the database's version to SCHEMA_VERSION; a new database takes them all. */
export async function upgradeSchema(
  db: EngramDatabase,
  oldVersion: number,
  tx: UpgradeTransaction,
): Promise<void> {
  if (oldVersion < 1) createVersion1(db);
  if (oldVersion < 2) await migrateToVersion2(db, tx);
}

/** v1 kept embeddings inside memory rows and had no text statistics: opening meant summing them. */
function createVersion1(db: EngramDatabase): void {
  const memories = db.createObjectStore('memories', { keyPath: ['memory.namespace', 'memory.id'] });
  memories.createIndex('kind', ['memory.namespace', 'memory.kind']);
  const links = db.createObjectStore('links', { keyPath: ['link.namespace', 'link.id'] });
  links.createIndex('from', ['link.namespace', 'link.from']);
  links.createIndex('to', ['link.namespace', 'link.to']);
  db.createObjectStore('tombstones', { keyPath: ['namespace', 'id'] });
  const changes = db.createObjectStore('changes', { keyPath: ['namespace', 'seq'] });
  // Not unique: a write queues the new entry before the old one's delete lands, within one transaction.
  changes.createIndex('entity', ['namespace', 'entity', 'id']);
  db.createObjectStore('meta');
  db.createObjectStore('postings');
}

/**
 * v2 moves embeddings to their own store, indexes tags, and keeps per-namespace text statistics so
 * that opening a large database reads nothing. Existing rows are rewritten in the upgrade transaction.
 */
async function migrateToVersion2(db: EngramDatabase, tx: UpgradeTransaction): Promise<void> {
  db.createObjectStore('vectors');
  db.createObjectStore('stats');
  const memories = tx.objectStore('memories');
  memories.createIndex('tags', 'tagKeys', { multiEntry: true });
  const vectors = tx.objectStore('vectors');
  const totals = new Map<string, TextStats>();
  const writes = new PendingRequests();
  for (let cursor = await memories.openCursor(); cursor; cursor = await cursor.continue()) {
    const legacy = cursor.value as unknown as MemoryRecord;
    const { namespace, id, content, embedding } = legacy.memory;
    const total = totals.get(namespace) ?? { docs: 0, tokens: 0 };
    total.docs += 1;
    total.tokens += indexText(content).length;
    totals.set(namespace, total);
    if (embedding) writes.track(vectors.put(Float64Array.from(embedding), [namespace, id]));
    writes.track(cursor.update(toMemoryRow(legacy)));
  }
  const stats = tx.objectStore('stats');
  for (const [namespace, total] of totals) writes.track(stats.put(total, namespace));
  await writes.settle();
}

export function toMemoryRow({ memory, clocks }: MemoryRecord): MemoryRow {
  const { embedding, ...rest } = memory;
  const row: MemoryRow = { memory: rest, clocks, tagKeys: memory.tags.map((tag) => [memory.namespace, tag]) };
  if (embedding !== undefined) row.hasVector = true;
  return row;
}
