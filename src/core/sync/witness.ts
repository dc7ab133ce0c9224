import type { FieldClocks } from '../field-clocks.js';
import { ceilingStamp } from '../hlc.js';
import type { MemoryWrite } from '../store-contract.js';
import type { PulledChange, SyncResponse } from './protocol.js';

/**
 * Namespace meta: a memory this replica pulled, or pushed and saw the edge take, with those stamps, that
 * the edge must still hold (at those stamps or newer, or deleted with a tombstone). An edge that holds
 * neither was reset or restored from an older backup since (docs/sync.md, "A server that forgot").
 */
export const WITNESS_KEY = 'sync.witness';

/**
 * Namespace meta, set when the edge forgot the witness: the local feed position from which every record
 * this replica holds is pushed again (OutboxPush.pushAll); cleared when the push reaches the feed's end.
 */
export const REPUSH_KEY = 'sync.repushSeq';

/** A type rather than an interface: it is stored as namespace meta, which takes JSON values. */
export type Witness = {
  id: string;
  clocks: FieldClocks;
};

/**
 * The witness after records met in feed order: one that can witness replaces it; any other change of
 * the witnessed memory drops it (deleted, given an expiry, written in part), and the next one waits.
 */
function fold(current: Witness | null, met: Iterable<{ id: string; witness: Witness | undefined }>) {
  let witness = current;
  for (const { id, witness: next } of met) {
    if (next) witness = next;
    else if (witness && id === witness.id) witness = null;
  }
  return witness;
}

/**
 * The witness after a pulled page: its last live memory without `expiresAt`. Only a later write or a
 * delete that leaves a tombstone takes such a memory off the edge; an expiring one is purged without a
 * trace, and a link goes with its memory's purge, so either could read as forgotten when nothing was lost.
 */
export function nextWitness(current: Witness | null, changes: readonly PulledChange[]): Witness | null {
  return fold(
    current,
    changes.flatMap((change) => {
      if (change.entity !== 'memory') return [];
      const record = change.tombstone ? undefined : change.memory;
      const lasting = record && !record.memory.expiresAt;
      return [
        { id: change.id, witness: lasting ? { id: change.id, clocks: { ...record.clocks } } : undefined },
      ];
    }),
  );
}

/**
 * The witness after a push the edge took (it holds those records at their stamps or newer): the push's
 * last whole memory (`create` with every field) without `expiresAt` that it did not refuse. So writes
 * this replica made and pushed, but whose pull never came back before the edge forgot them, are given
 * back too.
 */
export function witnessAfterPush(
  current: Witness | null,
  writes: readonly MemoryWrite[],
  refused: ReadonlySet<string>,
): Witness | null {
  return fold(
    current,
    writes.flatMap((write) => {
      if (refused.has(write.id)) return [];
      const whole = write.create && !write.values.expiresAt;
      return [{ id: write.id, witness: whole ? { id: write.id, clocks: { ...write.clocks } } : undefined }];
    }),
  );
}

/** The stored witness, or null for none (or a value an older release or a person left there). */
export function readWitness(value: unknown): Witness | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { id, clocks } = value as Record<string, unknown>;
  if (typeof id !== 'string' || typeof clocks !== 'object' || clocks === null || Array.isArray(clocks)) {
    return null;
  }
  const entries = Object.entries(clocks);
  if (entries.length === 0 || entries.some(([, stamp]) => typeof stamp !== 'string')) return null;
  return { id, clocks: clocks as FieldClocks };
}

/**
 * Whether the edge's answer to `get` for the witness shows that it forgot it: no tombstone, and the
 * memory missing or older in a field than this replica pulled it (stamps compare as strings; an
 * encrypted namespace's stay readable, EncryptingTransport leaves this answer sealed).
 */
export function edgeForgot(witness: Witness, response: SyncResponse): boolean {
  const got = response.get;
  if (!got) return false;
  if (got.tombstones.some((t) => t.entity === 'memory' && t.id === witness.id)) return false;
  const held = got.memories.find((r) => r.memory.id === witness.id);
  if (!held) return true;
  // A stamp past the edge's bound (from before the bound existed, or a server clock set back) loses there
  // to any later write, whatever its stamp (server.ts `clockCeiling`): such a field proves nothing.
  const { serverTime, maxClockSkewMs } = response;
  const bound =
    typeof serverTime === 'number' && typeof maxClockSkewMs === 'number'
      ? ceilingStamp(serverTime + maxClockSkewMs)
      : undefined;
  return Object.entries(witness.clocks).some(([field, stamp]) => {
    if (bound !== undefined && stamp > bound) return false;
    const now = held.clocks[field];
    return now === undefined || now < stamp;
  });
}
