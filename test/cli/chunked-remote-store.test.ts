import { beforeAll, describe, expect, it } from 'vitest';
import { RemoteStore } from '../../src/backends/remote/index.js';
import { ChunkedRemoteStore } from '../../src/cli/chunked-remote-store.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import {
  createMemory,
  exportJsonl,
  InMemoryStore,
  importJsonl,
  type LinkWrite,
  type MemoryWrite,
} from '../../src/index.js';
import { formatHlc } from '../../src/store/index.js';
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

describe('ChunkedRemoteStore as a store (a --store http(s) URL)', () => {
  const at = Date.parse('2024-01-01T00:00:00.000Z');
  const write = (id: string, bytes: number): MemoryWrite => {
    const stamp = formatHlc({ wallMs: at, counter: 0, node: 'importer' });
    return {
      id,
      create: { namespace: 'big', createdAt: new Date(at).toISOString() },
      values: { content: `${id} ${'x'.repeat(bytes)}`, kind: 'note', tags: [], metadata: {} },
      clocks: { content: stamp, kind: stamp, tags: stamp, metadata: stamp },
    };
  };
  /** An edge holding a later delete of `refused`: a write of it comes back in `rejected`. */
  async function deletedOn(bodyLimit?: number) {
    const target = edge(bodyLimit);
    const later = formatHlc({ wallMs: at + 1000, counter: 0, node: 'elsewhere' });
    await target.store.apply('big', {
      tombstones: [{ entity: 'memory', id: 'refused', namespace: 'big', clock: later }],
    });
    const token = await mintToken({ secret: SECRET, ns: ['big'] });
    return { ...target, client: new ChunkedRemoteStore({ url: 'http://edge', token, fetch: target.fetch }) };
  }

  /** Ten memories of 60 KB: more than one part's budget, each under the content limit. */
  const many = (refusedAt: number) =>
    Array.from({ length: 10 }, (_, i) => write(i === refusedAt ? 'refused' : `m${i}`, 60_000));

  it('reports what the edge refused in every part, cut by bytes or halved', async () => {
    const byBytes = await deletedOn();
    const cut = await byBytes.client.apply('big', { memories: many(0) });
    expect(byBytes.bodies).toHaveLength(2);
    expect(cut.rejected).toEqual(['refused']);
    expect(cut.memories).toHaveLength(9);
    const halved = await deletedOn(100_000);
    const halves = await halved.client.apply('big', {
      memories: [write('kept', 60_000), write('refused', 60_000)],
    });
    expect(halved.bodies).toHaveLength(3);
    expect(halves.rejected).toEqual(['refused']);
  });

  it('reports the deletes of every part, as one apply would', async () => {
    const target = await deletedOn();
    const later = formatHlc({ wallMs: at + 1000, counter: 0, node: 'importer' });
    const result = await target.client.apply('big', {
      memories: many(-1),
      tombstones: [{ entity: 'memory', id: 'gone', namespace: 'big', clock: later }],
    });
    expect(target.bodies).toHaveLength(2);
    expect(result.memories).toHaveLength(10);
    expect(result.deleted).toEqual(['gone']);
  });

  it('reports the memories, links and deletes of every part when halving, as one apply would', async () => {
    const target = await deletedOn(100_000);
    const stamp = formatHlc({ wallMs: at, counter: 0, node: 'importer' });
    const link: LinkWrite = {
      id: 'l1',
      create: { namespace: 'big', from: 'a', to: 'b', createdAt: new Date(at).toISOString() },
      values: { type: 'related_to', weight: 1, metadata: {} },
      clocks: { type: stamp, weight: stamp, metadata: stamp },
    };
    const gone = ['t1', 't2', 't3', 't4', 't5'];
    // Halved into [a, b, l1, t1] (halved again: [a, b] then apart, and [l1, t1]) and [t2..t5].
    const result = await target.client.apply('big', {
      memories: [write('a', 60_000), write('b', 60_000)],
      links: [link],
      tombstones: gone.map((id) => ({ entity: 'memory' as const, id, namespace: 'big', clock: stamp })),
    });
    expect(result.memories.map((r) => r.memory.id)).toEqual(['a', 'b']);
    expect(result.links.map((r) => r.link.id)).toEqual(['l1']);
    expect(result.deleted).toEqual(gone);
  });

  it("records a batch's meta only once every part went through", async () => {
    // Cut by bytes: the second part fails (a bad write), after the first went through.
    const bad = {
      ...write('bad', 10),
      values: { ...write('bad', 10).values, kind: 5 },
    } as unknown as MemoryWrite;
    const byBytes = await deletedOn();
    await expect(
      byBytes.client.apply('big', { memories: [...many(-1), bad], meta: { note: 1 } }),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(byBytes.bodies).toHaveLength(2);
    expect(await byBytes.client.getMeta('big', 'note')).toBeUndefined();
    // Halved: the first half goes through, the second is too large alone.
    const halved = await deletedOn(20_000);
    const batch = { memories: [write('first', 5_000), write('too-large', 30_000)], meta: { note: 1 } };
    await expect(halved.client.apply('big', batch)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(await halved.client.getMeta('big', 'note')).toBeUndefined();
  });
});
