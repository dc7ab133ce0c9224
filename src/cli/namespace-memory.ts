import { openMemory } from '../core/create-memory.js';
import type { Engram } from '../core/engram.js';
import type { CreateMemoryOptions } from '../core/engram-options.js';
import type { MemoryStore } from '../core/store-contract.js';
import { LANGUAGE_META, parseLanguage } from '../core/text/index.js';

/**
 * The memory API for a namespace that may already hold data, opened in the language it is indexed in
 * (its `language` meta, read as an export reads it). createMemory's default, English, is refused by a
 * namespace indexed in another language; one with no recorded language is English.
 */
export async function openNamespace(
  store: MemoryStore,
  namespace: string,
  options: Omit<CreateMemoryOptions, 'store' | 'namespace' | 'language'> = {},
): Promise<Engram> {
  await store.open();
  const stored = await store.getMeta(namespace, LANGUAGE_META);
  const language = stored === undefined || stored === null ? undefined : parseLanguage(stored, 'language');
  return openMemory({ ...options, store, namespace, ...(language ? { language } : {}) });
}
