import * as v from 'valibot';
import { ENCRYPTED_EMBEDDING_MAX, ENCRYPTED_KEY, sealedLength } from '../crypto/fields.js';
import { CIPHERTEXT_PREFIX, EMBEDDING_BYTE_LIMIT, KEY_ID_MAX } from '../crypto/sealed.js';
import { EngramError } from '../errors.js';
import { isHlc, isoOfMs } from '../hlc.js';
import { UNSTAMPED_VALUES } from '../merge.js';
import type { Json } from '../model.js';
import { LINK_FIELDS, MEMORY_FIELDS } from '../store-contract.js';
import { fieldSchemas as f, LIMITS, parse } from '../validate.js';
import { ECHO_DIGEST, echoRangeFault, SKIP_MAX } from './echo.js';
import { unpackedClocks } from './lone-stamps.js';
import { PULL_LIMIT_MAX, type SyncRequest } from './protocol.js';
import { REQUIRED_FIELDS } from './records.js';

const stamp = v.custom<string>(isHlc, 'expected an HLC stamp like 0190a1b2c3d4-0000-node');
const clocks = v.record(v.string(), stamp, 'expected an object of field stamps');

/*
 * Sealed values of an end-to-end encrypted namespace (crypto/fields.ts) are longer than their plaintext:
 * content and metadata up to the sealed size of 64 KiB, an embedding up to the packed size of the largest
 * vector.
 */
const sealedContent = v.pipe(
  v.string(),
  v.startsWith(CIPHERTEXT_PREFIX),
  v.regex(/^[A-Za-z0-9._-]+$/),
  v.maxLength(sealedLength(LIMITS.contentBytes)),
);
/** Sealed metadata: `{ "engram.encrypted": <the sealed JSON> }`, up to the sealed size of 64 KiB of JSON. */
const sealedMetadata = v.strictObject({
  [ENCRYPTED_KEY]: v.pipe(
    v.string(),
    v.startsWith(CIPHERTEXT_PREFIX),
    v.regex(/^[A-Za-z0-9._-]+$/),
    v.maxLength(sealedLength(LIMITS.metadataBytes)),
  ),
});
const sealedEmbedding = v.pipe(
  v.array(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(EMBEDDING_BYTE_LIMIT - 1))),
  v.minLength(2),
  v.maxLength(ENCRYPTED_EMBEDDING_MAX),
);
/**
 * Instants of a push are stored as sent and compared as strings (merge keeps the earlier `createdAt`, SQL
 * filters compare `expiresAt` with now), which holds only for one form: each becomes UTC's ISO form, as
 * the local write path stores them, whatever zone the client wrote (isoOfMs: every pushed record has one).
 */
const instant = v.pipe(
  f.instant,
  v.transform((s) => isoOfMs(Date.parse(s))),
);

const either = <A extends v.GenericSchema, B extends v.GenericSchema>(plain: A, sealed: B) =>
  v.union([plain, sealed], (issue) => issue.issues?.[0]?.message ?? issue.message);

const KEY_ID = new RegExp(`^[A-Za-z0-9_-]{4,${KEY_ID_MAX}}$`);
const keyInfo = v.strictObject({
  v: v.picklist([1, 2], 'expected key info version 1 or 2'),
  keyId: v.pipe(v.string(), v.regex(KEY_ID, 'expected a key id')),
  check: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{16,256}$/, 'expected a base64url key check value')),
  kdf: v.optional(
    v.strictObject({
      name: v.literal('PBKDF2-SHA256'),
      iterations: v.pipe(v.number(), v.integer(), v.minValue(1000), v.maxValue(100_000_000)),
      salt: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{16,64}$/, 'expected a base64url salt')),
    }),
  ),
  rotation: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, 'expected a base64url SHA-256'))),
});
const keyId = v.pipe(v.string(), v.regex(KEY_ID, 'expected a key id'));

const memoryWrite = v.strictObject({
  id: f.id,
  create: v.optional(v.strictObject({ namespace: f.id, createdAt: instant })),
  values: v.strictObject({
    content: v.optional(either(f.content, sealedContent)),
    kind: v.optional(f.label('kind')),
    tags: v.optional(f.tags),
    metadata: v.optional(either(f.metadata, sealedMetadata)),
    embedding: v.optional(either(f.embedding, sealedEmbedding)),
    embeddingModel: v.optional(f.embeddingModel),
    importance: v.optional(f.importance),
    expiresAt: v.optional(instant),
    validFrom: v.optional(instant),
    validTo: v.optional(instant),
  }),
  clocks,
});

const linkWrite = v.strictObject({
  id: f.id,
  create: v.optional(v.strictObject({ namespace: f.id, from: f.id, to: f.id, createdAt: instant })),
  values: v.strictObject({
    type: v.optional(f.label('type')),
    weight: v.optional(f.finite),
    metadata: v.optional(either(f.metadata, sealedMetadata)),
  }),
  clocks,
});

const tombstone = v.strictObject({
  entity: v.picklist(['memory', 'link'], "expected 'memory' or 'link'"),
  id: f.id,
  namespace: f.id,
  clock: stamp,
});

const batch = <T extends v.GenericSchema>(item: T) =>
  v.optional(v.pipe(v.array(item), v.maxLength(LIMITS.batch, `expected at most ${LIMITS.batch} items`)));
const ids = v.optional(
  v.pipe(v.array(f.id), v.maxLength(LIMITS.batch, `expected at most ${LIMITS.batch} ids`)),
);

const cursor = v.pipe(
  v.number('expected a cursor number'),
  v.integer('expected an integer cursor'),
  v.minValue(0, 'expected a cursor of 0 or more'),
  v.maxValue(Number.MAX_SAFE_INTEGER, 'expected a cursor returned by an earlier pull'),
);

const GUARDED_FIELDS = [...new Set<string>([...MEMORY_FIELDS, ...LINK_FIELDS])];

const syncRequest = v.strictObject({
  clientId: v.optional(v.pipe(v.string(), v.maxLength(64))),
  cursor: v.optional(cursor),
  push: v.optional(
    v.strictObject({
      memories: batch(memoryWrite),
      links: batch(linkWrite),
      tombstones: batch(tombstone),
      // A RemoteStore's checks, made again inside the edge's transaction (WriteBatch.newIds, .unchanged).
      newIds: ids,
      unchanged: batch(
        v.strictObject({
          id: f.id,
          // Checked against the entity's own fields below (a link has fewer).
          field: v.picklist(GUARDED_FIELDS, 'expected a memory or link field'),
          clock: v.nullable(stamp),
          entity: v.optional(v.picklist(['memory', 'link'], "expected 'memory' or 'link'")),
        }),
      ),
      dedupe: v.optional(v.strictObject({ content: f.content, since: cursor, now: instant })),
    }),
  ),
  pull: v.optional(
    v.strictObject({
      after: cursor,
      limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(PULL_LIMIT_MAX))),
      states: v.optional(v.boolean()),
      skip: v.optional(
        v.pipe(
          v.array(
            v.strictObject({
              after: cursor,
              last: cursor,
              count: v.pipe(
                v.number('expected a count of entries'),
                v.integer('expected an integer count'),
                v.minValue(1, 'expected a count of 1 or more'),
                v.maxValue(LIMITS.batch, `expected a count of at most ${LIMITS.batch}`),
              ),
              digest: v.pipe(
                v.string('expected a digest string'),
                v.regex(ECHO_DIGEST, 'expected 16 lowercase hex digits (an echo the edge answered)'),
              ),
            }),
          ),
          v.maxLength(SKIP_MAX, `expected at most ${SKIP_MAX} echoes`),
        ),
      ),
    }),
  ),
  get: v.optional(v.strictObject({ memories: ids, links: ids })),
  key: v.optional(
    v.strictObject({
      info: v.optional(keyInfo),
      id: v.optional(keyId),
      seals: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000))),
      rotate: v.optional(
        v.strictObject({
          from: keyId,
          to: keyInfo,
          proof: v.optional(
            v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{16,256}$/, 'expected a rotation proof')),
          ),
        }),
      ),
    }),
  ),
  language: v.optional(v.string()),
  /** Answer with lone stamps packed (lone-stamps.ts). */
  loneStamps: v.optional(v.boolean('expected true or false')),
});

function invalid(field: string, message: string): EngramError {
  return new EngramError('VALIDATION', `${field}: ${message}`, { field });
}

function checkFields(
  fields: readonly string[],
  required: readonly string[],
  unstamped: Record<string, Json>,
  write: { create?: unknown; values: object; clocks: Record<string, string> },
  where: string,
): void {
  const values = write.values as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    // Merging goes by stamps: a value without one would be dropped without a word. A field's initial
    // value is the exception: a record stored without that field's stamp holds it, and sends it so.
    if (values[key] === undefined || write.clocks[key] !== undefined) continue;
    if (!Object.hasOwn(unstamped, key) || JSON.stringify(values[key]) !== JSON.stringify(unstamped[key])) {
      throw invalid(`${where}.clocks.${key}`, `expected a stamp for the value of ${key}, got nothing`);
    }
  }
  for (const key of Object.keys(write.clocks)) {
    if (!fields.includes(key))
      throw invalid(`${where}.clocks.${key}`, `expected one of ${fields.join(', ')}`);
    if (required.includes(key) && values[key] === undefined) {
      throw invalid(
        `${where}.values.${key}`,
        `expected a value for the stamped field ${key} (it cannot be cleared), got nothing`,
      );
    }
  }
  if (write.create && required.includes('content') && write.clocks.content === undefined) {
    throw invalid(
      `${where}.values.content`,
      'expected content (with its stamp) in a write that creates a memory',
    );
  }
}

/** Valibot's object schemas accept arrays; the protocol's objects must be objects. */
function assertObjects(body: unknown): void {
  const isObject = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
  const need = (value: unknown, field: string) => {
    if (value !== undefined && !isObject(value)) {
      const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
      throw invalid(field, `expected an object, got ${got}`);
    }
  };
  need(body, 'sync');
  if (!isObject(body)) return;
  const request = body as Record<string, unknown>;
  for (const part of ['push', 'pull', 'get', 'key']) need(request[part], `sync.${part}`);
  const push = request.push as Record<string, unknown> | undefined;
  if (!isObject(push)) return;
  for (const kind of ['memories', 'links', 'tombstones']) {
    const list = push![kind];
    if (!Array.isArray(list)) continue;
    list.forEach((item, i) => {
      const where = `sync.push.${kind}.${i}`;
      need(item, where);
      if (!isObject(item) || kind === 'tombstones') return;
      const write = item as Record<string, unknown>;
      need(write.values ?? {}, `${where}.values`);
      // One string: a lone stamp (lone-stamps.ts), read by expandLoneStamps.
      if (typeof write.clocks !== 'string') need(write.clocks ?? {}, `${where}.clocks`);
      need(write.create, `${where}.create`);
    });
  }
}

/**
 * The body with every pushed write whose `clocks` is one string (a lone stamp, lone-stamps.ts) given them
 * in the object form, on every field of its entity, so that they are checked as a sender of that form's
 * would be; the body itself is not changed. A string that is no stamp is refused here, at `clocks`.
 */
function expandLoneStamps(body: unknown): unknown {
  const push = (body as { push?: Record<string, unknown> }).push;
  if (push === undefined) return body;
  let expanded: Record<string, unknown> | undefined;
  for (const [kind, entity] of [
    ['memories', 'memory'],
    ['links', 'link'],
  ] as const) {
    const list = push[kind];
    if (!Array.isArray(list) || !list.some((w) => typeof w?.clocks === 'string')) continue;
    expanded ??= { ...push };
    expanded[kind] = list.map((write: { clocks?: unknown }, i) => {
      if (typeof write.clocks !== 'string') return write;
      const lone: string = write.clocks;
      if (!isHlc(lone)) {
        throw invalid(
          `sync.push.${kind}.${i}.clocks`,
          `expected an HLC stamp like 0190a1b2c3d4-0000-node (one for every field) or an object of field stamps, got ${JSON.stringify(String(lone).slice(0, 80))}`,
        );
      }
      return { ...write, clocks: unpackedClocks(lone, entity) };
    });
  }
  return expanded === undefined ? body : { ...(body as object), push: expanded };
}

/** Validates a sync body and checks every record belongs to the route's namespace. */
export function parseSyncRequest(body: unknown, namespace: string): SyncRequest {
  assertObjects(body);
  const request = parse(syncRequest, expandLoneStamps(body), 'sync');
  const push = request.push;
  const foreign = (ns: string | undefined, where: string) => {
    if (ns !== undefined && ns !== namespace) {
      throw new EngramError(
        'FORBIDDEN',
        `${where}: namespace ${JSON.stringify(ns)} does not match ${JSON.stringify(namespace)}`,
        {
          field: where,
        },
      );
    }
  };
  push?.memories?.forEach((w, i) => {
    foreign(w.create?.namespace, `sync.push.memories.${i}.create.namespace`);
    // The sealed forms' larger sizes are for sealed pushes only (they name their key): a plaintext push
    // is held to the plain limits, so integers packed like a sealed embedding do not pass 4096 dimensions.
    if (request.key?.id === undefined) {
      const where = `sync.push.memories.${i}.values`;
      if (w.values.content !== undefined) parse(f.content, w.values.content, `${where}.content`);
      if (w.values.embedding !== undefined) parse(f.embedding, w.values.embedding, `${where}.embedding`);
    }
    checkFields(MEMORY_FIELDS, REQUIRED_FIELDS.memory, UNSTAMPED_VALUES.memory, w, `sync.push.memories.${i}`);
  });
  push?.links?.forEach((w, i) => {
    foreign(w.create?.namespace, `sync.push.links.${i}.create.namespace`);
    checkFields(LINK_FIELDS, REQUIRED_FIELDS.link, UNSTAMPED_VALUES.link, w, `sync.push.links.${i}`);
  });
  push?.unchanged?.forEach(({ entity, field }, i) => {
    const fields: readonly string[] = entity === 'link' ? LINK_FIELDS : MEMORY_FIELDS;
    if (!fields.includes(field))
      throw invalid(
        `sync.push.unchanged.${i}.field`,
        `expected a ${entity ?? 'memory'} field: one of ${fields.join(', ')}`,
      );
  });
  push?.tombstones?.forEach((t, i) => {
    foreign(t.namespace, `sync.push.tombstones.${i}.namespace`);
  });
  request.pull?.skip?.forEach((echo, i) => {
    const fault = echoRangeFault(echo);
    if (fault) throw invalid(`sync.pull.skip.${i}.${fault.part}`, `expected ${fault.expected}`);
  });
  return request as SyncRequest;
}
