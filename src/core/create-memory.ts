import { Engram } from './engram.js';
import type { CreateMemoryOptions } from './engram-options.js';
import { HybridLogicalClock } from './hlc.js';
import { randomHex } from './ids.js';
import { assertSearchable } from './search.js';
import type { MemoryStore } from './store-contract.js';
import { namespaceSchema, parse, syncOptionsSchema } from './validate.js';

const CLIENT_ID_KEY = 'clientId';

/**
 * Opens the store and returns the memory API for one namespace. The replica's client id (the
 * tie-breaker of its clocks) is created once and kept in the store. With `sync`, every call still
 * reads and writes the local store and returns at once; changes reach the edge in the background.
 * Core never picks a store itself: the public `createMemory` (src/create-memory.ts) supplies the default.
 */
export async function openMemory(options: CreateMemoryOptions & { store: MemoryStore }): Promise<Engram> {
  const namespace = parse(namespaceSchema, options.namespace ?? 'default', 'namespace');
  const sync = options.sync === undefined ? undefined : parse(syncOptionsSchema, options.sync, 'sync');
  const store = options.store;
  assertSearchable(store);
  const now = options.now ?? Date.now;
  await store.open();
  let clientId = await store.getMeta(namespace, CLIENT_ID_KEY);
  if (typeof clientId !== 'string') {
    clientId = randomHex(8);
    await store.apply(namespace, { meta: { [CLIENT_ID_KEY]: clientId } });
  }
  const memory = new Engram(store, namespace, new HybridLogicalClock(clientId, now), now);
  if (sync) await memory.startSync(sync);
  return memory;
}
