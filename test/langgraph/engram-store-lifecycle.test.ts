import { InMemoryStore as PeerStore } from '@langchain/langgraph-checkpoint';
import initSqlJs from 'sql.js';
import { describe, expect, it } from 'vitest';
import { InMemoryStore } from '../../src/backends/in-memory/in-memory-store.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import type { SqlJsPersistence } from '../../src/backends/sqljs/persistence.js';
import { EngramStore } from '../../src/langgraph/index.js';

/** A SQLite file kept in memory: the last image saved, read back with sql.js itself. */
function savedImage() {
  const saved: { bytes: Uint8Array | null; saves: number } = { bytes: null, saves: 0 };
  const persistence: SqlJsPersistence = {
    load: async () => saved.bytes,
    save: async (bytes) => {
      saved.bytes = bytes.slice();
      saved.saves++;
    },
  };
  const contents = async () => {
    const SQL = await initSqlJs();
    const db = new SQL.Database(saved.bytes!);
    const rows = db.exec("SELECT content FROM engram_memories WHERE ns = 'agent' ORDER BY id");
    db.close();
    return (rows[0]?.values ?? []).map(([content]) => String(content).split('\n')[0]);
  };
  return { saved, persistence, contents };
}

describe('EngramStore start and stop, as LangGraph hosts call them', () => {
  it('starts, stops and starts again like the peer, keeping its items (default store)', async () => {
    const cycle = async (store: PeerStore | EngramStore) => {
      await store.start();
      await store.put(['a'], 'k', { v: 1 });
      await store.stop();
      await store.start();
      const afterRestart = (await store.get(['a'], 'k'))?.value;
      await store.stop();
      // An operation after stop() works without start(), as in the peer.
      await store.put(['a'], 'k2', { v: 2 });
      await store.stop();
      await store.stop();
      return { afterRestart, items: (await store.search(['a'])).map((i) => i.value) };
    };
    const ours = new EngramStore();
    expect(await cycle(ours)).toEqual(await cycle(new PeerStore()));
    await ours.close();
  });

  it('saves a SQLite store on stop and leaves it open; close() closes it for good', async () => {
    const { saved, persistence, contents } = savedImage();
    const sqlite = new SqlJsStore({ persist: persistence, saveDelayMs: 60_000, saveMaxDelayMs: 60_000 });
    const store = new EngramStore({ store: sqlite, namespace: 'agent' });
    await store.put(['users', 'u1'], 'prefs', { theme: 'dark' });
    const before = saved.saves;
    await store.stop();
    expect(saved.saves).toBeGreaterThan(before);
    expect(await contents()).toEqual(['users:u1', 'users/u1/prefs']);
    await store.start();
    await store.put(['users', 'u1'], 'more', { n: 2 });
    expect((await store.search(['users'])).map((i) => i.key)).toEqual(['prefs', 'more']);
    await store.close();
    expect(await contents()).toEqual(['users:u1', 'users/u1/prefs', 'users/u1/more']);
    await expect(store.get(['users', 'u1'], 'prefs')).rejects.toMatchObject({ code: 'STORAGE' });
    await expect(store.start()).rejects.toMatchObject({ code: 'STORAGE' });
    await expect(sqlite.getMeta('agent', 'x')).rejects.toMatchObject({ code: 'STORAGE' });
  });

  it('opens its store again on the next operation after a failed open', async () => {
    const store = new InMemoryStore();
    const open = store.open.bind(store);
    let refusals = 1;
    store.open = () => (refusals-- > 0 ? Promise.reject(new Error('store unreachable')) : open());
    const ours = new EngramStore({ store });
    await expect(ours.put(['a'], 'k', { v: 1 })).rejects.toThrow('store unreachable');
    await ours.put(['a'], 'k', { v: 1 });
    expect((await ours.get(['a'], 'k'))?.value).toEqual({ v: 1 });
    await ours.close();
  });

  it('waits for the operations under way before stopping', async () => {
    const store = new EngramStore({ store: new InMemoryStore() });
    await store.put(['n'], 'first', { i: -1 });
    const puts = Array.from({ length: 5 }, (_, i) => store.put(['n'], `k${i}`, { i }));
    await store.stop();
    await Promise.all(puts);
    expect(await store.search(['n'])).toHaveLength(6);
    await store.close();
  });
});
