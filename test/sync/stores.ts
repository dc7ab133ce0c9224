import 'fake-indexeddb/auto';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { InMemoryStore, type MemoryStore } from '../../src/index.js';

let counter = 0;

/** One replica per local store kind, so convergence covers every store's merge path. */
export async function localStores(): Promise<MemoryStore[]> {
  counter++;
  return [
    new InMemoryStore(),
    new SqlJsStore(),
    new IndexedDBStore({ name: `sync-replica-${process.pid}-${counter}` }),
  ];
}
