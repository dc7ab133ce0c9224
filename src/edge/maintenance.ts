import { collectTombstones, MAINTENANCE_BATCH, maintenanceOptions } from '../core/maintenance.js';
import type { MemoryStore } from '../core/store-contract.js';

/** Namespaces whose last run is remembered; beyond this the oldest is forgotten (and may run again early). */
const MAX_TRACKED = 10_000;

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
 * life) hears of it in its next pull. Tombstones past the horizon are then collected, which raises the
 * namespace's collected seq, so replicas behind it are told to re-sync in full.
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
    await collectTombstones(store, namespace, { nowMs: at, horizonMs: tombstoneHorizonMs });
  };
}
