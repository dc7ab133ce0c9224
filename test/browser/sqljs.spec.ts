import wasmUrl from 'sql.js/dist/sql-wasm.wasm?url';
import { describe, expect, it } from 'vitest';
import { indexedDbPersistence, type SqlJsPersistence, SqlJsStore } from '../../src/backends/sqljs/index.js';
import type { MemoryStore } from '../../src/index.js';
import { testStore } from '../conformance/index.js';

let files = 0;
const persistence = new WeakMap<MemoryStore, SqlJsPersistence>();

/** sql.js' own browser build, fetching its WebAssembly from the test server (no CDN). */
function storeOn(persist: SqlJsPersistence): SqlJsStore {
  const store = new SqlJsStore({ persist, locateFile: () => wasmUrl });
  persistence.set(store, persist);
  return store;
}

testStore({
  name: 'SqlJsStore in Chromium',
  create: () => storeOn(indexedDbPersistence(`engram-sqljs-conformance-${Date.now()}`, `db-${++files}`)),
  reopen: async (store) => {
    await store.close();
    return storeOn(persistence.get(store)!);
  },
  capabilities: { persistent: true },
});

describe('SqlJsStore in Chromium: one writer per IndexedDB key', () => {
  it('a second store on the same key fails with STORAGE until the first closes (Web Locks)', async () => {
    const database = `engram-sqljs-lock-${Date.now()}`;
    const first = storeOn(indexedDbPersistence(database, 'main'));
    await first.open();
    const second = storeOn(indexedDbPersistence(database, 'main'));
    await expect(second.open()).rejects.toMatchObject({
      code: 'STORAGE',
      message: expect.stringMatching(/open in another tab or store/),
    });
    const other = storeOn(indexedDbPersistence(database, 'other'));
    await other.open();
    await first.close();
    const third = storeOn(indexedDbPersistence(database, 'main'));
    await third.open();
    await Promise.all([third.close(), other.close()]);
  });
});
