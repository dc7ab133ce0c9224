import type { FieldClocks } from '../field-clocks.js';
import type { ChangeEntry, LinkWrite, MemoryWrite, Tombstone } from '../store-contract.js';
import { stringifyPacked } from './lone-stamps.js';
import type { PushedRecords, SyncRequest } from './protocol.js';

/** Records per push request, at most (the edge takes up to 1000 per part). */
const PAGE = 1000;
/**
 * Pushes are cut into requests of about this many UTF-8 bytes, under the edge's default body limit
 * (1 MiB). Each request is one transaction on the edge, and a store rewrites the posting rows a request
 * touches, so fewer, larger requests cost the edge less (docs/sync.md). An edge configured with a
 * smaller limit answers 413 and the request is halved (pushQuarantining).
 */
const PUSH_BYTES = 768 * 1024;

type Writes = { memories: MemoryWrite[]; links: LinkWrite[]; tombstones: Tombstone[] };
type Kind = keyof Writes;
type Item = readonly [Kind, MemoryWrite | LinkWrite | Tombstone];
/** Where a record's entry stands in this replica's change feed, by {@link feedKey}. */
export type FeedSeqOf = (key: string) => number | undefined;

/** The feed positions of a page of the outbox. */
export function feedSeqs(entries: readonly ChangeEntry[]): FeedSeqOf {
  const seqs = new Map(entries.map((e) => [`${e.entity}:${e.id}`, e.seq]));
  return (key) => seqs.get(key);
}

/** The change-feed key of a pushed record: one entry per entity and id. */
function feedKey([kind, item]: Item): string {
  const entity = kind === 'memories' ? 'memory' : kind === 'links' ? 'link' : (item as Tombstone).entity;
  return `${entity}:${item.id}`;
}

function itemsOf(writes: PushedRecords): Item[] {
  return [
    ...(writes.memories ?? []).map((w) => ['memories', w] as const),
    ...(writes.links ?? []).map((w) => ['links', w] as const),
    ...(writes.tombstones ?? []).map((t) => ['tombstones', t] as const),
  ];
}

/**
 * Splits a push into requests of bounded size; each is an idempotent merge on the server. With `seqOf`
 * the records go in feed order, so that the requests the edge acknowledges cover the oldest part of the
 * outbox and the cursor can pass it ({@link PushProgress}); without it, memories, links, tombstones. Feed
 * order may send a link before a memory it names: the edge takes a link whatever its endpoints (a link to
 * a deleted memory is tombstoned on arrival, whichever comes first), and records of different requests
 * were never applied together anyway. `packed`: records are measured as sent to an edge that takes lone
 * stamps (lone-stamps.ts), about half the bytes for a memory never edited.
 */
export function* chunkPush(writes: Writes, seqOf?: FeedSeqOf, packed = false): Generator<SyncRequest> {
  let push: Required<PushedRecords> = { memories: [], links: [], tombstones: [] };
  let bytes = 0;
  let count = 0;
  const items = itemsOf(writes);
  if (seqOf) {
    const seqs = new Map(items.map((item) => [item, seqOf(feedKey(item)) ?? Number.POSITIVE_INFINITY]));
    items.sort((a, b) => seqs.get(a)! - seqs.get(b)!);
  }
  for (const [kind, item] of items) {
    const json = serialize(kind, item, packed);
    serialized.set(item, { json, packed });
    const size = utf8Length(json);
    // A record that would take the request past the bound starts the next one.
    if (count > 0 && (bytes + size > PUSH_BYTES || count >= PAGE)) {
      yield { push };
      push = { memories: [], links: [], tombstones: [] };
      bytes = 0;
      count = 0;
    }
    (push[kind] as unknown[]).push(item);
    bytes += size;
    count++;
  }
  if (count > 0) yield { push };
}

/**
 * How far the outbox cursor (`sync.pushedSeq`) may move while a page of the outbox goes out request by
 * request: to just below the lowest feed position of a record not yet settled (taken by the edge, or
 * refused and set aside), or to the page's end once all are. Every entry behind the cursor is then on the
 * edge, on the rejected list, or no record to push (a remote change, or one restamped, whose new entry
 * lies past the page), so a crash or a lost request costs no more than the requests not acknowledged.
 */
export class PushProgress {
  private readonly unsettled = new Map<string, number>();

  constructor(
    writes: Writes,
    seqOf: FeedSeqOf,
    /** The last feed position of the page. */
    private readonly end: number,
  ) {
    for (const item of itemsOf(writes)) {
      const seq = seqOf(feedKey(item));
      if (seq !== undefined) this.unsettled.set(feedKey(item), seq);
    }
  }

  /** Marks every record of `push` settled; returns where the cursor may move now. */
  settle(push: PushedRecords): number {
    for (const item of itemsOf(push)) this.unsettled.delete(feedKey(item));
    let lowest = Number.POSITIVE_INFINITY;
    for (const seq of this.unsettled.values()) if (seq < lowest) lowest = seq;
    return lowest === Number.POSITIVE_INFINITY ? this.end : lowest - 1;
  }
}

/**
 * Each record's JSON as `chunkPush` measured it, so the request body is built from those texts
 * (`requestBody`) instead of serialising the push a second time: a 10K push is 5–11 MB of JSON, and
 * stringifying it twice was a tenth of the replica's part of the push.
 */
const serialized = new WeakMap<object, { json: string; packed: boolean }>();

/**
 * A push part's item as JSON: a memory's or link's clocks packed when they are lone and `packed`; a
 * tombstone (one clock) or any other part's item as it is.
 */
function serialize(part: string, item: object, packed: boolean): string {
  if (!packed || (part !== 'memories' && part !== 'links')) return JSON.stringify(item);
  return stringifyPacked(item as { clocks: FieldClocks }, part === 'memories' ? 'memory' : 'link');
}

/**
 * `JSON.stringify(request)`, with the push's records spelt as `chunkPush` serialised them when in the same
 * form (any other record, say one a retry rebuilt or a seal replaced, is serialised here), their lone
 * stamps packed when `packed`. Properties keep their order but the push goes last; JSON object order
 * carries no meaning for the edge.
 */
export function requestBody(request: SyncRequest, packed = false): string {
  const { push, ...rest } = request;
  if (push === undefined) return JSON.stringify(request);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(push)) {
    if (value === undefined) continue;
    const items = (value as object[]).map((item) => {
      const cached = serialized.get(item);
      return cached?.packed === packed ? cached.json : serialize(key, item, packed);
    });
    parts.push(`${JSON.stringify(key)}:[${items.join(',')}]`);
  }
  const head = JSON.stringify(rest);
  return `${head.length > 2 ? `${head.slice(0, -1)},` : '{'}"push":{${parts.join(',')}}}`;
}

/** Any character outside ASCII: where a UTF-8 length stops being the string's length. */
const NON_ASCII = /[\u0080-\uffff]/;

/** The UTF-8 length of a string, without encoding it. */
export function utf8Length(text: string): number {
  // Most records are ASCII: a native scan settles them without a loop over their characters here.
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      // A surrogate pair: 4 bytes for its 2 units.
      bytes += 2;
      i++;
    } else if (code >= 0x800) bytes += 2;
    else if (code >= 0x80) bytes += 1;
  }
  return bytes;
}
