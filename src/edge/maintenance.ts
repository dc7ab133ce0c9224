import { collectTombstones, MAINTENANCE_BATCH, maintenanceOptions } from '../core/maintenance.js';
import type { Json } from '../core/model.js';
import type { MemoryStore } from '../core/store-contract.js';
import { latestSeq } from './live/publishing-store.js';

/** Namespaces whose last run is remembered; beyond this the oldest is forgotten (and may run again early). */
const MAX_TRACKED = 10_000;
/**
 * Namespace meta: `[ms, seq]` pairs, oldest first, each saying that the feed had reached `seq` by `ms`. They
 * tell when the edge stored a tombstone (its feed entry's seq), which its stamp does not: a replica offline
 * for weeks pushes deletes stamped weeks ago.
 */
const FEED_MARKS_META = 'gc.feedMarks';
/** Marks are kept at least horizon / this apart: a tombstone is collected up to that much (+ an interval) late. */
const MARKS_PER_HORIZON = 64;

export interface EdgeMaintenanceOptions {
  /** Tombstones older than this are collected (default 30 days). */
  tombstoneHorizonMs?: number;
  /** A namespace is maintained at most this often per server instance, on its sync traffic (default 60 s). */
  intervalMs?: number;
}

/**
 * The server's share of maintenance (docs/lifecycle.md), run on a namespace's sync requests at most once per
 * interval per instance. Unlike a replica, the server deletes expired memories with tombstones stamped by its
 * own clock: a replica that holds an older, unexpired version of one (it missed the write that shortened its
 * life) hears of it in its next pull. Tombstones the edge stored more than the horizon ago (and stamped as
 * long ago) are then collected, which raises the namespace's collected seq, so replicas behind it are told
 * to re-sync in full. Measured from when the edge stored them, not from their stamps: a delete that a
 * replica kept offline for longer than the horizon would otherwise go at once, before any replica pulled it.
 */
export function edgeMaintenance(
  given: EdgeMaintenanceOptions | undefined,
  now: () => number,
  stamp: (namespace: string) => string,
): (store: MemoryStore, namespace: string) => Promise<void> {
  const { tombstoneHorizonMs, intervalMs } = maintenanceOptions(given, 'maintenance');
  const lastRun = new Map<string, number>();
  return async (store, namespace) => {
    const at = now();
    if (intervalMs <= 0 || at - (lastRun.get(namespace) ?? Number.NEGATIVE_INFINITY) < intervalMs) return;
    lastRun.delete(namespace);
    if (lastRun.size >= MAX_TRACKED) lastRun.delete(lastRun.keys().next().value!);
    lastRun.set(namespace, at);
    if (store.expiredIds) {
      const iso = new Date(at).toISOString();
      for (;;) {
        const ids = await store.expiredIds(namespace, { now: iso, limit: MAINTENANCE_BATCH });
        if (ids.length === 0) break;
        const tombstones = ids.map((id) => ({
          entity: 'memory' as const,
          id,
          namespace,
          clock: stamp(namespace),
        }));
        await store.apply(namespace, { tombstones, origin: 'local' });
        if (ids.length < MAINTENANCE_BATCH) break;
      }
    }
    const seqAtMost = await storedBefore(store, namespace, at, at - tombstoneHorizonMs, tombstoneHorizonMs);
    if (seqAtMost === 0) return;
    await collectTombstones(store, namespace, {
      nowMs: at,
      horizonMs: tombstoneHorizonMs,
      ...(seqAtMost === undefined ? {} : { seqAtMost }),
    });
  };
}

/**
 * The feed position the namespace had reached by `cutoff` (0: none known): every tombstone at or below it
 * was stored by then. Notes the position reached now for later runs, marks at least horizon / 64 apart (the
 * newest one moves on until it is that far from the one before), and drops those older than the newest at
 * or before `cutoff`, which later runs no longer need. `undefined` when the store cannot tell its newest
 * position (no `latestSeq`): tombstones are then collected by their stamps alone.
 */
async function storedBefore(
  store: MemoryStore,
  namespace: string,
  at: number,
  cutoff: number,
  horizonMs: number,
): Promise<number | undefined> {
  const latest = await latestSeq(store, namespace);
  if (latest === undefined) return undefined;
  const stored = await store.getMeta(namespace, FEED_MARKS_META);
  // A mark past the feed's end is from before the database was reset or restored: its positions were reused.
  const marks = readMarks(stored).filter(([, seq]) => seq <= latest);
  let due = 0;
  while (due + 1 < marks.length && marks[due + 1]![0] <= cutoff) due++;
  const kept = marks.slice(due);
  const reached = kept[0] !== undefined && kept[0][0] <= cutoff ? kept[0][1] : 0;
  const newest = kept[kept.length - 1];
  if (newest?.[1] !== latest) {
    const previous = kept[kept.length - 2];
    if (previous && at - previous[0] < horizonMs / MARKS_PER_HORIZON) kept[kept.length - 1] = [at, latest];
    else kept.push([at, latest]);
  }
  if (JSON.stringify(kept) !== JSON.stringify(stored ?? [])) {
    await store.apply(namespace, { meta: { [FEED_MARKS_META]: kept as Json } });
  }
  return reached;
}

function readMarks(stored: Json | undefined): Array<[number, number]> {
  if (!Array.isArray(stored)) return [];
  return stored.flatMap((mark) =>
    Array.isArray(mark) && typeof mark[0] === 'number' && typeof mark[1] === 'number'
      ? [[mark[0], mark[1]] as [number, number]]
      : [],
  );
}
