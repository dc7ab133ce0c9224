import type { Engram } from '../core/engram.js';
import type { Memory } from '../core/model.js';
import type { FieldVectors } from './field-vectors.js';

/** Memory kinds: a LangGraph item, and a LangGraph namespace that has been written to. */
export const ITEM_KIND = 'langgraph-item';
export const NAMESPACE_KIND = 'langgraph-namespace';
const PAGE = 1000;

export interface StoredItem {
  memory: Memory;
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  vectors: FieldVectors;
}

/**
 * One string per (namespace, key), for maps and sets: JSON, so that no label or key (which may hold ':')
 * can make two items one (`['a'], 'b:c'` and `['a', 'b'], 'c'`).
 */
export function itemKey(namespace: string[], key: string): string {
  return JSON.stringify([namespace, key]);
}

/** Oldest first: ids are time-sortable and strictly increasing within a process. */
async function listAll(mem: Engram, filter: { kind: string; tags?: string[] }): Promise<Memory[]> {
  const all: Memory[] = [];
  let cursor: string | undefined;
  do {
    const page = await mem.list({ ...filter, limit: PAGE, cursor });
    all.push(...page.items);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return all.reverse();
}

/** Every LangGraph namespace ever written, in the order first written. */
export async function loadNamespaces(mem: Engram): Promise<string[][]> {
  const list: string[][] = [];
  const seen = new Set<string>();
  for (const m of await listAll(mem, { kind: NAMESPACE_KIND })) {
    const ns = pathOf(m);
    if (!ns) continue;
    const joined = ns.join(':');
    if (seen.has(joined)) continue;
    seen.add(joined);
    list.push(ns);
  }
  return list;
}

/**
 * True when `namespace` has its memory, read by its tag. Namespaces written before they were tagged are
 * not found this way (loadNamespaces still reads them): a put then adds a tagged copy, and every read keeps
 * the first written.
 */
export async function namespaceStored(mem: Engram, namespace: string[]): Promise<boolean> {
  const wanted = JSON.stringify(namespace);
  const found = await listAll(mem, { kind: NAMESPACE_KIND, tags: [namespaceTag(namespace)] });
  return found.some((m) => JSON.stringify(pathOf(m)) === wanted);
}

/** The LangGraph namespace a `langgraph-namespace` memory stands for. */
function pathOf(memory: Memory): string[] | undefined {
  const { metadata } = memory;
  const path = (decoded(metadata.encoded) as { path?: unknown } | undefined)?.path ?? metadata.path;
  return Array.isArray(path) ? path.map(String) : undefined;
}

function storedItem(memory: Memory): StoredItem | undefined {
  const { vectors } = memory.metadata;
  const { namespace, key, value } = (decoded(memory.metadata.encoded) ?? memory.metadata) as {
    [k: string]: unknown;
  };
  if (!Array.isArray(namespace) || typeof key !== 'string') return undefined;
  return {
    memory,
    namespace: namespace.map(String),
    key,
    value: (value ?? {}) as Record<string, unknown>,
    vectors: (vectors ?? {}) as FieldVectors,
  };
}

/**
 * Every memory of the item at (namespace, key), oldest first. Two writers (replicas offline, or two
 * processes on one Postgres) may each create one key: the first created stands for it, and a write to the
 * key removes the others (item-writes.ts), so a delete cannot bring another writer's copy back.
 */
export async function findItemCopies(mem: Engram, namespace: string[], key: string): Promise<StoredItem[]> {
  const wanted = itemKey(namespace, key);
  const copies: StoredItem[] = [];
  for (const memory of await listAll(mem, { kind: ITEM_KIND, tags: [keyTag(namespace, key)] })) {
    const item = storedItem(memory);
    if (item && itemKey(item.namespace, item.key) === wanted) copies.push(item);
  }
  return copies;
}

/** The item at (namespace, key): its first created copy. */
export async function findItem(
  mem: Engram,
  namespace: string[],
  key: string,
): Promise<StoredItem | undefined> {
  return (await findItemCopies(mem, namespace, key))[0];
}

/** Every item whose namespace starts with `prefix`, oldest first, one per key. */
export async function itemsUnder(mem: Engram, prefix: string[]): Promise<StoredItem[]> {
  const filter = prefix.length === 0 ? { kind: ITEM_KIND } : { kind: ITEM_KIND, tags: [prefixTag(prefix)] };
  const seen = new Set<string>();
  const items: StoredItem[] = [];
  for (const memory of await listAll(mem, filter)) {
    const item = storedItem(memory);
    if (!item || !startsWith(item.namespace, prefix)) continue;
    const key = itemKey(item.namespace, item.key);
    if (seen.has(key)) continue;
    seen.add(key);
    items.push(item);
  }
  return items;
}

function startsWith(namespace: string[], prefix: string[]): boolean {
  return prefix.length <= namespace.length && prefix.every((label, i) => namespace[i] === label);
}

/**
 * Prefix tags stop at this depth (Engram allows 64 tags a memory): a deeper prefix is looked up by its
 * first PREFIX_TAG_DEPTH labels, and the rest is confirmed on the metadata. Items written when every
 * depth up to 63 had a tag carry this one too, so they are still found.
 */
export const PREFIX_TAG_DEPTH = 16;

/**
 * Tags that find an item without reading the others: one for its (namespace, key), one for each prefix
 * of its namespace up to PREFIX_TAG_DEPTH labels. Hashed, as a tag is at most 64 characters; a match is
 * confirmed on the metadata, so a collision costs a read, never a wrong answer.
 */
export function itemTags(namespace: string[], key: string): string[] {
  const tags = [keyTag(namespace, key)];
  const deepest = Math.min(namespace.length, PREFIX_TAG_DEPTH);
  for (let depth = 1; depth <= deepest; depth++) tags.push(prefixTag(namespace.slice(0, depth)));
  return tags;
}

const keyTag = (namespace: string[], key: string) => `lgk:${hash(JSON.stringify([namespace, key]))}`;
/** The tag that finds a namespace's own memory (namespaceStored), of the whole namespace at any depth. */
export const namespaceTag = (namespace: string[]) => `lgn:${hash(JSON.stringify(namespace))}`;
const prefixTag = (prefix: string[]) => `lgp:${hash(JSON.stringify(prefix.slice(0, PREFIX_TAG_DEPTH)))}`;

/** `metadata.encoded`: JSON text of the fields metadata could not hold as they are (see item-json.ts). */
function decoded(text: unknown): unknown {
  return typeof text === 'string' ? JSON.parse(text) : undefined;
}

/**
 * Two FNV-1a-style 32-bit hashes with different starts: 64 bits, synchronous, for lookup only (not
 * security). Stored items carry its tags: a change of it would lose them (a test pins its values).
 */
export function hash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
