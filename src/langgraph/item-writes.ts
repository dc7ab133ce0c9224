import type { PutOperation } from '@langchain/langgraph-checkpoint';
import type { Engram } from '../core/engram.js';
import { EngramError } from '../core/errors.js';
import type { Json, MemoryInput } from '../core/model.js';
import { fitsUtf8, LIMITS, memoryInputSchema, parse } from '../core/validate.js';
import { itemLabel, type PendingPut } from './batch-plan.js';
import type { FieldVectors } from './field-vectors.js';
import { metadataFields, searchText } from './item-json.js';
import {
  ITEM_KIND,
  itemKey,
  itemTags,
  NAMESPACE_KIND,
  namespaceTag,
  type StoredItem,
} from './item-records.js';

/** One put, ready to write: the memory it becomes, or, for a delete, none. */
export interface ItemWrite {
  op: PutOperation;
  existing: StoredItem | undefined;
  /** Ids of later copies of the item another writer created (see findItemCopies): removed by the write. */
  twins?: string[];
  /** The memory that lists the put's namespace, when the batch writes to it first. */
  namespace?: MemoryInput;
  record?: {
    content: string;
    metadata: { [k: string]: Json };
    tags: string[];
    value: Record<string, unknown>;
    vectors: FieldVectors;
  };
}

/**
 * The memory a put becomes, checked against Engram's limits here, so that a batch holding a put Engram
 * would refuse fails before any of its puts is written. `stored` holds the namespaces that have their
 * memory (labels joined with ':'); the first put of the batch to any other one writes it, and notes it.
 */
export function prepareWrite(
  { op, json }: PendingPut,
  existing: StoredItem | undefined,
  embedded: FieldVectors | undefined,
  stored: Set<string>,
): ItemWrite {
  const joined = op.namespace.join(':');
  let namespace: MemoryInput | undefined;
  if (!stored.has(joined)) {
    const metadata = metadataFields({ path: op.namespace }, 'encoded');
    const tags = [namespaceTag(op.namespace)];
    namespace = parse(
      memoryInputSchema,
      { kind: NAMESPACE_KIND, content: namespaceText(op.namespace), metadata, tags },
      'put.namespace',
    );
    stored.add(joined);
  }
  if (json === undefined) return { op, existing, namespace };
  // A put replaces the item whole, its embeddings too: a field it does not embed (index: false, another
  // field list, an array grown shorter) keeps no vector of the value before, which search would score.
  const vectors = { ...embedded };
  // Stored as JSON, as LangGraph's persistent stores keep values: Dates become strings, undefined
  // properties vanish, and objects of any prototype become plain.
  const value = JSON.parse(json) as Json;
  const metadata: { [k: string]: Json } = {
    ...metadataFields({ namespace: op.namespace, key: op.key, value }, 'encoded'),
    vectors,
  };
  const size = JSON.stringify(metadata);
  if (!fitsUtf8(size, LIMITS.metadataBytes)) {
    const kib = (new TextEncoder().encode(size).length / 1024).toFixed(1);
    throw new EngramError(
      'VALIDATION',
      `put.value: expected an item of at most 64 KiB as JSON (its namespace, key, value and embeddings), got ${kib} KiB for ${itemLabel(op.namespace, op.key)}`,
      { field: 'put.value' },
    );
  }
  const content = contentOf(op.namespace, op.key, json);
  const tags = itemTags(op.namespace, op.key);
  // Whatever else Engram would refuse on write, refused now, before the batch writes anything.
  parse(memoryInputSchema, { kind: ITEM_KIND, content, metadata, tags }, 'put');
  return {
    op,
    existing,
    namespace,
    record: { content, metadata, tags, value: value as Record<string, unknown>, vectors },
  };
}

/** Writes checked puts in order, each new namespace first; returns the items that existed and were updated, by key. */
export async function writeItems(mem: Engram, writes: ItemWrite[]): Promise<Map<string, StoredItem>> {
  const updated = new Map<string, StoredItem>();
  for (const { op, existing, twins = [], namespace, record } of writes) {
    if (namespace) await mem.add(namespace);
    for (const id of twins) await mem.remove(id);
    if (!record) {
      if (existing) await mem.remove(existing.memory.id);
      continue;
    }
    const { content, metadata, tags, value, vectors } = record;
    if (existing) {
      const memory = await mem.update(existing.memory.id, { content, metadata, tags });
      updated.set(itemKey(op.namespace, op.key), { ...existing, memory, value, vectors });
    } else {
      await mem.add({ kind: ITEM_KIND, content, metadata, tags });
    }
  }
  return updated;
}

/**
 * A namespace memory's text: its labels joined with ':' (as namespaces were always stored), or, when that
 * is blank (labels of whitespace only, which LangGraph allows and Engram's content does not), the labels
 * as JSON. Reads go by the metadata's `path`, never by this text.
 */
function namespaceText(namespace: string[]): string {
  const joined = searchText(namespace.join(':'));
  return joined.trim() ? joined : JSON.stringify(namespace);
}

/**
 * The memory's text, so Engram's own search and tools see what the item says: well-formed and cut to fit
 * content's 64 KiB (searchText); the value itself is kept whole in metadata.
 */
function contentOf(namespace: string[], key: string, json: string): string {
  return searchText(`${namespace.join('/')}/${key}\n${json}`);
}
