import type { Json, Link, MemoryInput, MemoryPatch } from './model.js';
import {
  type FieldClocks,
  LINK_FIELDS,
  type LinkWrite,
  MEMORY_FIELDS,
  type MemoryWrite,
} from './store-contract.js';

type MemoryValues = MemoryWrite['values'];

/** Instants are stored normalized (UTC, milliseconds), so every store compares and returns them alike. */
const INSTANT_FIELDS: ReadonlySet<string> = new Set(['expiresAt', 'validFrom', 'validTo']);

/**
 * A copy of validated JSON metadata. Most memories carry none, and structuredClone costs microseconds
 * even for `{}`: a tenth of a bulk add's JS time went to cloning empty objects.
 */
function cloneMetadata(metadata: { [k: string]: Json } | undefined): { [k: string]: Json } {
  if (metadata === undefined) return {};
  for (const _ in metadata) return structuredClone(metadata);
  return {};
}

/** A create stamps every mergeable field, present or not, so a later partial write always compares. */
function stampAll(fields: readonly string[], stamp: string): FieldClocks {
  return Object.fromEntries(fields.map((f) => [f, stamp]));
}

export function createMemoryWrite(
  namespace: string,
  id: string,
  input: MemoryInput,
  stamp: string,
  createdAt: string,
): MemoryWrite {
  const values: MemoryValues = {
    content: input.content,
    kind: input.kind ?? 'note',
    tags: [...new Set(input.tags ?? [])],
    metadata: cloneMetadata(input.metadata),
  };
  if (input.embedding !== undefined) values.embedding = [...input.embedding];
  if (input.embeddingModel !== undefined) values.embeddingModel = input.embeddingModel;
  if (input.importance !== undefined) values.importance = input.importance;
  if (input.expiresAt !== undefined) values.expiresAt = new Date(input.expiresAt).toISOString();
  if (input.validFrom !== undefined) values.validFrom = new Date(input.validFrom).toISOString();
  if (input.validTo !== undefined) values.validTo = new Date(input.validTo).toISOString();
  return { id, create: { namespace, createdAt }, values, clocks: stampAll(MEMORY_FIELDS, stamp) };
}

/** Only the fields the patch names are written and stamped; `null` clears an optional field. */
export function patchMemoryWrite(id: string, patch: MemoryPatch, stamp: string): MemoryWrite {
  const values: MemoryValues = {};
  const clocks: FieldClocks = {};
  for (const field of MEMORY_FIELDS) {
    if (!(field in patch)) continue;
    const value = patch[field];
    clocks[field] = stamp;
    if (value === null || value === undefined) continue;
    if (field === 'tags') values.tags = [...new Set(value as string[])];
    else if (INSTANT_FIELDS.has(field))
      (values as Record<string, string>)[field] = new Date(value as string).toISOString();
    else (values as Record<string, unknown>)[field] = structuredClone(value);
  }
  return { id, values, clocks };
}

export function createLinkWrite(
  link: Pick<Link, 'id' | 'namespace' | 'from' | 'to' | 'type' | 'createdAt'> & Partial<Link>,
  stamp: string,
): LinkWrite {
  const values: LinkWrite['values'] = { type: link.type, metadata: structuredClone(link.metadata ?? {}) };
  values.weight = link.weight ?? 1;
  return {
    id: link.id,
    create: { namespace: link.namespace, from: link.from, to: link.to, createdAt: link.createdAt },
    values,
    clocks: stampAll(LINK_FIELDS, stamp),
  };
}
