import { describe, expect, it, vi } from 'vitest';
import { workersAIEmbedder } from '../../src/embedders/index.js';
import { createMemory } from '../../src/index.js';
import { hashEmbed } from '../conformance/stand-in-embedder.js';

/**
 * A stand-in for the Workers AI binding with the real call shape: `env.AI.run(model, { text: [...] })`
 * resolving to `{ shape: [n, dims], data: number[][] }` (no model runs here).
 */
function standInAi(dims: number) {
  const calls: Array<{ model: string; text: string[] }> = [];
  return {
    calls,
    async run(model: string, input: { text: string[] }) {
      calls.push({ model, text: input.text });
      return { shape: [input.text.length, dims], data: input.text.map((t) => hashEmbed(t, dims)) };
    },
  };
}

describe('workersAIEmbedder against a stand-in AI binding', () => {
  it('calls run with the model and the texts, batched, and knows bge dimensions', async () => {
    const ai = standInAi(384);
    const embedder = workersAIEmbedder(ai, { model: '@cf/baai/bge-small-en-v1.5', batchSize: 2 });
    expect(embedder).toMatchObject({ id: '@cf/baai/bge-small-en-v1.5', dims: 384 });
    const vectors = await embedder.embed(['one', 'two', 'three']);
    expect(vectors).toEqual(['one', 'two', 'three'].map((t) => hashEmbed(t, 384)));
    expect(ai.calls).toEqual([
      { model: '@cf/baai/bge-small-en-v1.5', text: ['one', 'two'] },
      { model: '@cf/baai/bge-small-en-v1.5', text: ['three'] },
    ]);
  });

  it('sends at most 100 texts per run by default, the Workers AI batch limit', async () => {
    const ai = standInAi(384);
    const texts = Array.from({ length: 101 }, (_, i) => `text ${i}`);
    expect(await workersAIEmbedder(ai, { model: '@cf/baai/bge-small-en-v1.5' }).embed(texts)).toHaveLength(
      101,
    );
    expect(ai.calls.map((c) => c.text.length)).toEqual([100, 1]);
  });

  it('reports a failing binding as OFFLINE and a malformed answer as VALIDATION', async () => {
    const failing = workersAIEmbedder(
      {
        run: async () => {
          throw new Error('AiError: capacity');
        },
      },
      { model: '@cf/baai/bge-base-en-v1.5' },
    );
    await expect(failing.embed(['x'])).rejects.toMatchObject({ code: 'OFFLINE' });
    const malformed = workersAIEmbedder({ run: async () => ({ shape: [0] }) }, { model: 'custom', dims: 4 });
    // Wrong whatever the texts: the embedder's fault (field `embedder`), not a refused text.
    await expect(malformed.embed(['x'])).rejects.toMatchObject({ code: 'VALIDATION', field: 'embedder' });
    const short = workersAIEmbedder({ run: async () => ({ data: [] }) }, { model: 'custom', dims: 4 });
    await expect(short.embed(['x'])).rejects.toMatchObject({ code: 'VALIDATION', field: 'embedder' });
    expect(() => workersAIEmbedder(standInAi(4), { model: 'custom' })).toThrow(/workersAIEmbedder.dims/);
  });

  it('knows the length of each bge model, and a given dims wins', () => {
    const ai = standInAi(4);
    const lengths = [
      '@cf/baai/bge-small-en-v1.5',
      '@cf/baai/bge-base-en-v1.5',
      '@cf/baai/bge-large-en-v1.5',
      '@cf/baai/bge-m3',
    ].map((model) => workersAIEmbedder(ai, { model }).dims);
    expect(lengths).toEqual([384, 768, 1024, 1024]);
    expect(workersAIEmbedder(ai, { model: '@cf/baai/bge-base-en-v1.5', dims: 256 }).dims).toBe(256);
  });

  it('refuses something that is not the AI binding, naming it', () => {
    for (const ai of [undefined, {}, { run: 'yes' }]) {
      expect(() => workersAIEmbedder(ai as never, { model: '@cf/baai/bge-m3' }), JSON.stringify(ai)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: 'workersAIEmbedder.ai' }),
      );
    }
  });

  it('refuses options it cannot use when made: a batch of 0 would never finish', () => {
    for (const [options, field] of [
      [{ model: 'custom', dims: 4, batchSize: 0 }, 'workersAIEmbedder.batchSize'],
      [{ model: 'custom', dims: 4, batchSize: 2.5 }, 'workersAIEmbedder.batchSize'],
      [{ model: 'custom', dims: '4' }, 'workersAIEmbedder.dims'],
      [{ model: '', dims: 4 }, 'workersAIEmbedder.model'],
      [{ model: '@cf/baai/bge-small-en-v1.5', batchsize: 10 }, 'workersAIEmbedder.batchsize'],
      [undefined, 'workersAIEmbedder'],
    ] as const) {
      expect(() => workersAIEmbedder(standInAi(4), options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field }),
      );
    }
  });

  it('embeds memories through createMemory', async () => {
    const mem = await createMemory({
      embedder: workersAIEmbedder(standInAi(384), { model: '@cf/baai/bge-small-en-v1.5' }),
    });
    const m = await mem.add({ content: 'edge embedded' });
    await vi.waitFor(async () => expect((await mem.get(m.id))?.embedding).toHaveLength(384));
    await mem.close();
  });
});
