import * as v from 'valibot';
import type { EncryptionOptions } from './crypto/cipher.js';
import { assertEmbedder, embeddingOptions } from './embedding/embedder.js';
import { Engram, holdStore } from './engram.js';
import type { CreateMemoryOptions } from './engram-options.js';
import { EngramError, validationError } from './errors.js';
import { HybridLogicalClock } from './hlc.js';
import { randomHex } from './ids.js';
import { CLIENT_ID_META, settleLanguage } from './language.js';
import { maintenanceOptions } from './maintenance.js';
import { assertSearchable } from './search.js';
import type { MemoryStore } from './store-contract.js';
import { ClockOffset } from './sync/clock-offset.js';
import { LANGUAGE_META, type Language, loadLanguage, parseLanguage } from './text/index.js';
import { checkEdgeUrl, encryptionSchema, namespaceSchema, parse, syncOptionsSchema } from './validate.js';

/**
 * Opens the store and returns the memory API for one namespace. The replica's client id (the
 * tie-breaker of its clocks) is created once and kept in the store. With `sync`, every call still
 * reads and writes the local store and returns at once; changes reach the edge in the background.
 * Core never picks a store itself: the public `createMemory` (src/create-memory.ts) supplies the default.
 */
export async function openMemory(options: CreateMemoryOptions & { store: MemoryStore }): Promise<Engram> {
  assertCreateOptions(options);
  const namespace = parse(namespaceSchema, options.namespace ?? 'default', 'namespace');
  const given = options.sync as { token?: unknown } | undefined;
  if (given && typeof given === 'object' && given.token === undefined) {
    throw new EngramError(
      'VALIDATION',
      'sync.token: required, got nothing: pass a token whose ns claim includes this namespace (mint one with `engram token` or mintToken())',
      { field: 'sync.token' },
    );
  }
  const sync = options.sync === undefined ? undefined : parse(syncOptionsSchema, options.sync, 'sync');
  if (sync) checkEdgeUrl(sync.url, 'sync.url');
  const encryption =
    options.encryption === undefined ? undefined : parse(encryptionSchema, options.encryption, 'encryption');
  if (encryption && options.store.kind === 'remote') {
    throw new EngramError(
      'VALIDATION',
      'encryption: a RemoteStore keeps data on the edge, which cannot search ciphertext; use a local store with sync: { url, token }',
      { field: 'encryption' },
    );
  }
  const requested = options.language === undefined ? 'english' : parseLanguage(options.language);
  const store = options.store;
  assertSearchable(store);
  const now = options.now ?? Date.now;
  if (typeof now !== 'function')
    throw validationError('createMemory.now', 'a function returning epoch milliseconds', typeof now);
  const probe = now();
  if (typeof probe !== 'number' || !Number.isFinite(probe) || probe < 0) {
    throw validationError('createMemory.now', 'a function returning epoch milliseconds', String(probe));
  }
  if (options.embedder !== undefined) assertEmbedder(options.embedder);
  const embedding = embeddingOptions(options.embedding);
  const maintenance = maintenanceOptions(options.maintenance);
  await store.open();
  // A failure from here on leaves the store open, as the caller gave it: retry with it, or close it.
  const language = await openLanguage(store, namespace, requested);
  const stored = await store.getMeta(namespace, CLIENT_ID_META);
  const clientId = typeof stored === 'string' ? stored : randomHex(8);
  if (stored !== clientId) await store.apply(namespace, { meta: { [CLIENT_ID_META]: clientId } });
  // The clock's node is the client id and a part drawn at each opening: two copies of one database (a
  // restored backup, a copied profile) share the client id, and with one node their edits of a field in
  // the same millisecond would tie, each replica keeping its own value for good.
  const node = `${clientId}.${randomHex(4)}`;
  // A syncing replica stamps in the edge time, learned from its answers, not the device.
  const offset = sync ? new ClockOffset(now) : undefined;
  const clock = offset
    ? new HybridLogicalClock(node, offset.now, offset.horizon)
    : new HybridLogicalClock(node, now);
  const memory = new Engram(store, namespace, clock, now, language);
  holdStore(store);
  memory.startEmbedding(options.embedder, embedding);
  memory.startMaintenance(maintenance);
  try {
    if (sync) await memory.startSync(sync, offset, encryption);
    else if (encryption) await checkLocalKey(store, namespace, encryption);
  } catch (error) {
    await memory.abandon();
    throw error;
  }
  return memory;
}

const anything = v.optional(v.any());
/** The names `createMemory` takes; their values are checked where each is used (sync, encryption, …). */
const createOptionsSchema = v.strictObject(
  {
    store: anything,
    namespace: anything,
    language: anything,
    sync: anything,
    encryption: anything,
    now: anything,
    embedder: anything,
    embedding: anything,
    maintenance: anything,
  } satisfies Record<keyof CreateMemoryOptions, typeof anything>,
  'expected an options object such as { namespace: "user-42" }',
);

/** `createMemory`'s options: an object, and no name it does not know (a misspelt `namespce` would be ignored). */
export function assertCreateOptions(options: unknown): void {
  parse(createOptionsSchema, options, 'createMemory');
}

/**
 * The namespace's language, loaded and held to (settleLanguage). A RemoteStore's namespace lives on the
 * edge: the store sends the language there at once (a meta-only apply), and the edge settles it.
 */
async function openLanguage(store: MemoryStore, namespace: string, language: Language): Promise<Language> {
  if (store.kind !== 'remote') return settleLanguage(store, namespace, language);
  await loadLanguage(language);
  await store.apply(namespace, { meta: { [LANGUAGE_META]: language } });
  return language;
}

/** Without sync nothing is sealed, but a wrong key or passphrase for a namespace that has one still fails. */
async function checkLocalKey(store: MemoryStore, namespace: string, encryption: EncryptionOptions) {
  const [{ NamespaceCipher }, { readKeyInfo }] = await Promise.all([
    import('./crypto/cipher.js'),
    import('./crypto/namespace-key.js'),
  ]);
  const info = await readKeyInfo(store, namespace);
  if (info) await NamespaceCipher.open(encryption, info, namespace);
}
