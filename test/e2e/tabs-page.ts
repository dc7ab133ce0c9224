// The page the tab tests open: the library on `window.engram`, bundled by esbuild in the test.
import { clearSentinel, IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { createMemory } from '../../src/index.js';

(globalThis as { engram?: unknown }).engram = { createMemory, IndexedDBStore, clearSentinel };
