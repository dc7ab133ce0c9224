import { assertEmbedder } from './embedding/embedder.js';
import { Engram } from './engram.js';
import type { CreateMemoryOptions } from './engram-options.js';
import { HybridLogicalClock } from './hlc.js';
import { randomHex } from './ids.js';
import { namespaceSchema, parse, syncOptionsSchema } from './validate.js';

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
  // The default store is loaded only when no store is given, so a browser app on IndexedDB does not ship it.
  const store =
    options.store ?? new (await import('../backends/in-memory/in-memory-store.js')).InMemoryStore();
  const now = options.now ?? Date.now;
  if (options.embedder !== undefined) assertEmbedder(options.embedder);
  await store.open();
  let clientId = await store.getMeta(namespace, CLIENT_ID_KEY);
  if (typeof clientId !== 'string') {
    clientId = randomHex(8);
    await store.apply(namespace, { meta: { [CLIENT_ID_KEY]: clientId } });
  }
  const memory = new Engram(store, namespace, new HybridLogicalClock(clientId, now), now);
  if (options.embedder) memory.startEmbedding(options.embedder, options.embedding);
  if (sync) await memory.startSync(sync);
  return memory;
}
