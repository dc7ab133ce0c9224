import {
  type FieldClocks,
  loneLinkStamp,
  loneStamp,
  stampEveryField,
  stampEveryLinkField,
} from '../field-clocks.js';
import type { LinkRecord, MemoryRecord } from '../store-contract.js';
import type { PulledChange, SyncResponse } from './protocol.js';

/**
 * Lone stamps on the wire (docs/sync.md). A memory written once and never edited carries one stamp on
 * each of its ten fields: ten copies of ~44 characters, more than half of a typical pushed record. Between
 * a replica and an edge that both know it, such a record's `clocks` travel as that one string, which
 * stands for the entity's every field (MEMORY_FIELDS, or LINK_FIELDS for a link) at that stamp, exactly as
 * the object form would. An edge says it takes the form in every answer (`loneStamps: true`); a request
 * carrying `loneStamps: true` asks for its answer's records in the form too. An edge of an older release
 * refuses both (VALIDATION at `sync.loneStamps` or at a record's `clocks`): the replica then sends the
 * object form again (transport.ts).
 */
export type WireClocks = FieldClocks | string;

/** What a pushed memory or link write, or a record, looks like with its clocks packed when they are lone. */
export function packedClocks(clocks: FieldClocks, entity: 'memory' | 'link'): WireClocks {
  return (entity === 'memory' ? loneStamp(clocks) : loneLinkStamp(clocks)) ?? clocks;
}

/** The object form of wire clocks: a lone stamp on every field of the entity. */
export function unpackedClocks(clocks: WireClocks, entity: 'memory' | 'link'): FieldClocks {
  if (typeof clocks !== 'string') return clocks;
  return entity === 'memory' ? stampEveryField(clocks) : stampEveryLinkField(clocks);
}

type Stamped = { clocks: FieldClocks };

/** A record or write with its clocks packed (`packedClocks`); the same object when they are not lone. */
const packing =
  (entity: 'memory' | 'link') =>
  <R extends Stamped>(record: R): R => {
    const clocks = packedClocks(record.clocks, entity);
    return clocks === record.clocks ? record : ({ ...record, clocks } as unknown as R);
  };
/** A record with its clocks in the object form (`unpackedClocks`); the same object when they are. */
const unpacking =
  (entity: 'memory' | 'link') =>
  <R extends Stamped>(record: R): R =>
    typeof record.clocks === 'string' ? { ...record, clocks: unpackedClocks(record.clocks, entity) } : record;

const pack = { memory: packing('memory'), link: packing('link') };
const unpack = { memory: unpacking('memory'), link: unpacking('link') };

/** `JSON.stringify` of a pushed write (or a record), its clocks packed when they are lone. */
export function stringifyPacked(item: Stamped, entity: 'memory' | 'link'): string {
  return JSON.stringify(pack[entity](item));
}

/** Maps every record an answer carries (pushed back, pulled, read by id), leaving the rest of it as it is. */
function mapRecords(
  response: SyncResponse,
  memory: (record: MemoryRecord) => MemoryRecord,
  link: (record: LinkRecord) => LinkRecord,
): SyncResponse {
  // An answer is checked where it is read (the sync engine, RemoteStore): what is not a list here passes as it is.
  const each = <T>(list: T[], map: (item: T) => T): T[] =>
    Array.isArray(list) ? list.map((item) => (item && typeof item === 'object' ? map(item) : item)) : list;
  const out: SyncResponse = { ...response };
  if (response.push) {
    out.push = {
      ...response.push,
      memories: each(response.push.memories, memory),
      links: each(response.push.links, link),
    };
  }
  if (response.pull) {
    const changes = each(response.pull.changes, (change): PulledChange => {
      if (change.memory) return { ...change, memory: memory(change.memory) };
      if (change.link) return { ...change, link: link(change.link) };
      return change;
    });
    out.pull = { ...response.pull, changes };
  }
  if (response.get) {
    out.get = {
      ...response.get,
      memories: each(response.get.memories, memory),
      links: each(response.get.links, link),
    };
  }
  return out;
}

/** An edge's answer with its records' lone clocks packed (for a request that asked: `loneStamps`). */
export function packAnswer(response: SyncResponse): SyncResponse {
  return mapRecords(response, pack.memory, pack.link);
}

/** An answer as the rest of the replica reads it: every record's clocks in the object form. */
export function unpackAnswer(response: SyncResponse): SyncResponse {
  return mapRecords(response, unpack.memory, unpack.link);
}

/**
 * Whether a refusal is an older edge's of the lone-stamp form: the request's `loneStamps` flag, which it
 * does not know, or a record's `clocks` as a string, which it takes for a wrongly typed object.
 */
export function refusesLoneStamps(field: string | undefined): boolean {
  return (
    field === 'sync.loneStamps' ||
    (field !== undefined && /^sync\.push\.(memories|links)\.\d+\.clocks$/.test(field))
  );
}
