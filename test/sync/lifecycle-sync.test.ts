import { describe, expect, it } from 'vitest';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, type Engram, InMemoryStore } from '../../src/index.js';
import { settle, snapshot } from './fixtures.js';
import { localStores } from './stores.js';

const NAMESPACE = 'life';
const SECRET = 'lifecycle-sync-secret';

/** Three replicas (in-memory, sql.js, IndexedDB) of one namespace; `offline[i]` cuts replica i off. */
async function replicas() {
  const server = new InMemoryStore();
  const app = createEdgeApp({ store: server, secret: SECRET, logger: false });
  const token = await mintToken({ secret: SECRET, ns: [NAMESPACE] });
  const offline = [false, false, false];
  const clients: Engram[] = [];
  for (const [i, store] of (await localStores()).entries()) {
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (offline[i]) throw new TypeError('fetch failed: offline');
      return app.fetch(new Request(input, init));
    }) as typeof fetch;
    clients.push(
      await createMemory({
        store,
        namespace: NAMESPACE,
        sync: {
          url: 'http://edge.test',
          token,
          fetch: fetchFn,
          intervalMs: 0,
          debounceMs: 5,
          backoff: { baseMs: 1, maxMs: 4 },
        },
      }),
    );
  }
  const close = () => Promise.all(clients.map((c) => c.close()));
  return { server, clients, offline, close };
}

async function expectConverged(clients: Engram[], server: InMemoryStore) {
  const reference = await snapshot(server, NAMESPACE);
  for (const client of clients) expect(await snapshot(client.store, NAMESPACE)).toEqual(reference);
  return reference;
}

describe('lifecycle over sync', () => {
  it('supersede on one replica and an offline edit of the old memory on another converge field by field', async () => {
    const { server, clients, offline, close } = await replicas();
    const [a, b, c] = clients as [Engram, Engram, Engram];
    const berlin = await a.add({ content: 'user lives in Berlin', tags: ['home'] });
    await settle(clients);

    offline[1] = true;
    const edited = await b.update(berlin.id, {
      content: 'user lives in Berlin-Mitte',
      tags: ['home', 'city'],
    });
    const paris = await a.supersede(berlin.id, { content: 'user lives in Paris', tags: ['home'] });
    await a.sync();
    offline[1] = false;
    await settle(clients);

    await expectConverged(clients, server);
    for (const client of clients) {
      // The documented result: the edit lands on the old memory, which stays closed by the supersede.
      const old = await client.get(berlin.id);
      expect(old).toMatchObject({
        content: edited.content,
        tags: ['home', 'city'],
        validTo: paris.validFrom,
      });
      expect((await client.list()).items.map((m) => m.id)).toEqual([paris.id]);
      expect((await client.list({ history: true })).items.map((m) => m.id)).toEqual([paris.id, berlin.id]);
      expect((await client.links(paris.id)).map((l) => l.type)).toEqual(['supersedes']);
      expect(
        (await client.search('Berlin-Mitte', { asOf: berlin.createdAt })).map((h) => h.memory.id),
      ).toEqual([berlin.id]);
    }
    // A later supersede anywhere is refused: the old memory is closed on every replica.
    await expect(c.supersede(berlin.id, { content: 'x' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await close();
  });

  it('an offline delete of the old memory wins over the supersede link; the new memory stays', async () => {
    const { server, clients, offline, close } = await replicas();
    const [a, b] = clients as [Engram, Engram, Engram];
    const old = await a.add({ content: 'works at Acme' });
    await settle(clients);
    offline[1] = true;
    await b.remove(old.id);
    const next = await a.supersede(old.id, { content: 'works at Globex' });
    await a.sync();
    offline[1] = false;
    await settle(clients);
    const state = await expectConverged(clients, server);
    expect(state.memories.map((m) => m.id)).toEqual([next.id]);
    expect(state.links).toEqual([]);
    await close();
  });

  it('clear, validity edits and a restore-style rewrite replicate', async () => {
    const { server, clients, close } = await replicas();
    const [a, b] = clients as [Engram, Engram, Engram];
    await a.addMany([{ content: 'one' }, { content: 'two', validFrom: '2024-01-01T00:00:00Z' }]);
    await settle(clients);
    const [two] = (await b.list({ asOf: '2024-06-01T00:00:00Z' })).items.filter((m) => m.content === 'two');
    await b.update(two!.id, { validTo: '2024-03-01T00:00:00Z' });
    await settle(clients);
    expect((await a.get(two!.id))?.validTo).toBe('2024-03-01T00:00:00.000Z');
    expect(await b.clear()).toBe(2);
    await settle(clients);
    await expectConverged(clients, server);
    for (const client of clients)
      expect(await client.stats()).toMatchObject({ memories: 0, links: 0, tombstones: 2 });
    await close();
  });
});
