import { beforeAll, describe, expect, it } from 'vitest';
import { RemoteStore } from '../../src/backends/remote/index.js';
import { ChunkedRemoteStore } from '../../src/cli/chunked-remote-store.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, exportJsonl, InMemoryStore, importJsonl } from '../../src/index.js';
import { NAMESPACES, SECRET, seedLines } from './fixtures.js';

// The real edge app in-process (app.request): a 413 always reaches the client whole, which a socket
// closed early by the server does not guarantee.
let reference: string[];
beforeAll(async () => {
  reference = await seedLines();
});

function edge(bodyLimit?: number) {
  const store = new InMemoryStore();
  const app = createEdgeApp({ store, secret: SECRET, logger: false, bodyLimit });
  const bodies: number[] = [];
  const fetch = async (input: string, init: RequestInit) => {
    if (typeof init.body === 'string' && input.includes('/sync')) bodies.push(init.body.length);
    return app.request(input, init);
  };
  return { store, fetch, bodies };
}

async function lines(store: InMemoryStore): Promise<string[]> {
  const out: string[] = [];
  for await (const line of exportJsonl(store)) out.push(line);
  return out;
}

describe('ChunkedRemoteStore (the import target for http(s) URLs)', () => {
  it('fits batches of large records under the default 1 MiB body limit, where a plain RemoteStore fails', async () => {
    const token = await mintToken({ secret: SECRET, ns: NAMESPACES });
    const plain = edge();
    await expect(
      importJsonl(new RemoteStore({ url: 'http://edge', token, fetch: plain.fetch }), reference),
    ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });

    const chunked = edge();
    await importJsonl(new ChunkedRemoteStore({ url: 'http://edge', token, fetch: chunked.fetch }), reference);
    expect(await lines(chunked.store)).toEqual(reference);
    expect(Math.max(...chunked.bodies)).toBeLessThan(1024 * 1024);
    expect(chunked.bodies.length).toBeGreaterThan(4);
  });

  it('halves a part the server still refuses as too large, keeping the order', async () => {
    const token = await mintToken({ secret: SECRET, ns: NAMESPACES });
    const small = edge(100_000);
    await importJsonl(new ChunkedRemoteStore({ url: 'http://edge', token, fetch: small.fetch }), reference);
    expect(await lines(small.store)).toEqual(reference);
    expect(small.bodies.some((size) => size > 100_000)).toBe(true);
  });

  it('gives up with PAYLOAD_TOO_LARGE when one record alone is over the limit', async () => {
    const token = await mintToken({ secret: SECRET, ns: ['solo'] });
    const source = new InMemoryStore();
    const mem = await createMemory({ store: source, namespace: 'solo' });
    await mem.add({ content: 'big', embedding: Array.from({ length: 4000 }, (_, i) => i / 7) });
    await mem.add({ content: 'small' });
    const tiny = edge(20_000);
    const target = new ChunkedRemoteStore({ url: 'http://edge', token, fetch: tiny.fetch });
    await expect(importJsonl(target, await lines(source))).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
  });
});
