import { describe, expect, it, vi } from 'vitest';
import { createMemory, type Engram, EngramError, type Memory, type WarningEvent } from '../../src/index.js';
import { expectError, freshNamespace, ids, type SuiteContext } from './harness.js';
import { hashEmbed, standInEmbedder } from './stand-in-embedder.js';

const FAST = { backoff: { baseMs: 5, maxMs: 20 } };
/** A backoff long enough to count the calls of one round before the next starts (at least 200 ms). */
const ONE_ROUND = { backoff: { baseMs: 400, maxMs: 400 } };
const WAIT = { timeout: 10_000, interval: 20 };

async function embedded(mem: Engram, id: string, model: string): Promise<Memory> {
  return vi.waitFor(async () => {
    const memory = await mem.get(id);
    expect(memory?.embeddingModel).toBe(model);
    expect(memory?.embedding).toBeDefined();
    return memory!;
  }, WAIT);
}

/** Embeddings built in: every store keeps `embeddingModel`, and the façade's queue behaves the same on all. */
export function embeddingCases(ctx: SuiteContext): void {
  describe('embeddings built in', () => {
    const memoryWith = (embedder: ReturnType<typeof standInEmbedder>, namespace = freshNamespace('emb')) =>
      createMemory({ store: ctx.store(), namespace, embedder, embedding: FAST });

    it('embeds added content in batches and records the model; an explicit embedding is kept', async () => {
      const embedder = standInEmbedder();
      const mem = await memoryWith(embedder);
      const added = await mem.addMany([
        { content: 'penguins live in the antarctic' },
        { content: 'coffee beans from ethiopia' },
        { content: 'hand made vector', embedding: [1, 0, 0], embeddingModel: 'manual' },
      ]);
      const first = await embedded(mem, added[0]!.id, 'stand-in-a');
      expect(first.embedding).toEqual(hashEmbed('penguins live in the antarctic', 32));
      await embedded(mem, added[1]!.id, 'stand-in-a');
      expect(embedder.calls).toEqual([['penguins live in the antarctic', 'coffee beans from ethiopia']]);
      const manual = await mem.get(added[2]!.id);
      expect(manual?.embedding).toEqual([1, 0, 0]);
      expect(manual?.embeddingModel).toBe('manual');
      await vi.waitFor(() => expect(mem.status.pendingEmbeddings).toBe(0), WAIT);
    });

    it("the store's vectors come in pages of the ids after the one given, each once", async () => {
      const mem = await ctx.memory();
      const store = ctx.store();
      if (!store.vectors) return;
      const made = ['a', 'b', 'c', 'd', 'e'];
      await mem.addMany(
        made.map((id, i) => ({ id, content: id, embedding: [i, 1], embeddingModel: 'manual' })),
      );
      const seen: string[] = [];
      for (let after: string | null = null, pages = 0; pages < 10; pages++) {
        const page = await store.vectors(mem.namespace, after, 2);
        seen.push(...page.map((entry) => entry.id));
        if (page.length < 2) break;
        after = page.at(-1)!.id;
      }
      expect(seen).toEqual(made);
    });

    it('re-embeds when the content changes, not when other fields do', async () => {
      const embedder = standInEmbedder();
      const mem = await memoryWith(embedder);
      const m = await mem.add({ content: 'old words here' });
      await embedded(mem, m.id, 'stand-in-a');
      const updated = await mem.update(m.id, { content: 'brand new sentence' });
      // The stale vector is cleared at once, so it is never searched as if it described the new text.
      expect(updated.embedding).toBeUndefined();
      await vi.waitFor(async () => {
        expect((await mem.get(m.id))?.embedding).toEqual(hashEmbed('brand new sentence', 32));
      }, WAIT);
      const calls = embedder.calls.length;
      await mem.update(m.id, { tags: ['x'] });
      await mem.update(m.id, { content: 'brand new sentence' });
      expect((await mem.get(m.id))?.embedding).toEqual(hashEmbed('brand new sentence', 32));
      expect(mem.status.pendingEmbeddings).toBe(0);
      expect(embedder.calls.length).toBe(calls);
    });

    it('a failing or hanging embedder never fails or blocks a write; the embedding comes later', async () => {
      const embedder = standInEmbedder();
      let release!: () => void;
      embedder.hold = new Promise((resolve) => {
        release = resolve;
      });
      embedder.failWith = 'connect ECONNREFUSED';
      const mem = await memoryWith(embedder);
      const started = Date.now();
      const m = await mem.add({ content: 'written while the model is down' });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(ids(await mem.search('model down'))).toEqual([m.id]);
      expect(mem.status.pendingEmbeddings).toBe(1);
      release();
      embedder.hold = null;
      await vi.waitFor(() => expect(mem.status.embeddingError).toContain('ECONNREFUSED'), WAIT);
      expect(mem.status.pendingEmbeddings).toBe(1);
      expect((await mem.get(m.id))?.embedding).toBeUndefined();
      embedder.failWith = null;
      await embedded(mem, m.id, 'stand-in-a');
      await vi.waitFor(() => expect(mem.status.pendingEmbeddings).toBe(0), WAIT);
      expect(mem.status.embeddingError).toBeUndefined();
    });

    it('pending embeddings survive a reload: a new session finds and embeds them', async () => {
      const namespace = freshNamespace('emb-reload');
      const persistent = ctx.options.capabilities?.persistent === true;
      let store = persistent ? await ctx.options.create() : ctx.store();
      const down = standInEmbedder();
      down.hold = new Promise(() => {});
      const before = await createMemory({ store, namespace, embedder: down, embedding: FAST });
      const m = await before.add({ content: 'remember me after a reload' });
      if (persistent) {
        await before.close();
        store = await ctx.options.reopen!(store);
      }
      const up = standInEmbedder();
      const after = await createMemory({ store, namespace, embedder: up, embedding: FAST });
      const memory = await embedded(after, m.id, 'stand-in-a');
      expect(memory.embedding).toEqual(hashEmbed('remember me after a reload', 32));
      expect(up.calls).toEqual([['remember me after a reload']]);
      if (persistent) await after.close();
    });

    it('compares only embeddings of the query model and reports the others', async () => {
      const a = standInEmbedder('model-a');
      const namespace = freshNamespace('emb-models');
      const memA = await createMemory({ store: ctx.store(), namespace, embedder: a, embedding: FAST });
      const old = await memA.add({ content: 'solar panels on the roof' });
      await embedded(memA, old.id, 'model-a');
      const b = standInEmbedder('model-b');
      const memB = await createMemory({ store: ctx.store(), namespace, embedder: b, embedding: FAST });
      const fresh = await memB.add({ content: 'solar power for the house' });
      await embedded(memB, fresh.id, 'model-b');
      const warnings: WarningEvent[] = [];
      memB.on('warning', (w) => warnings.push(w));
      expect(ids(await memB.search('solar', { mode: 'vector' }))).toEqual([fresh.id]);
      expect(warnings).toEqual([expect.objectContaining({ code: 'EMBEDDING_MODEL_MISMATCH', count: 1 })]);
      const explicit = await memB.search('', { vector: hashEmbed('solar', 32), model: 'model-a' });
      expect(ids(explicit)).toEqual([old.id]);
      // reembed moves the old memory to model-b; then nothing is skipped.
      const progress: number[] = [];
      const result = await memB.reembed({ onProgress: (p) => progress.push(p.done) });
      expect(result).toEqual({ embedded: 1, skipped: 1 });
      expect(progress).toEqual([0, 1]);
      expect((await memB.get(old.id))?.embeddingModel).toBe('model-b');
      expect(ids(await memB.search('solar', { mode: 'vector' })).sort()).toEqual([old.id, fresh.id].sort());
      expect(warnings).toHaveLength(2);
      expect(await memB.reembed()).toEqual({ embedded: 0, skipped: 2 });
      // Two memories, two embedders, a re-embed and five searches: many round trips on remote stores.
    }, 60_000);

    it('reembed moves embeddings of the same model id but another length, which vector search skips', async () => {
      const namespace = freshNamespace('emb-dims');
      const before = await createMemory({
        store: ctx.store(),
        namespace,
        embedder: standInEmbedder('model-a', 16),
        embedding: FAST,
      });
      const old = await before.add({ content: 'solar panels on the roof' });
      await embedded(before, old.id, 'model-a');
      // The same model asked for another `dimensions`: its old vectors are skipped, and reembed says so.
      const mem = await createMemory({
        store: ctx.store(),
        namespace,
        embedder: standInEmbedder('model-a', 32),
        embedding: FAST,
      });
      const fresh = await mem.add({ content: 'solar power for the house' });
      await embedded(mem, fresh.id, 'model-a');
      const warnings: WarningEvent[] = [];
      mem.on('warning', (w) => warnings.push(w));
      expect(ids(await mem.search('solar', { mode: 'vector' }))).toEqual([fresh.id]);
      expect(warnings).toEqual([expect.objectContaining({ code: 'EMBEDDING_MODEL_MISMATCH', count: 1 })]);
      expect(await mem.reembed()).toEqual({ embedded: 1, skipped: 1 });
      expect((await mem.get(old.id))?.embedding).toHaveLength(32);
      expect(ids(await mem.search('solar', { mode: 'vector' })).sort()).toEqual([old.id, fresh.id].sort());
      expect(warnings).toHaveLength(1);
      expect(await mem.reembed()).toEqual({ embedded: 0, skipped: 2 });
    }, 60_000);

    it('embeds the query for vector search when no vector is given', async () => {
      const mem = await memoryWith(standInEmbedder());
      const [, coffee] = await mem.addMany([
        { content: 'the cat sleeps on the sofa' },
        { content: 'espresso coffee with milk' },
        { content: 'trains leave from platform nine' },
      ]);
      await vi.waitFor(() => expect(mem.status.pendingEmbeddings).toBe(0), WAIT);
      const hits = await mem.search('coffee espresso', { mode: 'vector', limit: 1 });
      expect(ids(hits)).toEqual([coffee!.id]);
      expect(hits[0]!.score).toBeGreaterThan(0.5);
    });

    it('a blank query has nothing to embed: VALIDATION naming query, in every mode, and no embedder call', async () => {
      const embedder = standInEmbedder();
      const mem = await memoryWith(embedder);
      await mem.add({ content: 'espresso coffee with milk' });
      await vi.waitFor(() => expect(mem.status.pendingEmbeddings).toBe(0), WAIT);
      const calls = embedder.calls.length;
      for (const mode of ['text', 'vector', 'hybrid'] as const) {
        for (const query of ['', '  ']) await expectError(mem.search(query, { mode }), 'VALIDATION', 'query');
      }
      expect(embedder.calls.length).toBe(calls);
    });

    it('hybrid search fuses text and vector ranks the same way on every store', async () => {
      const mem = await memoryWith(standInEmbedder());
      const [both, textOnly] = await mem.addMany([
        { content: 'garden tomatoes ripen in august' },
        { content: 'tomatoes' },
        { content: 'garden august ripen' },
      ]);
      await vi.waitFor(() => expect(mem.status.pendingEmbeddings).toBe(0), WAIT);
      const hits = await mem.search('garden tomatoes ripen in august', { mode: 'hybrid' });
      // First in both lists: reciprocal rank fusion (k = 1) gives 1/2 + 1/2.
      expect(hits[0]!.memory.id).toBe(both!.id);
      expect(hits[0]!.score).toBeCloseTo(1, 12);
      expect(ids(hits)).toContain(textOnly!.id);
      expect(hits).toHaveLength(3);
    });

    it('supersede embeds the memory it adds, unless it brings its own embedding', async () => {
      const embedder = standInEmbedder();
      const mem = await memoryWith(embedder);
      const old = await mem.add({ content: 'lives in berlin' });
      await embedded(mem, old.id, 'stand-in-a');
      const next = await mem.supersede(old.id, { content: 'lives in lisbon' });
      const memory = await embedded(mem, next.id, 'stand-in-a');
      expect(memory.embedding).toEqual(hashEmbed('lives in lisbon', 32));
      const own = await mem.supersede(next.id, { content: 'lives in porto', embedding: [1, 2, 3] });
      await vi.waitFor(() => expect(mem.status.pendingEmbeddings).toBe(0), WAIT);
      expect((await mem.get(own.id))?.embedding).toEqual([1, 2, 3]);
      expect(embedder.calls.flat()).not.toContain('lives in porto');
    });

    it('the reload scan and reembed reach memories not valid now: future, superseded, past', async () => {
      const namespace = freshNamespace('emb-validity');
      const persistent = ctx.options.capabilities?.persistent === true;
      let store = persistent ? await ctx.options.create() : ctx.store();
      const down = standInEmbedder();
      down.hold = new Promise(() => {});
      const before = await createMemory({ store, namespace, embedder: down, embedding: FAST });
      const future = await before.add({ content: 'starts next year', validFrom: '2999-01-01T00:00:00.000Z' });
      const past = await before.add({
        content: 'ended long ago',
        validFrom: '2001-01-01T00:00:00.000Z',
        validTo: '2002-01-01T00:00:00.000Z',
      });
      const replaced = await before.add({ content: 'the old fact' });
      await before.supersede(replaced.id, { content: 'the new fact' });
      if (persistent) {
        await before.close();
        store = await ctx.options.reopen!(store);
      }
      const after = await createMemory({ store, namespace, embedder: standInEmbedder(), embedding: FAST });
      for (const m of [future, past, replaced]) await embedded(after, m.id, 'stand-in-a');
      // reembed moves them to another model as well.
      const result = await after.reembed({ embedder: standInEmbedder('stand-in-b') });
      expect(result).toEqual({ embedded: 4, skipped: 0 });
      for (const m of [future, past, replaced]) {
        expect((await after.get(m.id))?.embeddingModel).toBe('stand-in-b');
      }
      if (persistent) await after.close();
    }, 30_000);

    it('a text the embedder refuses is set aside and reported; the others are embedded', async () => {
      // Refuses like openAIEmbedder does for an HTTP 413 (a 400 is VALIDATION): the text, not the service.
      const refusing = (id: string) => {
        const embedder = standInEmbedder(id);
        const embed = embedder.embed;
        embedder.embed = async (texts) => {
          if (texts.some((t) => t.includes('too long'))) {
            throw new EngramError('PAYLOAD_TOO_LARGE', 'stand-in: input too long for the model');
          }
          return embed(texts);
        };
        return embedder;
      };
      const embedder = refusing('stand-in-a');
      const mem = await memoryWith(embedder);
      const warnings: WarningEvent[] = [];
      mem.on('warning', (w) => warnings.push(w));
      const refused = await mem.add({ content: 'this one is too long' });
      const others = await mem.addMany([{ content: 'short one' }, { content: 'short two' }]);
      for (const m of others) await embedded(mem, m.id, 'stand-in-a');
      await vi.waitFor(() => expect(mem.status.pendingEmbeddings).toBe(0), WAIT);
      expect(mem.status.rejectedEmbeddings).toBe(1);
      expect(mem.status.embeddingError).toBeUndefined();
      expect(warnings).toEqual([
        expect.objectContaining({ code: 'EMBEDDING_FAILED', message: expect.stringContaining(refused.id) }),
      ]);
      // Not asked again for the same content version; a new content version is.
      const calls = embedder.calls.length;
      await mem.update(refused.id, { embedding: null });
      await vi.waitFor(() => expect(mem.status.pendingEmbeddings).toBe(0), WAIT);
      expect(embedder.calls.length).toBe(calls);
      await mem.update(refused.id, { content: 'shortened now' });
      await embedded(mem, refused.id, 'stand-in-a');
      expect(mem.status.rejectedEmbeddings).toBeUndefined();
      // reembed reports a refused memory instead of failing the whole run.
      const again = await mem.add({ content: 'again too long' });
      const result = await mem.reembed({ embedder: refusing('stand-in-b') });
      expect(result).toEqual({
        embedded: 3,
        skipped: 0,
        failed: [{ id: again.id, error: 'stand-in: input too long for the model' }],
      });
    }, 30_000);

    for (const [answer, wrong, message] of [
      [
        'vectors of the wrong length',
        (texts: string[]) => texts.map(() => new Array(8).fill(0.5)),
        /vector 0 should have 4 finite numbers, got 8/,
      ],
      [
        'one vector too few',
        (texts: string[]) => texts.slice(1).map(() => new Array(4).fill(0.5)),
        /expected 32 vectors, got 31/,
      ],
      [
        'nulls for numbers (a NaN once serialised to JSON)',
        (texts: string[]) => texts.map(() => [0.5, null, 0.5, 0.5] as unknown as number[]),
        /vector 0 should have 4 finite numbers, got null at 1/,
      ],
    ] as const) {
      it(`an embedder answering ${answer} is at fault: the queue backs off and sets nothing aside`, async () => {
        // Declares 4 dimensions but is another model (or a broken server): every text fails alike.
        const calls: string[][] = [];
        let broken = true;
        const embedder = {
          id: 'misconfigured',
          dims: 4,
          async embed(texts: string[]) {
            calls.push(texts);
            return broken ? wrong(texts) : texts.map(() => new Array(4).fill(0.5));
          },
        };
        const namespace = freshNamespace('emb-shape');
        const mem = await createMemory({ store: ctx.store(), namespace, embedder, embedding: ONE_ROUND });
        const warnings: WarningEvent[] = [];
        mem.on('warning', (w) => warnings.push(w));
        await mem.addMany(Array.from({ length: 40 }, (_, i) => ({ content: `note ${i}` })));
        await vi.waitFor(() => expect(mem.status.embeddingError).toMatch(message), WAIT);
        // One call, not one per text: nothing is retried alone, nothing set aside.
        expect(calls.map((texts) => texts.length)).toEqual([32]);
        expect(mem.status.pendingEmbeddings).toBe(40);
        expect(mem.status.rejectedEmbeddings).toBeUndefined();
        expect(warnings).toEqual([]);
        await expect(mem.reembed({ embedder: { ...embedder, id: 'other' } })).rejects.toMatchObject({
          code: 'VALIDATION',
          field: 'embedder',
        });
        broken = false;
        await vi.waitFor(() => expect(mem.status.pendingEmbeddings).toBe(0), WAIT);
        expect(mem.status.embeddingError).toBeUndefined();
        expect(mem.status.rejectedEmbeddings).toBeUndefined();
      }, 30_000);
    }

    it('an embedder refusing every request (a bad model parameter) backs off after a few texts alone', async () => {
      // Fails like openAIEmbedder for an HTTP 400 on a bad `dimensions`: VALIDATION, for every text.
      const embedder = standInEmbedder();
      embedder.failWith = new EngramError('VALIDATION', 'stand-in: HTTP 400 invalid dimensions');
      const namespace = freshNamespace('emb-refuse-all');
      const mem = await createMemory({ store: ctx.store(), namespace, embedder, embedding: ONE_ROUND });
      const warnings: WarningEvent[] = [];
      mem.on('warning', (w) => warnings.push(w));
      await mem.addMany(Array.from({ length: 40 }, (_, i) => ({ content: `note ${i}` })));
      await vi.waitFor(() => expect(mem.status.embeddingError).toContain('invalid dimensions'), WAIT);
      // The batch, then three texts alone that all fail: the rest of the batch is not tried.
      expect(embedder.calls.map((texts) => texts.length)).toEqual([32, 1, 1, 1]);
      expect(mem.status.pendingEmbeddings).toBe(40);
      expect(mem.status.rejectedEmbeddings).toBeUndefined();
      expect(warnings).toEqual([]);
      // reembed fails as for an offline embedder, instead of reporting every memory as refused.
      const calls = embedder.calls.length;
      await expect(mem.reembed({ embedder: { ...embedder, id: 'other' } })).rejects.toMatchObject({
        code: 'VALIDATION',
        message: 'stand-in: HTTP 400 invalid dimensions',
      });
      expect(embedder.calls.length - calls).toBeLessThanOrEqual(4);
      embedder.failWith = null;
      await vi.waitFor(() => expect(mem.status.pendingEmbeddings).toBe(0), WAIT);
      expect(mem.status.embeddingError).toBeUndefined();
      expect(mem.status.rejectedEmbeddings).toBeUndefined();
    }, 30_000);

    it('an embedder that never answers: hybrid answers by text, vector rejects, the queue backs off', async () => {
      const embedder = standInEmbedder();
      embedder.hold = new Promise(() => {});
      const mem = await createMemory({
        store: ctx.store(),
        namespace: freshNamespace('emb-hang'),
        embedder,
        embedding: { ...FAST, timeoutMs: 50 },
      });
      const warnings: WarningEvent[] = [];
      mem.on('warning', (w) => warnings.push(w));
      const m = await mem.add({ content: 'hung model' });
      expect(ids(await mem.search('hung', { mode: 'hybrid' }))).toEqual([m.id]);
      expect(warnings.map((w) => w.code)).toEqual(['EMBEDDER_FAILED']);
      expect(await mem.context('hung', { mode: 'hybrid' })).toBe('- hung model');
      await expect(mem.search('hung', { mode: 'vector' })).rejects.toMatchObject({ code: 'OFFLINE' });
      await vi.waitFor(() => expect(mem.status.embeddingError).toMatch(/no answer within 50 ms/), WAIT);
      expect(mem.status.pendingEmbeddings).toBe(1);
      embedder.hold = null;
      await embedded(mem, m.id, 'stand-in-a');
    }, 30_000);

    it('clearing an embedding with an embedder at hand gets a fresh one at once', async () => {
      const mem = await memoryWith(standInEmbedder());
      const m = await mem.add({ content: 'clear me', embedding: [1, 2, 3], embeddingModel: 'manual' });
      const cleared = await mem.update(m.id, { embedding: null });
      expect(cleared.embedding).toBeUndefined();
      const memory = await embedded(mem, m.id, 'stand-in-a');
      expect(memory.embedding).toEqual(hashEmbed('clear me', 32));
    });

    it("a vector given without its model is of an unknown model: the old one's label goes", async () => {
      const mem = await ctx.memory();
      const m = await mem.add({ content: 'hand made', embedding: [1, 0, 0], embeddingModel: 'manual' });
      const updated = await mem.update(m.id, { embedding: [0, 1, 0, 0] });
      expect(updated.embedding).toEqual([0, 1, 0, 0]);
      expect(updated.embeddingModel).toBeUndefined();
      expect((await mem.get(m.id))?.embeddingModel).toBeUndefined();
      const labelled = await mem.update(m.id, { embedding: [0, 0, 1], embeddingModel: 'other' });
      expect(labelled.embeddingModel).toBe('other');
    });

    it('refuses bad embedding options and embedders, naming the field', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ embedding: { batchSize: 0 } }, 'embedding.batchSize'],
        [{ embedding: { batchSize: 'lots' } }, 'embedding.batchSize'],
        [{ embedding: { batchSize: 2.5 } }, 'embedding.batchSize'],
        [{ embedding: { backoff: { baseMs: Number.NaN } } }, 'embedding.backoff.baseMs'],
        [{ embedding: { backoff: { maxMs: -1 } } }, 'embedding.backoff.maxMs'],
        [{ embedding: { timeoutMs: 0 } }, 'embedding.timeoutMs'],
        [{ embedder: { ...standInEmbedder(), dims: 5000 } }, 'embedder.dims'],
        [{ embedder: { ...standInEmbedder(), id: 'a\u0000b' } }, 'embedder.id'],
        [{ embedder: { ...standInEmbedder(), id: 'x'.repeat(257) } }, 'embedder.id'],
      ];
      for (const [options, field] of cases) {
        await expect(createMemory({ store: ctx.store(), ...options }), field).rejects.toMatchObject({
          code: 'VALIDATION',
          field,
        });
      }
      const mem = await memoryWith(standInEmbedder());
      await mem.add({ content: 'one' });
      for (const batchSize of [0, -5, 1.5]) {
        await expect(mem.reembed({ batchSize })).rejects.toMatchObject({ field: 'reembed.batchSize' });
      }
      await expect(mem.reembed({ embedder: { ...standInEmbedder(), dims: 5000 } })).rejects.toMatchObject({
        field: 'reembed.embedder.dims',
      });
    });
  });
}
