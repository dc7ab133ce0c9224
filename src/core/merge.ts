import {
  assertMetaUnchanged,
  assertNewIdsFree,
  assertNoCopySince,
  assertUnchanged,
  PairLinks,
  unique,
} from './batch-guards.js';
import { isExpired } from './filter.js';
import { floorStamp } from './hlc.js';
import { keepsLocal, maxClock, mergeLink, mergeMemory, minClock, unchangedBy } from './record-merge.js';
import type {
  ApplyResult,
  FieldClocks,
  LinkRecord,
  MemoryRecord,
  MemoryWrite,
  Tombstone,
  WriteBatch,
} from './store-contract.js';
import type { StoreTransaction } from './store-transaction.js';

export { mergeLink, mergeMemory, UNSTAMPED_VALUES } from './record-merge.js';
export type { StoreTransaction } from './store-transaction.js';

/**
 * Applies a batch inside a store transaction. Rules (the same on every replica and the server):
 * - fields merge independently, the greater HLC stamp wins, equal stamps keep what is there;
 * - a tombstone wins over every write of its id, earlier or later, except a memory created anew after it
 *   (`createsAnew`: every field stamped after the delete);
 * - deleting a memory tombstones its links with the same stamp;
 * - a link whose endpoint is tombstoned is tombstoned too, so dangling links never appear;
 * - a write that changes nothing records no change (pushes are idempotent).
 */
export async function mergeBatch(tx: StoreTransaction, batch: WriteBatch): Promise<ApplyResult> {
  const origin = batch.origin ?? 'local';
  const memoryWrites = batch.memories ?? [];
  const linkWrites = batch.links ?? [];
  const { tombstones, outlived } =
    origin === 'local'
      ? { tombstones: [...(batch.tombstones ?? [])], outlived: [] }
      : await namedAsStored(tx, batch.tombstones ?? []);
  const result: ApplyResult = { memories: [], links: [], deleted: [], rejected: [] };
  // A memory that outlived a delete is announced again: on the edge, so that the replica that pushed the
  // delete pulls it (and gives up its tombstone, `createsAnew`); on a replica, pushed to the edge, which
  // sent the tombstone because it lacks the memory.
  const written = new Set(memoryWrites.map((w) => w.id));
  // One the batch also writes is put (and announced) by that write, if it changes anything.
  for (const record of outlived.filter((r) => !written.has(r.memory.id))) {
    await tx.putMemory(record, record);
    await tx.recordChange('memory', record.memory.id, batch.pushBackTombstones ? 'local' : origin);
  }
  if (batch.unchangedMeta?.length) await assertMetaUnchanged(tx, batch.unchangedMeta);
  if (batch.forget) result.deleted.push(...(await forgetRecords(tx, batch.forget)));

  const deadMemoryIds = tombstones.filter((t) => t.entity === 'memory').map((t) => t.id);
  if (deadMemoryIds.length > 0) {
    const alreadyDead = new Set(tombstones.filter((t) => t.entity === 'link').map((t) => t.id));
    const clockOf = new Map(tombstones.filter((t) => t.entity === 'memory').map((t) => [t.id, t.clock]));
    for (const { link } of await tx.readLinksTouching(deadMemoryIds)) {
      if (alreadyDead.has(link.id)) continue;
      alreadyDead.add(link.id);
      const clock = clockOf.get(link.from) ?? clockOf.get(link.to)!;
      tombstones.push({ entity: 'link', id: link.id, namespace: link.namespace, clock });
    }
  }

  const memoryIds = unique([
    ...memoryWrites.map((w) => w.id),
    ...(batch.unchanged ?? []).flatMap((u) => (u.entity === 'link' ? [] : [u.id])),
    ...deadMemoryIds,
    ...linkWrites.flatMap((w) => (w.create ? [w.create.from, w.create.to] : [])),
  ]);
  const linkIds = unique([
    ...(batch.newIds ?? []),
    ...linkWrites.map((w) => w.id),
    ...(batch.unchanged ?? []).flatMap((u) => (u.entity === 'link' ? [u.id] : [])),
    ...tombstones.filter((t) => t.entity === 'link').map((t) => t.id),
  ]);
  // Issued together: independent reads, which a store may pipeline on its connection (postgres.js does).
  const [memories, links, dead] = await Promise.all([
    tx.readMemories(memoryIds),
    tx.readLinks(linkIds),
    tx.readTombstones(unique([...memoryIds, ...linkIds])),
  ]);
  if (batch.newIds?.length)
    await assertNewIdsFree(tx, batch.newIds, batch.links ?? [], { memories, links, dead });
  if (batch.dedupe && tx.readMemoryIdsChangedSince) await assertNoCopySince(tx, batch.dedupe);
  if (batch.unchanged?.length) assertUnchanged(batch.unchanged, { memories, links, dead });

  // Tombstones this batch brings win over its writes; only a stored one may give way to a new memory.
  const deletedHere = new Set(tombstones.map((t) => t.id));
  const putHere = new Set<string>();
  for (const tombstone of tombstones) {
    result.deleted.push(tombstone.id);
    const held = dead.get(tombstone.id);
    if (held) {
      if (!putHere.has(tombstone.id)) await raiseTombstone(tx, held, tombstone, origin, dead);
      continue;
    }
    putHere.add(tombstone.id);
    dead.set(tombstone.id, tombstone);
    await tx.putTombstone(tombstone);
    if (tombstone.entity === 'memory') {
      const record = memories.get(tombstone.id);
      if (record) await tx.deleteMemory(record);
      memories.delete(tombstone.id);
    } else {
      const record = links.get(tombstone.id);
      if (record) await tx.deleteLink(record);
      links.delete(tombstone.id);
    }
    await tx.recordChange(tombstone.entity, tombstone.id, origin);
  }

  // A pulled write refused by a tombstone held here sends that tombstone back (WriteBatch.pushBackTombstones);
  // not one the batch brought: that came from the edge, which holds it.
  const pushedBack = new Set<string>();
  const pushBack = async (id: string): Promise<void> => {
    const tombstone = dead.get(id);
    if (!batch.pushBackTombstones || !tombstone || deletedHere.has(id) || pushedBack.has(id)) return;
    pushedBack.add(id);
    if (tx.dropTombstone) await putAgain(tx, tombstone, tombstone, 'local');
    else await tx.recordChange(tombstone.entity, id, 'local');
  };

  const touchedMemories = new Map<string, MemoryRecord>();
  for (const write of memoryWrites) {
    const held = memories.get(write.id);
    // A memory made anew under the id of one that had expired replaces it: the expired one's links go.
    const replaced = held && replacesExpired(held, write) ? held : undefined;
    if (replaced) {
      // On a pull, pushed too: the edge sent the memory, but may not have replaced it (it had purged it).
      const buryOrigin = batch.pushBackTombstones ? 'local' : origin;
      for (const tombstone of await buryLinksOf(tx, replaced, write, buryOrigin, { links, dead })) {
        result.deleted.push(tombstone.id);
        deletedHere.add(tombstone.id);
      }
    }
    const previous = replaced ? undefined : held;
    const tombstone = dead.get(write.id);
    if (tombstone && tx.dropTombstone && !deletedHere.has(write.id) && createsAnew(write, tombstone)) {
      await tx.dropTombstone(tombstone);
      dead.delete(write.id);
    }
    const merged = dead.has(write.id) ? null : mergeMemory(previous, write, batch.clockCeiling);
    if (!merged) {
      result.rejected.push(write.id);
      await pushBack(write.id);
      continue;
    }
    touchedMemories.set(write.id, merged);
    if (previous && unchangedBy(previous, merged)) continue;
    memories.set(write.id, merged);
    await tx.putMemory(merged, held);
    const entryOrigin = origin === 'remote' && keepsLocal(merged, write) ? 'local' : origin;
    await tx.recordChange('memory', write.id, entryOrigin);
  }

  const touchedLinks = new Map<string, LinkRecord>();
  const pairs = batch.foldTwinLinks
    ? await PairLinks.read(
        tx,
        linkWrites.filter((w) => !links.has(w.id) && !dead.has(w.id)),
        dead,
      )
    : undefined;
  for (const write of linkWrites) {
    if (dead.has(write.id)) {
      result.rejected.push(write.id);
      await pushBack(write.id);
      continue;
    }
    const endpoint = write.create && (dead.get(write.create.from) ?? dead.get(write.create.to));
    if (endpoint && !links.has(write.id)) {
      await pushBack(endpoint.id);
      const tombstone: Tombstone = {
        entity: 'link',
        id: write.id,
        namespace: endpoint.namespace,
        clock: endpoint.clock,
      };
      dead.set(write.id, tombstone);
      await tx.putTombstone(tombstone);
      await tx.recordChange('link', write.id, origin);
      result.deleted.push(write.id);
      continue;
    }
    const previous = links.get(write.id);
    const twin = !previous && write.create ? pairs?.twin(write) : undefined;
    if (twin) {
      const folded = mergeLink(twin, { ...write, id: twin.link.id }, batch.clockCeiling)!;
      touchedLinks.set(twin.link.id, folded);
      if (!unchangedBy(twin, folded)) {
        pairs!.put(folded);
        links.set(twin.link.id, folded);
        await tx.putLink(folded, twin);
        await tx.recordChange('link', twin.link.id, origin);
      }
      const tombstone: Tombstone = {
        entity: 'link',
        id: write.id,
        namespace: twin.link.namespace,
        clock: maxClock(write.clocks),
      };
      dead.set(write.id, tombstone);
      await tx.putTombstone(tombstone);
      await tx.recordChange('link', write.id, origin);
      result.deleted.push(write.id);
      continue;
    }
    const merged = mergeLink(previous, write, batch.clockCeiling);
    if (!merged) {
      result.rejected.push(write.id);
      continue;
    }
    touchedLinks.set(write.id, merged);
    if (previous && unchangedBy(previous, merged)) continue;
    pairs?.put(merged);
    links.set(write.id, merged);
    await tx.putLink(merged, previous);
    const entryOrigin = origin === 'remote' && keepsLocal(merged, write) ? 'local' : origin;
    await tx.recordChange('link', write.id, entryOrigin);
  }

  for (const [key, value] of Object.entries(batch.meta ?? {})) await tx.setMeta(key, value);
  result.memories = [...touchedMemories.values()];
  result.links = [...touchedLinks.values()];
  return result;
}

/**
 * A second delete of an id already deleted here: the tombstone takes the later stamp, and the change
 * syncs, so every replica ends with the same one (the latest delete), whichever arrived first. Which
 * memory `createsAnew` lets take the id back is decided against it: with each replica keeping the stamp
 * that reached it first, one took a memory made between two deletes and another refused it for good.
 * A store without `dropTombstone` keeps the first stamp.
 */
async function raiseTombstone(
  tx: StoreTransaction,
  held: Tombstone,
  incoming: Tombstone,
  origin: 'local' | 'remote',
  dead: Map<string, Tombstone>,
): Promise<void> {
  if (!tx.dropTombstone || incoming.entity !== held.entity || incoming.clock <= held.clock) return;
  const raised = { ...held, clock: incoming.clock };
  await putAgain(tx, held, raised, origin);
  dead.set(raised.id, raised);
}

/**
 * Replaces a held tombstone by `next` (the same, or a later stamp) with a new feed entry: the SQL stores
 * and IndexedDB keep a tombstone's entry on its row, so the row is put again with it.
 */
async function putAgain(
  tx: StoreTransaction,
  held: Tombstone,
  next: Tombstone,
  origin: 'local' | 'remote',
): Promise<void> {
  await tx.dropTombstone!(held);
  await tx.putTombstone(next);
  await tx.recordChange(next.entity, next.id, origin);
}

/** The fields every release stamps when it creates a memory: a write holding all of them whole. */
const CREATED_FIELDS = ['content', 'kind', 'tags', 'metadata'] as const;

/**
 * Whether a memory write creates its id anew rather than edits the memory the tombstone deleted: every
 * field it holds was stamped after the delete, the fields a creation stamps included. That is a memory
 * added under the id after the delete (by a device that never heard of the deleted one, or after the
 * tombstone was collected where it was added); the edge and every replica still holding the tombstone
 * take it instead of keeping the id deleted while its author shows it. An edit of the deleted memory
 * keeps the stamps of the fields it left alone, older than the delete (the deleting replica's clock had
 * seen them), and stays deleted; only an edit rewriting every field after the delete is taken for a new
 * memory. The stamps decide, not `createdAt`: merging an earlier creation of the same id lowers
 * `createdAt` and never a stamp, so every replica reaches the same verdict whatever it merged first.
 */
function createsAnew(write: MemoryWrite, tombstone: Tombstone): boolean {
  return tombstone.entity === 'memory' && write.create !== undefined && stampedAfter(write.clocks, tombstone);
}

/** Every field of these clocks, the fields a creation stamps included, was stamped after the delete. */
function stampedAfter(clocks: FieldClocks, tombstone: Pick<Tombstone, 'clock'>): boolean {
  const stamps = clocks as Record<string, string | undefined>;
  if (!CREATED_FIELDS.every((field) => stamps[field] !== undefined)) return false;
  return Object.values(stamps).every((stamp) => stamp === undefined || stamp > tombstone.clock);
}

/**
 * Whether a memory write makes its id anew after the memory held under it expired: every field it holds
 * was stamped at or after the instant the held one expired (`createsAnew`'s rule, with the expiry for the
 * delete). An expired memory is gone for its readers, and each store drops it by itself (docs/lifecycle.md):
 * one that had dropped it takes the write for a new memory, so every store must, or the old memory's links
 * came back with it where it was still held, and stayed dropped elsewhere.
 */
function replacesExpired(held: MemoryRecord, write: MemoryWrite): boolean {
  const expiresMs = held.memory.expiresAt === undefined ? Number.NaN : Date.parse(held.memory.expiresAt);
  if (!write.create || !Number.isFinite(expiresMs)) return false;
  return stampedAfter(write.clocks, { clock: floorStamp(expiresMs) });
}

/**
 * Tombstones the links of a memory being replaced (`replacesExpired`), stamped with the replacing write's
 * first stamp, so that every store that replaces it writes the same ones; returns them.
 */
async function buryLinksOf(
  tx: StoreTransaction,
  replaced: MemoryRecord,
  write: MemoryWrite,
  origin: 'local' | 'remote',
  held: { links: Map<string, LinkRecord>; dead: Map<string, Tombstone> },
): Promise<Tombstone[]> {
  const clock = minClock(write.clocks);
  const buried: Tombstone[] = [];
  for (const record of await tx.readLinksTouching([replaced.memory.id])) {
    // One this batch deleted already (its tombstone came with it), or read twice (a link to itself).
    if (held.dead.has(record.link.id)) continue;
    const tombstone: Tombstone = {
      entity: 'link',
      id: record.link.id,
      namespace: record.link.namespace,
      clock,
    };
    await tx.deleteLink(record);
    await tx.putTombstone(tombstone);
    await tx.recordChange('link', tombstone.id, origin);
    held.links.delete(tombstone.id);
    held.dead.set(tombstone.id, tombstone);
    buried.push(tombstone);
  }
  return buried;
}

/**
 * A replicated tombstone deletes the record its id names, whatever `entity` it gives: one calling a
 * memory's id a link (or the reverse) is taken for a tombstone of that memory, so every replica deletes the
 * same record. The edge refuses such pushes for records it holds; this covers one that came before its
 * record did, and tombstones stored before that check. Local writes name their entity right.
 *
 * One older than every field of the memory held under its id deletes nothing: that memory was made anew
 * after the delete (`createsAnew`, seen from the other side). Before, a memory that reached a store before
 * the delete did was deleted there, and kept where it came after (the tombstone gave way to it), and the
 * two disagreed for good.
 */
async function namedAsStored(
  tx: StoreTransaction,
  given: readonly Tombstone[],
): Promise<{ tombstones: Tombstone[]; outlived: MemoryRecord[] }> {
  if (given.length === 0) return { tombstones: [], outlived: [] };
  const ids = unique(given.map((t) => t.id));
  const [memories, links] = await Promise.all([tx.readMemories(ids), tx.readLinks(ids)]);
  const outlived = new Map<string, MemoryRecord>();
  const tombstones = given.flatMap((t): Tombstone[] => {
    const memory = memories.get(t.id);
    // Renamed, never weighed: a memory never takes an id back from a tombstone naming it a link either.
    if (t.entity === 'link' && !links.has(t.id) && memory) return [{ ...t, entity: 'memory' }];
    if (t.entity === 'memory' && !memory && links.has(t.id)) return [{ ...t, entity: 'link' }];
    if (t.entity === 'memory' && memory && stampedAfter(memory.clocks, t)) {
      outlived.set(t.id, memory);
      return [];
    }
    return [t];
  });
  return { tombstones, outlived: [...outlived.values()] };
}

/** Drops records with no tombstone and no feed entry (see `WriteBatch.forget`); returns the ids dropped. */
async function forgetRecords(
  tx: StoreTransaction,
  forget: NonNullable<WriteBatch['forget']>,
): Promise<string[]> {
  const found = await tx.readMemories(unique(forget.memories ?? []));
  const memories = [...found.values()].filter(
    (r) => forget.expiredAt === undefined || isExpired(r.memory, forget.expiredAt),
  );
  const memoryIds = memories.map((r) => r.memory.id);
  const touching = memoryIds.length > 0 ? await tx.readLinksTouching(memoryIds) : [];
  const named = await tx.readLinks(unique(forget.links ?? []));
  const links = new Map([...named.values(), ...touching].map((r) => [r.link.id, r]));
  for (const record of memories) {
    await tx.deleteMemory(record);
    await tx.forgetChange?.('memory', record.memory.id);
  }
  for (const record of links.values()) {
    await tx.deleteLink(record);
    await tx.forgetChange?.('link', record.link.id);
  }
  return [...memoryIds, ...links.keys()];
}
