import { readChangeStates } from '../change-states.js';
import { KEY_INFO_META, keyInfoOf, resolveKey } from '../crypto/namespace-key.js';
import { EngramError, validationError } from '../errors.js';
import { ceilingStamp } from '../hlc.js';
import { resolveLanguage } from '../language.js';
import type { Json, Link, Memory } from '../model.js';
import { type ChangeOrigin, COLLECTED_SEQ_META, type Entity, type MemoryStore } from '../store-contract.js';
import { LANGUAGE_META } from '../text/index.js';
import { EchoSkips, echoOf } from './echo.js';
import { packAnswer } from './lone-stamps.js';
import {
  MAX_CLOCK_SKEW_MS_DEFAULT,
  PULL_LIMIT_DEFAULT,
  type PulledChange,
  type SyncRequest,
  type SyncResponse,
} from './protocol.js';
import { forEachStamp } from './records.js';
import { assertStampsInBounds } from './stamp-bounds.js';
import { parseSyncRequest } from './validate.js';

/**
 * The server half of the protocol, transport-agnostic: the edge route hands it the parsed JSON body.
 * Pushes are merged by the store with the same `mergeBatch` every replica uses, so a retried or
 * duplicated push changes nothing. Pulls read the store's change feed, whose sequence numbers the
 * store assigns in commit order, so a pull never skips a change.
 */
export interface ServeSyncOptions {
  /** How pushed writes are recorded in the server's feed (default `remote`: they came from a replica). */
  origin?: ChangeOrigin;
  /** Receives every pushed stamp, so a server clock can move past them. */
  observe?: (stamp: string) => void;
  /** The server's wall clock (default `Date.now`). */
  now?: () => number;
  /** Pushed stamps further ahead of `now` than this are refused (default 60 s). */
  maxClockSkewMs?: number;
  /**
   * Answer a push with its echo when it has one (echo.ts): for a replica, whose next pulls may then leave
   * its own entries out. Not for a RemoteStore, whose answer is an ApplyResult like any store's.
   */
  echo?: boolean;
}

export async function serveSync(
  store: MemoryStore,
  namespace: string,
  body: unknown,
  options: ServeSyncOptions = {},
): Promise<SyncResponse> {
  const request: SyncRequest = parseSyncRequest(body, namespace);
  const response: SyncResponse = {};
  const now = options.now ?? Date.now;
  const maxSkew = options.maxClockSkewMs ?? MAX_CLOCK_SKEW_MS_DEFAULT;
  const collectedSeq = await behindCollection(store, namespace, request);
  if (collectedSeq !== undefined) {
    // Nothing is applied: a push from behind the horizon could re-create what was deleted (docs/sync.md).
    response.resync = { collectedSeq };
    if (request.pull) response.pull = { changes: [], cursor: request.pull.after, hasMore: false };
    response.serverTime = now();
    response.maxClockSkewMs = maxSkew;
    response.loneStamps = true;
    return response;
  }
  // The namespace's key info and language are read side by side, not one round trip after the other.
  const storedKey = store.getMeta(namespace, KEY_INFO_META);
  const storedLanguage =
    request.language === undefined && request.key === undefined
      ? undefined
      : store.getMeta(namespace, LANGUAGE_META);
  storedLanguage?.catch(() => {});
  // Everything is checked before anything is written, and what the request sets (key info, language,
  // the push) is written in one batch: a request refused as a whole applies nothing (docs/sync.md).
  const key = await resolveKey(namespace, request, keyInfoOf(await storedKey), async () => {
    const [first] = await store.changes(namespace, 0, 1);
    return first !== undefined;
  });
  const at = now();
  if (request.push) {
    assertStampsInBounds(request.push, at, maxSkew);
    await assertIdsName(store, namespace, request.push);
  }
  const meta: Record<string, Json> = {};
  if (request.language !== undefined) {
    const { language, record } = await resolveLanguage(
      store,
      namespace,
      request.language,
      'language',
      storedLanguage,
    );
    if (record) meta[LANGUAGE_META] = language;
  }
  if (key.changed) meta[KEY_INFO_META] = key.info as unknown as Json;
  // The key checked above must still be the namespace's when the batch lands: a rotation committed
  // between the two refuses it (CONFLICT sync.key.id, which a device answers by learning the new key).
  const unchangedMeta = [{ key: KEY_INFO_META, value: (await storedKey) ?? null, field: 'sync.key.id' }];
  const settles = Object.keys(meta).length > 0 ? { meta } : {};
  if (request.push) {
    const applied = await store.apply(namespace, {
      ...request.push,
      ...settles,
      unchangedMeta,
      origin: options.origin ?? 'remote',
      // Two devices that linked one pair apart end with one link (docs/sync.md, "Merge rule").
      foldTwinLinks: true,
      // Stamps stored before the bound existed (or by a store written directly) lose to this push.
      clockCeiling: ceilingStamp(at + maxSkew),
      ...(options.echo ? { reportFeed: true } : {}),
    });
    if (options.echo) {
      // The feed range stays here: the answer carries it only as the echo, when the push has one.
      const { feed: _feed, ...answer } = applied;
      const echo = echoOf(request.push, applied);
      response.push = echo ? { ...answer, echo } : answer;
    } else {
      response.push = applied;
    }
    if (options.observe) forEachStamp(request.push, options.observe);
  } else if (settles.meta) {
    await store.apply(namespace, { ...settles, unchangedMeta });
  }
  if (request.key) {
    response.key = { info: key.info };
    // What the namespace is set up as: its language too, which a RemoteStore cannot know otherwise.
    const language = meta[LANGUAGE_META] ?? (await storedLanguage);
    if (language !== undefined && language !== null) response.language = String(language);
  }
  if (request.get) {
    const memoryIds = request.get.memories ?? [];
    const linkIds = request.get.links ?? [];
    const [memories, links, tombstones] = await Promise.all([
      readWithinBytes(
        memoryIds,
        (ids) => store.getMemories(namespace, ids),
        (r) => memoryBytes(r.memory),
      ),
      readWithinBytes(
        linkIds,
        (ids) => store.getLinks(namespace, ids),
        (r) => linkBytes(r.link),
      ),
      store.getTombstones(namespace, [...memoryIds, ...linkIds]),
    ]);
    response.get = { memories, links, tombstones };
  }
  if (request.pull) {
    const limit = request.pull.limit ?? PULL_LIMIT_DEFAULT;
    const skip = request.pull.skip ?? [];
    response.pull = await pullChanges(
      store,
      namespace,
      request.pull.after,
      limit,
      request.pull.states ?? true,
      skip.length > 0 ? new EchoSkips(store, namespace, skip) : undefined,
    );
  }
  response.serverTime = now();
  response.maxClockSkewMs = maxSkew;
  response.loneStamps = true;
  return request.loneStamps ? packAnswer(response) : response;
}

/**
 * Memories and links share one id space (a tombstone names its record by id), so a push is refused when it
 * calls an id what it is not here: a tombstone whose `entity` is not its record's (`{ entity: 'link', id:
 * <a memory> }`: it would be kept, yet leave the record readable here and make replicas disagree), a link
 * write whose id is a memory's, a memory write whose id is a link's, or one id written as both in the
 * push. An id this server does not know yet is taken as the push says (the record may be on its way).
 */
async function assertIdsName(
  store: MemoryStore,
  namespace: string,
  push: NonNullable<SyncRequest['push']>,
): Promise<void> {
  const memoryWrites = push.memories ?? [];
  const linkWrites = push.links ?? [];
  const tombstones = push.tombstones ?? [];
  const kindOf = new Map<string, Entity>();
  for (const write of memoryWrites) kindOf.set(write.id, 'memory');
  linkWrites.forEach((write, i) => {
    if (kindOf.get(write.id) === 'memory') {
      throw validationError(
        `sync.push.links.${i}.id`,
        `an id no memory has (${JSON.stringify(write.id)} is written as a memory in this push)`,
        JSON.stringify(write.id),
      );
    }
    kindOf.set(write.id, 'link');
  });
  const calledLink = [
    ...linkWrites.map((w) => w.id),
    ...tombstones.filter((t) => t.entity === 'link').map((t) => t.id),
  ];
  const calledMemory = [
    ...memoryWrites.map((w) => w.id),
    ...tombstones.filter((t) => t.entity === 'memory').map((t) => t.id),
  ];
  if (calledLink.length + calledMemory.length === 0) return;
  const [memories, links] = await Promise.all([
    calledLink.length > 0 ? store.getMemories(namespace, calledLink) : [],
    calledMemory.length > 0 ? store.getLinks(namespace, calledMemory) : [],
  ]);
  const stored = new Map<string, Entity>();
  for (const { memory } of memories) stored.set(memory.id, 'memory');
  for (const { link } of links) stored.set(link.id, 'link');
  const refuse = (field: string, id: string, kind: Entity) =>
    validationError(
      field,
      `an id no ${kind} has (${JSON.stringify(id)} is a ${kind} in this namespace)`,
      JSON.stringify(id),
    );
  memoryWrites.forEach((write, i) => {
    if (stored.get(write.id) === 'link') throw refuse(`sync.push.memories.${i}.id`, write.id, 'link');
  });
  linkWrites.forEach((write, i) => {
    if (stored.get(write.id) === 'memory') throw refuse(`sync.push.links.${i}.id`, write.id, 'memory');
  });
  tombstones.forEach((tombstone, i) => {
    const kind = stored.get(tombstone.id) ?? kindOf.get(tombstone.id);
    if (kind !== undefined && kind !== tombstone.entity) {
      throw validationError(
        `sync.push.tombstones.${i}.entity`,
        `'${kind}' (${JSON.stringify(tombstone.id)} is a ${kind} in this namespace)`,
        `'${tombstone.entity}'`,
      );
    }
  });
}

/**
 * The namespace's collected seq when the replica's `cursor` is behind it, else undefined. Only `cursor`
 * counts, not a pull's `after`: a replica pulling the feed page by page from 0 (a first sync, a re-sync)
 * passes cursors below the collected seq without holding anything stale, and says so by not sending one.
 */
async function behindCollection(
  store: MemoryStore,
  namespace: string,
  request: SyncRequest,
): Promise<number | undefined> {
  if (request.cursor === undefined || request.cursor === 0) return undefined;
  const collected = await store.getMeta(namespace, COLLECTED_SEQ_META);
  if (typeof collected !== 'number' || request.cursor >= collected) return undefined;
  return collected;
}

/**
 * A page of a pull ends before the change that would take it past about this many bytes of JSON (it holds
 * one change at least, however large): 500 memories with large embeddings and metadata made a page of
 * about 100 MiB, which a replica on a slow link could not receive within its timeout, so it asked for
 * the same page for ever.
 */
export const PULL_BYTES = 4 * 1024 * 1024;

/** Roughly how many bytes a record takes as JSON: its large parts, plus an allowance for the rest. */
function memoryBytes(memory: Memory): number {
  const embedding = memory.embedding?.length ?? 0;
  return 1024 + memory.content.length + JSON.stringify(memory.metadata).length + embedding * 24;
}
function linkBytes(link: Link): number {
  return 768 + JSON.stringify(link.metadata).length;
}
function changeBytes(change: PulledChange): number {
  if (change.memory) return memoryBytes(change.memory.memory);
  return change.link ? linkBytes(change.link.link) : 256;
}

/**
 * A `get` answers at most about this many bytes of JSON of each kind: 1,000 memories of the largest
 * size would make an answer of about 200 MiB, more than a Worker may hold. Past it the edge answers
 * PAYLOAD_TOO_LARGE (field `sync.get`) and a RemoteStore asks again for half the ids at a time.
 */
export const GET_BYTES = 16 * 1024 * 1024;
/** Ids read per statement while a get's answer is measured, so that no more than one slice is read past the limit. */
const GET_SLICE = 200;

async function readWithinBytes<T>(
  ids: readonly string[],
  read: (ids: string[]) => Promise<T[]>,
  bytesOf: (record: T) => number,
): Promise<T[]> {
  const records: T[] = [];
  let bytes = 0;
  for (let at = 0; at < ids.length; at += GET_SLICE) {
    for (const record of await read(ids.slice(at, at + GET_SLICE))) {
      bytes += bytesOf(record);
      records.push(record);
    }
    if (bytes > GET_BYTES) {
      throw new EngramError(
        'PAYLOAD_TOO_LARGE',
        `sync.get: the ${ids.length} records asked for come to more than ${GET_BYTES / 1024 / 1024} MiB of JSON; ask for fewer ids at a time`,
        { field: 'sync.get' },
      );
    }
  }
  return records;
}

/** How many leading changes fit in {@link PULL_BYTES} (one at least). */
function changesWithinBytes(changes: readonly PulledChange[]): number {
  let bytes = 0;
  for (let i = 0; i < changes.length; i++) {
    bytes += changeBytes(changes[i]!);
    if (bytes > PULL_BYTES) return Math.max(1, i);
  }
  return changes.length;
}

/**
 * Reads one page of the change feed with the current state of each entity (record or tombstone). The
 * entries of the asking replica's own pushes that `skips` holds are passed over (echo.ts): the cursor
 * moves past them, and a page may hold fewer than `limit` changes with more to come.
 */
export async function pullChanges(
  store: MemoryStore,
  namespace: string,
  from: number,
  limit: number,
  withStates = true,
  skips?: EchoSkips,
): Promise<NonNullable<SyncResponse['pull']>> {
  const after = skips ? await skips.jump(from) : from;
  const entries = await store.changes(namespace, after, limit + 1);
  const scanned = entries.slice(0, limit);
  const page = skips ? await skips.without(scanned) : scanned;
  let cursor = scanned[scanned.length - 1]?.seq ?? after;
  if (scanned.length === 0 && after > 0) {
    // A cursor past the end of the feed means this database was reset or restored since the replica last
    // pulled: answer with the feed's real end (below `after`), which tells the replica to start over.
    const latest = await (store as { latestSeq?: (ns: string) => Promise<number> }).latestSeq?.(namespace);
    if (latest !== undefined && latest < after) cursor = latest;
  }
  if (entries.length <= limit) {
    // At the end of the feed the cursor may pass collected entries: nothing is left between them, and a
    // replica holding it is not behind the horizon (a full re-sync ends here).
    const collected = await store.getMeta(namespace, COLLECTED_SEQ_META);
    if (typeof collected === 'number' && collected > cursor && cursor >= after) cursor = collected;
  }
  if (!withStates) {
    const changes = page.map(({ seq, entity, id, origin }) => ({ seq, entity, id, origin }));
    return { changes, cursor, hasMore: entries.length > limit };
  }
  const changes: PulledChange[] = (await readChangeStates(store, namespace, page)).map(
    ({ entry, memory, link, tombstone }) => {
      if (!memory && !link && !tombstone) {
        throw new EngramError(
          'STORAGE',
          `change feed entry ${entry.entity}:${entry.id} has no record or tombstone`,
        );
      }
      const change: PulledChange = {
        seq: entry.seq,
        entity: entry.entity,
        id: entry.id,
        origin: entry.origin,
      };
      if (tombstone) change.tombstone = tombstone;
      else if (memory) change.memory = memory;
      else change.link = link;
      return change;
    },
  );
  const fit = changesWithinBytes(changes);
  if (fit < changes.length) {
    return { changes: changes.slice(0, fit), cursor: changes[fit - 1]!.seq, hasMore: true };
  }
  return { changes, cursor, hasMore: entries.length > limit };
}
