import { canonicalJson } from './canonical-json.js';
import { EngramError } from './errors.js';
import { isExpired, isValidAt } from './filter.js';
import { normalizeContent } from './lifecycle.js';
import type { LinkRecord, LinkWrite, MemoryRecord, WriteBatch } from './store-contract.js';
import type { StoreTransaction } from './store-transaction.js';

/**
 * The checks a batch asks for before anything of it is written (`WriteBatch.unchanged`, `unchangedMeta`,
 * `dedupe`, `newIds`), run by mergeBatch inside the store's transaction, and the pairs its new links join.
 */

/** `WriteBatch.unchanged`: each memory (or link) is live and its field holds the stamp its writer read. */
export function assertUnchanged(
  unchanged: NonNullable<WriteBatch['unchanged']>,
  held: {
    memories: ReadonlyMap<string, MemoryRecord>;
    links: ReadonlyMap<string, LinkRecord>;
    dead: ReadonlyMap<string, unknown>;
  },
): void {
  for (const { id, field, clock, entity = 'memory' } of unchanged) {
    const records: ReadonlyMap<string, MemoryRecord | LinkRecord> =
      entity === 'link' ? held.links : held.memories;
    const record = held.dead.has(id) ? undefined : records.get(id);
    if (record && (record.clocks[field] ?? null) === clock) continue;
    const what = record ? `its ${field} was written` : 'it was deleted';
    throw new EngramError(
      'CONFLICT',
      `unchanged: ${entity} ${JSON.stringify(id)} changed: ${what} since it was read`,
      {
        field: 'unchanged',
      },
    );
  }
}

/** `WriteBatch.unchangedMeta`: each meta entry still holds the value its writer read. */
export async function assertMetaUnchanged(
  tx: StoreTransaction,
  guards: NonNullable<WriteBatch['unchangedMeta']>,
): Promise<void> {
  if (!tx.readMeta) return;
  for (const { key, value, field } of guards) {
    const now = (await tx.readMeta(key)) ?? null;
    if (canonicalJson(now) === canonicalJson(value)) continue;
    throw new EngramError(
      'CONFLICT',
      `${field}: the namespace's ${JSON.stringify(key)} changed while the request was checked; nothing was written, send it again`,
      { field },
    );
  }
}

/** Memories written after a deduping add's position that its guard compares, at most. */
const DEDUPE_WINDOW = 1000;

/** `WriteBatch.dedupe`: no memory written since `since` is a copy valid at `now` (see there). */
export async function assertNoCopySince(
  tx: StoreTransaction,
  { content, since, now }: { content: string; since: number; now: string },
): Promise<void> {
  // Bounded: a position far behind (a stale or hostile one) must not make the store read the namespace.
  const ids = await tx.readMemoryIdsChangedSince!(since, DEDUPE_WINDOW + 1);
  if (ids.length === 0) return;
  if (ids.length > DEDUPE_WINDOW) {
    throw new EngramError(
      'CONFLICT',
      `dedupe: more than ${DEDUPE_WINDOW} memories were written after feed position ${since}; read the position again`,
      { field: 'dedupe' },
    );
  }
  const wanted = normalizeContent(content);
  for (const { memory } of (await tx.readMemories(ids)).values()) {
    if (isExpired(memory, now) || !isValidAt(memory, now) || normalizeContent(memory.content) !== wanted)
      continue;
    const message = `dedupe: memory ${JSON.stringify(memory.id)} with the same content was written meanwhile`;
    throw new EngramError('CONFLICT', message, { field: 'dedupe' });
  }
}

/**
 * `WriteBatch.newIds`: each must be free (no memory, link or tombstone holds it), and a new link must be
 * the only one of its memories and type (`link` updates that one instead). Throws before anything is
 * written, inside the store's transaction, so that a writer racing another process for the id or the
 * link is told rather than merged.
 */
export async function assertNewIdsFree(
  tx: StoreTransaction,
  newIds: readonly string[],
  linkWrites: readonly LinkWrite[],
  held: {
    memories: ReadonlyMap<string, unknown>;
    links: ReadonlyMap<string, unknown>;
    dead: ReadonlyMap<string, unknown>;
  },
): Promise<void> {
  const { memories, links, dead } = held;
  const conflict = (message: string) =>
    new EngramError('CONFLICT', `newIds: ${message}`, { field: 'newIds' });
  for (const id of newIds) {
    const taken = memories.has(id)
      ? 'a memory'
      : links.has(id)
        ? 'a link'
        : dead.has(id)
          ? 'a deleted record'
          : '';
    if (taken) throw conflict(`id ${JSON.stringify(id)} is taken by ${taken}`);
  }
  const fresh = new Set(newIds);
  const created = linkWrites.flatMap((w) =>
    w.create && fresh.has(w.id) ? [{ ...w.create, id: w.id, type: w.values.type }] : [],
  );
  if (created.length === 0) return;
  const pairs = await PairLinks.read(tx, linkWrites, held.dead);
  for (const c of created) {
    const twin = pairs.twin({ id: c.id, create: c, values: { type: c.type } });
    if (twin)
      throw conflict(`a ${JSON.stringify(c.type)} link from ${c.from} to ${c.to} exists (${twin.link.id})`);
  }
}

/**
 * The links joining the pairs (from, to) of a batch's new links, read at once and kept current as the batch
 * writes: a new link's twin is a live link of another id with its `from`, `to` and type (`newIds` refuses it,
 * `foldTwinLinks` folds into it). A memory may have thousands of links: only the pairs are read where the
 * store can, all issued together (one round trip for a pipelining store, not one per link of a push).
 */
export class PairLinks {
  private readonly byPair = new Map<string, LinkRecord[]>();

  /**
   * `dead`: ids deleted here, the batch's own tombstones included: a store's read may not see a delete
   * made earlier in the same transaction, and a link the batch deletes is no twin of one it makes.
   */
  static async read(
    tx: StoreTransaction,
    writes: readonly LinkWrite[],
    dead: ReadonlyMap<string, unknown>,
  ): Promise<PairLinks> {
    const pairs = new PairLinks();
    const wanted = new Map<string, { from: string; to: string }>();
    for (const { create } of writes) {
      if (create) wanted.set(pairKey(create.from, create.to), { from: create.from, to: create.to });
    }
    if (wanted.size === 0) return pairs;
    const list = [...wanted.values()];
    const found = tx.readLinksJoining
      ? await tx.readLinksJoining(list)
      : tx.readLinksBetween
        ? (await Promise.all(list.map(({ from, to }) => tx.readLinksBetween!(from, to)))).flat()
        : await tx.readLinksTouching(unique(list.map(({ from }) => from)));
    for (const record of found) {
      if (wanted.has(pairKey(record.link.from, record.link.to)) && !dead.has(record.link.id))
        pairs.put(record);
    }
    return pairs;
  }

  twin({ id, create, values }: Pick<LinkWrite, 'id' | 'create' | 'values'>): LinkRecord | undefined {
    const type = values.type ?? 'related_to';
    return this.byPair
      .get(pairKey(create!.from, create!.to))
      ?.find(({ link }) => link.id !== id && link.type === type);
  }

  /** A link written (created or folded into) by the batch: later twins in it see it as it now is. */
  put(record: LinkRecord): void {
    const key = pairKey(record.link.from, record.link.to);
    const held = (this.byPair.get(key) ?? []).filter(({ link }) => link.id !== record.link.id);
    this.byPair.set(key, [...held, record]);
  }
}

function pairKey(from: string, to: string): string {
  return `${from.length}:${from}${to}`;
}

export function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
