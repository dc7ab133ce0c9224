import { EngramError } from '../../core/errors.js';
import { clientOfNode, hlcWallPrefix, isoOfMs, NODE_START } from '../../core/hlc.js';
import type { Memory } from '../../core/model.js';
import {
  type Entity,
  type FieldClocks,
  type LinkRecord,
  loneLinkStamp,
  loneStamp,
  type MemoryRecord,
  stampEveryField,
  stampEveryLinkField,
  type Tombstone,
} from '../../core/store-contract.js';
import type { SqlParam } from './executor.js';

/** Drivers differ on BIGINT (postgres.js: string, PGlite and sql.js: number) and BYTEA (Buffer or Uint8Array). */
/** Postgres returns bigint columns as strings; SQLite as numbers. */
export type Integer = number | string;

export interface MemoryRow {
  id: string;
  /** The namespace's home client, read beside a clock packed against it (`homeOf`), else null. */
  home?: string | null;
  content: string;
  kind: string;
  tags: string;
  metadata: string;
  embedding: Uint8Array | null;
  importance: number | null;
  created_at: string;
  updated_at: string;
  /** Read beside the packed instants and clock (`packDates`, `packClocks`), which may leave it out. */
  created_ms: Integer | null;
  expires_at: string | null;
  clocks: string;
  embedding_model: string | null;
  valid_from: string | null;
  valid_to: string | null;
}

export interface LinkRow {
  id: string;
  from_id: string;
  to_id: string;
  type: string;
  weight: number | null;
  metadata: string;
  created_at: string;
  updated_at: string;
  clocks: string;
}

export interface TombstoneRow {
  id: string;
  entity: string;
  clock: string;
}

export const MEMORY_COLUMNS = [
  'ns',
  'id',
  'content',
  'kind',
  'tags',
  'metadata',
  'embedding',
  'importance',
  'created_at',
  'updated_at',
  'expires_at',
  'created_ms',
  'expires_ms',
  'clocks',
  'embedding_model',
  'valid_from',
  'valid_to',
  'valid_from_ms',
  'valid_to_ms',
] as const;
export const LINK_COLUMNS = [
  'ns',
  'id',
  'from_id',
  'to_id',
  'type',
  'weight',
  'metadata',
  'created_at',
  'updated_at',
  'clocks',
] as const;
/**
 * The namespace's home client beside a clock packed against it (`packClocks`), null beside any other. The
 * subquery names the namespace by a parameter, not by the row's column: it does not depend on the row, so
 * SQLite and Postgres (an InitPlan) run it at most once a statement, where a correlated one ran per row
 * (3-4 µs a row on Postgres).
 */
const homeOf = (clocks: string) =>
  `CASE WHEN substr(${clocks}, 1, 1) = '#' THEN (SELECT n.home FROM engram_namespaces n WHERE n.ns = ?) END AS home`;
const SELECTED = MEMORY_COLUMNS.filter((c) => c !== 'ns' && (!c.endsWith('_ms') || c === 'created_ms'));
/**
 * What reads select: the row minus the namespace, which the caller already knows, and the filter-only
 * instants; and the home client where a clock needs it. It takes one parameter, the namespace read, which
 * goes before the statement's own.
 */
export const MEMORY_SELECT = [...SELECTED, homeOf('clocks')].join(', ');
/** `MEMORY_SELECT` from engram_memories under the alias `alias` (the same parameter). */
export const memorySelectAs = (alias: string): string =>
  [...SELECTED.map((c) => `${alias}.${c}`), homeOf(`${alias}.clocks`)].join(', ');
export const LINK_SELECT = LINK_COLUMNS.filter((c) => c !== 'ns').join(', ');

/** Little-endian float64, the layout of every platform JS runs on; lossless, unlike a decimal rendering. */
export function encodeVector(vector: readonly number[]): Uint8Array {
  return new Uint8Array(Float64Array.from(vector).buffer);
}

export function decodeVector(bytes: Uint8Array): number[] {
  // Copy first: a driver's buffer may sit at an offset that Float64Array cannot view.
  const aligned = new Uint8Array(bytes.byteLength);
  aligned.set(bytes);
  return Array.from(new Float64Array(aligned.buffer));
}

/** Epoch milliseconds, or null where `Date.parse` gives NaN (such a bound never excludes, as in core). */
export function epochMs(iso: string | undefined): number | null {
  if (iso === undefined) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * A memory written once carries one stamp on every field: stored as that stamp alone (a JSON string), the
 * row loses nine repeated stamps, about 450 bytes, more than a typical content. Other clocks stay an object.
 * A lone stamp whose wall clock is `created_ms` (a memory never edited) drops it too: `@` and the rest of
 * the stamp, which no JSON text starts with (15 of its 37 bytes; 1.3% of a 10K-memory sql.js file). When
 * its node belongs to the namespace's home client (`engram_namespaces.home`, schema v23: the client id of
 * the first lone stamp the namespace stored; a replica's own writes all carry it, whatever the part its
 * node draws at each opening, create-memory.ts), `#`, the counter and the node past the client id stay:
 * 17 bytes a row fewer (a client id is 16 characters), 2.4% of a 100K-memory file.
 */
function packClocks(clocks: FieldClocks, createdMs: number | null, home: string | null): string {
  const stamp = loneStamp(clocks);
  if (stamp === undefined) return JSON.stringify(clocks);
  const wall = createdMs === null ? undefined : hlcWallPrefix(createdMs);
  if (wall === undefined || !stamp.startsWith(wall)) return JSON.stringify(stamp);
  return home !== null && clientOfNode(stamp.slice(NODE_START)) === home
    ? `#${stamp.slice(wall.length, NODE_START - 1)}${stamp.slice(NODE_START + home.length)}`
    : `@${stamp.slice(wall.length)}`;
}

function unpackClocks(text: string, createdMs: Integer | null, home: string | null): FieldClocks {
  const first = text.charCodeAt(0);
  if (first === HOME || first === AT) {
    if (createdMs === null || (first === HOME && home === null)) {
      throw new EngramError('STORAGE', `a memory's packed clock (${text}) lacks what it was packed against`);
    }
    const wall = hlcWallPrefix(Number(createdMs));
    // After `#`, the counter up to where the node would start, then the node past the client id.
    const node = NODE_START - wall.length;
    const rest = first === HOME ? `${text.slice(1, node)}-${home}${text.slice(node)}` : text.slice(1);
    return stampEveryField(wall + rest);
  }
  const clocks = JSON.parse(text) as FieldClocks | string;
  return typeof clocks === 'string' ? stampEveryField(clocks) : clocks;
}

const AT = 0x40;
const HOME = 0x23;

/**
 * A memory's `created_at` and `updated_at` as stored: 48 bytes of ISO text per row (4% of a 10K-memory
 * sql.js file) that are nearly always derivable. `created_at` is stored empty when it is exactly the
 * formatting of `created_ms` (a real empty instant has no `created_ms`, so it reads back as written);
 * `updated_at` is stored empty when equal to `created_at` (a memory never edited), and a real value that
 * is empty or starts with `=` is stored behind a `=`, so every stored form reads back as one value.
 */
export function packDates(createdAt: string, updatedAt: string, createdMs: number | null): [string, string] {
  const created = createdMs !== null && isoOfMs(createdMs) === createdAt ? '' : createdAt;
  if (updatedAt === createdAt) return [created, ''];
  return [created, updatedAt === '' || updatedAt.startsWith('=') ? `=${updatedAt}` : updatedAt];
}

/** The instants `packDates` stored, as they were written. */
export function unpackDates(
  created: string,
  updated: string,
  createdMs: Integer | null,
): { createdAt: string; updatedAt: string } {
  const createdAt = created === '' && createdMs !== null ? isoOfMs(Number(createdMs)) : created;
  if (updated === '') return { createdAt, updatedAt: createdAt };
  return { createdAt, updatedAt: updated.startsWith('=') ? updated.slice(1) : updated };
}

/** `home`: the namespace's home client, against which a lone stamp may be packed (`packClocks`). */
export function memoryToRow(
  namespace: string,
  { memory, clocks }: MemoryRecord,
  home: string | null,
): SqlParam[] {
  const createdMs = epochMs(memory.createdAt);
  const [created, updated] = packDates(memory.createdAt, memory.updatedAt, createdMs);
  return [
    namespace,
    memory.id,
    memory.content,
    memory.kind,
    JSON.stringify(memory.tags),
    JSON.stringify(memory.metadata),
    memory.embedding ? encodeVector(memory.embedding) : null,
    memory.importance ?? null,
    created,
    updated,
    memory.expiresAt ?? null,
    createdMs,
    epochMs(memory.expiresAt),
    packClocks(clocks, createdMs, home),
    memory.embeddingModel ?? null,
    memory.validFrom ?? null,
    memory.validTo ?? null,
    epochMs(memory.validFrom),
    epochMs(memory.validTo),
  ];
}

export function memoryFromRow(namespace: string, row: MemoryRow): MemoryRecord {
  const memory: Memory = {
    id: row.id,
    namespace,
    content: row.content,
    kind: row.kind,
    tags: JSON.parse(row.tags),
    metadata: JSON.parse(row.metadata),
    ...unpackDates(row.created_at, row.updated_at, row.created_ms),
  };
  if (row.embedding !== null) memory.embedding = decodeVector(row.embedding);
  if (row.embedding_model !== null) memory.embeddingModel = row.embedding_model;
  if (row.importance !== null) memory.importance = Number(row.importance);
  if (row.expires_at !== null) memory.expiresAt = row.expires_at;
  if (row.valid_from !== null) memory.validFrom = row.valid_from;
  if (row.valid_to !== null) memory.validTo = row.valid_to;
  return { memory, clocks: unpackClocks(row.clocks, row.created_ms, row.home ?? null) };
}

export function linkToRow(namespace: string, { link, clocks }: LinkRecord): SqlParam[] {
  return [
    namespace,
    link.id,
    link.from,
    link.to,
    link.type,
    link.weight ?? null,
    JSON.stringify(link.metadata),
    link.createdAt,
    link.updatedAt,
    // A link written once carries one stamp on each of its fields: stored as that stamp alone (a JSON
    // string, schema v23), 45 bytes instead of about 170. Any other clocks stay an object.
    JSON.stringify(loneLinkStamp(clocks) ?? clocks),
  ];
}

export function linkFromRow(namespace: string, row: LinkRow): LinkRecord {
  const link: LinkRecord['link'] = {
    id: row.id,
    namespace,
    from: row.from_id,
    to: row.to_id,
    type: row.type,
    metadata: JSON.parse(row.metadata),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.weight !== null) link.weight = Number(row.weight);
  const clocks = JSON.parse(row.clocks) as FieldClocks | string;
  return { link, clocks: typeof clocks === 'string' ? stampEveryLinkField(clocks) : clocks };
}

export function tombstoneFromRow(namespace: string, row: TombstoneRow): Tombstone {
  return { entity: row.entity as Entity, id: row.id, namespace, clock: row.clock };
}
