import { jsonEqual } from '../filter.js';
import type { Json } from '../model.js';
import { sameClocks } from '../record-merge.js';
import {
  type ApplyResult,
  type ChangeEntry,
  type FieldClocks,
  LINK_FIELDS,
  MEMORY_FIELDS,
  type MemoryStore,
} from '../store-contract.js';
import { LIMITS } from '../validate.js';
import type { PushedRecords } from './protocol.js';

/**
 * Echoes (docs/sync.md, "Echoes"). A replica's push takes feed entries on the edge, which the pull that
 * follows it would bring back to that replica: a push of 10,000 memories was pulled again whole, about
 * 6 MB, merged into a store that already held every record. When every record of a push merged into
 * exactly what was sent, the edge answers with where its entries went (`PushEcho`); the replica names
 * those in its next pulls (`pull.skip`), and the edge leaves them out.
 *
 * The edge checks a named range against its feed before leaving anything out: it must still hold the
 * `count` entries of the same records (`digest`), none moved by a later write (whose entry, past the range,
 * is pulled as usual). Anything else (a database restored meanwhile, a range made up by the sender) and
 * the range is pulled in full. A replica can only leave out what it is sent itself.
 */
export interface PushEcho {
  /** Every feed entry after this position and up to `last` is one of the push's. */
  after: number;
  last: number;
  /** How many entries: one per memory and link the push carried. */
  count: number;
  /** Of the entries' `entity:id` keys, whatever their order (`feedDigest`). */
  digest: string;
}

/** The most echoes one pull request may name; a replica names those nearest its cursor. */
export const SKIP_MAX = 64;

/** An echo's digest as `feedDigest` writes it; the edge refuses a `pull.skip` naming any other. */
export const ECHO_DIGEST = /^[0-9a-f]{16}$/;

/**
 * What is wrong with an echo's range, or undefined: `last` must come after `after`, and the range must have
 * room for `count` entries. The edge refuses a `pull.skip` so named (validate.ts); a replica leaves such a
 * stored echo out (readEchoes).
 */
export function echoRangeFault(
  echo: Omit<PushEcho, 'digest'>,
): { part: 'last' | 'count'; expected: string } | undefined {
  const { after, last, count } = echo;
  if (last <= after) return { part: 'last', expected: `a position after ${after}` };
  if (count > last - after)
    return { part: 'count', expected: `at most ${last - after} entries between ${after} and ${last}` };
  return undefined;
}

const isPosition = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * The echoes a replica stored (`sync.echoes`), those the edge would take in a `pull.skip` (validate.ts's
 * checks: its schema imports this file, so they are written out here): anything else in the meta (written by
 * hand, damaged) is left out rather than sent, as the edge would refuse the pull that named it.
 */
export function readEchoes(stored: Json | undefined): PushEcho[] {
  if (!Array.isArray(stored)) return [];
  const echoes: PushEcho[] = [];
  for (const item of stored) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
    const { after, last, count, digest } = item;
    if (!isPosition(after) || !isPosition(last) || !isPosition(count) || count < 1 || count > LIMITS.batch)
      continue;
    if (typeof digest !== 'string' || !ECHO_DIGEST.test(digest)) continue;
    if (echoRangeFault({ after, last, count }) === undefined) echoes.push({ after, last, count, digest });
  }
  return echoes;
}

/**
 * The most echoes stored: those nearest the cursor, the first the pulls name (256 requests of a push, up to
 * 256,000 records). The meta is written again with each push request, so it stays small (about 22 KB)
 * however long the push; a replica reloaded within a longer one pulls the rest of its own writes back.
 */
export const ECHOES_STORED = 256;

/** The echoes as the `sync.echoes` meta holds them (readEchoes reads them back): null when there are none. */
export function storedEchoes(echoes: readonly PushEcho[]): Json {
  if (echoes.length === 0) return null;
  return echoes
    .slice(0, ECHOES_STORED)
    .map(({ after, last, count, digest }) => ({ after, last, count, digest }));
}

/**
 * Two 32-bit hashes of each key (FNV-1a, and the same steps with another basis and multiplier), summed modulo 2^32: a set's fingerprint that does
 * not depend on order, which the edge's feed returns by number and a push holds by outbox order. Not a
 * cryptographic hash: it guards against accidents (a restored database whose numbers hold other records);
 * a sender that forged a collision would only leave out records it is sent itself.
 */
export function feedDigest(keys: Iterable<string>): string {
  let a = 0;
  let b = 0;
  for (const key of keys) {
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    a = (a + (h1 >>> 0)) >>> 0;
    b = (b + (h2 >>> 0)) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** Whether a merged record holds exactly what a full write carried: its fields, their stamps, its creation. */
function holdsOnly(
  values: object,
  record: { clocks: FieldClocks },
  write: { create?: object; values: object; clocks: FieldClocks },
  fields: readonly string[],
): boolean {
  if (!write.create || !sameClocks(record.clocks, write.clocks)) return false;
  const held = values as Record<string, unknown>;
  const sent = write.values as Record<string, unknown>;
  for (const [key, value] of Object.entries(write.create)) if (held[key] !== value) return false;
  return fields.every((field) => {
    // A null value clears the field: the record then has none.
    const value = (sent[field] ?? undefined) as Json | undefined;
    return value === undefined
      ? held[field] === undefined
      : jsonEqual(held[field] as Json | undefined, value);
  });
}

/**
 * The echo of a push the store applied with `reportFeed`, or undefined when the edge's entries may hold
 * anything the pusher lacks: a tombstone in the push (deletes reach further than their records), a write
 * refused or folded into another record, a record merged into something other than what was sent, or
 * entries other than one per pushed record.
 */
export function echoOf(push: PushedRecords, result: ApplyResult): PushEcho | undefined {
  const memories = push.memories ?? [];
  const links = push.links ?? [];
  const count = memories.length + links.length;
  const feed = result.feed;
  if (!feed || count === 0 || feed.entries !== count || (push.tombstones?.length ?? 0) > 0) return undefined;
  if (result.rejected.length > 0 || result.deleted.length > 0) return undefined;
  if (result.memories.length !== memories.length || result.links.length !== links.length) return undefined;
  const memoryWrites = new Map(memories.map((w) => [w.id, w]));
  const linkWrites = new Map(links.map((w) => [w.id, w]));
  if (memoryWrites.size !== memories.length || linkWrites.size !== links.length) return undefined;
  for (const record of result.memories) {
    const write = memoryWrites.get(record.memory.id);
    if (!write || !holdsOnly(record.memory, record, write, MEMORY_FIELDS)) return undefined;
  }
  for (const record of result.links) {
    const write = linkWrites.get(record.link.id);
    if (!write || !holdsOnly(record.link, record, write, LINK_FIELDS)) return undefined;
  }
  const keys = [...memoryWrites.keys()].map((id) => `memory:${id}`);
  for (const id of linkWrites.keys()) keys.push(`link:${id}`);
  return { after: feed.after, last: feed.last, count, digest: feedDigest(keys) };
}

/** The echoes a pull was asked to leave out, each checked against the feed once, when first needed. */
export class EchoSkips {
  private readonly checked = new Map<PushEcho, Promise<boolean>>();

  constructor(
    private readonly store: MemoryStore,
    private readonly namespace: string,
    private readonly echoes: readonly PushEcho[],
  ) {}

  /** Past every checked echo that starts at or before `after` and ends after it. */
  async jump(after: number): Promise<number> {
    for (let moved = true; moved; ) {
      moved = false;
      for (const echo of this.echoes) {
        if (echo.after <= after && after < echo.last && (await this.holds(echo))) {
          after = echo.last;
          moved = true;
        }
      }
    }
    return after;
  }

  /** The entries of a page that no checked echo holds. */
  async without(page: ChangeEntry[]): Promise<ChangeEntry[]> {
    const kept: ChangeEntry[] = [];
    for (const entry of page) {
      const echo = this.echoes.find((e) => e.after < entry.seq && entry.seq <= e.last);
      if (!echo || !(await this.holds(echo))) kept.push(entry);
    }
    return kept;
  }

  private holds(echo: PushEcho): Promise<boolean> {
    let check = this.checked.get(echo);
    if (!check) {
      check = this.store.changes(this.namespace, echo.after, echo.count + 1).then((entries) => {
        const inside = entries.filter((e) => e.seq <= echo.last);
        return (
          inside.length === echo.count && feedDigest(inside.map((e) => `${e.entity}:${e.id}`)) === echo.digest
        );
      });
      this.checked.set(echo, check);
    }
    return check;
  }
}
