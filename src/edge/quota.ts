import { EngramError } from '../core/errors.js';
import type { Memory } from '../core/model.js';
import type { MemoryStore, WriteBatch } from '../core/store-contract.js';

/** Per-namespace limits (`createEdgeApp({ quota })`); each is off when absent. */
export interface QuotaOptions {
  /** Memories a namespace may hold. */
  memories?: number;
  /** UTF-8 bytes of the content and metadata JSON of a namespace's memories. */
  bytes?: number;
}

const encoder = new TextEncoder();
const sizeOf = (values: { content?: string; metadata?: unknown }) =>
  (values.content === undefined ? 0 : encoder.encode(values.content).length) +
  (values.metadata === undefined ? 0 : encoder.encode(JSON.stringify(values.metadata)).length);

export function checkQuotaOptions(quota: QuotaOptions | undefined): QuotaOptions | undefined {
  if (quota === undefined) return undefined;
  for (const key of ['memories', 'bytes'] as const) {
    const limit = quota[key];
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
      throw new EngramError(
        'VALIDATION',
        `quota.${key}: expected a whole number, 0 or more, got ${String(limit)}`,
        {
          field: `quota.${key}`,
        },
      );
    }
  }
  return quota;
}

/**
 * The store behind every route of a namespace with a quota: a write that would take the namespace
 * past `memories` or `bytes` is refused whole (403 FORBIDDEN, field `quota.memories` / `quota.bytes`)
 * before anything is written. Deletes and writes that do not grow it always pass, so a namespace over
 * its quota can still be cleaned up. The check reads the store's `usage` and the records the batch
 * replaces; two writers racing may together pass the limit by one batch.
 */
export function quotaStore(store: MemoryStore, quota: QuotaOptions): MemoryStore {
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (key !== 'apply' || typeof value !== 'function') {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (namespace: string, batch: WriteBatch) => {
        await enforce(target, namespace, batch, quota);
        return target.apply(namespace, batch);
      };
    },
  });
}

async function enforce(store: MemoryStore, namespace: string, batch: WriteBatch, quota: QuotaOptions) {
  const writes = batch.memories ?? [];
  if (writes.length === 0) return;
  if (!store.usage) {
    throw new EngramError('STORAGE', `quota: the ${store.kind} store cannot measure a namespace's usage`);
  }
  const existing = new Map<string, Memory>(
    (
      await store.getMemories(
        namespace,
        writes.map((w) => w.id),
      )
    ).map((r) => [r.memory.id, r.memory]),
  );
  let added = 0;
  let grown = 0;
  for (const write of writes) {
    const before = existing.get(write.id);
    if (!before) {
      if (!write.create) continue;
      added++;
      grown += sizeOf(write.values);
    } else {
      const after = {
        content: write.values.content ?? before.content,
        metadata: write.values.metadata ?? before.metadata,
      };
      grown += sizeOf(after) - sizeOf(before);
    }
  }
  if (added === 0 && grown <= 0) return;
  const usage = await store.usage(namespace);
  const over = (field: 'memories' | 'bytes', now: number, adds: number) => {
    const limit = quota[field];
    if (limit === undefined || adds <= 0 || now + adds <= limit) return;
    throw new EngramError(
      'FORBIDDEN',
      `quota.${field}: namespace ${JSON.stringify(namespace)} may hold at most ${limit} ${field === 'bytes' ? 'bytes of content and metadata' : 'memories'}; it holds ${now} and this write adds ${adds}: nothing was written (delete some, or raise the quota)`,
      { field: `quota.${field}` },
    );
  };
  over('memories', usage.memories, added);
  over('bytes', usage.bytes, grown);
}
