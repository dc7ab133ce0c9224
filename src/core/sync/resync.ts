import { feedPages, readChangeStates } from '../change-states.js';
import { clientOfNode, type HybridLogicalClock, hlcToIso, isHlc, parseHlc } from '../hlc.js';
import type { MemoryStore } from '../store-contract.js';
import type { SyncRequest, SyncResponse } from './protocol.js';
import { readRejected } from './quarantine.js';
import { changesToBatch, forEachStamp } from './records.js';
import { nextWitness, WITNESS_KEY, type Witness } from './witness.js';

/** Thrown by the engine's exchange when the edge answers `resync`; the round then re-syncs in full. */
export class ResyncNeeded extends Error {
  constructor(readonly collectedSeq: number) {
    super(`sync: the edge collected deletions past this replica's cursor (seq ${collectedSeq}); re-syncing`);
  }
}

export const RESYNC_KEYS = {
  /** Set while a full re-sync is under way, so that one interrupted by a crash starts over. */
  pending: 'sync.resync',
  /**
   * Local HLC stamp taken before the last outbox push that completed: records created earlier reached the
   * edge. Earlier releases stored its ISO instant instead; {@link createdSincePush} reads both.
   */
  pushedAt: 'sync.pushedAt',
} as const;

export interface ResyncDeps {
  store: MemoryStore;
  namespace: string;
  clock: HybridLogicalClock;
  exchange(request: SyncRequest): Promise<SyncResponse>;
  pageSize: number;
  cursorKey: string;
  pushedKey: string;
}

/**
 * A full re-sync (docs/sync.md, "Offline past the horizon"): pulls the edge's whole feed, then forgets,
 * without tombstones, every local record the edge no longer has — it was deleted there and its tombstone
 * collected — except this replica's own writes that never reached the edge, which the outbox then pushes.
 * A pending edit of a record the edge had (created before the last completed push) loses, as it would to a
 * tombstone. Returns the ids pulled or forgotten.
 */
export async function resyncFully(deps: ResyncDeps): Promise<string[]> {
  const { store, namespace, clock } = deps;
  await store.apply(namespace, { meta: { [RESYNC_KEYS.pending]: true } });
  const onEdge = new Set<string>();
  const touched: string[] = [];
  let after = 0;
  let witness: Witness | null = null;
  for (;;) {
    const response = await deps.exchange({ pull: { after, limit: deps.pageSize } });
    const page = response.pull;
    if (!page) throw new ResyncNeeded(response.resync?.collectedSeq ?? 0);
    const batch = changesToBatch(page.changes);
    forEachStamp(batch, (stamp) => clock.observe(stamp));
    for (const change of page.changes) {
      onEdge.add(`${change.entity}:${change.id}`);
      touched.push(change.id);
    }
    // A record an encrypted replica could not open is still on the edge: it stays as this device had it.
    for (const record of response.unreadable ?? []) onEdge.add(`${record.entity}:${record.id}`);
    // The cursor moves only once the pruning below is done: an interruption starts the re-sync over.
    await store.apply(namespace, {
      ...batch,
      origin: 'remote',
      clockCeiling: clock.ceiling(),
      pushBackTombstones: true,
    });
    witness = nextWitness(witness, page.changes);
    after = page.cursor;
    if (!page.hasMore) break;
  }
  const forgotten = await forgetWhatTheEdgeLost(deps, onEdge);
  // In transactions of a page each; the last one also moves the cursor and clears the mark.
  const { memories, links } = forgotten;
  for (let start = 0; start < memories.length + links.length || start === 0; start += deps.pageSize) {
    const end = start + deps.pageSize;
    const last = end >= memories.length + links.length;
    await store.apply(namespace, {
      forget: {
        memories: memories.slice(start, end),
        links: links.slice(Math.max(0, start - memories.length), Math.max(0, end - memories.length)),
      },
      ...(last
        ? { meta: { [deps.cursorKey]: after, [RESYNC_KEYS.pending]: null, [WITNESS_KEY]: witness } }
        : {}),
    });
    if (last) break;
  }
  return [...touched, ...memories, ...links];
}

async function forgetWhatTheEdgeLost(
  deps: ResyncDeps,
  onEdge: Set<string>,
): Promise<{ memories: string[]; links: string[] }> {
  const { store, namespace } = deps;
  const pushedSeq = await store.getMeta(namespace, deps.pushedKey);
  const pushedAt = await store.getMeta(namespace, RESYNC_KEYS.pushedAt);
  const quarantined = new Set((await readRejected(store, namespace)).map((r) => r.id));
  const forget = { memories: [] as string[], links: [] as string[] };
  for await (const page of feedPages(store, namespace, 0, deps.pageSize)) {
    const unknown = page.filter((e) => !onEdge.has(`${e.entity}:${e.id}`));
    for (const { entry, memory, link } of await readChangeStates(store, namespace, unknown)) {
      const record = memory ?? link;
      if (!record) continue; // a tombstone: deleted here too
      const createdAt = memory ? memory.memory.createdAt : link!.link.createdAt;
      const unpushed =
        entry.origin === 'local' && entry.seq > (typeof pushedSeq === 'number' ? pushedSeq : 0);
      const ours = neverOnEdge(
        { createdAt, clocks: record.clocks },
        { node: deps.clock.node, pushedAt, unpushed, quarantined: quarantined.has(entry.id) },
      );
      if (ours) continue;
      (memory ? forget.memories : forget.links).push(entry.id);
    }
  }
  return forget;
}

/**
 * Whether the edge never had a record of this replica (ours alone: a re-sync keeps it, a purge may drop it):
 * made here — no stamp from another replica, which came through the edge; any opening of this replica
 * counts, its node id's drawn part changes each time — and either set aside by the edge (a refused create it
 * never had) or created after the last completed push began (`pushedAt`) and still in the outbox.
 */
export function neverOnEdge(
  record: { createdAt: string; clocks: Readonly<Record<string, string>> },
  replica: { node: string; pushedAt: unknown; unpushed: boolean; quarantined: boolean },
): boolean {
  const stamps = Object.values(record.clocks);
  const madeHere = stamps.every((stamp) => {
    const node = parseHlc(stamp)?.node;
    return node !== undefined && clientOfNode(node) === clientOfNode(replica.node);
  });
  return (
    madeHere &&
    (replica.quarantined ||
      (replica.unpushed && createdSincePush(record.createdAt, stamps, replica.pushedAt)))
  );
}

/**
 * Whether a record of this replica was created after its last completed push began (`pushedAt`), i.e. that
 * push did not carry it. A create stamps every field with one stamp and `createdAt` is that stamp's instant;
 * later writes only raise field stamps, so the smallest stamp is the creation's unless every field was
 * rewritten since. Both must be past the push: the smallest stamp above `pushedAt`, and `createdAt` not in
 * an earlier millisecond (which tells a record rewritten whole from one created after, but for a rewrite in
 * the push's own millisecond of the clock). Stamps, not instants, are compared: a clock running on a stamp
 * ahead of its wall time, or a frozen one, issues many in one millisecond.
 */
function createdSincePush(createdAt: string, stamps: readonly string[], pushedAt: unknown): boolean {
  if (isHlc(pushedAt)) {
    let smallest: string | undefined;
    for (const stamp of stamps) if (smallest === undefined || stamp < smallest) smallest = stamp;
    return smallest !== undefined && smallest > pushedAt && createdAt >= hlcToIso(pushedAt);
  }
  // An earlier release's ISO instant (milliseconds: a record of the push's millisecond counts as after it).
  return typeof pushedAt !== 'string' || createdAt >= pushedAt;
}
