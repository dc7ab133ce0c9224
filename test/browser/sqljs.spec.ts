import wasmUrl from 'sql.js/dist/sql-wasm.wasm?url';
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
