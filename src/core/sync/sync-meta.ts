import { type HybridLogicalClock, isHlc } from '../hlc.js';
import type { MemoryStore } from '../store-contract.js';
import { RESYNC_KEYS } from './resync.js';

/** The namespace meta entries where the engine keeps its progress between sessions. */
export const KEYS = {
  pushed: 'sync.pushedSeq',
  cursor: 'sync.cursor',
  lastSyncAt: 'sync.lastSyncAt',
  clockOffset: 'sync.clockOffsetMs',
  maxClockSkew: 'sync.maxClockSkewMs',
  /** The replica's clock (`HybridLogicalClock.latest`) at the end of its last round. */
  clock: 'sync.clock',
  /** The echoes of its pushes the pulls have not passed yet (echo.ts), so that a reload leaves them out too. */
  echoes: 'sync.echoes',
} as const;

/**
 * Starts the clock after the stamps this replica reached before it was closed (its clock at the end of its
 * last round, and its last push), so that a device clock set back meanwhile (a dead battery, a manual
 * change) never stamps an edit below what the replica already holds or pushed. Before, such an edit of a
 * pulled record won here (the stored stamps, above this replica's ceiling, looked like ones from the
 * future) and lost on the edge, and the two disagreed for good; and a re-sync took a record created
 * offline for one pushed before, and forgot it.
 */
export async function resumeClock(
  store: MemoryStore,
  namespace: string,
  clock: HybridLogicalClock,
): Promise<void> {
  for (const key of [KEYS.clock, RESYNC_KEYS.pushedAt]) {
    const stamp = await store.getMeta(namespace, key);
    if (isHlc(stamp)) clock.resumeAfter(stamp);
  }
}
