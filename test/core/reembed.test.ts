import { describe, expect, it } from 'vitest';
import { createMemory, EngramError, InMemoryStore } from '../../src/index.js';
import { hashEmbed, standInEmbedder } from '../conformance/stand-in-embedder.js';

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
    embedder.failWith = new EngramError('VALIDATION', 'stand-in: unknown dimensions parameter');
    await expect(mem.reembed({ embedder })).rejects.toMatchObject({
      code: 'VALIDATION',
      message: 'stand-in: unknown dimensions parameter',
    });
    // The batch, then each text alone.
    expect(embedder.calls.map((texts) => texts.length)).toEqual([3, 1, 1, 1]);
    await mem.close();
  });

  it('moves embeddings of another model or another length, and skips its own on the next run', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'switch' });
    await mem.addMany([
      { id: 'a', content: 'alpha', embedding: [1, 0, 0, 0, 0, 0, 0, 0], embeddingModel: 'model-a' },
      // The same model id at another `dimensions`: vector search skips it like another model's.
      { id: 'b', content: 'beta', embedding: [1, 0, 0, 0], embeddingModel: 'model-b' },
      { id: 'c', content: 'gamma', embedding: hashEmbed('gamma', 8), embeddingModel: 'model-b' },
    ]);
    const embedder = standInEmbedder('model-b', 8);
    expect(await mem.reembed({ embedder })).toEqual({ embedded: 2, skipped: 1 });
    expect(embedder.calls.flat().sort()).toEqual(['alpha', 'beta']);
    expect((await mem.get('b'))?.embedding).toEqual(hashEmbed('beta', 8));
    expect(await mem.reembed({ embedder })).toEqual({ embedded: 0, skipped: 3 });
    await mem.close();
  });

  it('moves memories whatever their validity in time: past and future ones too', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'validity' });
    await mem.addMany([
      { id: 'past', content: 'was true', validTo: '2000-01-01T00:00:00.000Z' },
      { id: 'future', content: 'will be true', validFrom: '2999-01-01T00:00:00.000Z' },
      { id: 'now', content: 'is true' },
    ]);
    const embedder = standInEmbedder('model-b', 8);
    expect(await mem.reembed({ embedder })).toEqual({ embedded: 3, skipped: 0 });
    expect(embedder.calls.flat().sort()).toEqual(['is true', 'was true', 'will be true']);
    await mem.close();
  });

  it('skips a memory that got an embedding of the model while the run was under way', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'meanwhile' });
    await mem.addMany([
      { id: 'a', content: 'alpha' },
      { id: 'b', content: 'beta' },
    ]);
    const embedder = standInEmbedder('model-b', 8);
    const embed = embedder.embed;
    // While the first text is embedded, another writer (a replica, by sync) embeds the other memory.
    embedder.embed = async (texts) => {
      const other = texts[0] === 'alpha' ? 'b' : 'a';
      if (embedder.calls.length === 0) {
        await mem.update(other, { embedding: hashEmbed('elsewhere', 8), embeddingModel: 'model-b' });
      }
      return embed(texts);
    };
    expect(await mem.reembed({ embedder, batchSize: 1 })).toEqual({ embedded: 1, skipped: 0 });
    expect(embedder.calls).toHaveLength(1);
    await mem.close();
  });

  it('stops at once when the embedder is down, trying no text alone', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'down' });
    await mem.addMany([{ content: 'one' }, { content: 'two' }]);
    const embedder = standInEmbedder('model-b', 8);
    embedder.failWith = new EngramError('OFFLINE', 'stand-in: unreachable');
    await expect(mem.reembed({ embedder })).rejects.toMatchObject({ code: 'OFFLINE' });
    expect(embedder.calls.map((texts) => texts.length)).toEqual([2]);
    await mem.close();
  });

  it('stops at once when the only text of a batch fails for an unknown reason, asking no second time', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'lone-crash' });
    await mem.add({ content: 'alone' });
    const embedder = standInEmbedder('model-b', 8);
    embedder.failWith = 'stand-in: tokenizer crashed';
    await expect(mem.reembed({ embedder })).rejects.toThrow('stand-in: tokenizer crashed');
    expect(embedder.calls).toEqual([['alone']]);
    await mem.close();
  });

  it('fails a run the memory is closed under, storing nothing more, though its store stays open for another', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'closing' });
    const other = await createMemory({ store, namespace: 'closing' });
    const added = await mem.add({ content: 'one' });
    const embedder = standInEmbedder('model-b', 8);
    let release!: () => void;
    embedder.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const running = mem.reembed({ embedder });
    await expect.poll(() => embedder.calls.length).toBe(1);
    await mem.close();
    release();
    await expect(running).rejects.toMatchObject({
      code: 'STORAGE',
      message: expect.stringContaining('closed'),
    });
    expect((await other.get(added.id))?.embeddingModel).not.toBe('model-b');
    await other.close();
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
