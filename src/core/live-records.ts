import { type EngramError, NotFoundError } from './errors.js';
import { isExpired } from './filter.js';
import type { MemoryRecord, MemoryStore } from './store-contract.js';

/** One namespace of a store, and the instant its reads judge expiry by: what the façade's parts read through. */
export interface NamespaceView {
  readonly store: MemoryStore;
  readonly namespace: string;
  nowIso(): string;
}

export function notFound(id: string, field: string): EngramError {
  return new NotFoundError(`${field}: no memory with id ${JSON.stringify(id)}`, { field });
}

/** The memory's record, unless it is missing or expired. */
export async function liveRecord(view: NamespaceView, id: string): Promise<MemoryRecord | undefined> {
  const [record] = await view.store.getMemories(view.namespace, [id]);
  return record && !isExpired(record.memory, view.nowIso()) ? record : undefined;
}

/** liveRecord, or NOT_FOUND naming `field`. */
export async function requireLive(view: NamespaceView, id: string, field: string): Promise<MemoryRecord> {
  const record = await liveRecord(view, id);
  if (!record) throw notFound(id, field);
  return record;
}

/** Both ends of a link or path, read together; when both are missing the error names the first. */
export async function requireLivePair(
  view: NamespaceView,
  [fromId, fromField]: [string, string],
  [toId, toField]: [string, string],
): Promise<[MemoryRecord, MemoryRecord]> {
  const now = view.nowIso();
  const records = await view.store.getMemories(view.namespace, [fromId, toId]);
  const live = (id: string) => records.find((r) => r.memory.id === id && !isExpired(r.memory, now));
  const from = live(fromId);
  if (!from) throw notFound(fromId, fromField);
  const to = live(toId);
  if (!to) throw notFound(toId, toField);
  return [from, to];
}
