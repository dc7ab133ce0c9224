import type { LinkWrite, MemoryWrite, Tombstone } from '../store-contract.js';
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

/** Splits a push into requests of bounded size; each is an idempotent merge on the server. */
export function* chunkPush(writes: {
  memories: MemoryWrite[];
  links: LinkWrite[];
  tombstones: Tombstone[];
}): Generator<SyncRequest> {
  let push: Required<PushedRecords> = { memories: [], links: [], tombstones: [] };
  let bytes = 0;
  let count = 0;
  // Memories before links, so a link's endpoints reach the server first; tombstones last.
  const items = [
    ...writes.memories.map((w) => ['memories', w] as const),
    ...writes.links.map((w) => ['links', w] as const),
    ...writes.tombstones.map((t) => ['tombstones', t] as const),
  ];
  for (const [kind, item] of items) {
    const json = JSON.stringify(item);
    serialized.set(item, json);
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
 * Each record's JSON as `chunkPush` measured it, so the request body is built from those texts
 * (`requestBody`) instead of serialising the push a second time: a 10K push is 7 MB of JSON, and
 * stringifying it twice was a tenth of the replica's part of the push.
 */
const serialized = new WeakMap<object, string>();

/**
 * `JSON.stringify(request)`, with the push's records spelt as `chunkPush` serialised them (any other
 * record, say one a retry rebuilt, is serialised here). Properties keep their order but the push goes
 * last; JSON object order carries no meaning for the edge.
 */
export function requestBody(request: SyncRequest): string {
  const { push, ...rest } = request;
  if (push === undefined) return JSON.stringify(request);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(push)) {
    if (value === undefined) continue;
    const items = (value as object[]).map((item) => serialized.get(item) ?? JSON.stringify(item));
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
