import { EngramError } from './errors.js';
import type { Json } from './model.js';
import type { MemoryStore } from './store-contract.js';
import { LANGUAGE_META, type Language, loadLanguage, parseLanguage } from './text/index.js';

/**
 * Holds a namespace to one index language. Every stem in its index depends on the language, so it is
 * fixed when the namespace gets its first memory: recorded (in meta) if the namespace has none and is
 * empty; otherwise `language` must be the recorded one, English for a namespace indexed without one.
 * Throws VALIDATION naming both languages on a mismatch. The language is loaded on return. `storedRead`:
 * the namespace's `language` meta, when already being read.
 */
export async function settleLanguage(
  store: MemoryStore,
  namespace: string,
  requested: unknown,
  field = 'language',
  storedRead?: Promise<Json | undefined>,
): Promise<Language> {
  const { language, record } = await resolveLanguage(store, namespace, requested, field, storedRead);
  if (record) await store.apply(namespace, { meta: { [LANGUAGE_META]: language } });
  return language;
}

/**
 * settleLanguage's check alone: the language, and whether the namespace's meta is still to record it
 * (`record`), for a caller that writes it with the rest of its batch.
 */
export async function resolveLanguage(
  store: MemoryStore,
  namespace: string,
  requested: unknown,
  field = 'language',
  storedRead?: Promise<Json | undefined>,
): Promise<{ language: Language; record: boolean }> {
  const language = parseLanguage(requested, field);
  await loadLanguage(language);
  const stored = await (storedRead ?? store.getMeta(namespace, LANGUAGE_META));
  if (stored === undefined || stored === null) {
    if (language === 'english' || !(await hasIndexedText(store, namespace))) {
      return { language, record: language !== 'english' };
    }
  }
  const current = stored === undefined || stored === null ? 'english' : String(stored);
  if (current === language) return { language, record: false };
  throw new EngramError(
    'VALIDATION',
    `${field}: namespace '${namespace}' is indexed in '${current}', got '${language}': open it with language '${current}', or export it and import it into a fresh namespace opened with '${language}'`,
    { field },
  );
}

async function hasIndexedText(store: MemoryStore, namespace: string): Promise<boolean> {
  if (store.textStats) return (await store.textStats(namespace)).docs > 0;
  return (await store.changes(namespace, 0, 1)).length > 0;
}

/** The namespace meta key holding the client id of the façade that opened it (createMemory). */
export const CLIENT_ID_META = 'clientId';

/**
 * An import's or a migration's language line: the dump's namespace was indexed in `requested`. The target
 * takes it when its namespace has no language yet, no indexed memory and was never opened with
 * createMemory (whose façade holds the language it was opened with, English by default, and must search
 * in the language the namespace is indexed in); any other namespace keeps its own, so importing into a
 * namespace opened with another language is how a namespace changes language.
 */
export async function adoptLanguage(
  store: MemoryStore,
  namespace: string,
  requested: unknown,
  field: string,
): Promise<void> {
  const language = parseLanguage(requested, field);
  // English is what a namespace without a recorded language is indexed in: nothing to record.
  if (language === 'english') return;
  await loadLanguage(language);
  const stored = await store.getMeta(namespace, LANGUAGE_META);
  if (stored !== undefined && stored !== null) return;
  const opened = await store.getMeta(namespace, CLIENT_ID_META);
  if ((opened !== undefined && opened !== null) || (await hasIndexedText(store, namespace))) return;
  await store.apply(namespace, { meta: { [LANGUAGE_META]: language } });
}
