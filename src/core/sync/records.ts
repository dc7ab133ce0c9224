import {
  type FieldClocks,
  LINK_FIELDS,
  type LinkRecord,
  type LinkWrite,
  MEMORY_FIELDS,
  type MemoryRecord,
  type MemoryWrite,
  type WriteBatch,
} from '../store-contract.js';
import type { PulledChange } from './protocol.js';

/** Fields every record has: a write may change them but never clear them (a stamp without a value). */
export const REQUIRED_FIELDS = {
  memory: ['content', 'kind', 'tags', 'metadata'],
  link: ['type', 'metadata'],
} as const;

/** A record stored before writes were checked may stamp a required field it lacks; that stamp is not sent. */
function sendableClocks(clocks: FieldClocks, values: object, required: readonly string[]): FieldClocks {
  const bag = values as Record<string, unknown>;
  if (!required.some((f) => clocks[f] !== undefined && bag[f] === undefined)) return clocks;
  return Object.fromEntries(
    Object.entries(clocks).filter(([f]) => !required.includes(f) || bag[f] !== undefined),
  );
}

/** A stored record as a full write (immutable part + every field with its stamp), for replication. */
export function memoryRecordToWrite({ memory, clocks }: MemoryRecord): MemoryWrite {
  const values: MemoryWrite['values'] = {};
  for (const field of MEMORY_FIELDS) {
    if (memory[field] !== undefined) (values as Record<string, unknown>)[field] = memory[field];
  }
  return {
    id: memory.id,
    create: { namespace: memory.namespace, createdAt: memory.createdAt },
    values,
    clocks: sendableClocks(clocks, values, REQUIRED_FIELDS.memory),
  };
}

export function linkRecordToWrite({ link, clocks }: LinkRecord): LinkWrite {
  const values: LinkWrite['values'] = {};
  for (const field of LINK_FIELDS) {
    if (link[field] !== undefined) (values as Record<string, unknown>)[field] = link[field];
  }
  return {
    id: link.id,
    create: { namespace: link.namespace, from: link.from, to: link.to, createdAt: link.createdAt },
    values,
    clocks: sendableClocks(clocks, values, REQUIRED_FIELDS.link),
  };
}

/** Turns a page of pulled changes into one batch for the local store. */
export function changesToBatch(
  changes: readonly PulledChange[],
): Required<Pick<WriteBatch, 'memories' | 'links' | 'tombstones'>> {
  const batch = {
    memories: [] as MemoryWrite[],
    links: [] as LinkWrite[],
    tombstones: [] as NonNullable<WriteBatch['tombstones']>,
  };
  for (const change of changes) {
    if (change.tombstone) batch.tombstones.push(change.tombstone);
    else if (change.memory) batch.memories.push(memoryRecordToWrite(change.memory));
    else if (change.link) batch.links.push(linkRecordToWrite(change.link));
  }
  return batch;
}

/** Calls `visit` with every stamp a batch carries, so the local clock can move past them. */
export function forEachStamp(batch: WriteBatch, visit: (stamp: string) => void): void {
  // Walked in place rather than gathered into one array: an edge does this for every push it merges.
  for (const write of batch.memories ?? []) for (const stamp of Object.values(write.clocks)) visit(stamp);
  for (const write of batch.links ?? []) for (const stamp of Object.values(write.clocks)) visit(stamp);
  for (const tombstone of batch.tombstones ?? []) visit(tombstone.clock);
}
