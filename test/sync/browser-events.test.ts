// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, InMemoryStore } from '../../src/index.js';

describe('browser online/offline events (happy-dom)', () => {
  it("syncs on the window's online event, and shows offline on its offline event", async () => {
    const server = new InMemoryStore();
    const app = createEdgeApp({ store: server, secret: 's', logger: false });
    const token = await mintToken({ secret: 's', ns: ['n'] });
    let down = true;
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (down) throw new TypeError('Failed to fetch');
      return app.fetch(new Request(input, init));
    }) as typeof fetch;
    // A backoff far longer than the test: only the online event can bring the replica back.
    const mem = await createMemory({
      namespace: 'n',
      sync: { url: 'http://edge.test', token, fetch: fetchFn, intervalMs: 0, backoff: { baseMs: 600_000 } },
    });
    const m = await mem.add({ content: 'typed on the train' });
    await expect(mem.sync()).rejects.toMatchObject({ code: 'OFFLINE' });
    expect(mem.status).toMatchObject({ state: 'offline', pending: 1 });

    down = false;
    window.dispatchEvent(new Event('online'));
    for (let i = 0; i < 200 && mem.status.state !== 'online'; i++) await new Promise((r) => setTimeout(r, 5));
    expect(mem.status).toMatchObject({ state: 'online', pending: 0 });
    expect(await server.getMemories('n', [m.id])).toHaveLength(1);

    window.dispatchEvent(new Event('offline'));
    expect(mem.status.state).toBe('offline');
    await mem.close();
  });
});
