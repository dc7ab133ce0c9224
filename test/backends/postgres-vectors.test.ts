import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import postgres from 'postgres';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mulberry32 } from '../../bench/corpus.mjs';
import { PostgresStore, pglite, postgresJs } from '../../src/backends/postgres/index.js';
import type { SqlParam, SqlQueries } from '../../src/backends/sql/executor.js';
import {
  createMemory,
  type Engram,
  InMemoryStore,
  type MemoryInput,
  type MemoryStore,
} from '../../src/index.js';
import { downgradePostgresToVersion4 } from './sql-legacy.js';

// PGlite takes seconds to start: one instance with pgvector and one without, shared by every case.
const withVector = await PGlite.create({ extensions: { vector } });
const plain = await PGlite.create();
const url = process.env.DATABASE_URL;
const schema = `pgvec_${process.pid}_${Date.now()}`;
const admin = url ? postgres(url, { max: 1, onnotice: () => {} }) : null;
if (admin) await admin.unsafe(`CREATE SCHEMA ${schema}`);
const server = () => postgresJs(url!, { max: 2, connection: { search_path: schema }, onnotice: () => {} });
afterAll(async () => {
  await Promise.all([withVector.close(), plain.close()]);
  if (admin) {
    await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
});

const DIMS = 24;
const random = mulberry32(13);
const randomVector = (dims = DIMS) => Array.from({ length: dims }, () => random() * 2 - 1);
const WORDS = ['solar', 'wind', 'river', 'stone', 'cloud', 'forest', 'ember', 'frost'];

/** Mixed models (and embeddings without one), kinds, tags, metadata, expiry, validity, ties and a zero vector. */
const items = Array.from({ length: 1200 }, (_, i) => {
  const model = i % 10 === 0 ? 'model-b' : i % 17 === 0 ? undefined : 'model-a';
  const item = {
    id: `m-${String(i).padStart(4, '0')}`,
    content: `${WORDS[i % 8]} ${WORDS[(i * 3) % 8]} note ${i}`,
    kind: i % 3 === 0 ? 'fact' : 'note',
    tags: i % 4 === 0 ? ['work', 'home'] : i % 4 === 1 ? ['work'] : [],
    metadata: { turn: i % 5 },
    embedding: i === 7 ? new Array(DIMS).fill(0) : randomVector(),
    ...(model ? { embeddingModel: model } : {}),
    ...(i % 50 === 0 ? { expiresAt: '2001-01-01T00:00:00.000Z' } : {}),
    ...(i % 45 === 0 ? { validFrom: '2999-01-01T00:00:00.000Z' } : {}),
  };
  return item;
});
// Exact duplicates of another vector: equal scores, ordered by id on every store.
for (const i of [101, 202, 303]) items[i]!.embedding = [...items[11]!.embedding];
const queries = Array.from({ length: 12 }, (_, i) => (i === 0 ? [...items[11]!.embedding] : randomVector()));

type Options = NonNullable<Parameters<Engram['search']>[1]>;
const cases: Array<[string, Options]> = queries.flatMap(
  (q, i): Array<[string, Options]> => [
    ['', { vector: q, model: 'model-a', limit: [1, 10, 40][i % 3] }],
    ['', { vector: q, model: 'model-a', kind: 'fact', tags: ['work', 'home'], tagMode: 'all' }],
    ['', { vector: q, model: 'model-a', metadata: { turn: 3 }, tags: ['work'], explain: true }],
    [`${WORDS[i % 8]} ${WORDS[(i + 3) % 8]}`, { vector: q, model: 'model-a', mode: 'hybrid', limit: 15 }],
    [WORDS[i % 8]!, { vector: q, model: 'model-b', mode: 'hybrid', explain: true, kind: 'note' }],
    // No model: every embedding is compared, whatever its model (still ranked in SQL).
    ['', { vector: q, limit: [1, 10, 40][i % 3], tags: ['work'] }],
    [`${WORDS[i % 8]}`, { vector: q, mode: 'hybrid', explain: true, limit: 15 }],
  ],
);

async function loaded(store: MemoryStore, namespace = 'vectors'): Promise<Engram> {
  const mem = await createMemory({ store, namespace });
  for (let i = 0; i < items.length; i += 400) await mem.addMany(items.slice(i, i + 400));
  return mem;
}

const hits = async (mem: Engram, query: string, options: Options) =>
  (await mem.search(query, options)).map((h) => [h.memory.id, h.score, h.explain]);

const stores: Array<[string, () => PostgresStore]> = [
  ['PGlite with pgvector', () => new PostgresStore(pglite(withVector))],
  ['PGlite without pgvector', () => new PostgresStore(pglite(plain))],
];
if (url) stores.push(['Postgres server', () => new PostgresStore(server())]);

/**
 * The same rows in an in-memory store and in `store`, and each one's `nearestVectors` for a query of the
 * first model: what the in-memory store answers is what every store must.
 */
async function alongsideMemory(store: PostgresStore, namespace: string, rows: MemoryInput[]) {
  const memory = new InMemoryStore();
  const opened = await Promise.all([memory, store].map((s) => createMemory({ store: s, namespace })));
  for (const mem of opened) await mem.addMany(rows);
  const filter = { tagMode: 'any' as const, now: new Date().toISOString() };
  return {
    nearest: (vector: number[], limit: number) => {
      const query = { vector, model: 'm', limit, filter };
      return Promise.all([memory.nearestVectors(namespace, query), store.nearestVectors(namespace, query)]);
    },
    close: async () => {
      for (const mem of opened) await mem.close();
    },
  };
}

const ranked = (r: Awaited<ReturnType<InMemoryStore['nearestVectors']>>) =>
  r.hits.map((h) => [h.record.memory.id, h.score]);

/** An in-memory store whose searches without a model go through core's scan of `vectors()`. */
function scanningStore(): InMemoryStore {
  return Object.assign(new InMemoryStore(), { nearestAnyModel: false });
}

describe('Postgres vector search in SQL, exact mode', () => {
  const reference = loaded(scanningStore());

  for (const [name, create] of stores) {
    it(`${name}: same ids, scores and explanations as the in-memory store, vector and hybrid`, async () => {
      const store = create();
      const mem = await loaded(store);
      const fallback = vi.spyOn(store, 'vectors');
      for (const [query, options] of cases) {
        const expected = await hits(await reference, query, options);
        expect(expected.length).toBeGreaterThan(0);
        expect(await hits(mem, query, options), `${name}: "${query}" ${JSON.stringify(options)}`).toEqual(
          expected,
        );
      }
      // Candidates come from SQL: the embeddings were never read out to rank them in this process.
      expect(fallback).not.toHaveBeenCalled();
      await mem.close();
    }, 120_000);

    it(`${name}: ranks embeddings nearer than float4 tells apart as the in-memory store does`, async () => {
      // Copies of one 384-dimension vector a billionth apart on one component: their float4 distances tie
      // or cross, and only a float64 cosine orders them.
      const base = randomVector(384);
      const rows = Array.from({ length: 40 }, (_, i) => ({
        id: `copy-${String(i).padStart(2, '0')}`,
        content: `copy ${i}`,
        embedding: base.map((x, d) => (d === 0 ? x + i * 1e-9 : x)),
        embeddingModel: 'm',
      }));
      const both = await alongsideMemory(create(), 'near', rows);
      for (const sign of [1, -1]) {
        const vector = base.map((x, d) => (d === 0 ? x + sign : x));
        for (const limit of [1, 5]) {
          const [expected, got] = await both.nearest(vector, limit);
          expect(ranked(got), `${sign} ${limit}`).toEqual(ranked(expected));
          // Read back independently: the best by a float64 cosine computed here.
          const cosine = (e: number[]) => {
            const dot = e.reduce((sum, x, d) => sum + x * vector[d]!, 0);
            return dot / Math.hypot(...e) / Math.hypot(...vector);
          };
          const best = rows.reduce((a, b) => (cosine(b.embedding) > cosine(a.embedding) ? b : a));
          expect(got.hits[0]?.record.memory.id, `${sign} ${limit}`).toBe(best.id);
        }
      }
      await both.close();
    });

    it(`${name}: reads rows past the candidates whose float4 distance is within float4's error of the limit-th`, async () => {
      // Sixty directions a microradian or so apart around the query's: their float64 cosines differ by
      // 1e-12, far below float4's step near 1, so their float4 distances are the rounding's, in no order.
      // The nearest by float64 may lie past the candidates SQL picks, a float4 step or two behind them.
      const rows = Array.from({ length: 60 }, (_, i) => {
        const angle = Math.PI / 4 + (i % 2 ? 1 : -1) * (1 + i) * 1e-6;
        return {
          id: `dir-${String(i).padStart(2, '0')}`,
          content: `direction ${i}`,
          embedding: [Math.cos(angle), Math.sin(angle)],
          embeddingModel: 'm',
        };
      });
      const both = await alongsideMemory(create(), 'float4-steps', rows);
      for (const limit of [1, 3, 10]) {
        const [expected, got] = await both.nearest([1, 1], limit);
        expect(ranked(got), `limit ${limit}`).toEqual(ranked(expected));
      }
      await both.close();
    });

    it(`${name}: compares only the query's model and counts the others`, async () => {
      const memory = new InMemoryStore();
      const store = create();
      const opened = [await loaded(memory, 'models'), await loaded(store, 'models')];
      const filter = { tagMode: 'any' as const, now: new Date().toISOString() };
      for (const model of ['model-a', 'model-b', 'model-c']) {
        const query = { vector: queries[3]!, model, limit: 20, filter };
        const [expected, got] = await Promise.all([
          memory.nearestVectors('models', query),
          store.nearestVectors('models', query),
        ]);
        const strip = (r: typeof got) => ({
          otherModels: r.otherModels,
          hits: r.hits.map((h) => [h.record.memory.id, h.score, h.record.memory.embeddingModel]),
        });
        expect(strip(got)).toEqual(strip(expected));
        for (const hit of got.hits) expect(hit.record.memory.embeddingModel).toBe(model);
      }
      const none = await store.nearestVectors('models', {
        vector: queries[3]!,
        model: 'model-c',
        limit: 5,
        filter,
      });
      expect(none).toEqual({ hits: [], otherModels: items.length });
      await expect(
        store.nearestVectors('models', { vector: [1, 0], model: 'model-a', limit: 5, filter }),
      ).rejects.toMatchObject({ code: 'VALIDATION', field: 'vector' });
      for (const mem of opened) await mem.close();
    });

    it(`${name}: counts embeddings of the query's model but another length with the other models`, async () => {
      const memory = new InMemoryStore();
      const store = create();
      const rows = [
        { content: 'three a', embedding: [1, 0, 0], embeddingModel: 'm' },
        { content: 'three b', embedding: [0, 1, 0], embeddingModel: 'm' },
        { content: 'two', embedding: [1, 1], embeddingModel: 'm' },
        { content: 'four', embedding: [1, 1, 1, 1], embeddingModel: 'm' },
        { content: 'other model', embedding: [1, 0, 0], embeddingModel: 'n' },
      ];
      const opened = [];
      for (const s of [memory, store]) {
        const mem = await createMemory({ store: s, namespace: 'lengths' });
        await mem.addMany(rows);
        opened.push(mem);
      }
      const query = {
        vector: [1, 0.5, 0],
        model: 'm',
        limit: 5,
        filter: { tagMode: 'any' as const, now: new Date().toISOString() },
      };
      const [expected, got] = await Promise.all([
        memory.nearestVectors('lengths', query),
        store.nearestVectors('lengths', query),
      ]);
      expect(got.otherModels).toBe(3);
      expect(got.otherModels).toBe(expected.otherModels);
      expect(got.hits.map((h) => h.record.memory.content)).toEqual(['three a', 'three b']);
      for (const mem of opened) await mem.close();
    });

    it(`${name}: reads enough candidates that ties in float4 are settled in float64, after the metadata filter too`, async () => {
      // In float4 both unit copies score exactly 1, so SQL breaks the tie by id; only their float64
      // embeddings tell that `a` is the nearer.
      const near = [
        { id: 'a', content: 'a', embedding: [1, 1e-5], embeddingModel: 'm', metadata: { turn: 1 } },
        { id: 'b', content: 'b', embedding: [1, 2e-5], embeddingModel: 'm', metadata: { turn: 1 } },
      ];
      // Eleven more that tie too, first by id, of another kind: the metadata filter (run after SQL) leaves them out.
      const decoys = Array.from({ length: 11 }, (_, i) => ({
        id: `z${String(i).padStart(2, '0')}`,
        content: `decoy ${i}`,
        kind: 'decoy',
        embedding: [1, 0],
        embeddingModel: 'm',
        metadata: { turn: 0 },
      }));
      const mem = await createMemory({ store: create(), namespace: 'float4-ties' });
      const reference = await createMemory({ store: new InMemoryStore(), namespace: 'float4-ties' });
      for (const m of [mem, reference]) await m.addMany([...near, ...decoys]);
      const top = async (m: Engram, options: Options) =>
        (await m.search('', { vector: [1, 0], model: 'm', limit: 1, ...options })).map((h) => [
          h.memory.id,
          h.score,
        ]);
      for (const options of [{ kind: 'note' }, { metadata: { turn: 1 } }] as Options[]) {
        const expected = await top(reference, options);
        expect(expected[0]?.[0]).toBe('a');
        expect(await top(mem, options), JSON.stringify(options)).toEqual(expected);
      }
      await mem.close();
      await reference.close();
    });

    it(`${name}: an embedding changed alone is found by its new direction, past the candidates SQL picks`, async () => {
      const mem = await createMemory({ store: create(), namespace: 'changed-alone' });
      // Twenty near the query and one opposite; limit 1 reads 12 candidates, so a stale unit copy of
      // the one moved would leave it out.
      await mem.addMany(
        Array.from({ length: 20 }, (_, i) => ({
          content: `near ${i}`,
          embedding: [1, 0.5, 0],
          embeddingModel: 'm',
        })),
      );
      const moved = await mem.add({ content: 'moved', embedding: [-1, 0, 0], embeddingModel: 'm' });
      await mem.update(moved.id, { embedding: [2, 0, 0], embeddingModel: 'm' });
      const [top] = await mem.search('', { vector: [1, 0, 0], model: 'm', limit: 1 });
      expect([top?.memory.id, top?.score]).toEqual([moved.id, 1]);
      await mem.close();
    });

    it(`${name}: a changed or removed embedding is searched as it now is`, async () => {
      const store = create();
      const mem = await createMemory({ store, namespace: 'changes' });
      const a = await mem.add({ content: 'a', embedding: [1, 0, 0], embeddingModel: 'm' });
      const b = await mem.add({ content: 'b', embedding: [0, 1, 0], embeddingModel: 'm' });
      const search = async () =>
        (await mem.search('', { vector: [0, 1, 0], model: 'm' })).map((h) => [h.memory.id, h.score]);
      expect(await search()).toEqual([
        [b.id, 1],
        [a.id, 0],
      ]);
      await mem.update(a.id, { embedding: [0, 2, 0], embeddingModel: 'm' });
      expect(await search()).toEqual([
        [b.id, 1],
        [a.id, 1],
      ]);
      await mem.update(b.id, { embedding: null });
      expect((await search()).map(([id]) => id)).toEqual([a.id]);
      await mem.remove(a.id);
      expect(await search()).toEqual([]);
      await mem.close();
    });
  }

  it('pglite() loads pgvector by itself when the package is installed (engram serve default)', async () => {
    const driver = pglite();
    const mem = await createMemory({ store: new PostgresStore(driver), namespace: 'own' });
    const a = await mem.add({ content: 'a', embedding: [3, 4], embeddingModel: 'm' });
    const [row] = await driver.all<{ type: string }>(
      `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
        WHERE attrelid = 'engram_memories'::regclass AND attname = 'embedding_unit'`,
      [],
    );
    expect(row?.type).toBe('vector');
    expect((await mem.search('', { vector: [3, 4], model: 'm' })).map((h) => [h.memory.id, h.score])).toEqual(
      [[a.id, 1]],
    );
    await mem.close();
  });

  it('asks the column type again after a failed read of it, so one lost query does not fail every search', async () => {
    const driver = pglite(withVector);
    let failNext = false;
    const flaky: typeof driver = {
      ...driver,
      all: async (text, params) => {
        if (failNext && text.includes('FROM pg_attribute')) {
          failNext = false;
          throw new Error('stand-in: connection lost');
        }
        return driver.all(text, params);
      },
    };
    const mem = await createMemory({ store: new PostgresStore(flaky), namespace: 'column-retry' });
    const a = await mem.add({ content: 'a', embedding: [1, 0], embeddingModel: 'm' });
    failNext = true;
    await expect(mem.search('', { vector: [1, 0], model: 'm' })).rejects.toThrow();
    expect(failNext).toBe(false);
    expect((await mem.search('', { vector: [1, 0], model: 'm' })).map((h) => h.memory.id)).toEqual([a.id]);
    await mem.close();
  });

  it('keeps the float4 copies in a pgvector column when the extension is there, real[] otherwise', async () => {
    const type = async (db: PGlite) =>
      (
        await db.query<{ type: string }>(
          `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
            WHERE attrelid = 'engram_memories'::regclass AND attname = 'embedding_unit'`,
        )
      ).rows[0]?.type;
    await new PostgresStore(pglite(withVector)).open();
    await new PostgresStore(pglite(plain)).open();
    expect(await type(withVector)).toBe('vector');
    expect(await type(plain)).toBe('real[]');
  });
});

describe('Postgres HNSW (pgvector), approximate on request', () => {
  it('finds at least 95% of the exact top 10, scores exact, the index built once per length', async () => {
    const dims = 32;
    const vectors = Array.from({ length: 3000 }, () => randomVector(dims));
    const records = vectors.map((embedding, i) => ({
      id: `h-${String(i).padStart(5, '0')}`,
      content: `vector ${i}`,
      embedding,
      embeddingModel: 'model-h',
    }));
    const exact = await createMemory({ store: new InMemoryStore(), namespace: 'hnsw' });
    const store = new PostgresStore(pglite(withVector), {
      vectors: { index: 'hnsw', hnsw: { efSearch: 64 } },
    });
    const approx = await createMemory({ store, namespace: 'hnsw' });
    for (let i = 0; i < records.length; i += 1000) {
      await exact.addMany(records.slice(i, i + 1000));
      await approx.addMany(records.slice(i, i + 1000));
    }
    let found = 0;
    const rounds = 40;
    for (let q = 0; q < rounds; q++) {
      const query = { vector: randomVector(dims), model: 'model-h', limit: 10 };
      const truth = new Map((await exact.search('', query)).map((h) => [h.memory.id, h.score]));
      const got = await approx.search('', query);
      expect(got).toHaveLength(10);
      for (const hit of got) {
        if (!truth.has(hit.memory.id)) continue;
        found++;
        expect(hit.score).toBe(truth.get(hit.memory.id));
      }
    }
    expect(found / (rounds * 10)).toBeGreaterThanOrEqual(0.95);
    const { rows } = await withVector.query<{ indexdef: string }>(
      "SELECT indexdef FROM pg_indexes WHERE indexname = 'engram_memories_hnsw_32'",
    );
    expect(rows[0]?.indexdef).toMatch(/USING hnsw/);
    // pgvector's defaults where none are given: 16 links per node, a build list of 64.
    expect(rows[0]?.indexdef).toMatch(/WITH \(m='16', ef_construction='64'\)/);
    // The index answers the query (not a scan): the plan names it.
    const plan = await withVector.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT id FROM engram_memories WHERE embedding_dims = 32
        ORDER BY (embedding_unit::vector(32)) <#> '[${new Array(32).fill(0.1).join(',')}]'::vector(32) LIMIT 10`,
    );
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/engram_memories_hnsw_32/);
    await approx.close();
    await exact.close();
  }, 120_000);

  it('finds the few memories a kind filter leaves, with the HNSW index asked', async () => {
    const dims = 8;
    const rare = new Set([137, 512, 901]);
    const records = Array.from({ length: 1000 }, (_, i) => ({
      id: `f-${String(i).padStart(4, '0')}`,
      content: `filtered ${i}`,
      kind: rare.has(i) ? 'rare' : 'common',
      embedding: randomVector(dims),
      embeddingModel: 'model-f',
    }));
    const store = new PostgresStore(pglite(withVector), {
      vectors: { index: 'hnsw', hnsw: { efSearch: 1 } },
    });
    const mem = await createMemory({ store, namespace: 'hnsw-filtered' });
    await mem.addMany(records);
    const hits = await mem.search('', {
      vector: randomVector(dims),
      model: 'model-f',
      kind: 'rare',
      limit: 5,
    });
    expect(hits.map((h) => h.memory.id).sort()).toEqual(['f-0137', 'f-0512', 'f-0901']);
    await mem.close();
  }, 60_000);

  it('ranks embeddings longer than pgvector HNSW takes (2 000 dimensions) by the exact scan', async () => {
    const store = new PostgresStore(pglite(withVector), { vectors: { index: 'hnsw' } });
    const mem = await createMemory({ store, namespace: 'hnsw-3072' });
    const exact = await createMemory({ store: new InMemoryStore(), namespace: 'hnsw-3072' });
    // text-embedding-3-large's length: CREATE INDEX ... USING hnsw refuses it, so every search failed.
    const records = Array.from({ length: 30 }, (_, i) => ({
      id: `l-${String(i).padStart(2, '0')}`,
      content: `long ${i}`,
      embedding: randomVector(3072),
      embeddingModel: 'model-l',
    }));
    await mem.addMany(records);
    await exact.addMany(records);
    const query = { vector: randomVector(3072), model: 'model-l', limit: 5 };
    const hits = async (m: Engram) => (await m.search('', query)).map((h) => [h.memory.id, h.score]);
    expect(await hits(mem)).toEqual(await hits(exact));
    await mem.close();
    await exact.close();
  });

  it('searches with ef_search 400 unless given, never under the candidates wanted nor over 1000, and builds the index once', async () => {
    // What each HNSW search sets, recorded from the statements the store sends (pgvector has no other trace),
    // each marked with whether it ran in a transaction: SET LOCAL lasts only to the end of its transaction,
    // and has no effect at all outside one.
    const statements: string[] = [];
    const recording = () => {
      const driver = pglite(withVector);
      const record = <T>(text: string, run: () => T) => {
        statements.push(text);
        return run();
      };
      return {
        ...driver,
        all: <T extends object>(text: string, params: readonly SqlParam[]) =>
          record(text, () => driver.all<T>(text, params)),
        run: (text: string, params: readonly SqlParam[]) => record(text, () => driver.run(text, params)),
        transaction: <T>(fn: (tx: SqlQueries) => Promise<T>) =>
          driver.transaction((tx) =>
            fn({
              all: (text, params) => record(`in transaction: ${text}`, () => tx.all(text, params)),
              run: (text, params) => record(`in transaction: ${text}`, () => tx.run(text, params)),
            }),
          ),
      };
    };
    const efSearch = () =>
      statements
        .flatMap((text) => /^in transaction: SET LOCAL hnsw\.ef_search = (\d+)/.exec(text)?.[1] ?? [])
        .map(Number);
    const records = Array.from({ length: 40 }, (_, i) => ({
      content: `ef ${i}`,
      embedding: randomVector(5),
      embeddingModel: 'm',
    }));
    const byDefault = await createMemory({
      store: new PostgresStore(recording(), { vectors: { index: 'hnsw' } }),
      namespace: 'hnsw-ef',
    });
    await byDefault.addMany(records);
    const given = await createMemory({
      store: new PostgresStore(recording(), { vectors: { index: 'hnsw', hnsw: { efSearch: 20 } } }),
      namespace: 'hnsw-ef',
    });
    statements.length = 0;
    const search = (mem: Engram, limit: number) =>
      mem.search('', { vector: randomVector(5), model: 'm', limit });
    await search(byDefault, 3);
    await search(byDefault, 3);
    // One CREATE INDEX per store and length, not one per search.
    expect(statements.filter((text) => text.includes('CREATE INDEX'))).toHaveLength(1);
    // limit 3 wants 3·2 + 10 = 16 candidates; limit 10, 30; limit 600, 1210, which pgvector would refuse.
    await search(given, 3);
    await search(given, 10);
    expect(await search(given, 600)).toHaveLength(40);
    expect(efSearch()).toEqual([400, 400, 20, 30, 1000]);
    // Each search also lets the index read on until enough rows pass the filters SQL applies after it
    // (namespace, model, kind...), instead of stopping at ef_search rows of which the filters keep a few.
    expect(
      statements.filter((text) => text === "in transaction: SET LOCAL hnsw.iterative_scan = 'relaxed_order'"),
    ).toHaveLength(5);
    await Promise.all([byDefault.close(), given.close()]);
  });

  it('indexes embeddings of exactly 2 000 dimensions, the longest pgvector HNSW takes', async () => {
    const store = new PostgresStore(pglite(withVector), { vectors: { index: 'hnsw' } });
    const mem = await createMemory({ store, namespace: 'hnsw-2000' });
    await mem.addMany(
      Array.from({ length: 5 }, (_, i) => ({
        content: `d ${i}`,
        embedding: randomVector(2000),
        embeddingModel: 'm',
      })),
    );
    expect(await mem.search('', { vector: randomVector(2000), model: 'm', limit: 2 })).toHaveLength(2);
    const { rows } = await withVector.query(
      "SELECT 1 FROM pg_indexes WHERE indexname = 'engram_memories_hnsw_2000'",
    );
    expect(rows).toHaveLength(1);
    await mem.close();
  });

  /** The definition of the HNSW index built for `dims` once 20 vectors of a namespace were searched. */
  async function builtIndex(hnsw: { m?: number; efConstruction?: number }, namespace: string, dims: number) {
    const store = new PostgresStore(pglite(withVector), { vectors: { index: 'hnsw', hnsw } });
    const mem = await createMemory({ store, namespace });
    await mem.addMany(
      Array.from({ length: 20 }, (_, i) => ({
        content: `${namespace} ${i}`,
        embedding: randomVector(dims),
        embeddingModel: 'm',
      })),
    );
    expect(await mem.search('', { vector: randomVector(dims), model: 'm', limit: 3 })).toHaveLength(3);
    const { rows } = await withVector.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE indexname = 'engram_memories_hnsw_${dims}'`,
    );
    await mem.close();
    return rows[0]?.indexdef;
  }

  it('builds the index with the m and efConstruction given', async () => {
    expect(await builtIndex({ m: 8, efConstruction: 100 }, 'hnsw-given', 7)).toMatch(
      /WITH \(m='8', ef_construction='100'\)/,
    );
  });

  it('builds the index with a list of at least 2·m when efConstruction is not given', async () => {
    // pgvector refuses an index whose ef_construction is under 2·m: 64 would fail for m = 40.
    expect(await builtIndex({ m: 40 }, 'hnsw-m40', 6)).toMatch(/WITH \(m='40', ef_construction='80'\)/);
  });

  it('refuses HNSW without pgvector, and bad index options, naming the field', async () => {
    const store = new PostgresStore(pglite(plain), { vectors: { index: 'hnsw' } });
    const mem = await createMemory({ store, namespace: 'no-hnsw' });
    await mem.add({ content: 'x', embedding: [1, 0], embeddingModel: 'm' });
    await expect(mem.search('', { vector: [1, 0], model: 'm' })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'vectors.index',
    });
    await mem.close();
    expect(() => new PostgresStore(pglite(plain), { vectors: { index: 'hnsw', hnsw: { m: 1 } } })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', field: 'vectors.hnsw.m' }),
    );
    // pgvector's own upper bounds too: Postgres would refuse the index build or the setting later.
    for (const [hnsw, field] of [
      [{ m: 101 }, 'vectors.hnsw.m'],
      [{ efConstruction: 1001 }, 'vectors.hnsw.efConstruction'],
      [{ efSearch: 1001 }, 'vectors.hnsw.efSearch'],
      [{ efSearch: 0 }, 'vectors.hnsw.efSearch'],
      [{ efConstruction: 3 }, 'vectors.hnsw.efConstruction'],
    ] as const) {
      expect(() => new PostgresStore(pglite(plain), { vectors: { index: 'hnsw', hnsw } }), field).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field }),
      );
    }
    for (const [hnsw, field] of [
      [{ m: 2.5 }, 'vectors.hnsw.m'],
      [{ ef: 10 }, 'vectors.hnsw.ef'],
      ['fast', 'vectors.hnsw'],
    ] as const) {
      expect(
        () => new PostgresStore(pglite(plain), { vectors: { index: 'hnsw', hnsw: hnsw as never } }),
        field,
      ).toThrow(expect.objectContaining({ code: 'VALIDATION', field }));
    }
    // pgvector's bounds themselves are taken.
    for (const hnsw of [
      { m: 2, efConstruction: 4, efSearch: 1 },
      { m: 100, efConstruction: 1000, efSearch: 1000 },
    ]) {
      expect(new PostgresStore(pglite(plain), { vectors: { index: 'hnsw', hnsw } }).kind).toBe('pglite');
    }
    expect(() => new PostgresStore(pglite(plain), { vectors: { index: 'fast' as 'exact' } })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', field: 'vectors.index' }),
    );
    // The in-memory stores' IVF and int8 are not offered by Postgres: refused, naming the field.
    expect(() => new PostgresStore(pglite(plain), { vectors: { quantize: 'int8' } as never })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', field: 'vectors.quantize' }),
    );
    // Arrays are objects to typeof, never options.
    for (const [vectors, field] of [
      [[], 'vectors'],
      [{ index: 'hnsw', hnsw: [] }, 'vectors.hnsw'],
    ] as const) {
      expect(() => new PostgresStore(pglite(plain), { vectors: vectors as never }), field).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field }),
      );
    }
    // A setting left undefined (options spread from a config) takes the default, as an absent one does.
    expect(
      new PostgresStore(pglite(plain), {
        vectors: { index: 'hnsw', hnsw: { m: undefined, efSearch: undefined } },
      }).kind,
    ).toBe('pglite');
    expect(() => new PostgresStore(pglite(plain), { vectors: 'hnsw' as never })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', field: 'vectors' }),
    );
  });
});

describe('Postgres schema step: vector columns', () => {
  it('upgrades a version 4 database that holds embeddings: they are searchable in SQL at once', async () => {
    const db = await PGlite.create({ extensions: { vector } });
    const mem = await createMemory({ store: new PostgresStore(pglite(db)), namespace: 'old' });
    await mem.addMany(items.slice(0, 200));
    const other = await createMemory({ store: new PostgresStore(pglite(db)), namespace: 'old-2' });
    await other.add({ content: 'other namespace', embedding: randomVector(), embeddingModel: 'model-a' });
    await mem.close();
    await other.close();
    // Back to version 4 with the raw library: what a database written before this step looks like.
    await downgradePostgresToVersion4(db);

    const store = new PostgresStore(pglite(db));
    const again = await createMemory({ store, namespace: 'old' });
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM engram_memories WHERE embedding_dims = $1 AND embedding_unit IS NOT NULL',
      [DIMS],
    );
    expect(rows[0]?.n).toBe(201);
    const reference = await createMemory({ store: new InMemoryStore(), namespace: 'old' });
    await reference.addMany(items.slice(0, 200));
    // Opening `again` purged the expired memories (automatic maintenance): the reference does the same.
    await reference.maintain();
    const fallback = vi.spyOn(store, 'vectors');
    for (const [query, options] of cases.slice(0, 10)) {
      expect(await hits(again, query, options)).toEqual(await hits(reference, query, options));
    }
    expect(fallback).not.toHaveBeenCalled();
    await again.close();
    await db.close();
  }, 60_000);

  it('keeps to real[] when pgvector lives in a schema off the search path, and still ranks in SQL', async () => {
    const db = await PGlite.create({ extensions: { vector } });
    await db.exec(`CREATE SCHEMA ext; CREATE EXTENSION vector SCHEMA ext;
      CREATE SCHEMA app; SET search_path TO app;`);
    const store = new PostgresStore(pglite(db));
    const mem = await createMemory({ store, namespace: 'app' });
    const a = await mem.add({ content: 'a', embedding: [1, 0], embeddingModel: 'm' });
    const b = await mem.add({ content: 'b', embedding: [1, 1], embeddingModel: 'm' });
    const { rows } = await db.query<{ type: string }>(
      `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
        WHERE attrelid = 'app.engram_memories'::regclass AND attname = 'embedding_unit'`,
    );
    expect(rows[0]?.type).toBe('real[]');
    const fallback = vi.spyOn(store, 'vectors');
    const found = await mem.search('', { vector: [0, 1], model: 'm' });
    expect(found.map((h) => [h.memory.id, h.score])).toEqual([
      [b.id, 1 / Math.sqrt(2)],
      [a.id, 0],
    ]);
    expect(fallback).not.toHaveBeenCalled();
    await mem.close();
    await db.close();
  });
});
