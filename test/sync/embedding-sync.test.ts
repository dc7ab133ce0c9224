import { describe, expect, it, vi } from 'vitest';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { hashEmbed, standInEmbedder } from '../conformance/stand-in-embedder.js';

async function edge() {
  const server = new InMemoryStore();
  const app = createEdgeApp({ store: server, secret: 's', logger: false });
  const token = await mintToken({ secret: 's', ns: ['notes'] });
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) =>
    app.fetch(new Request(input, init))) as typeof fetch;
  return { server, app, token, sync: { url: 'http://edge.test', token, fetch: fetchFn, intervalMs: 0 } };
}

const FAST = { backoff: { baseMs: 5, maxMs: 20 } };

describe('embeddings and sync', () => {
  it('an embedding synced by one replica is not paid for again by another', async () => {
    const { server, sync } = await edge();
    const embedA = standInEmbedder('shared-model', 8);
    const a = await createMemory({ namespace: 'notes', sync, embedder: embedA, embedding: FAST });
    const m = await a.add({ content: 'embedded once only' });
    await vi.waitFor(async () => expect((await a.get(m.id))?.embedding).toBeDefined());
    await a.sync();
    const [onServer] = await server.getMemories('notes', [m.id]);
    expect(onServer?.memory).toMatchObject({
      embeddingModel: 'shared-model',
      embedding: hashEmbed('embedded once only', 8),
    });

    const embedB = standInEmbedder('shared-model', 8);
    const b = await createMemory({ namespace: 'notes', sync, embedder: embedB, embedding: FAST });
    await b.sync();
    expect((await b.get(m.id))?.embeddingModel).toBe('shared-model');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(embedB.calls).toEqual([]);
    expect(b.status.pendingEmbeddings).toBe(0);

    // New content from B: B embeds it; A pulls content and embedding together and embeds nothing.
    const callsA = embedA.calls.length;
    await b.update(m.id, { content: 'changed on the other replica' });
    await vi.waitFor(async () => expect((await b.get(m.id))?.embedding).toBeDefined());
    await b.sync();
    await a.sync();
    expect((await a.get(m.id))?.embedding).toEqual(hashEmbed('changed on the other replica', 8));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(embedA.calls.length).toBe(callsA);
    await a.close();
    await b.close();
  });

  it('a replica with an embedder embeds what a replica without one pulled in', async () => {
    const { server, sync } = await edge();
    const plain = await createMemory({ namespace: 'notes', sync });
    const m = await plain.add({ content: 'written where no model runs' });
    await plain.sync();
    const embedder = standInEmbedder('model-x', 8);
    const smart = await createMemory({ namespace: 'notes', sync, embedder, embedding: FAST });
    await smart.sync();
    await vi.waitFor(async () => expect((await smart.get(m.id))?.embeddingModel).toBe('model-x'));
    await smart.sync();
    const [onServer] = await server.getMemories('notes', [m.id]);
    expect(onServer?.memory.embeddingModel).toBe('model-x');
    await plain.close();
    await smart.close();
  });

  it('the edge validates embeddingModel in pushes, naming the field', async () => {
    const { app, token } = await edge();
    const push = (embeddingModel: unknown) =>
      app.request('/v1/ns/notes/sync', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          push: {
            memories: [
              {
                id: 'm1',
                create: { namespace: 'notes', createdAt: '2024-01-01T00:00:00.000Z' },
                values: { content: 'x', embedding: [1, 0], embeddingModel },
                clocks: {
                  content: '0190a1b2c3d4-0000-node',
                  embedding: '0190a1b2c3d4-0000-node',
                  embeddingModel: '0190a1b2c3d4-0000-node',
                },
              },
            ],
          },
        }),
      });
    const bad = await push(42);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('embeddingModel');
    const good = await push('model-y');
    expect(good.status).toBe(200);
  });
});
