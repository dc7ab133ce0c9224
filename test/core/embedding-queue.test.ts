import { describe, expect, it, vi } from 'vitest';
import { checkVectors } from '../../src/core/embedding/embedder.js';
import { formatHlc, parseHlc } from '../../src/core/hlc.js';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { hashEmbed, standInEmbedder } from '../conformance/stand-in-embedder.js';

const WAIT = { timeout: 10_000 };

describe('the embedding queue', () => {
  it('embeds again on open a memory whose embedding is older than its content', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'stale' });
    const m = await writer.add({ content: 'old words', embedding: hashEmbed('old words', 32) });
    // Content written elsewhere (another replica, an older client) a second later, leaving the embedding.
    const [record] = await store.getMemories('stale', [m.id]);
    const then = parseHlc(record!.clocks.content!)!;
    const later = formatHlc({ ...then, wallMs: then.wallMs + 1000 });
    await store.apply('stale', {
      memories: [{ id: m.id, values: { content: 'new words' }, clocks: { content: later } }],
    });
    const mem = await createMemory({ store, namespace: 'stale', embedder: standInEmbedder() });
    await vi.waitFor(
      async () => expect((await mem.get(m.id))?.embedding).toEqual(hashEmbed('new words', 32)),
      WAIT,
    );
    await mem.close();
  });

  it('embeds a content stamped in the future (kept from a clock that ran ahead) once, not again and again', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'ahead' });
    const m = await writer.add({ content: 'old words', embedding: hashEmbed('old words', 32) });
    // Stamped in 2100, as a replica pulled it from an edge of a release before the clock bound: every
    // embedding stamped now sorts below it.
    await store.apply('ahead', {
      memories: [
        { id: m.id, values: { content: 'new words' }, clocks: { content: '03bb2cc3d800-0000-ahead' } },
      ],
    });
    const embedder = standInEmbedder();
    // Each call yields to timers: were the queue to embed it again and again, this test would fail, not hang.
    const yielding = {
      ...embedder,
      embed: async (texts: string[]) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return embedder.embed(texts);
      },
    };
    const mem = await createMemory({ store, namespace: 'ahead', embedder: yielding });
    await vi.waitFor(
      async () => expect((await mem.get(m.id))?.embedding).toEqual(hashEmbed('new words', 32)),
      WAIT,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(embedder.calls).toHaveLength(1);
    await mem.close();
  });

  it('finds every memory waiting on open, past the first page of the scan', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'many' });
    await writer.addMany(Array.from({ length: 501 }, (_, i) => ({ content: `memory ${i}` })));
    const mem = await createMemory({
      store,
      namespace: 'many',
      embedder: standInEmbedder(),
      embedding: { batchSize: 501 },
    });
    await vi.waitFor(() => expect(mem.status.pendingEmbeddings).toBe(0), WAIT);
    const unembedded = (await mem.list({ limit: 1000 })).items.filter((m) => m.embedding === undefined);
    expect(unembedded).toEqual([]);
    await mem.close();
  });

  it('does not store the vector of a content that changed while the embedder worked', async () => {
    const embedder = standInEmbedder();
    let release = () => {};
    embedder.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const mem = await createMemory({ embedder });
    const m = await mem.add({ content: 'first version' });
    await vi.waitFor(() => expect(embedder.calls).toEqual([['first version']]), WAIT);
    await mem.update(m.id, { content: 'second version' });
    embedder.hold = null;
    release();
    await vi.waitFor(
      async () => expect((await mem.get(m.id))?.embedding).toEqual(hashEmbed('second version', 32)),
      WAIT,
    );
    await mem.close();
  });

  it('refuses vectors holding NaN or Infinity as the embedder answering wrongly', () => {
    const embedder = standInEmbedder('m', 2);
    for (const wrong of [Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => checkVectors(embedder, [[0.5, wrong]], 1)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: 'embedder' }),
      );
    }
  });
});
