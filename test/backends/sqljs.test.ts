import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import type { MemoryStore } from '../../src/index.js';
import { testStore } from '../conformance/index.js';

const dir = await mkdtemp(join(tmpdir(), 'engram-sqljs-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

let files = 0;
const paths = new WeakMap<MemoryStore, string>();
function storeAt(path: string): SqlJsStore {
  const store = new SqlJsStore({ persist: path });
  paths.set(store, path);
  return store;
}

testStore({
  name: 'SqlJsStore',
  create: () => storeAt(join(dir, `conformance-${++files}.db`)),
  reopen: async (store) => {
    await store.close();
    return storeAt(paths.get(store)!);
  },
  capabilities: { persistent: true },
});
