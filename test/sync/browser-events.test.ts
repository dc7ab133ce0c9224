// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { LiveConnection } from '../../src/core/sync/live.js';
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
    for (let i = 0; i < 2000 && mem.status.state !== 'online'; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(mem.status).toMatchObject({ state: 'online', pending: 0 });
    expect(await server.getMemories('n', [m.id])).toHaveLength(1);

    window.dispatchEvent(new Event('offline'));
    expect(mem.status.state).toBe('offline');
    await mem.close();
  });

  it("ends the live stream's reconnect wait on the online event, instead of waiting out the backoff", async () => {
    let down = true;
    let opened = 0;
    // An event stream that says ready and stays open, or a network error while `down`.
    const fetchFn = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      if (down) throw new TypeError('Failed to fetch');
      opened++;
      const body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          controller.enqueue(new TextEncoder().encode('event: ready\ndata: {}\n\n'));
          init?.signal?.addEventListener('abort', () =>
            controller.error(new DOMException('aborted', 'AbortError')),
          );
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    }) as typeof fetch;
    // Failed attempts while offline have backed off far (here at once): only the online event is quick.
    const live = new LiveConnection({
      url: 'http://edge.test',
      token: 't',
      namespace: 'n',
      fetch: fetchFn,
      backoff: { baseMs: 600_000, maxMs: 600_000 },
      cursor: async () => 0,
      onChange: () => {},
    });
    live.start();
    for (let i = 0; i < 1000 && live.state !== 'connecting'; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    expect(live.state).toBe('connecting');
    down = false;
    window.dispatchEvent(new Event('online'));
    for (let i = 0; i < 2000 && live.state !== 'live'; i++) await new Promise((r) => setTimeout(r, 5));
    expect(live.state).toBe('live');
    expect(opened).toBe(1);
    await live.stop();
    // Stopped, it no longer listens: another online event opens nothing.
    window.dispatchEvent(new Event('online'));
    await new Promise((r) => setTimeout(r, 50));
    expect(opened).toBe(1);
  });
});
