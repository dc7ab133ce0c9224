import * as v from 'valibot';
import { feedPages, readChangeStates } from './change-states.js';
import { isExpired } from './filter.js';
import { floorStamp } from './hlc.js';
import type { MemoryStore } from './store-contract.js';
import { readRejected } from './sync/quarantine.js';
import { neverOnEdge, RESYNC_KEYS } from './sync/resync.js';
import { nonNegativeInt, parse } from './validate.js';

/** How long tombstones are kept before they are collected: 30 days. */
export const TOMBSTONE_HORIZON_MS_DEFAULT = 30 * 24 * 60 * 60 * 1000;
/** Records dropped per transaction, so that a purge never holds a store for long. */
export const MAINTENANCE_BATCH = 500;

export interface MaintenanceOptions {
  /** Tombstones older than this are collected (default 30 days). */
  tombstoneHorizonMs?: number;
  /** Automatic maintenance runs when the memory opens and then after a write at most this often (default 60 s; 0: never). */
  intervalMs?: number;
}

const maintenanceSchema = v.strictObject(
  {
    tombstoneHorizonMs: v.optional(v.pipe(nonNegativeInt, v.minValue(1, 'expected at least 1 (ms)'))),
    intervalMs: v.optional(nonNegativeInt),
  },
  'expected { tombstoneHorizonMs?, intervalMs? }',
);

/** Validates `maintenance` options (errors name the field, e.g. `maintenance.tombstoneHorizonMs`) and fills defaults. */
export function maintenanceOptions(given: unknown, where = 'maintenance'): Required<MaintenanceOptions> {
  const parsed = given === undefined ? {} : parse(maintenanceSchema, given, where);
  return {
    tombstoneHorizonMs: parsed.tombstoneHorizonMs ?? TOMBSTONE_HORIZON_MS_DEFAULT,
    intervalMs: parsed.intervalMs ?? 60_000,
  };
}

export interface MaintenanceResult {
  /** Expired memories dropped. */
  purged: number;
  /** Tombstones collected. */
  collected: number;
}

/**
 * Drops memories expired at `now` (and their links) in batches, without tombstones: every replica reaches
 * the same verdict from the merged `expiresAt`, so nothing needs to sync. Those `held` gives stay (a
 * replica's edits not pushed yet, see {@link heldForPush}). Returns how many it dropped.
 */
export async function purgeExpired(
  store: MemoryStore,
  namespace: string,
  now: string,
  held: () => Promise<ReadonlySet<string>> = async () => new Set(),
): Promise<number> {
  if (!store.expiredIds) return 0;
  let purged = 0;
  // Asked for once something has expired: a run with nothing to purge costs the one read it always did.
  let keep: ReadonlySet<string> | undefined;
  for (;;) {
    // The kept ones come back in every batch: asking for as many more leaves room for a batch to drop.
    const limit = MAINTENANCE_BATCH + (keep?.size ?? 0);
    const found = await store.expiredIds(namespace, { now, limit });
    if (found.length === 0) return purged;
    if (!keep) {
      keep = await held();
      if (keep.size > 0) continue;
    }
    const kept = keep;
    const ids = found.filter((id) => !kept.has(id));
    if (ids.length === 0) return purged;
    const { deleted } = await store.apply(namespace, { forget: { memories: ids, expiredAt: now } });
    const wanted = new Set(ids);
    const dropped = deleted.filter((id) => wanted.has(id)).length;
    purged += dropped;
    // Fewer than asked for means none are left; none dropped means a write extended them meanwhile.
    if (found.length < limit || dropped === 0) return purged;
  }
}

/**
 * Collects tombstones older than the horizon in batches; returns how many. `seqAtMost` also leaves those
 * stored in the feed after that position (the edge's: received less than the horizon ago).
 */
export async function collectTombstones(
  store: MemoryStore,
  namespace: string,
  options: { nowMs: number; horizonMs: number; keepLocalAfter?: number; seqAtMost?: number },
): Promise<number> {
  if (!store.collectTombstones) return 0;
  const before = floorStamp(options.nowMs - options.horizonMs);
  let collected = 0;
  for (;;) {
    const removed = await store.collectTombstones(namespace, {
      before,
      limit: MAINTENANCE_BATCH,
      ...(options.keepLocalAfter === undefined ? {} : { keepLocalAfter: options.keepLocalAfter }),
      ...(options.seqAtMost === undefined ? {} : { seqAtMost: options.seqAtMost }),
    });
    collected += removed;
    if (removed < MAINTENANCE_BATCH) return collected;
  }
}

/**
 * What a replica's unpushed deletes are: local feed entries past `sync.pushedSeq`. A store that has never
 * synced has nothing on any server, so its tombstones may all go.
 */
export async function unpushedAfter(store: MemoryStore, namespace: string): Promise<number | undefined> {
  const pushed = await store.getMeta(namespace, 'sync.pushedSeq');
  if (typeof pushed === 'number') return pushed;
  const cursor = await store.getMeta(namespace, 'sync.cursor');
  return cursor === undefined ? undefined : 0;
}

/**
 * The expired memories a replica must keep until its outbox has pushed them (docs/lifecycle.md, "Purge on a
 * replica"): those with a local change past the last push (`pushedSeq`) that the edge had. Dropped before
 * the push, the change would be lost with them, and when it was the edit that made the memory expire, the
 * edge and every other replica would keep the memory with its old expiry for good. A memory of this
 * replica's own that never reached the edge may go: no one else has it. Reads the whole outbox: the purge
 * asks only once something has expired.
 */
export async function heldForPush(
  store: MemoryStore,
  namespace: string,
  replica: { now: string; node: string; pushedSeq: number },
): Promise<Set<string>> {
  const held = new Set<string>();
  const { now, node } = replica;
  const pushedAt = await store.getMeta(namespace, RESYNC_KEYS.pushedAt);
  const quarantined = new Set((await readRejected(store, namespace)).map((r) => r.id));
  for await (const page of feedPages(store, namespace, replica.pushedSeq, MAINTENANCE_BATCH)) {
    const local = page.filter((e) => e.origin === 'local' && e.entity === 'memory');
    for (const { memory } of await readChangeStates(store, namespace, local)) {
      if (!memory || !isExpired(memory.memory, now)) continue;
      const { id, createdAt } = memory.memory;
      const ours = neverOnEdge(
        { createdAt, clocks: memory.clocks },
        { node, pushedAt, unpushed: true, quarantined: quarantined.has(id) },
      );
      if (!ours) held.add(id);
    }
  }
  return held;
}

/**
 * Parts of the text index a run may rewrite smaller (`MemoryStore.compactText`): on SQLite, posting groups
 * of 4096 memories written before schema v21, 0.14-0.26 s each in a 100K-memory file (a read of the
 * namespace's keys), during which sql.js answers nothing else; two keep a run's pause short, and an older
 * file is compacted over a few runs.
 */
const COMPACT_TEXT_PER_RUN = 2;

/** A replica's maintenance: purge, collection, then text compaction; run by `Engram.maintain()` and automatically. */
export class Maintenance {
  private lastRun = Number.NEGATIVE_INFINITY;
  private running: Promise<MaintenanceResult> | undefined;

  constructor(
    private readonly store: MemoryStore,
    private readonly namespace: string,
    private readonly now: () => number,
    private readonly options: Required<MaintenanceOptions>,
    private readonly onError: (error: unknown) => void,
    /** The replica's clock node: tells its own records from those the edge brought. */
    private readonly node: string,
  ) {}

  run(): Promise<MaintenanceResult> {
    this.running ??= this.runNow().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Starts a background run when the interval has passed since the last one. */
  maybeRun(): void {
    const { intervalMs } = this.options;
    if (intervalMs <= 0 || this.running || this.now() - this.lastRun < intervalMs) return;
    this.run().catch(this.onError);
  }

  private async runNow(): Promise<MaintenanceResult> {
    const nowMs = this.now();
    this.lastRun = nowMs;
    const now = new Date(nowMs).toISOString();
    // Read when first needed (by the purge only once something expired), once per run.
    let unpushed: Promise<number | undefined> | undefined;
    const pushedSeq = () => (unpushed ??= unpushedAfter(this.store, this.namespace));
    const purged = await purgeExpired(this.store, this.namespace, now, async () => {
      const after = await pushedSeq();
      if (after === undefined) return new Set();
      return heldForPush(this.store, this.namespace, { now, node: this.node, pushedSeq: after });
    });
    // A store that keeps nothing to collect (RemoteStore) is not even asked for its sync meta.
    if (!this.store.collectTombstones) return { purged, collected: 0 };
    const keepLocalAfter = await pushedSeq();
    const collected = await collectTombstones(this.store, this.namespace, {
      nowMs,
      horizonMs: this.options.tombstoneHorizonMs,
      ...(keepLocalAfter === undefined ? {} : { keepLocalAfter }),
    });
    await this.store.compactText?.(this.namespace, { limit: COMPACT_TEXT_PER_RUN });
    return { purged, collected };
  }
}
