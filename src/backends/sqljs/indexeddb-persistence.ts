import { openDB } from 'idb';
import { EngramError } from '../../core/errors.js';
import type { SqlJsPersistence } from './persistence.js';

interface LockManager {
  request(
    name: string,
    options: { ifAvailable: boolean },
    work: (lock: unknown) => Promise<void> | void,
  ): Promise<void>;
}

const STORE = 'files';

/**
 * Keeps the database file in IndexedDB (browsers). Each save is one put in one IndexedDB transaction, so
 * a closed tab or a crash leaves the previous copy or the new one, never a mix. The file belongs to one
 * tab at a time, held with a Web Lock: a second tab's store gets a STORAGE error instead of overwriting the
 * first one's saves (IndexedDBStore is the multi-tab store).
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
    async lock() {
      const locks = (globalThis.navigator as { locks?: LockManager } | undefined)?.locks;
      // Without Web Locks (very old browsers; Node's fake IndexedDB) nothing can tell tabs apart.
      if (!locks) return async () => {};
      return new Promise<() => Promise<void>>((resolve, reject) => {
        locks
          .request(`engram-sqljs:${database}/${key}`, { ifAvailable: true }, (lock) => {
            if (!lock) {
              reject(
                new EngramError(
                  'STORAGE',
                  `sqljs: the database ${database}/${key} is open in another tab or store; one SqlJsStore may write it at a time (use IndexedDBStore to share across tabs)`,
                ),
              );
              return;
            }
            return new Promise<void>((release) => resolve(async () => release()));
          })
          .catch(reject);
      });
    },
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
