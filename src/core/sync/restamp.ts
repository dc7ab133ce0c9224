import {
  clientOfNode,
  formatHlc,
  type HlcParts,
  type HybridLogicalClock,
  hlcClockPrefix,
  hlcWallMs,
  hlcWallPrefix,
  parseHlc,
} from '../hlc.js';
import type { FieldClocks, LinkWrite, MemoryWrite, Tombstone } from '../store-contract.js';

export interface OutgoingWrites {
  memories: MemoryWrite[];
  links: LinkWrite[];
  tombstones: Tombstone[];
}

/**
 * Local changes stamped while the device clock ran ahead (before this session heard the edge's time)
 * carry stamps the edge would refuse. Each such stamp is moved back by the offset learned since, which
 * puts the edit at about the true time it was made; if that is still too far ahead, it becomes a fresh
 * stamp. Returns only the writes that changed (their stamps above `ceiling` replaced), or nothing.
 */
export function restampFuture(
  writes: OutgoingWrites,
  ceiling: string | undefined,
  offsetMs: number,
  clock: HybridLogicalClock,
): OutgoingWrites | undefined {
  if (ceiling === undefined) return undefined;
  const fix = (stamp: string): string => {
    if (stamp <= ceiling) return stamp;
    const parts = parseHlc(stamp);
    if (parts) {
      const shifted = formatHlc({ ...parts, wallMs: Math.max(0, parts.wallMs + offsetMs) });
      if (shifted <= ceiling && parts.wallMs + offsetMs >= 0) return shifted;
    }
    return clock.tick();
  };
  const fixClocks = (clocks: FieldClocks): FieldClocks | undefined => {
    // Nearly every push has nothing to fix: look before copying (`fix` only acts above the ceiling).
    let ahead = false;
    for (const field in clocks) if (clocks[field]! > ceiling) ahead = true;
    if (!ahead) return undefined;
    let changed = false;
    const out: FieldClocks = {};
    for (const [field, stamp] of Object.entries(clocks)) {
      out[field] = fix(stamp);
      changed ||= out[field] !== stamp;
    }
    return changed ? out : undefined;
  };
  const limitMs = hlcClockPrefix(ceiling)?.wallMs ?? 0;
  const fixWrite = <W extends MemoryWrite | LinkWrite>(write: W): W[] => {
    const clocks = fixClocks(write.clocks);
    const created = write.create ? Date.parse(write.create.createdAt) : 0;
    if (!clocks && created <= limitMs) return [];
    const fixed = { ...write, clocks: clocks ?? write.clocks };
    if (write.create && created > limitMs) {
      const shifted = created + offsetMs;
      const at = shifted <= limitMs && shifted >= 0 ? shifted : clock.wallNow();
      fixed.create = { ...write.create, createdAt: new Date(at).toISOString() };
    }
    return [fixed];
  };
  const memories = writes.memories.flatMap(fixWrite);
  const links = writes.links.flatMap(fixWrite);
  const tombstones = writes.tombstones.flatMap((t) => {
    const clock = fix(t.clock);
    return clock !== t.clock ? [{ ...t, clock }] : [];
  });
  return memories.length + links.length + tombstones.length > 0 ? { memories, links, tombstones } : undefined;
}

/**
 * The stamps a replica issued in a session before it first heard the edge's time, under an offset that
 * answer moved by more than its error: while its clock ran behind, an edit made after another replica's
 * carried the earlier stamp and lost to it; while it ran ahead (within the edge's bound), an edit made
 * before another replica's carried the later stamp and won over it.
 */
export interface StampWindow {
  /** The replica's clock at the end of its last round (none before its first): its stamps above it… */
  after: string | undefined;
  /** …and at or below this one, its clock when the edge's time was first heard, were issued under the old offset. */
  upTo: string;
  /** How much the first answer moved the offset: forward (> 0) for a clock that ran behind, back (< 0) ahead. */
  deltaMs: number;
  /** Records already moved this session: written again locally, they come back through the outbox. */
  moved: Set<string>;
  /** For a clock that ran ahead: the node it stamps with since that answer, whose stamps are not the window's. */
  since?: string;
}

/** What a move back reads of a window: where it starts (its floor) and the records it moved already. */
export type MovedSince = Pick<StampWindow, 'after' | 'moved'>;

/** Whether `stamp` is one of this replica's (any session's: each opening draws a node id of its own) in `window`. */
function ownInWindow(stamp: string, window: StampWindow, clock: HybridLogicalClock) {
  if (stamp > window.upTo || (window.after !== undefined && stamp <= window.after)) return undefined;
  const parts = parseHlc(stamp);
  if (!parts || parts.node === window.since) return undefined;
  return clientOfNode(parts.node) === clientOfNode(clock.node) ? parts : undefined;
}

/**
 * Moves this replica's own stamps in `window` (those of its earlier sessions too) forward by what its clock ran behind, which puts each edit
 * at about the true time it was made; one that would land past now becomes a fresh stamp. Stamps of other
 * replicas, and tombstones (which win whatever their stamp), stay. Returns only the writes that changed.
 */
export function restampBehind(
  writes: OutgoingWrites,
  window: StampWindow,
  clock: HybridLogicalClock,
): OutgoingWrites | undefined {
  const nowMs = clock.wallNow();
  const fix = (stamp: string): string => {
    const parts = ownInWindow(stamp, window, clock);
    if (!parts) return stamp;
    const wallMs = parts.wallMs + window.deltaMs;
    return wallMs <= nowMs ? formatHlc({ ...parts, wallMs }) : clock.tick();
  };
  const fixWrite = <W extends MemoryWrite | LinkWrite>(write: W): W[] => {
    if (window.moved.has(write.id)) return [];
    let changed = false;
    const clocks: FieldClocks = {};
    for (const [field, stamp] of Object.entries(write.clocks)) {
      clocks[field] = fix(stamp);
      changed ||= clocks[field] !== stamp;
    }
    if (!changed) return [];
    window.moved.add(write.id);
    return [{ ...write, clocks }];
  };
  const memories = writes.memories.flatMap(fixWrite);
  const links = writes.links.flatMap(fixWrite);
  return memories.length + links.length > 0 ? { memories, links, tombstones: [] } : undefined;
}

/** Memories and links restampAhead or restampStale moved, as partial writes of the moved fields, each guarded by the stamp it had. */
export interface MovedBack {
  memories: MemoryWrite[];
  links: LinkWrite[];
  guards: { id: string; field: string; clock: string; entity: 'memory' | 'link' }[];
}

/**
 * What moving one record's stamps back needs: which fields move (their stamps, read), the wall time each
 * moves to, and whether a `createdAt` (ms) moves with them. No field: the record stays.
 */
type MovePlan = {
  fields: [field: string, stamp: string, parts: HlcParts][];
  back: (wallMs: number) => number;
  movesCreated: (createdMs: number) => boolean;
};

/**
 * The memories and links `plan` moves, as partial writes of the moved fields (a moved `createdAt` with
 * them), each guarded by the stamp it had; records the window moved already are passed over.
 */
function moveBack(
  writes: OutgoingWrites,
  window: MovedSince,
  plan: (clocks: FieldClocks) => MovePlan,
): MovedBack | undefined {
  const moved: MovedBack = { memories: [], links: [], guards: [] };
  const move = <W extends MemoryWrite | LinkWrite>(write: W, entity: 'memory' | 'link'): W[] => {
    if (window.moved.has(write.id)) return [];
    const planned = plan(write.clocks);
    if (planned.fields.length === 0) return [];
    const values: Record<string, unknown> = {};
    const clocks: FieldClocks = {};
    for (const [field, stamp, parts] of planned.fields) {
      clocks[field] = formatHlc({ ...parts, wallMs: planned.back(parts.wallMs) });
      values[field] = (write.values as Record<string, unknown>)[field];
      moved.guards.push({ id: write.id, field, clock: stamp, entity });
    }
    const fixed = { id: write.id, values, clocks } as W;
    const created = write.create ? Date.parse(write.create.createdAt) : Number.NaN;
    if (write.create && planned.movesCreated(created)) {
      const createdAt = new Date(planned.back(created)).toISOString();
      fixed.create = { ...write.create, createdAt } as W['create'];
    }
    return [fixed];
  };
  moved.memories = writes.memories.flatMap((w) => move(w, 'memory'));
  moved.links = writes.links.flatMap((w) => move(w, 'link'));
  return moved.memories.length + moved.links.length > 0 ? moved : undefined;
}

/** Wall times are never moved to or below this: past every stamp the replica held at its last round. */
const floorOf = (window: MovedSince) => {
  const afterMs = window.after === undefined ? undefined : hlcWallMs(window.after);
  return afterMs === undefined ? 0 : afterMs + 1;
};

/**
 * Moves this replica's own memory and link stamps in `window` back by what its clock ran ahead, to about
 * the true time of each edit, but never to or below the window's start: every stamp the replica held then,
 * its own or pulled, is at or below it, so a moved edit still wins over what it wrote over. A `createdAt`
 * in the window moves by the same rule, as the creation's stamp does. Tombstones win whatever their stamp.
 */
export function restampAhead(
  writes: OutgoingWrites,
  window: StampWindow,
  clock: HybridLogicalClock,
): MovedBack | undefined {
  const floorMs = floorOf(window);
  const upToMs = hlcClockPrefix(window.upTo)?.wallMs ?? 0;
  const back = (wallMs: number) => Math.max(wallMs + window.deltaMs, floorMs, 0);
  const movesCreated = (createdMs: number) => createdMs >= floorMs && createdMs <= upToMs;
  return moveBack(writes, window, (clocks) => {
    const fields: MovePlan['fields'] = [];
    for (const [field, stamp] of Object.entries(clocks)) {
      const parts = ownInWindow(stamp, window, clock);
      if (parts) fields.push([field, stamp, parts]);
    }
    return { fields, back, movesCreated };
  });
}

/** How much later than now a stamp must be to count as one of a clock that ran ahead (the offset's error is less). */
export const STALE_AHEAD_MS = 2000;

/**
 * This replica's stamps after the last round (`window.after`) that are later than now by more than {@link STALE_AHEAD_MS}, once the session's first answer corrected the
 * clock: no honest stamp is from the future, so they came from a device clock that ran ahead (within the
 * edge's bound) in an earlier session that ended before it heard the edge, further than this one did (by
 * nothing, when this one's is right), or from an edit of this session over one of those (it observed
 * it). Left as they were, each would win over edits made after it elsewhere for as long as the clock ran
 * ahead. Each record's such stamps move back by as much as puts its latest at now, never to or below
 * `after` (see restampAhead), a `createdAt` later than now with them.
 */
export function restampStale(
  writes: OutgoingWrites,
  window: MovedSince,
  clock: HybridLogicalClock,
): MovedBack | undefined {
  const nowMs = clock.wallNow();
  const floorMs = floorOf(window);
  const client = clientOfNode(clock.node);
  // Stamps sort by time as text: one below this is not later than now by more than the slack.
  const later = hlcWallPrefix(nowMs + STALE_AHEAD_MS + 1);
  const movesCreated = (createdMs: number) => createdMs - nowMs > STALE_AHEAD_MS;
  return moveBack(writes, window, (clocks) => {
    const fields: MovePlan['fields'] = [];
    let latestMs = 0;
    for (const [field, stamp] of Object.entries(clocks)) {
      if (stamp < later || (window.after !== undefined && stamp <= window.after)) continue;
      const parts = parseHlc(stamp);
      if (!parts || clientOfNode(parts.node) !== client) continue;
      fields.push([field, stamp, parts]);
      latestMs = Math.max(latestMs, parts.wallMs);
    }
    const back = (wallMs: number) => Math.max(wallMs + nowMs - latestMs, floorMs, 0);
    return { fields, back, movesCreated };
  });
}
