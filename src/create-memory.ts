import { assertCreateOptions, openMemory } from './core/create-memory.js';
import type { Engram } from './core/engram.js';
import type { CreateMemoryOptions } from './core/engram-options.js';

/**
 * Opens the store and returns the memory API for one namespace; without a `store`, an `InMemoryStore`.
 * With `sync`, every call still reads and writes the local store and returns at once; changes reach
 * the edge in the background.
 *
 * @example
 * import { createMemory } from 'engram';
 * const mem = await createMemory({ namespace: 'user-42' });
 * await mem.add({ content: 'Prefers dark roast coffee', kind: 'preference', tags: ['coffee'] });
 * const hits = await mem.search('coffee');
 */
export async function createMemory(options: CreateMemoryOptions = {}): Promise<Engram> {
  assertCreateOptions(options);
  // The default store is loaded only when no store is given, so a browser app on IndexedDB does not ship it.
  const store =
    options.store ?? new (await import('./backends/in-memory/in-memory-store.js')).InMemoryStore();
  return openMemory({ ...options, store });
}
