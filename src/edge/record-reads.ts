import type { Context } from 'hono';
import type { Memory } from '../core/model.js';
import type { MemoryRecord } from '../core/store-contract.js';
import { idSchema, LIMITS, linksOptionsSchema, listOptionsSchema, parse } from '../core/validate.js';
import type { EdgeEnv } from './env.js';
import { LINKS_QUERY, LIST_RECORDS_QUERY } from './query-shapes.js';
import { queryObject } from './request.js';

/*
 * `?include=clocks`: records with their field clocks, for replicas (RemoteStore) that must hand the
 * façade on their side exactly what a local store would.
 */

/** The store's own listing: `before=<id>` instead of the opaque cursor, TTL judged at `at`. */
export async function listRecords(c: Context<EdgeEnv>, at: number | undefined): Promise<MemoryRecord[]> {
  const { before, ...rest } = queryObject(c, LIST_RECORDS_QUERY);
  const options = parse(listOptionsSchema, rest, 'list');
  return c.var.store.list(c.var.namespace, {
    kind: options.kind,
    tags: options.tags,
    tagMode: options.tagMode ?? 'any',
    since: options.since,
    until: options.until,
    metadata: options.metadata,
    beforeId: before === undefined ? undefined : parse(idSchema, before, 'list.before'),
    now: new Date(at ?? Date.now()).toISOString(),
    limit: options.limit ?? LIMITS.listLimit,
    asOf: options.asOf,
    history: options.history,
  });
}

/** Every link touching the memory in the direction asked, whatever state the far end is in (as `linksOf`). */
export async function linkRecords(c: Context<EdgeEnv>, id: string) {
  const options = parse(linksOptionsSchema, queryObject(c, LINKS_QUERY), 'links.options');
  return c.var.store.linksOf(c.var.namespace, [parse(idSchema, id, 'links.id')], {
    direction: options.direction ?? 'both',
    type: options.type,
  });
}

/**
 * Pairs memories the façade returned with their clocks. The records are read again, so a memory
 * deleted in between is dropped and one updated in between comes back in its newer, consistent state.
 */
export async function withClocks(c: Context<EdgeEnv>, memories: readonly Memory[]): Promise<MemoryRecord[]> {
  const ids = memories.map((m) => m.id);
  const records = await c.var.store.getMemories(c.var.namespace, ids);
  const byId = new Map(records.map((r) => [r.memory.id, r]));
  return memories.flatMap((m) => {
    const record = byId.get(m.id);
    return record ? [record] : [];
  });
}
