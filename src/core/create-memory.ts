import { InMemoryStore } from '../backends/memory/memory-store.js';
import { EngramError } from './errors.js';
import { HybridLogicalClock } from './hlc.js';
import { type CreateMemoryOptions, Engram } from './memory.js';
import { namespaceSchema, parse } from './validate.js';

const CLIENT_ID_KEY = 'clientId';

function newClientId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join(
    '',
  );
}

/**
 * Opens the store and returns the memory API for one namespace. The replica's client id (the
 * tie-breaker of its clocks) is created once and kept in the store.
 *
 * @example
 * import { createMemory } from 'engram';
 * const mem = await createMemory({ namespace: 'user-42' });
 * await mem.add({ content: 'Prefers dark roast coffee', kind: 'preference', tags: ['coffee'] });
 * const hits = await mem.search('coffee');
 */
export async function createMemory(options: CreateMemoryOptions = {}): Promise<Engram> {
  const namespace = parse(namespaceSchema, options.namespace ?? 'default', 'namespace');
  if (options.sync !== undefined) {
    throw new EngramError('VALIDATION', 'sync: edge sync is not yet supported by this version', {
      field: 'sync',
    });
  }
  const store = options.store ?? new InMemoryStore();
  const now = options.now ?? Date.now;
  await store.open();
  let clientId = await store.getMeta(namespace, CLIENT_ID_KEY);
  if (typeof clientId !== 'string') {
    clientId = newClientId();
    await store.apply(namespace, { meta: { [CLIENT_ID_KEY]: clientId } });
  }
  return new Engram(store, namespace, new HybridLogicalClock(clientId, now), now);
}
