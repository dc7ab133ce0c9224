import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import type { MemoryStore } from '../../src/index.js';
import { testStore } from '../conformance/index.js';

let databases = 0;
const freshName = () => `engram-conformance-${Date.now()}-${++databases}`;

testStore({
  name: 'IndexedDBStore in Chromium',
  create: () => new IndexedDBStore({ name: freshName() }),
  reopen: async (store: MemoryStore) => {
    const { name } = store as IndexedDBStore;
    await store.close();
    const reopened = new IndexedDBStore({ name });
    await reopened.open();
    return reopened;
  },
  capabilities: { persistent: true },
});
