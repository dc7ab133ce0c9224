// The replication envelope: the per-field stamps stores persist beside each value so that replicas can merge.

/** Per-field hybrid-logical-clock stamps (see hlc.ts). A field wins a merge when its stamp is greater. */
export type FieldClocks = Record<string, string>;

/** The fields of a memory that replicas merge one by one (last writer wins per field). */
export const MEMORY_FIELDS = [
  'content',
  'kind',
  'tags',
  'metadata',
  'embedding',
  'importance',
  'expiresAt',
  'embeddingModel',
  'validFrom',
  'validTo',
] as const;
export type MemoryField = (typeof MEMORY_FIELDS)[number];

/** The stamp every field carries when one write set them all (a memory never edited), else undefined. */
export function loneStamp(clocks: FieldClocks): string | undefined {
  return loneStampOf(clocks, MEMORY_FIELDS);
}

/** `loneStamp` of a link's clocks (`LINK_FIELDS`). */
export function loneLinkStamp(clocks: FieldClocks): string | undefined {
  return loneStampOf(clocks, LINK_FIELDS);
}

/** The stamp on each of `fields` when the clocks name exactly those fields with one stamp, else undefined. */
function loneStampOf(clocks: FieldClocks, fields: readonly string[]): string | undefined {
  const stamp = clocks[fields[0]!];
  const uniform =
    stamp !== undefined &&
    Object.keys(clocks).length === fields.length &&
    fields.every((field) => clocks[field] === stamp);
  return uniform ? stamp : undefined;
}

/**
 * Clocks giving every field one stamp: how stores read back a lone stamp. Written as a literal (the type
 * makes it name every field of MEMORY_FIELDS): building it from MEMORY_FIELDS made an array of entries per
 * record, 11% of the CPU of reading a search's records on sql.js.
 */
export function stampEveryField(stamp: string): Record<MemoryField, string> {
  return {
    content: stamp,
    kind: stamp,
    tags: stamp,
    metadata: stamp,
    embedding: stamp,
    importance: stamp,
    expiresAt: stamp,
    embeddingModel: stamp,
    validFrom: stamp,
    validTo: stamp,
  };
}

export const LINK_FIELDS = ['type', 'weight', 'metadata'] as const;
export type LinkField = (typeof LINK_FIELDS)[number];

/** `stampEveryField` for a link: how stores read back a link's lone stamp (`loneLinkStamp`). */
export function stampEveryLinkField(stamp: string): Record<LinkField, string> {
  return { type: stamp, weight: stamp, metadata: stamp };
}
