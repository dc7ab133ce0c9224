// The page the tab tests open: the library on `globalThis.engram`, bundled by esbuild in the test.
import { clearSentinel, IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { createMemory, type Engram } from '../../src/index.js';

/** What the page puts on globalThis (the memory a test starts lands on `mem`). */
export interface TabGlobals {
  engram: {
    createMemory: typeof createMemory;
    IndexedDBStore: typeof IndexedDBStore;
    clearSentinel: typeof clearSentinel;
  };
  mem: Engram;
}

(globalThis as unknown as Partial<TabGlobals>).engram = { createMemory, IndexedDBStore, clearSentinel };
