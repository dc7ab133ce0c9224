import { describe, expect, it } from 'vitest';
import { createHttpTransport } from '../../src/core/sync/transport.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { InMemoryStore } from '../../src/index.js';
import { SECRET } from '../edge/helpers.js';

/** What the network does to the `call`-th request: reset the connection, never answer, or reach the edge. */
type Fate = 'reset' | 'hang' | 'deliver';

async function transportTo(fate: (call: number) => Fate, timeoutMs?: number) {
  const app = createEdgeApp({ store: new InMemoryStore(), secret: SECRET, logger: false, live: false });
  const token = await mintToken({ secret: SECRET, ns: ['n'] });
  const net = { calls: 0 };
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const next = fate(net.calls++);
    if (next === 'reset') throw new TypeError('fetch failed: socket hang up');
    if (next === 'hang') return new Promise<Response>(() => {});
    return app.request(String(input), { ...init, signal: undefined });
  }) as typeof globalThis.fetch;
  const transport = createHttpTransport({ url: 'http://edge.test', token, namespace: 'n', fetch, timeoutMs });
  return { net, transport };
}

describe('the sync transport', () => {
  it('sends a request again at once when the connection is reset, and the exchange succeeds', async () => {
    const { net, transport } = await transportTo((call) => (call === 0 ? 'reset' : 'deliver'));
    expect(await transport.exchange({})).toMatchObject({ serverTime: expect.any(Number) });
    expect(net.calls).toBe(2);
  });

  it('retries a reset once only: the second fails the exchange OFFLINE', async () => {
    const { net, transport } = await transportTo(() => 'reset');
    await expect(transport.exchange({})).rejects.toMatchObject({ code: 'OFFLINE' });
    expect(net.calls).toBe(2);
  });

  it('does not send again a request that had no answer within the timeout', async () => {
    const { net, transport } = await transportTo(() => 'hang', 20);
    await expect(transport.exchange({})).rejects.toMatchObject({
      code: 'OFFLINE',
      message: expect.stringContaining('no answer within 20 ms'),
    });
    expect(net.calls).toBe(1);
  });
  it('gives up every exchange once its signal was aborted, even one started after the abort', async () => {
    const app = createEdgeApp({ store: new InMemoryStore(), secret: SECRET, logger: false, live: false });
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const closed = new AbortController();
    closed.abort();
    const transport = createHttpTransport({
      url: 'http://edge.test',
      token,
      namespace: 'n',
      // A fetch that ignores its signal, as a custom one may: the transport must give up by itself.
      fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
        app.request(String(input), { ...init, signal: undefined })) as typeof globalThis.fetch,
      signal: closed.signal,
    });
    await expect(transport.exchange({})).rejects.toMatchObject({
      code: 'OFFLINE',
      message: expect.stringContaining('given up'),
    });
  });
});
