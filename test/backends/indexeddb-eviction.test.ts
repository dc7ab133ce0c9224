import 'fake-indexeddb/auto';
import { deleteDB } from 'idb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clearSentinel, IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { sentinelKey } from '../../src/backends/indexeddb/storage-keeping.js';
import { openVersion1 } from './indexeddb-v1-fixture.js';

/**
 * The sentinel the store leaves in localStorage when it creates its database tells an evicted database
 * (created again while the sentinel exists) from a first visit; `persist` asks navigator.storage.
 */
let databases = 0;
const freshName = () => `engram-eviction-${process.pid}-${Date.now()}-${++databases}`;

function stubLocalStorage(): Map<string, string> {
  const items = new Map<string, string>();
  vi.stubGlobal('localStorage', {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => items.set(key, value),
    removeItem: (key: string) => items.delete(key),
  });
  return items;
}

async function opened(name: string, options: { persist?: boolean } = {}) {
  const onEvicted = vi.fn();
  const store = new IndexedDBStore({ name, onEvicted, ...options });
  await store.open();
  return { store, onEvicted };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('IndexedDBStore eviction sentinel', () => {
  it('tells a database lost behind its back from a first visit and from a reopen', async () => {
    stubLocalStorage();
    const name = freshName();
    const first = await opened(name);
    expect([first.store.evicted, first.onEvicted.mock.calls.length]).toEqual([false, 0]);
    await first.store.close();

    const again = await opened(name);
    expect([again.store.evicted, again.onEvicted.mock.calls.length]).toEqual([false, 0]);
    await again.store.close();

    await deleteDB(name);
    const lost = await opened(name);
    expect([lost.store.evicted, lost.onEvicted.mock.calls.length]).toEqual([true, 1]);
    await lost.store.close();

    // Deleted on purpose: the app cleared the sentinel first.
    clearSentinel(name);
    await deleteDB(name);
    const cleared = await opened(name);
    expect([cleared.store.evicted, cleared.onEvicted.mock.calls.length]).toEqual([false, 0]);
    await cleared.store.close();
  });

  it('leaves the sentinel on opening a database that had none (made before it, or storage cleared apart)', async () => {
    const items = stubLocalStorage();
    const name = freshName();
    const made = await opened(name);
    await made.store.close();
    items.clear();
    const reopened = await opened(name);
    expect([reopened.store.evicted, reopened.onEvicted.mock.calls.length]).toEqual([false, 0]);
    await reopened.store.close();
    // Its loss is now told like any other.
    await deleteDB(name);
    const lost = await opened(name);
    expect([lost.store.evicted, lost.onEvicted.mock.calls.length]).toEqual([true, 1]);
    await lost.store.close();
  });

  it('upgrading a database an earlier release made (and left its sentinel for) is no loss', async () => {
    const items = stubLocalStorage();
    const name = freshName();
    (await openVersion1(name)).close();
    items.set(sentinelKey(name), '2026-01-01T00:00:00.000Z');
    const upgraded = await opened(name);
    expect([upgraded.store.evicted, upgraded.onEvicted.mock.calls.length]).toEqual([false, 0]);
    await upgraded.store.close();
  });

  it('reports a database deleted while open, unless the sentinel was cleared', async () => {
    stubLocalStorage();
    for (const clear of [false, true]) {
      const name = freshName();
      const { store, onEvicted } = await opened(name);
      await store.getMeta('ns', 'k');
      if (clear) clearSentinel(name);
      await deleteDB(name); // the store closes for the delete, and reopens on next use
      await store.getMeta('ns', 'k');
      await vi.waitFor(() => expect(store.evicted).toBe(!clear));
      expect(onEvicted).toHaveBeenCalledTimes(clear ? 0 : 1);
      await store.close();
    }
  });

  it('asks for persistent storage only when told, and takes a refusal that throws as false', async () => {
    stubLocalStorage();
    const persist = vi.fn(async () => true);
    vi.stubGlobal('navigator', { storage: { persist } });
    const plain = await opened(freshName());
    expect([plain.store.persisted, persist.mock.calls.length]).toEqual([undefined, 0]);
    const asked = await opened(freshName(), { persist: true });
    expect([asked.store.persisted, persist.mock.calls.length]).toEqual([true, 1]);
    persist.mockRejectedValueOnce(new Error('denied'));
    const refused = await opened(freshName(), { persist: true });
    expect(refused.store.persisted).toBe(false);
    for (const { store } of [plain, asked, refused]) await store.close();
  });
});
