import { noOptions } from './call-arguments.js';
import type { EmbeddingQueue } from './embedding/embedding-queue.js';
import type { MemoryStatus } from './engram-options.js';
import { countFromFeed } from './lifecycle.js';
import type { MemoryStats } from './model.js';
import type { MemoryStore } from './store-contract.js';
import type { Replication } from './sync/replica.js';

// What an Engram reports of itself: its sync and embedding `status`, and its namespace's `stats`.

/** See Engram.status: sync's (`local` without it) and the background embedding queue's. */
export function statusOf(
  replication: Replication | undefined,
  embeddings: EmbeddingQueue | undefined,
): MemoryStatus {
  const sync = replication?.status ?? { state: 'local', pending: 0, lastSyncAt: null };
  const status: MemoryStatus = { ...sync, pendingEmbeddings: embeddings?.pending ?? 0 };
  if (embeddings?.lastError !== undefined) status.embeddingError = embeddings.lastError;
  if (embeddings?.rejected) status.rejectedEmbeddings = embeddings.rejected;
  return status;
}

/** See Engram.stats; `status` is read once the counts are in. */
export async function statsOf(
  store: MemoryStore,
  namespace: string,
  status: () => MemoryStatus,
  rest: unknown[],
): Promise<MemoryStats> {
  // A filter passed by mistake (`stats({ kind })`) would be ignored: the counts are the namespace's.
  noOptions(rest, 'stats', 'no arguments (stats counts the whole namespace; count() takes filters)');
  const counts = store.stats ? await store.stats(namespace) : await countFromFeed(store, namespace);
  const { pending, pendingEmbeddings } = status() as { pending: number; pendingEmbeddings?: number };
  return { ...counts, pendingSync: pending, pendingEmbeddings: pendingEmbeddings ?? 0 };
}
