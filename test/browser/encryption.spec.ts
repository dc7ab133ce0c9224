import { describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { createEdgeApp } from '../../src/edge/app.js';
import { mintToken } from '../../src/edge/token.js';
import { createMemory, InMemoryStore } from '../../src/index.js';

/*
 * End-to-end encryption on the browser's own WebCrypto and IndexedDB: two devices (IndexedDB stores in
 * this page) sync through the edge app, also running in the page over an in-memory store whose
 * records are then read directly.
 */
describe('end-to-end encryption in Chromium', () => {
  it('seals what reaches the edge; a second device opens it; a wrong passphrase is refused', async () => {
    const secret = 'browser-e2e-secret-0123456789abcdef';
    const server = new InMemoryStore();
    const app = createEdgeApp({ store: server, secret, logger: false });
    const namespace = `browser-e2e-${Date.now()}`;
    const token = await mintToken({ secret, ns: namespace });
    const sync = {
      url: 'http://edge.test',
      token,
      intervalMs: 0,
      fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
        app.fetch(new Request(input, init))) as typeof fetch,
    };
    const encryption = { passphrase: 'a browser passphrase', iterations: 5000 };
    const first = await createMemory({
      store: new IndexedDBStore({ name: `${namespace}-a` }),
      namespace,
      sync,
      encryption,
    });
    const made = await first.add({
      content: 'The spare key is under the blue flowerpot',
      tags: ['home'],
      metadata: { room: 'porch' },
      // Digits no timestamp, id or base64 run of the sealed record holds by chance (`0.1` was in `20.172Z`).
      embedding: [0.123456789, 0.2, 0.3],
    });
    await first.sync();

    const [sealed] = await server.getMemories(namespace, [made.id]);
    // Outside the sealed values and the tags' blind tokens, whose random base64url may spell `home`.
    const stored = JSON.stringify(sealed)
      .replace(/e1\.[\w-]+\.[\w-]+/g, 'SEALED')
      .replace(/\d\d~[\w-]+/g, 'TOKEN');
    expect(stored).toContain('SEALED');
    for (const word of ['flowerpot', 'home', 'porch', '0.123456789']) expect(stored).not.toContain(word);

    const second = await createMemory({
      store: new IndexedDBStore({ name: `${namespace}-b` }),
      namespace,
      sync,
      encryption,
    });
    await second.sync();
    expect(await second.get(made.id)).toEqual(await first.get(made.id));
    expect((await second.search('flowerpot')).map((h) => h.memory.id)).toEqual([made.id]);

    const wrong = await createMemory({
      store: new IndexedDBStore({ name: `${namespace}-c` }),
      namespace,
      sync,
      encryption: { passphrase: 'not the right passphrase' },
    });
    await expect(wrong.sync()).rejects.toMatchObject({ code: 'VALIDATION', field: 'encryption' });
    for (const mem of [first, second, wrong]) await mem.close();
  });
});
