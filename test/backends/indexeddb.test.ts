import 'fake-indexeddb/auto';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import type { MemoryStore } from '../../src/index.js';
import { testStore } from '../conformance/index.js';

let databases = 0;
const freshName = () => `engram-conformance-${process.pid}-${Date.now()}-${++databases}`;

const reopen = async (store: MemoryStore) => {
  const { name } = store as IndexedDBStore;
  await store.close();
  const reopened = new IndexedDBStore({ name });
  await reopened.open();
  return reopened;
};

testStore({
  name: 'IndexedDBStore',
  create: () => new IndexedDBStore({ name: freshName() }),
  reopen,
  capabilities: { persistent: true },
});

// Groups of two memories: every case then crosses text-index group boundaries.
testStore({
  name: 'IndexedDBStore, text groups of 2',
  create: () => new IndexedDBStore({ name: freshName(), textGroupSize: 2 }),
  reopen,
  capabilities: { persistent: true },
});
