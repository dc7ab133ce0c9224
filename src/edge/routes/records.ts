import type { Context } from 'hono';
import type { Memory, MemoryRecord, MemoryStore } from '../../core/types.js';
import { idSchema, LIMITS, linksOptionsSchema, listOptionsSchema, parse } from '../../core/validate.js';
import { queryObject } from '../request.js';
import { LINKS_QUERY, LIST_RECORDS_QUERY } from './queries.js';

/*
 * `?include=clocks`: records with their field clocks, for replicas (RemoteStore) that must hand the
 * façade on their side exactly what a local store would.
 */

/** The store's own listing: `before=<id>` instead of the opaque cursor, TTL judged at `at`. */
export async function listRecords(
  store: MemoryStore,
  namespace: string,
  c: Context,
  at: number | undefined,
): Promise<MemoryRecord[]> {
  const { before, ...rest } = queryObject(c, LIST_RECORDS_QUERY);
  const options = parse(listOptionsSchema, rest, 'list');
  return store.list(namespace, {
    kind: options.kind,
    tags: options.tags,
    tagMode: options.tagMode ?? 'any',
    since: options.since,
    until: options.until,
    beforeId: before === undefined ? undefined : parse(idSchema, before, 'list.before'),
    now: new Date(at ?? Date.now()).toISOString(),
    limit: options.limit ?? LIMITS.listLimit,
  });
}

/** Every link touching the memory in the direction asked, whatever state the far end is in (as `linksOf`). */
export async function linkRecords(store: MemoryStore, namespace: string, id: string, c: Context) {
  const options = parse(linksOptionsSchema, queryObject(c, LINKS_QUERY), 'links.options');
  return store.linksOf(namespace, [parse(idSchema, id, 'links.id')], {
    direction: options.direction ?? 'both',
    type: options.type,
  });
}

/**
 * Pairs memories the façade returned with their clocks. The records are read again, so a memory
 * deleted in between is dropped and one updated in between comes back in its newer, consistent state.
 */
export async function withClocks(
  store: MemoryStore,
  namespace: string,
  memories: readonly Memory[],
): Promise<MemoryRecord[]> {
  const records = await store.getMemories(
    namespace,
    memories.map((m) => m.id),
  );
  const byId = new Map(records.map((r) => [r.memory.id, r]));
  return memories.flatMap((m) => {
    const record = byId.get(m.id);
    return record ? [record] : [];
  });
}
