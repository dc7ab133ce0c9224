import { type EngramError, isEngramError } from '../errors.js';
import type { Json } from '../model.js';
import type { MemoryStore } from '../store-contract.js';
import { CLOCK_SKEW_REFUSAL, type PushedRecords, type SyncRequest, type SyncResponse } from './protocol.js';

/** A local change the edge refused: kept out of the outbox so the rest of the replica keeps syncing. */
export interface RejectedChange {
  entity: 'memory' | 'link';
  id: string;
  /** The edge's error code and message, e.g. `VALIDATION: sync.push.memories.0.values.content: ...`. */
  reason: string;
  /** When it was refused (ISO 8601, device clock). */
  at: string;
  /**
   * Not a local change: a record pulled from the edge of an end-to-end encrypted namespace that did not
   * open (altered, or sealed otherwise). It was left out, and leaves this list once it is pulled whole.
   */
  unreadable?: true;
}

export const REJECTED_KEY = 'sync.rejected';
/** The list is a report for people, not a log: the oldest entries fall off beyond this. */
const MAX_KEPT = 1000;

type Push = Required<PushedRecords>;
type Kind = keyof Push;
const ITEM = /^sync\.push\.(memories|links|tombstones)\.(\d+)(\.|$)/;

export async function readRejected(store: MemoryStore, namespace: string): Promise<RejectedChange[]> {
  const value = await store.getMeta(namespace, REJECTED_KEY);
  return Array.isArray(value) ? (value as unknown as RejectedChange[]) : [];
}

export function isClockRefusal(error: unknown): boolean {
  return isEngramError(error, 'VALIDATION') && error.message.includes(CLOCK_SKEW_REFUSAL);
}

/** The pushed item an error names, when the edge refused that one record rather than the request. */
function refusedItem(error: unknown, push: Push): { kind: Kind; index: number } | undefined {
  if (!isEngramError(error) || isClockRefusal(error)) return undefined;
  if (error.code !== 'VALIDATION' && error.code !== 'FORBIDDEN' && error.code !== 'PAYLOAD_TOO_LARGE') {
    return undefined;
  }
  const match = ITEM.exec(error.field ?? '');
  if (!match) {
    // A single record too large for the edge's body limit is refused as a whole body.
    const only = (Object.keys(push) as Kind[]).filter((k) => push[k].length > 0);
    const single = only.length === 1 && push[only[0]!].length === 1;
    return error.code === 'PAYLOAD_TOO_LARGE' && single ? { kind: only[0]!, index: 0 } : undefined;
  }
  const index = Number(match[2]);
  const kind = match[1] as Kind;
  return index < push[kind].length ? { kind, index } : undefined;
}

/** A push of several records refused as a whole for its size, cut in two in its order; else undefined. */
function tooLargeHalves(error: unknown, push: Push): [Push, Push] | undefined {
  if (!isEngramError(error, 'PAYLOAD_TOO_LARGE') || ITEM.test(error.field ?? '')) return undefined;
  const items = [
    ...push.memories.map((w) => ['memories', w] as const),
    ...push.links.map((w) => ['links', w] as const),
    ...push.tombstones.map((t) => ['tombstones', t] as const),
  ];
  if (items.length < 2) return undefined;
  const half = (part: typeof items): Push => {
    const out: Push = { memories: [], links: [], tombstones: [] };
    for (const [kind, item] of part) (out[kind] as unknown[]).push(item);
    return out;
  };
  const middle = Math.ceil(items.length / 2);
  return [half(items.slice(0, middle)), half(items.slice(middle))];
}

/**
 * Sends one push; when the edge refuses one record of it, that record is set aside (reported through
 * `onRejected`) and the rest is sent again, so one bad record never jams the outbox. Errors about the
 * request as a whole (auth, clock, network) are thrown as they are.
 */
export async function pushQuarantining(
  exchange: (request: SyncRequest) => Promise<SyncResponse>,
  push: Push,
  onRejected: (change: Omit<RejectedChange, 'at'>) => void,
): Promise<void> {
  let rest: Push = { memories: [...push.memories], links: [...push.links], tombstones: [...push.tombstones] };
  for (;;) {
    if (rest.memories.length + rest.links.length + rest.tombstones.length === 0) return;
    try {
      await exchange({ push: rest });
      return;
    } catch (error) {
      const halves = tooLargeHalves(error, rest);
      if (halves) {
        // An edge configured below the size pushes are cut to: the request goes again in two halves.
        for (const half of halves) await pushQuarantining(exchange, half, onRejected);
        return;
      }
      const item = refusedItem(error, rest);
      if (!item) throw error;
      const refused = rest[item.kind][item.index]!;
      const entity = item.kind === 'links' ? 'link' : item.kind === 'memories' ? 'memory' : undefined;
      const reason = `${(error as EngramError).code}: ${(error as EngramError).message}`;
      onRejected({
        entity: entity ?? (refused as { entity: 'memory' | 'link' }).entity,
        id: refused.id,
        reason,
      });
      rest = { ...rest, [item.kind]: rest[item.kind].filter((_, i) => i !== item.index) };
    }
  }
}

/** At most this many unreadable pulled records are listed, apart from the local refusals they must not push out. */
const MAX_UNREADABLE = 500;

/**
 * The list with pulled records that did not open added: they are capped on their own, so that a flood of
 * them (anyone with a token can push values sealed under the right key id that open nowhere) never
 * pushes out a local refusal, which a re-sync relies on to keep a create the edge never had.
 */
export function withUnreadable(previous: RejectedChange[], added: RejectedChange[]): Json {
  const local = previous.filter((r) => !r.unreadable);
  const unreadable = withRejected(
    previous.filter((r) => r.unreadable),
    added,
  ) as unknown as RejectedChange[];
  return [...local, ...unreadable.slice(-MAX_UNREADABLE)] as unknown as Json;
}

/** Adds refused changes to the stored list (newest last), in the same write as the outbox cursor. */
export function withRejected(previous: RejectedChange[], added: RejectedChange[]): Json {
  const byId = new Map(previous.map((r) => [`${r.entity}:${r.id}`, r]));
  for (const r of added) {
    byId.delete(`${r.entity}:${r.id}`);
    byId.set(`${r.entity}:${r.id}`, r);
  }
  return [...byId.values()].slice(-MAX_KEPT) as unknown as Json;
}

/**
 * The stored list once a push request settled: a record it sent again leaves the list, unless refused
 * again; undefined when nothing changes, so a request that refused nothing writes no list.
 */
export function rejectedAfterPush(
  previous: RejectedChange[],
  push: Push,
  refused: RejectedChange[],
): RejectedChange[] | undefined {
  const sent = new Set([...push.memories, ...push.links, ...push.tombstones].map((w) => w.id));
  const kept = previous.filter((r) => !sent.has(r.id));
  if (refused.length === 0 && kept.length === previous.length) return undefined;
  return withRejected(kept, refused) as unknown as RejectedChange[];
}
