import type { Json, Memory } from '../../core/model.js';
import { setOwnKey } from '../../core/own-key.js';
import type { LinkRecord, MemoryRecord } from '../../core/store-contract.js';

/**
 * Copies handed out and taken in, so callers never share the stored objects. By hand, as records hold
 * plain data only: structuredClone cost a replica about a sixth of its CPU pushing 10,000 memories.
 */
export function cloneMemory({ memory, clocks }: MemoryRecord): MemoryRecord {
  const copy: Memory = { ...memory, tags: memory.tags.slice(), metadata: cloneJson(memory.metadata) };
  if (memory.embedding !== undefined) copy.embedding = memory.embedding.slice();
  return { memory: copy, clocks: { ...clocks } };
}

export function cloneLink({ link, clocks }: LinkRecord): LinkRecord {
  return { link: { ...link, metadata: cloneJson(link.metadata) }, clocks: { ...clocks } };
}

function cloneJson<T extends Json>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const out: { [k: string]: Json } = {};
  for (const key of Object.keys(value)) {
    const copy = cloneJson(value[key]!);
    setOwnKey(out, key, copy);
  }
  return out as T;
}

/** Reads for the merge: core's merge never mutates what it reads, so no copies are made. */
export function pick<T>(map: Map<string, T>, ids: readonly string[]): Map<string, T> {
  const out = new Map<string, T>();
  for (const id of ids) {
    const value = map.get(id);
    if (value !== undefined) out.set(id, value);
  }
  return out;
}
