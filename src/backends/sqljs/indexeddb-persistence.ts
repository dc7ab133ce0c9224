import { openDB } from 'idb';
import type { SqlJsPersistence } from './persistence.js';

const STORE = 'files';

/**
 * Keeps the database file in IndexedDB (browsers). Each save is one put in one IndexedDB transaction, so
 * a closed tab or a crash leaves the previous copy or the new one, never a mix. The file belongs to one
 * tab at a time: two tabs saving the same key overwrite each other (IndexedDBStore is the multi-tab store).
 *
 * @example
 * const store = new SqlJsStore({ persist: indexedDbPersistence('my-app') });
 */
export function indexedDbPersistence(database = 'engram-sqljs', key = 'main'): SqlJsPersistence {
  const open = () =>
    openDB(database, 1, {
      upgrade(db) {
        db.createObjectStore(STORE);
      },
    });
  return {
    async load() {
      const db = await open();
      try {
        const bytes: unknown = await db.get(STORE, key);
        return bytes instanceof Uint8Array ? bytes : null;
      } finally {
        db.close();
      }
    },
    async save(bytes) {
      const db = await open();
      try {
        await db.put(STORE, bytes, key);
      } finally {
        db.close();
      }
    },
  };
}
