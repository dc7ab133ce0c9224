import * as v from 'valibot';
import { EngramError, validationError } from '../errors.js';
import { isHlc } from '../hlc.js';
import { LINK_FIELDS, MEMORY_FIELDS } from '../store-contract.js';
import { fieldSchemas as f, LIMITS, parse } from '../validate.js';
import { PULL_LIMIT_MAX, type SyncRequest } from './protocol.js';

const stamp = v.custom<string>(isHlc, 'expected an HLC stamp like 0190a1b2c3d4-0000-node');
const clocks = v.record(v.string(), stamp, 'expected an object of field stamps');

const memoryWrite = v.strictObject({
  id: f.id,
  create: v.optional(v.strictObject({ namespace: f.id, createdAt: f.instant })),
  values: v.strictObject({
    content: v.optional(f.content),
    kind: v.optional(f.label('kind')),
    tags: v.optional(f.tags),
    metadata: v.optional(f.metadata),
    embedding: v.optional(f.embedding),
    importance: v.optional(f.importance),
    expiresAt: v.optional(f.instant),
  }),
  clocks,
});

const linkWrite = v.strictObject({
  id: f.id,
  create: v.optional(v.strictObject({ namespace: f.id, from: f.id, to: f.id, createdAt: f.instant })),
  values: v.strictObject({
    type: v.optional(f.label('type')),
    weight: v.optional(f.finite),
    metadata: v.optional(f.metadata),
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

const syncRequest = v.strictObject({
  clientId: v.optional(v.pipe(v.string(), v.maxLength(64))),
  push: v.optional(
    v.strictObject({ memories: batch(memoryWrite), links: batch(linkWrite), tombstones: batch(tombstone) }),
  ),
  pull: v.optional(
    v.strictObject({
      after: v.pipe(v.number(), v.integer(), v.minValue(0, 'expected a cursor of 0 or more')),
      limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(PULL_LIMIT_MAX))),
      states: v.optional(v.boolean()),
    }),
  ),
  get: v.optional(v.strictObject({ memories: ids, links: ids })),
});

function checkFields(fields: readonly string[], clockMap: Record<string, string>, where: string): void {
  for (const key of Object.keys(clockMap)) {
    if (!fields.includes(key)) {
      throw validationError(`${where}.clocks.${key}`, `one of ${fields.join(', ')}`);
    }
  }
}

/** Validates a sync body and checks every record belongs to the route's namespace. */
export function parseSyncRequest(body: unknown, namespace: string): SyncRequest {
  const request = parse(syncRequest, body, 'sync');
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
    checkFields(MEMORY_FIELDS, w.clocks, `sync.push.memories.${i}`);
  });
  push?.links?.forEach((w, i) => {
    foreign(w.create?.namespace, `sync.push.links.${i}.create.namespace`);
    checkFields(LINK_FIELDS, w.clocks, `sync.push.links.${i}`);
  });
  push?.tombstones?.forEach((t, i) => {
    foreign(t.namespace, `sync.push.tombstones.${i}.namespace`);
  });
  return request as SyncRequest;
}
