import { describe, expect, it } from 'vitest';
import { createMemory, EngramError, InMemoryStore } from '../../src/index.js';
import { standInEmbedder } from '../conformance/stand-in-embedder.js';

describe('reembed', () => {
  it('moves every memory past the first listing page, 64 texts a call by default, with progress', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'pages' });
    await mem.addMany(Array.from({ length: 501 }, (_, i) => ({ content: `memory ${i}` })));
    const embedder = standInEmbedder('model-b', 8);
    const progress: Array<{ done: number; total: number }> = [];
    const result = await mem.reembed({ embedder, onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ embedded: 501, skipped: 0 });
    // 501 = 7 × 64 + 53.
    expect(embedder.calls.map((texts) => texts.length)).toEqual([64, 64, 64, 64, 64, 64, 64, 53]);
    expect(progress).toEqual(
      [0, 64, 128, 192, 256, 320, 384, 448, 501].map((done) => ({ done, total: 501 })),
    );
    const { items } = await mem.list({ limit: 1000 });
    expect(items.filter((m) => m.embeddingModel !== 'model-b')).toEqual([]);
    await mem.close();
  });

  it('reports each refused text when the embedder embeds the others in between', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'refusals' });
    // Alternating, in whatever order the listing gives them: no two refusals follow each other.
    await mem.addMany(
      Array.from({ length: 6 }, (_, i) => ({
        id: `m${i}`,
        content: i % 2 === 0 ? `too long ${i}` : `fine ${i}`,
      })),
    );
    const embedder = standInEmbedder('model-b', 8);
    const embed = embedder.embed;
    embedder.embed = async (texts) => {
      if (texts.some((t) => t.startsWith('too long'))) {
        throw new EngramError('PAYLOAD_TOO_LARGE', 'stand-in: input too long for the model');
      }
      return embed(texts);
    };
    const result = await mem.reembed({ embedder, batchSize: 1 });
    expect(result.embedded).toBe(3);
    expect(result.failed?.map((f) => f.id).sort()).toEqual(['m0', 'm2', 'm4']);
    await mem.close();
  });

  it('fails the run when the embedder refuses three texts in a row and embeds none', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'refuses-all' });
    await mem.addMany([{ content: 'one' }, { content: 'two' }, { content: 'three' }]);
    const embedder = standInEmbedder('model-b', 8);
    // A bad model parameter: every request is an HTTP 400, whatever its text.
    embedder.embed = async (texts) => {
      embedder.calls.push([...texts]);
      throw new EngramError('VALIDATION', 'stand-in: unknown dimensions parameter');
    };
    await expect(mem.reembed({ embedder })).rejects.toMatchObject({
      code: 'VALIDATION',
      message: 'stand-in: unknown dimensions parameter',
    });
    // The batch, then each text alone.
    expect(embedder.calls.map((texts) => texts.length)).toEqual([3, 1, 1, 1]);
    await mem.close();
  });

  it('gives up on an embedder that does not answer within the timeoutMs of the memory', async () => {
    const embedder = standInEmbedder('model-b', 8);
    embedder.hold = new Promise(() => {});
    const mem = await createMemory({
      store: new InMemoryStore(),
      namespace: 'hung',
      embedder,
      embedding: { timeoutMs: 50 },
    });
    await mem.add({ content: 'waiting' });
    await expect(mem.reembed()).rejects.toMatchObject({
      code: 'OFFLINE',
      message: 'embedder model-b: no answer within 50 ms',
    });
    await mem.close();
  }, 10_000);

  it('keeps to the timeoutMs of a memory opened without an embedder for the one given to reembed', async () => {
    const mem = await createMemory({
      store: new InMemoryStore(),
      namespace: 'hung',
      embedding: { timeoutMs: 50 },
    });
    await mem.add({ content: 'waiting' });
    const embedder = standInEmbedder('model-b', 8);
    embedder.hold = new Promise(() => {});
    await expect(mem.reembed({ embedder })).rejects.toMatchObject({
      code: 'OFFLINE',
      message: 'embedder model-b: no answer within 50 ms',
    });
    await mem.close();
  }, 10_000);
});
