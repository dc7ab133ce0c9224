import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, InMemoryStore } from '../../src/index.js';

describe('outbox durability', () => {
  it('offline writes survive a reload (IndexedDB) and reach the server when it is back', async () => {
    const server = new InMemoryStore();
    const app = createEdgeApp({ store: server, secret: 's', logger: false });
    const token = await mintToken({ secret: 's', ns: ['notes'] });
    let down = true;
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (down) throw new TypeError('Failed to fetch');
      return app.fetch(new Request(input, init));
    }) as typeof fetch;
    const sync = {
      url: 'http://edge.test',
      token,
      fetch: fetchFn,
      intervalMs: 0,
      backoff: { baseMs: 600_000 },
    };
    const name = `outbox-${Date.now()}`;

    const first = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'notes', sync });
    const a = await first.add({ content: 'written on the plane', tags: ['travel'] });
    const b = await first.add({ content: 'second thought' });
    await first.update(a.id, { content: 'written on the plane, edited' });
    await first.remove(b.id);
    await expect(first.sync()).rejects.toMatchObject({ code: 'OFFLINE' });
    expect(first.status.pending).toBe(2);
    await first.close(); // the tab is closed while offline

    // The outbox is in the database itself: read it back with raw idb, not through our code.
    const raw = await openDB(name);
    expect(raw.objectStoreNames.length).toBeGreaterThan(0);
    raw.close();

    down = false;
    const second = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'notes', sync });
    expect(second.status.pending).toBe(2);
    expect(await second.sync()).toMatchObject({ pushed: 2 });
    expect(second.status).toMatchObject({ state: 'online', pending: 0 });
    const [onServer] = await server.getMemories('notes', [a.id]);
    expect(onServer?.memory.content).toBe('written on the plane, edited');
    expect(await server.getTombstones('notes', [b.id])).toHaveLength(1);
    await second.close();
  });
});
