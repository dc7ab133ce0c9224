import type { EncryptionOptions } from './crypto/cipher.js';
import { Engram } from './engram.js';
import type { CreateMemoryOptions } from './engram-options.js';
import { EngramError } from './errors.js';
import { HybridLogicalClock } from './hlc.js';
import { randomHex } from './ids.js';
import type { MemoryStore } from './store-contract.js';
import { encryptionSchema, namespaceSchema, parse, syncOptionsSchema } from './validate.js';

const CLIENT_ID_KEY = 'clientId';

function newClientId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join(
    '',
  );
}

/**
 * Opens the store and returns the memory API for one namespace. The replica's client id (the
 * tie-breaker of its clocks) is created once and kept in the store. With `sync`, every call still
 * reads and writes the local store and returns at once; changes reach the edge in the background.
 *
 * @example
 * import { createMemory } from 'engram';
 * const mem = await createMemory({ namespace: 'user-42' });
 * await mem.add({ content: 'Prefers dark roast coffee', kind: 'preference', tags: ['coffee'] });
 * const hits = await mem.search('coffee');
 */
export async function createMemory(options: CreateMemoryOptions = {}): Promise<Engram> {
  const namespace = parse(namespaceSchema, options.namespace ?? 'default', 'namespace');
  const sync = options.sync === undefined ? undefined : parse(syncOptionsSchema, options.sync, 'sync');
  const encryption =
    options.encryption === undefined ? undefined : parse(encryptionSchema, options.encryption, 'encryption');
  if (encryption && options.store?.kind === 'remote') {
    throw new EngramError(
      'VALIDATION',
      'encryption: a RemoteStore keeps data on the edge, which cannot search ciphertext; use a local store with sync: { url, token }',
      { field: 'encryption' },
    );
  }
  // The default store is loaded only when no store is given, so a browser app on IndexedDB does not ship it.
  const store =
    options.store ?? new (await import('../backends/in-memory/in-memory-store.js')).InMemoryStore();
  const now = options.now ?? Date.now;
  await store.open();
  let clientId = await store.getMeta(namespace, CLIENT_ID_KEY);
  if (typeof clientId !== 'string') {
    clientId = randomHex(8);
    await store.apply(namespace, { meta: { [CLIENT_ID_KEY]: clientId } });
  }
  const memory = new Engram(store, namespace, new HybridLogicalClock(clientId, now), now);
  try {
    if (sync) await memory.startSync(sync, encryption);
    else if (encryption) await checkLocalKey(store, namespace, encryption);
  } catch (error) {
    await memory.close();
    throw error;
  }
  return memory;
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
