import { describe, expect, it, vi } from 'vitest';
import { type FeatureExtractor, transformersEmbedder } from '../../src/embedders/index.js';
import { createMemory } from '../../src/index.js';
import { hashEmbed } from '../conformance/stand-in-embedder.js';

/**
 * A stand-in for `await pipeline('feature-extraction', model)` from transformers.js with its call shape:
 * `extractor(texts, { pooling, normalize })` resolving to a Tensor with `dims`, flat `data` and `tolist()`.
 * transformers.js is not a dependency and no model can be downloaded here.
 */
function standInPipeline(dims: number, withTolist: boolean) {
  const calls: Array<{ texts: string[]; options: unknown }> = [];
  const extractor: FeatureExtractor = async (texts, options) => {
    calls.push({ texts, options });
    const rows = texts.map((t) => hashEmbed(t, dims));
    const tensor = { dims: [texts.length, dims], data: Float32Array.from(rows.flat()) };
    return withTolist ? { ...tensor, tolist: () => rows } : tensor;
  };
  return { extractor, calls };
}

describe('transformersEmbedder over a stand-in pipeline', () => {
  it('asks for mean pooling and normalised vectors and returns one row per text', async () => {
    const { extractor, calls } = standInPipeline(6, true);
    const embedder = transformersEmbedder(extractor, { id: 'Xenova/all-MiniLM-L6-v2', dims: 6 });
    expect(await embedder.embed(['a b', 'c'])).toEqual([hashEmbed('a b', 6), hashEmbed('c', 6)]);
    expect(calls).toEqual([{ texts: ['a b', 'c'], options: { pooling: 'mean', normalize: true } }]);
  });

  it('passes the pooling and normalisation it was given', async () => {
    const { extractor, calls } = standInPipeline(6, true);
    await transformersEmbedder(extractor, { id: 'm', dims: 6, pooling: 'cls', normalize: false }).embed([
      'a',
    ]);
    expect(calls).toEqual([{ texts: ['a'], options: { pooling: 'cls', normalize: false } }]);
  });

  it('refuses a pipeline that is not a function, naming it', () => {
    for (const extractor of [undefined, 'Xenova/all-MiniLM-L6-v2', {}]) {
      expect(() => transformersEmbedder(extractor as never, { id: 'm', dims: 6 })).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: 'transformersEmbedder.extractor' }),
      );
    }
  });

  it('refuses options it cannot use when made, naming them', () => {
    const { extractor } = standInPipeline(6, true);
    for (const [options, field] of [
      [{ id: 'm', dims: '384' }, 'transformersEmbedder.dims'],
      [{ id: 'm', dims: 0 }, 'transformersEmbedder.dims'],
      [{ dims: 6 }, 'transformersEmbedder.id'],
      [{ id: 'm', dims: 6, pooling: 'max' }, 'transformersEmbedder.pooling'],
      [{ id: 'm', dims: 6, normalise: false }, 'transformersEmbedder.normalise'],
      [undefined, 'transformersEmbedder'],
    ] as const) {
      expect(() => transformersEmbedder(extractor, options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field }),
      );
    }
  });

  it('reads a tensor without tolist() by its dims', async () => {
    const { extractor } = standInPipeline(4, false);
    const vectors = await transformersEmbedder(extractor, { id: 'm', dims: 4 }).embed(['x y', 'z']);
    expect(vectors.map((v) => Array.from(v).map((n) => Math.fround(n)))).toEqual(
      [hashEmbed('x y', 4), hashEmbed('z', 4)].map((v) => v.map((n) => Math.fround(n))),
    );
  });

  it('a tensor of another shape is the embedder answering wrongly (field embedder), not a refused text', async () => {
    const flat: FeatureExtractor = async (texts) => ({
      dims: [texts.length * 4],
      data: new Float32Array(texts.length * 4),
    });
    await expect(transformersEmbedder(flat, { id: 'm', dims: 4 }).embed(['x'])).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'embedder',
    });
    const extra: FeatureExtractor = async (texts) => ({
      dims: [texts.length + 1, 4],
      data: new Float32Array((texts.length + 1) * 4),
    });
    await expect(transformersEmbedder(extra, { id: 'm', dims: 4 }).embed(['x'])).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'embedder',
    });
  });

  it('embeds memories through createMemory', async () => {
    const { extractor } = standInPipeline(8, true);
    const mem = await createMemory({
      embedder: transformersEmbedder(extractor, { id: 'local-model', dims: 8 }),
    });
    const m = await mem.add({ content: 'on device' });
    await vi.waitFor(async () => expect((await mem.get(m.id))?.embeddingModel).toBe('local-model'));
    await mem.close();
  });
});
