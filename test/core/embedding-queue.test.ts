import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkVectors, type EmbeddingOptions, embedTexts } from '../../src/core/embedding/embedder.js';
import { EmbeddingQueue } from '../../src/core/embedding/embedding-queue.js';
import { formatHlc, HybridLogicalClock, observeStamps, parseHlc } from '../../src/core/hlc.js';
import { createMemory, type Embedder, EngramError, InMemoryStore } from '../../src/index.js';
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

  it('leaves on open an embedding written with its content (one stamp for both): it describes that content', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'given' });
    const m = await writer.add({ content: 'my own vector', embedding: [1, 0, 0], embeddingModel: 'manual' });
    const [record] = await store.getMemories('given', [m.id]);
    expect(record!.clocks.embedding).toBe(record!.clocks.content);
    const embedder = standInEmbedder();
    const mem = await createMemory({ store, namespace: 'given', embedder });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(mem.status.pendingEmbeddings).toBe(0);
    expect(embedder.calls).toEqual([]);
    expect(await mem.get(m.id)).toMatchObject({ embedding: [1, 0, 0], embeddingModel: 'manual' });
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

  it('stores each vector on its own memory when one of the batch changed while the embedder worked', async () => {
    const embedder = standInEmbedder();
    let release = () => {};
    embedder.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const mem = await createMemory({ embedder });
    const [a, b, c] = await mem.addMany([
      { content: 'alpha words' },
      { content: 'beta words' },
      { content: 'gamma words' },
    ]);
    await vi.waitFor(
      () => expect(embedder.calls).toEqual([['alpha words', 'beta words', 'gamma words']]),
      WAIT,
    );
    await mem.update(b!.id, { content: 'beta rewritten' });
    embedder.hold = null;
    release();
    await vi.waitFor(
      async () => expect((await mem.get(b!.id))?.embedding).toEqual(hashEmbed('beta rewritten', 32)),
      WAIT,
    );
    expect((await mem.get(a!.id))?.embedding).toEqual(hashEmbed('alpha words', 32));
    expect((await mem.get(c!.id))?.embedding).toEqual(hashEmbed('gamma words', 32));
    await mem.close();
  });

  it('gives an embedder call 30 000 ms by default before it fails as OFFLINE', async () => {
    const embedder = standInEmbedder('hung', 2);
    embedder.hold = new Promise(() => {});
    vi.useFakeTimers();
    try {
      const outcome = embedTexts(embedder, ['x']).then(
        () => 'answered',
        (error: EngramError) => `${error.code}: ${error.message}`,
      );
      await vi.advanceTimersByTimeAsync(29_999);
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(await outcome).toBe('OFFLINE: embedder hung: no answer within 30000 ms');
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses an embedder of more than 4096 dimensions when the memory is created, naming the field', async () => {
    await expect(createMemory({ embedder: standInEmbedder('huge', 4097) })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'embedder.dims',
    });
    const mem = await createMemory({ embedder: standInEmbedder('largest', 4096) });
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

/** A queue over `store` as an Engram runs it, without the façade, so tests can drive timers and read its counts. */
function queueOver(
  store: InMemoryStore,
  namespace: string,
  embedder: Embedder,
  options: EmbeddingOptions = {},
) {
  const clock = new HybridLogicalClock('queue-test');
  const refusedIds: string[] = [];
  const queue = new EmbeddingQueue({
    store,
    namespace,
    embedder,
    options,
    now: () => new Date().toISOString(),
    stamp: (records) => {
      for (const record of records) observeStamps(clock, record);
      return clock.tick();
    },
    write: async (writes) => {
      await store.apply(namespace, { memories: writes });
    },
    onChange: () => {},
    onRejected: (id) => refusedIds.push(id),
  });
  return { queue, refusedIds };
}

/** Refuses (as a text too long for the model) every text holding "too long"; embeds the others. */
function refusingLong(): ReturnType<typeof standInEmbedder> {
  const embedder = standInEmbedder();
  const embed = embedder.embed;
  embedder.embed = async (texts) => {
    if (texts.some((t) => t.includes('too long'))) {
      embedder.calls.push([...texts]);
      throw new EngramError('PAYLOAD_TOO_LARGE', 'stand-in: input too long for the model');
    }
    return embed(texts);
  };
  return embedder;
}

/**
 * Fails with a plain Error (not an EngramError: a bug in a custom embedder, say) every call holding
 * "crashes it"; embeds the others. Every call is in `calls`.
 */
function crashingOn(): ReturnType<typeof standInEmbedder> {
  const embedder = standInEmbedder();
  const embed = embedder.embed;
  embedder.embed = async (texts) => {
    if (texts.includes('crashes it')) {
      embedder.calls.push([...texts]);
      throw new TypeError('stand-in: tokenizer crashed');
    }
    return embed(texts);
  };
  return embedder;
}

describe('the embedding queue, driven alone', () => {
  it('takes nothing once stopped', async () => {
    const store = new InMemoryStore();
    const m = await (await createMemory({ store, namespace: 'stopped' })).add({ content: 'words' });
    const embedder = standInEmbedder();
    const { queue } = queueOver(store, 'stopped', embedder);
    queue.stop();
    queue.enqueue([m.id]);
    expect(queue.pending).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(embedder.calls).toEqual([]);
  });

  it('writes no vector that arrives after it was stopped', async () => {
    const store = new InMemoryStore();
    const m = await (await createMemory({ store, namespace: 'late' })).add({ content: 'words' });
    const embedder = standInEmbedder();
    let release = () => {};
    embedder.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const writes: string[] = [];
    let batchDone = () => {};
    const settled = new Promise<void>((resolve) => {
      batchDone = resolve;
    });
    const queue = new EmbeddingQueue({
      store,
      namespace: 'late',
      embedder,
      options: {},
      now: () => new Date().toISOString(),
      stamp: () => new HybridLogicalClock('queue-test').tick(),
      write: async (batch) => {
        writes.push(...batch.map((w) => w.id));
        await store.apply('late', { memories: batch });
      },
      // Called once the batch under way is done with, whether it wrote or not.
      onChange: () => {
        if (embedder.calls.length > 0) batchDone();
      },
    });
    queue.enqueue([m.id]);
    await vi.waitFor(() => expect(embedder.calls).toEqual([['words']]), WAIT);
    queue.stop();
    release();
    await settled;
    expect(writes).toEqual([]);
    expect((await store.getMemories('late', [m.id]))[0]?.memory.embedding).toBeUndefined();
  });

  it('does not embed a memory that expired before its turn', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'expired' });
    const gone = await writer.add({
      content: 'gone soon',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    const kept = await writer.add({ content: 'kept' });
    const embedder = standInEmbedder();
    const { queue } = queueOver(store, 'expired', embedder);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 120_000 });
    try {
      queue.enqueue([gone.id, kept.id]);
      await vi.waitFor(() => expect(queue.pending).toBe(0), WAIT);
    } finally {
      vi.useRealTimers();
    }
    expect(embedder.calls).toEqual([['kept']]);
    expect((await store.getMemories('expired', [gone.id]))[0]?.memory.embedding).toBeUndefined();
  });

  it('no longer counts a refused memory as set aside once its embedding arrives from elsewhere', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'elsewhere' });
    const [fine, refused] = await writer.addMany([{ content: 'fine words' }, { content: 'far too long' }]);
    const { queue, refusedIds } = queueOver(store, 'elsewhere', refusingLong());
    queue.enqueue([fine!.id, refused!.id]);
    await vi.waitFor(() => expect(queue.pending).toBe(0), WAIT);
    expect(refusedIds).toEqual([refused!.id]);
    expect(queue.rejected).toBe(1);
    // Another replica's model took the text; its embedding arrives by sync, content unchanged.
    await writer.update(refused!.id, { embedding: [1, 0, 0], embeddingModel: 'other-model' });
    await queue.consider([refused!.id]);
    expect(queue.rejected).toBe(0);
    expect(queue.pending).toBe(0);
  });

  it('a batch that embeds texts again trusts the next lone refusal as the text, not the embedder', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'judge' });
    const first = await writer.addMany([
      { content: 'fine one' },
      { content: 'too long one' },
      { content: 'too long two' },
    ]);
    const embedder = refusingLong();
    const { queue, refusedIds } = queueOver(store, 'judge', embedder, { backoff: { baseMs: 60_000 } });
    queue.enqueue(first.map((m) => m.id));
    await vi.waitFor(() => expect(queue.pending).toBe(0), WAIT);
    // Two refusals in a row, then a batch that goes through: the count of refusals in a row starts again.
    const fine = await writer.addMany([{ content: 'fine two' }, { content: 'fine three' }]);
    queue.enqueue(fine.map((m) => m.id));
    await vi.waitFor(() => expect(queue.pending).toBe(0), WAIT);
    const third = await writer.add({ content: 'too long three' });
    queue.enqueue([third.id]);
    await vi.waitFor(() => expect(queue.pending).toBe(0), WAIT);
    expect(refusedIds).toEqual([first[1]!.id, first[2]!.id, third.id]);
    expect(queue.lastError).toBeUndefined();
    queue.stop();
  });

  it('sets aside no text when a working embedder answers it with a vector of the wrong length', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'shape' });
    const fine = await writer.add({ content: 'fine words' });
    const embedder = standInEmbedder();
    const embed = embedder.embed;
    // A model of another size behind the same id, for some texts: the embedder's fault, not the text's.
    embedder.embed = async (texts) =>
      texts.some((t) => t.includes('odd')) ? texts.map(() => [1, 0]) : embed(texts);
    const { queue, refusedIds } = queueOver(store, 'shape', embedder, { backoff: { baseMs: 60_000 } });
    queue.enqueue([fine.id]);
    await vi.waitFor(() => expect(queue.pending).toBe(0), WAIT);
    const odd = await writer.add({ content: 'odd words' });
    queue.enqueue([odd.id]);
    await vi.waitFor(() => expect(queue.lastError).toMatch(/should have 32 finite numbers, got 2/), WAIT);
    expect(refusedIds).toEqual([]);
    expect(queue.rejected).toBe(0);
    expect(queue.pending).toBe(1);
    queue.stop();
  });

  it('sends 32 texts per embedder call by default', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'batches' });
    const added = await writer.addMany(Array.from({ length: 33 }, (_, i) => ({ content: `memory ${i}` })));
    const embedder = standInEmbedder();
    const { queue } = queueOver(store, 'batches', embedder);
    queue.enqueue(added.map((m) => m.id));
    await vi.waitFor(() => expect(queue.pending).toBe(0), WAIT);
    expect(embedder.calls.map((texts) => texts.length)).toEqual([32, 1]);
    queue.stop();
  });

  it('clears its last error once a batch goes through after an outage', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'recovers' });
    const m = await writer.add({ content: 'words' });
    const embedder = standInEmbedder();
    embedder.failWith = 'stand-in: connection refused';
    const { queue } = queueOver(store, 'recovers', embedder, { backoff: { baseMs: 20, maxMs: 20 } });
    queue.enqueue([m.id]);
    await vi.waitFor(() => expect(queue.lastError).toBe('stand-in: connection refused'), WAIT);
    embedder.failWith = null;
    await vi.waitFor(() => expect(queue.pending).toBe(0), WAIT);
    expect(queue.lastError).toBeUndefined();
    expect((await store.getMemories('recovers', [m.id]))[0]?.memory.embedding).toEqual(
      hashEmbed('words', 32),
    );
    queue.stop();
  });

  it('asks again for a refused memory once its content changes, no longer counting it set aside', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'rewritten' });
    const [fine, long] = await writer.addMany([{ content: 'fine words' }, { content: 'far too long' }]);
    const { queue, refusedIds } = queueOver(store, 'rewritten', refusingLong());
    queue.enqueue([fine!.id, long!.id]);
    await vi.waitFor(() => expect(queue.pending).toBe(0), WAIT);
    expect(refusedIds).toEqual([long!.id]);
    expect(queue.rejected).toBe(1);
    await writer.update(long!.id, { content: 'short now' });
    queue.enqueue([long!.id]);
    await vi.waitFor(() => expect(queue.pending).toBe(0), WAIT);
    const [record] = await store.getMemories('rewritten', [long!.id]);
    expect(record?.memory.embedding).toEqual(hashEmbed('short now', 32));
    expect(queue.rejected).toBe(0);
    queue.stop();
  });

  it('backs off at once when the embedder is down, trying no text of the batch alone', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'down' });
    const added = await writer.addMany([{ content: 'first' }, { content: 'second' }]);
    const embedder = standInEmbedder();
    embedder.failWith = new EngramError('OFFLINE', 'stand-in: unreachable');
    const { queue } = queueOver(store, 'down', embedder, { backoff: { baseMs: 60_000 } });
    queue.enqueue(added.map((m) => m.id));
    await vi.waitFor(() => expect(queue.lastError).toBe('stand-in: unreachable'), WAIT);
    expect(embedder.calls).toEqual([['first', 'second']]);
    expect(queue.pending).toBe(2);
    queue.stop();
  });

  it('a text failing for an unknown reason holds up no other text of its batch', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'unknown' });
    const added = await writer.addMany([
      { content: 'fine a' },
      { content: 'crashes it' },
      { content: 'fine b' },
    ]);
    const embedder = crashingOn();
    const { queue, refusedIds } = queueOver(store, 'unknown', embedder, { backoff: { baseMs: 60_000 } });
    queue.enqueue(added.map((m) => m.id));
    await vi.waitFor(() => expect(queue.pending).toBe(1), WAIT);
    const embedded = await store.getMemories('unknown', [added[0]!.id, added[2]!.id]);
    expect(embedded.map((r) => r.memory.embedding)).toEqual([
      hashEmbed('fine a', 32),
      hashEmbed('fine b', 32),
    ]);
    expect(queue.lastError).toBe('stand-in: tokenizer crashed');
    expect(refusedIds).toEqual([]);
    queue.stop();
  });

  it('backs off when the first text tried alone fails for an unknown reason, trying no more of them', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'first-unknown' });
    const added = await writer.addMany([
      { content: 'crashes it' },
      { content: 'fine a' },
      { content: 'fine b' },
    ]);
    const embedder = crashingOn();
    const { queue } = queueOver(store, 'first-unknown', embedder, { backoff: { baseMs: 60_000 } });
    queue.enqueue(added.map((m) => m.id));
    await vi.waitFor(() => expect(queue.lastError).toBe('stand-in: tokenizer crashed'), WAIT);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(embedder.calls).toEqual([['crashes it', 'fine a', 'fine b'], ['crashes it']]);
    expect(queue.pending).toBe(3);
    queue.stop();
  });

  it('tries no more texts alone once stopped', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'stop-alone' });
    const added = await writer.addMany([
      { content: 'too long a' },
      { content: 'fine b' },
      { content: 'fine c' },
    ]);
    const embedder = refusingLong();
    const embed = embedder.embed;
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const texts: string[][] = [];
    embedder.embed = async (batch) => {
      texts.push(batch);
      if (batch.length === 1) await held;
      return embed(batch);
    };
    const { queue } = queueOver(store, 'stop-alone', embedder);
    queue.enqueue(added.map((m) => m.id));
    await vi.waitFor(() => expect(texts).toHaveLength(2), WAIT);
    queue.stop();
    release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(texts).toEqual([['too long a', 'fine b', 'fine c'], ['too long a']]);
  });

  it('sends a lone text that failed to the back: after the backoff the next one goes first', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'to-back' });
    const [bad, good] = await writer.addMany([{ content: 'crashes it' }, { content: 'fine words' }]);
    const embedder = crashingOn();
    const { queue } = queueOver(store, 'to-back', embedder, {
      batchSize: 1,
      backoff: { baseMs: 20, maxMs: 20 },
    });
    queue.enqueue([bad!.id, good!.id]);
    await vi.waitFor(async () => {
      const [record] = await store.getMemories('to-back', [good!.id]);
      expect(record?.memory.embedding).toEqual(hashEmbed('fine words', 32));
    }, WAIT);
    expect(queue.pending).toBe(1);
    queue.stop();
  });

  it('does not set aside a lone memory an embedder refuses before it embedded anything', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'lone' });
    const m = await writer.add({ content: 'any text at all' });
    // Refuses every text, as an API does for a bad model parameter (HTTP 400), until it is fixed.
    let broken = true;
    const embedder = standInEmbedder();
    const embed = embedder.embed;
    embedder.embed = async (texts) => {
      if (broken) throw new EngramError('VALIDATION', 'stand-in: HTTP 400 invalid dimensions');
      return embed(texts);
    };
    const { queue, refusedIds } = queueOver(store, 'lone', embedder, { backoff: { baseMs: 20, maxMs: 20 } });
    queue.enqueue([m.id]);
    await vi.waitFor(() => expect(queue.lastError).toContain('invalid dimensions'), WAIT);
    expect(refusedIds).toEqual([]);
    expect(queue.pending).toBe(1);
    broken = false;
    await vi.waitFor(() => expect(queue.pending).toBe(0), WAIT);
    expect((await store.getMemories('lone', [m.id]))[0]?.memory.embedding).toEqual(
      hashEmbed('any text at all', 32),
    );
    queue.stop();
  });

  it('after an outage, trusts no lone refusal until a text embeds again', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'outage' });
    const first = await writer.addMany([
      { content: 'fine one' },
      { content: 'too long one' },
      { content: 'too long two' },
    ]);
    let down = false;
    const calls: Array<{ texts: string[]; down: boolean }> = [];
    const embedder = refusingLong();
    const embed = embedder.embed;
    embedder.embed = async (texts) => {
      calls.push({ texts, down });
      if (down) throw new EngramError('OFFLINE', 'stand-in: unreachable');
      return embed(texts);
    };
    const { queue, refusedIds } = queueOver(store, 'outage', embedder, {
      backoff: { baseMs: 20, maxMs: 20 },
    });
    queue.enqueue(first.map((m) => m.id));
    await vi.waitFor(() => expect(queue.pending).toBe(0), WAIT);
    // Two refusals in a row, trusted as the texts' own (the embedder embeds others), then an outage.
    expect(refusedIds).toEqual([first[1]!.id, first[2]!.id]);
    down = true;
    const next = await writer.addMany([
      { content: 'too long three' },
      { content: 'fine c' },
      { content: 'fine d' },
    ]);
    queue.enqueue(next.map((m) => m.id));
    await vi.waitFor(() => expect(queue.lastError).toBe('stand-in: unreachable'), WAIT);
    down = false;
    await vi.waitFor(() => expect(queue.pending).toBe(0), WAIT);
    const after = calls.slice(calls.map((c) => c.down).lastIndexOf(true) + 1).map((c) => c.texts);
    // The refusal right after the outage is not trusted (nor counted with those before it): the others
    // go first, and once they embedded, the text alone again is set aside.
    expect(after).toEqual([
      ['too long three', 'fine c', 'fine d'],
      ['too long three'],
      ['fine c'],
      ['fine d'],
      ['too long three'],
    ]);
    expect(refusedIds).toEqual([first[1]!.id, first[2]!.id, next[0]!.id]);
    queue.stop();
  });

  it('waits out its backoff when more memories are written: a failing embedder is not called per write', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'waits' });
    const embedder = standInEmbedder();
    embedder.failWith = 'stand-in: rate limited';
    const { queue } = queueOver(store, 'waits', embedder, { backoff: { baseMs: 60_000 } });
    queue.enqueue([(await writer.add({ content: 'first' })).id]);
    await vi.waitFor(() => expect(queue.lastError).toBe('stand-in: rate limited'), WAIT);
    const calls = embedder.calls.length;
    for (const content of ['second', 'third']) queue.enqueue([(await writer.add({ content })).id]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(embedder.calls.length).toBe(calls);
    expect(queue.pending).toBe(3);
    queue.stop();
  });

  it('leaves no timer behind once the embedder answered', async () => {
    vi.useFakeTimers();
    try {
      expect(await embedTexts(standInEmbedder('m', 2), ['x'], 1000)).toEqual([hashEmbed('x', 2)]);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('backs off when no text of a batch went through, before trying them again', async () => {
    const store = new InMemoryStore();
    const writer = await createMemory({ store, namespace: 'none' });
    const added = await writer.addMany([{ content: 'too long a' }, { content: 'too long b' }]);
    // Nothing embedded yet: a refusal may be the embedder's, so neither is set aside.
    const embedder = refusingLong();
    const { queue } = queueOver(store, 'none', embedder, { backoff: { baseMs: 60_000 } });
    queue.enqueue(added.map((m) => m.id));
    await vi.waitFor(() => expect(queue.lastError).toContain('too long'), WAIT);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(embedder.calls).toEqual([['too long a', 'too long b'], ['too long a'], ['too long b']]);
    expect(queue.pending).toBe(2);
    expect(queue.rejected).toBe(0);
    queue.stop();
  });

  describe('backoff', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /** The times (fake ms) of each call of an embedder failing while `failing()` says so. */
    async function failingQueue(options: EmbeddingOptions, failing: () => boolean) {
      const store = new InMemoryStore();
      const writer = await createMemory({ store, namespace: 'backoff' });
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const embedder = standInEmbedder();
      const embed = embedder.embed;
      const times: number[] = [];
      embedder.embed = async (texts) => {
        times.push(Date.now());
        if (failing()) throw new Error('stand-in: connection reset');
        return embed(texts);
      };
      const { queue } = queueOver(store, 'backoff', embedder, options);
      const add = async (content: string) => queue.enqueue([(await writer.add({ content })).id]);
      return { queue, times, add };
    }

    const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

    it('waits at most maxMs between tries however many failed', async () => {
      const { queue, times, add } = await failingQueue({ backoff: { baseMs: 100, maxMs: 200 } }, () => true);
      await add('never embedded');
      await vi.advanceTimersByTimeAsync(2_000);
      queue.stop();
      expect(times.length).toBeGreaterThanOrEqual(10);
      for (const gap of gaps(times)) expect(gap).toBeLessThanOrEqual(200);
    });

    it('waits from 1 s, doubling, up to a minute by default (half of it at least, jittered)', async () => {
      const { queue, times, add } = await failingQueue({}, () => true);
      await add('never embedded');
      await vi.advanceTimersByTimeAsync(300_000);
      queue.stop();
      const waits = gaps(times);
      expect(waits.length).toBeGreaterThanOrEqual(8);
      for (const [i, wait] of waits.entries()) {
        const ceiling = Math.min(60_000, 1000 * 2 ** i);
        expect(wait, `wait ${i}`).toBeGreaterThanOrEqual(ceiling / 2);
        expect(wait, `wait ${i}`).toBeLessThanOrEqual(ceiling);
      }
    });

    it('jitters each wait down to half its ceiling, so replicas failing together spread out', async () => {
      const { queue, times, add } = await failingQueue({ backoff: { baseMs: 1000 } }, () => true);
      const random = vi.spyOn(Math, 'random').mockReturnValue(0);
      try {
        await add('never embedded');
        await vi.advanceTimersByTimeAsync(7_500);
        // The lowest draw waits half of each ceiling (1, 2, 4, 8 s): the waits are spread, not fixed.
        expect(gaps(times)).toEqual([500, 1000, 2000, 4000]);
      } finally {
        random.mockRestore();
        queue.stop();
      }
    });

    it('starts again from baseMs after a batch goes through', async () => {
      let failing = true;
      const { queue, times, add } = await failingQueue(
        { backoff: { baseMs: 100, maxMs: 100_000 } },
        () => failing,
      );
      await add('first');
      // Five failures: the next wait would be up to 1.6 s.
      await vi.advanceTimersByTimeAsync(1_600);
      expect(times.length).toBe(5);
      failing = false;
      await vi.advanceTimersByTimeAsync(1_600);
      expect(queue.pending).toBe(0);
      failing = true;
      await add('second');
      await vi.advanceTimersByTimeAsync(100);
      queue.stop();
      const afterSuccess = times.slice(6);
      expect(afterSuccess).toHaveLength(2);
      expect(afterSuccess[1]! - afterSuccess[0]!).toBeLessThanOrEqual(100);
    });
  });
});
