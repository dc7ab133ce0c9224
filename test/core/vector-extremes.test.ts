import 'fake-indexeddb/auto';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { cosine, norm } from '../../src/core/vector/cosine.js';
import { normalizeInto } from '../../src/core/vector/vector-rows.js';
import {
  createMemory,
  type Engram,
  InMemoryStore,
  type MemoryStore,
  type WarningEvent,
} from '../../src/index.js';

// One PGlite with pgvector (candidates from an HNSW index) and one without (real[] columns).
const withVector = await PGlite.create({ extensions: { vector } });
const plain = await PGlite.create();
afterAll(async () => {
  await Promise.all([withVector.close(), plain.close()]);
});

let opened = 0;
const stores: Array<[string, () => MemoryStore]> = [
  ['InMemoryStore', () => new InMemoryStore()],
  ['IndexedDBStore', () => new IndexedDBStore({ name: `vector-extremes-${process.pid}-${opened++}` })],
  ['SqlJsStore', () => new SqlJsStore()],
  ['PostgresStore (pgvector)', () => new PostgresStore(pglite(withVector))],
  ['PostgresStore (real[])', () => new PostgresStore(pglite(plain))],
];
const namespace = () => `vx-${process.pid}-${opened++}`;

describe('cosine of huge and tiny embeddings', () => {
  it('scores like the same vectors at ordinary scale, never NaN', () => {
    const cases: Array<[number[], number[], number]> = [
      [[1, 0], [1e-200, 0], 1],
      [[1, 0], [1e200, 1e200], Math.SQRT1_2],
      [[1e200, 1e200], [1e200, 1e200], 1],
      [[1e200, 1e200], [1, 0], Math.SQRT1_2],
      [[1e-200, 1e-200], [3e-170, -3e-170], 0],
      [[1.5e308, 1.5e308], [1, 1], 1],
      [[5e-324, 0], [2, 0], 1],
      [[0, 0], [1, 1], 0],
      // Scaled by the largest component in absolute value, negative ones too.
      [[-1e200, -1e200], [-1, -1], 1],
      [[-3e-200, 4e-200], [-3, 4], 1],
      [[1, 1], [0, 0], 0],
    ];
    for (const [a, b, expected] of cases) {
      const score = cosine(a, b, norm(a));
      expect(score, `${a} · ${b}`).toBeCloseTo(expected, 12);
    }
    expect(norm([1e200, 1e200])).toBeCloseTo(Math.SQRT2 * 1e200, -190);
    expect(norm([3e-200, 4e-200]) / 5e-200).toBeCloseTo(1, 12);
  });

  it('keeps ordinary vectors’ scores bit for bit', () => {
    const a = [0.3, -0.2, 0.9, 0.1];
    const b = [0.5, 0.5, -0.1, 0.7];
    const plainNorm = Math.sqrt(a.reduce((s, x) => s + x * x, 0));
    let dot = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i]! * b[i]!;
      nb += b[i]! * b[i]!;
    }
    expect(norm(a)).toBe(plainNorm);
    expect(cosine(a, b, norm(a))).toBe(dot / (plainNorm * Math.sqrt(nb)));
  });

  it('normalizes huge and tiny vectors to unit length (the candidates of every vector index)', () => {
    const out = new Float32Array(2);
    for (const v of [
      [1e200, 1e200],
      [1e-200, 1e-200],
      [1.5e308, 1.5e308],
    ]) {
      normalizeInto(v, out);
      for (const x of out) expect(x).toBeCloseTo(Math.SQRT1_2, 6);
    }
    normalizeInto([0, 0], out);
    expect([...out]).toEqual([0, 0]);
  });
});

async function open(create: () => MemoryStore): Promise<Engram> {
  return createMemory({ store: create(), namespace: namespace() });
}

describe.each(stores)('vector search on %s', (_name, create) => {
  it('scores huge and tiny embeddings like every store, with or without a model (never NaN)', async () => {
    const mem = await open(create);
    for (const embeddingModel of [undefined, 'm']) {
      const model = embeddingModel ? { embeddingModel } : {};
      await mem.addMany([
        { id: `big${embeddingModel ?? ''}`, content: 'big', embedding: [1e200, 1e200], ...model },
        { id: `tiny${embeddingModel ?? ''}`, content: 'tiny', embedding: [1e-200, 0], ...model },
        { id: `unit${embeddingModel ?? ''}`, content: 'unit', embedding: [1, 0], ...model },
      ]);
    }
    for (const model of [undefined, 'm']) {
      const suffix = model ?? '';
      const scores = async (vector: number[]) => {
        const hits = await mem.search('', { vector, ...(model ? { model } : {}), history: true });
        return Object.fromEntries(
          hits
            .filter((h) => h.memory.id.endsWith(suffix))
            .map((h) => [h.memory.id.slice(0, -suffix.length || undefined), h.score]),
        );
      };
      const fromUnit = await scores([1, 0]);
      expect(fromUnit.unit).toBe(1);
      expect(fromUnit.tiny).toBe(1);
      expect(fromUnit.big).toBeCloseTo(Math.SQRT1_2, 12);
      const fromBig = await scores([1e200, 1e200]);
      expect(fromBig.big).toBeCloseTo(1, 12);
      expect(fromBig.unit).toBeCloseTo(Math.SQRT1_2, 12);
      expect(fromBig.tiny).toBeCloseTo(Math.SQRT1_2, 12);
      const fromTiny = await scores([1e-300, 1e-300]);
      expect(fromTiny.big).toBeCloseTo(1, 12);
    }
    await mem.close();
  });

  it('skips embeddings of another length and counts them, instead of failing every search', async () => {
    const mem = await open(create);
    const warnings: WarningEvent[] = [];
    mem.on('warning', (w) => warnings.push(w));
    await mem.addMany([
      { content: 'three solar', embedding: [1, 0, 0] },
      { content: 'four solar', embedding: [1, 0, 0, 0] },
      { content: 'three of m', embedding: [0, 1, 0], embeddingModel: 'm' },
      { content: 'four of m', embedding: [0, 1, 0, 0], embeddingModel: 'm' },
      { content: 'five of n', embedding: [0, 1, 0, 0, 0], embeddingModel: 'n' },
    ]);
    const found = async (vector: number[], options: object = {}) =>
      (await mem.search('', { vector, ...options })).map((h) => h.memory.content);
    // Without a model every embedding is compared: those of the query's length.
    expect(await found([1, 0, 0])).toEqual(['three solar', 'three of m']);
    expect(await found([1, 0, 0, 0])).toEqual(['four solar', 'four of m']);
    expect(warnings.map((w) => [w.code, w.count])).toEqual([
      ['EMBEDDING_MODEL_MISMATCH', 3],
      ['EMBEDDING_MODEL_MISMATCH', 3],
    ]);
    warnings.length = 0;
    // With a model: its embeddings of the query's length; the rest (other model, other length) counted.
    expect(await found([0, 1, 0], { model: 'm' })).toEqual(['three of m']);
    expect(await found([0, 1, 0, 0], { model: 'm' })).toEqual(['four of m']);
    expect(warnings.map((w) => w.count)).toEqual([4, 4]);
    // Hybrid too: text hits of any length, vector hits of the query's length.
    const hybrid = await mem.search('solar', { vector: [1, 0, 0], mode: 'hybrid' });
    expect(hybrid.map((h) => h.memory.content)).toEqual(['three solar', 'four solar', 'three of m']);
    // A length no embedding compared has is still the query's fault: VALIDATION naming `vector`.
    for (const [options, expected] of [
      [{}, 'vector: expected 3, 4 or 5 dimensions like the stored embeddings, got 6'],
      [{ model: 'm' }, 'vector: expected 3 or 4 dimensions like the stored embeddings, got 6'],
    ] as const) {
      await expect(mem.search('', { vector: [1, 0, 0, 0, 0, 0], ...options })).rejects.toMatchObject({
        code: 'VALIDATION',
        field: 'vector',
        message: expected,
      });
    }
    await mem.close();
  });

  it('names the stored lengths in ascending order, whichever was stored first', async () => {
    const mem = await open(create);
    await mem.addMany([
      { id: 'a', content: 'five', embedding: [1, 0, 0, 0, 0], embeddingModel: 'm' },
      { id: 'b', content: 'three', embedding: [1, 0, 0], embeddingModel: 'm' },
    ]);
    for (const model of ['m', undefined]) {
      await expect(mem.search('', { vector: [1, 0, 0, 0], model }), model).rejects.toMatchObject({
        code: 'VALIDATION',
        field: 'vector',
        message: 'vector: expected 3 or 5 dimensions like the stored embeddings, got 4',
      });
    }
    await mem.close();
  });

  it('checks the query length against the embeddings kept, not those removed or replaced', async () => {
    const mem = await open(create);
    await mem.addMany([
      { id: 'gone', content: 'gone', embedding: [1, 0, 0, 0], embeddingModel: 'm' },
      { id: 'moved', content: 'moved', embedding: [0, 1, 0, 0, 0], embeddingModel: 'm' },
      { id: 'kept', content: 'kept', embedding: [1, 0, 0], embeddingModel: 'm' },
      { id: 'ten', content: 'ten', embedding: Array.from({ length: 10 }, () => 1), embeddingModel: 'm' },
      { id: 'o1', content: 'o1', embedding: [1, 0, 0], embeddingModel: 'other' },
      { id: 'o2', content: 'o2', embedding: [0, 1, 0], embeddingModel: 'other' },
    ]);
    await mem.remove('gone');
    await mem.update('moved', { embedding: [0, 1, 0], embeddingModel: 'm' });
    for (const length of [4, 5]) {
      await expect(
        mem.search('', { vector: Array.from({ length }, (_, i) => (i === 0 ? 1 : 0)), model: 'm' }),
      ).rejects.toMatchObject({
        code: 'VALIDATION',
        field: 'vector',
        message: `vector: expected 3 or 10 dimensions like the stored embeddings, got ${length}`,
      });
    }
    const warnings: WarningEvent[] = [];
    mem.on('warning', (w) => warnings.push(w));
    expect((await mem.search('', { vector: [0.6, 0.8, 0], model: 'm' })).map((h) => h.memory.id)).toEqual([
      'moved',
      'kept',
    ]);
    // Skipped and counted: both of the other model's, and the one of model m at another length.
    expect(warnings.map((w) => [w.code, w.count])).toEqual([['EMBEDDING_MODEL_MISMATCH', 3]]);
    await mem.close();
  });
});
