import { describe, expect, it } from 'vitest';
import { SyncEngine, type SyncStatus } from '../../src/core/sync/engine.js';
import { createHttpTransport } from '../../src/core/sync/transport.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { HybridLogicalClock } from '../../src/store/index.js';
import { SECRET } from '../edge/helpers.js';

/** `close()` while a round is in flight (docs/sync.md, "States and degradation"). */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The real edge behind a link that answers every request `delayMs` late. */
async function slowEdge(ns: string, delayMs: number) {
  const store = new InMemoryStore();
  const app = createEdgeApp({ store, secret: SECRET, logger: false, live: false });
  const token = await mintToken({ secret: SECRET, ns: [ns] });
  const net = { delayMs, answered: 0 };
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    await sleep(net.delayMs);
    const response = await app.request(String(input), { ...init, signal: undefined });
    net.answered++;
    return response;
  }) as typeof globalThis.fetch;
  return { store, token, fetch, net };
}

describe('closing a memory while it syncs', () => {
  it('the sync in flight rejects saying the memory was closed; the status never turns to error', async () => {
    const ns = 'close-mid-sync';
    const edge = await slowEdge(ns, 0);
    const mem = await createMemory({
      store: new InMemoryStore(),
      namespace: ns,
      sync: { url: 'http://edge.test', token: edge.token, fetch: edge.fetch, live: false, intervalMs: 0 },
    });
    await mem.sync();
    // A slow link from here: long enough that a stalled machine still closes before the answer.
    edge.net.delayMs = 2500;
    const answered = edge.net.answered;
    await mem.add({ content: 'written just before closing' });
    const statuses: SyncStatus[] = [];
    mem.on('status', (s) => statuses.push(s));
    const startedAt = Date.now();
    const outcome = mem.sync().then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await sleep(50);
    await mem.close();
    const error = await outcome;
    // At close, not when the request it gave up would have been answered.
    expect(Date.now() - startedAt).toBeLessThan(2000);
    expect(error).toMatchObject({
      code: 'STORAGE',
      message: expect.stringContaining('this memory was closed before the sync finished'),
    });
    const before = mem.status;
    expect(before.state).not.toBe('error');
    expect(before.error).toBeUndefined();
    // The abandoned request lands later: nothing changes, nothing is thrown.
    while (edge.net.answered === answered) await sleep(10);
    await sleep(50);
    expect(mem.status).toEqual(before);
    expect(statuses.filter((s) => s.state === 'error')).toEqual([]);
  });

  it('the request in flight is cancelled (its fetch aborted), not left to run until its timeout', async () => {
    const ns = 'close-aborts-fetch';
    const edge = await slowEdge(ns, 0);
    const signals: AbortSignal[] = [];
    const hanging = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (signals.length === 0 && init?.signal) {
        // The first request after the start-up exchange never answers unless aborted.
        signals.push(init.signal);
        return new Promise<Response>((_, reject) =>
          init.signal!.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
        );
      }
      return edge.fetch(input, init);
    }) as typeof globalThis.fetch;
    let hang = false;
    const mem = await createMemory({
      store: new InMemoryStore(),
      namespace: ns,
      sync: {
        url: 'http://edge.test',
        token: edge.token,
        fetch: (input, init) => (hang ? hanging(input, init) : edge.fetch(input, init)),
        live: false,
        intervalMs: 0,
        timeoutMs: 60_000,
      },
    });
    await mem.sync();
    hang = true;
    await mem.add({ content: 'never answered' });
    const outcome = mem.sync().catch((error: unknown) => error);
    while (signals.length === 0) await sleep(5); // the test's timeout ends it, should it never come
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(false);
    await mem.close();
    expect(signals[0]!.aborted).toBe(true);
    expect(await outcome).toMatchObject({ code: 'STORAGE' });
  });

  it('a background round in flight at close ends quietly', async () => {
    const ns = 'close-mid-background';
    const edge = await slowEdge(ns, 0);
    const mem = await createMemory({
      store: new InMemoryStore(),
      namespace: ns,
      sync: {
        url: 'http://edge.test',
        token: edge.token,
        fetch: edge.fetch,
        live: false,
        intervalMs: 0,
        debounceMs: 1,
      },
    });
    await mem.sync();
    edge.net.delayMs = 300;
    await mem.add({ content: 'pushed by the debounce timer' });
    await sleep(50);
    expect(mem.status.state).toBe('syncing');
    await mem.close();
    await sleep(400);
    expect(mem.status.state).toBe('syncing');
    expect(mem.status.error).toBeUndefined();
  });

  it('stop() gives up the request in flight and resolves once the round has settled', async () => {
    const ns = 'stop-engine';
    const edge = await slowEdge(ns, 0);
    const store = new InMemoryStore();
    const statuses: SyncStatus[] = [];
    const engine = new SyncEngine({
      store,
      namespace: ns,
      clock: new HybridLogicalClock('replica'),
      transport: createHttpTransport({
        url: 'http://edge.test',
        token: edge.token,
        namespace: ns,
        fetch: edge.fetch,
      }),
      intervalMs: 0,
      onStatus: (s) => statuses.push(s),
      onPulled: () => {},
    });
    await engine.start();
    await engine.sync();
    edge.net.delayMs = 300;
    const round = engine.sync();
    await sleep(50);
    const settled = round.then(
      () => 'resolved',
      () => 'rejected',
    );
    const stopping = engine.stop();
    let stopped = false;
    void stopping.then(() => {
      stopped = true;
    });
    await stopping;
    // The round had settled by the time stop() resolved, and well before the request would have been answered.
    expect(await Promise.race([settled, 'pending'])).toBe('rejected');
    expect(stopped).toBe(true);
    await store.close();
    const seen = statuses.length;
    await sleep(400);
    expect(statuses.length).toBe(seen);
    expect(engine.status.state).toBe('syncing');
    await expect(engine.sync()).rejects.toMatchObject({ code: 'STORAGE' });
  });
});
