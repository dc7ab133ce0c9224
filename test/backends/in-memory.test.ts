import { describe, expect, it } from 'vitest';
import { createMemory, EngramError, InMemoryStore } from '../../src/index.js';
import { testStore } from '../conformance/index.js';

testStore({ name: 'InMemoryStore', create: () => new InMemoryStore() });

describe('InMemoryStore extras', () => {
  it('createMemory defaults to an InMemoryStore in the "default" namespace', async () => {
    const mem = await createMemory();
    expect(mem.namespace).toBe('default');
    expect(mem.store).toBeInstanceOf(InMemoryStore);
    await mem.add({ content: 'x' });
    expect((await mem.list()).items).toHaveLength(1);
  });

  it('close closes the store and later calls fail clearly', async () => {
    const mem = await createMemory();
    await mem.close();
    await expect(mem.add({ content: 'x' })).rejects.toBeInstanceOf(EngramError);
    await expect(
      mem.store.list('default', { tagMode: 'any', now: new Date().toISOString(), limit: 1 }),
    ).rejects.toMatchObject({
      code: 'STORAGE',
    });
  });

  it('bad sync options are refused with the field named', async () => {
    await expect(createMemory({ sync: { url: 'ftp://x', token: 't' } })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'sync.url',
    });
    await expect(createMemory({ sync: { url: 'http://x', token: '' } })).rejects.toMatchObject({
      field: 'sync.token',
    });
    // A period past what a timer can wait would fire every millisecond: a pull loop, not "rarely".
    for (const [sync, field] of [
      [{ intervalMs: 2 ** 31 }, 'sync.intervalMs'],
      [{ debounceMs: 1e12 }, 'sync.debounceMs'],
      [{ timeoutMs: Number.MAX_SAFE_INTEGER }, 'sync.timeoutMs'],
      // A timeout of 0 would fail every request before it is sent.
      [{ timeoutMs: 0 }, 'sync.timeoutMs'],
      [{ backoff: { maxMs: 2 ** 40 } }, 'sync.backoff.maxMs'],
      [{ intervalMs: -1 }, 'sync.intervalMs'],
      [{ debounceMs: 1.5 }, 'sync.debounceMs'],
      // A URL with no host, or one inside other text, is no edge to reach.
      [{ url: 'http://' }, 'sync.url'],
      [{ url: 'see https://edge.example' }, 'sync.url'],
      // fetch refuses credentials in a URL: every sync would fail as if the edge were unreachable.
      [{ url: 'https://me:s3cret@edge.example' }, 'sync.url'],
      [{ token: 5 }, 'sync.token'],
      [{ live: 'yes' }, 'sync.live'],
      [{ fetch: 'fetch' }, 'sync.fetch'],
      // Misspelt options, which would otherwise leave the defaults in place without a word.
      [{ backoff: { baseMS: 10 } }, 'sync.backoff.baseMS'],
      [{ intervalMS: 10 }, 'sync.intervalMS'],
    ] as const) {
      await expect(
        createMemory({ sync: { url: 'http://x', token: 't', ...sync } as never }),
        field,
      ).rejects.toMatchObject({ code: 'VALIDATION', field });
    }
    // What the refusal shows of a URL leaves its password out, parsed or not.
    for (const url of [
      'https://me:s3cret@edge.example',
      'ftp://me:s3cret@edge.example',
      'http://me:s3/cret@x',
    ]) {
      const refused = await createMemory({ sync: { url, token: 't' } }).catch((error: Error) => error);
      expect(refused, url).toMatchObject({ code: 'VALIDATION', field: 'sync.url' });
      expect((refused as Error).message, url).not.toMatch(/s3|cret/);
    }
  });

  it('takes sync timers up to the longest a timer waits (2^31 - 1 ms) and an interval of 0', async () => {
    // The documented bound, written out: a test reading MAX_TIMER_MS would move with it.
    const longest = 2_147_483_647;
    for (const sync of [
      { intervalMs: longest, debounceMs: longest, timeoutMs: longest },
      { intervalMs: 0, debounceMs: 0, timeoutMs: 1, backoff: { baseMs: longest, maxMs: longest } },
    ]) {
      const mem = await createMemory({
        sync: { url: 'http://x', token: 't', fetch: (() => new Promise(() => {})) as never, ...sync },
      });
      await mem.close();
    }
  });

  it('sync() without sync configured is a clear VALIDATION error', async () => {
    const mem = await createMemory();
    await expect(mem.sync()).rejects.toMatchObject({ code: 'VALIDATION', field: 'sync' });
  });

  it('keeps search exact through thousands of updates (dead postings swept, documents renumbered)', async () => {
    const churned = await createMemory();
    const fresh = await createMemory();
    const made = await churned.addMany(
      Array.from({ length: 600 }, (_, i) => ({ id: `d${i}`, content: `start ${i % 7}` })),
    );
    for (let round = 0; round < 4; round++) {
      for (const m of made)
        await churned.update(m.id, { content: `round ${round} word${(m.id.length + round) % 5} ${m.id}` });
    }
    await fresh.addMany(
      made.map((m) => ({ id: m.id, content: `round 3 word${(m.id.length + 3) % 5} ${m.id}` })),
    );
    const ranked = async (mem: typeof fresh, query: string) =>
      (await mem.search(query, { limit: 50 })).map((h) => [h.memory.id, h.memory.content, h.score]);
    for (const query of ['round', 'word1', 'word4 d12*', '"round 3"']) {
      expect(await ranked(churned, query), query).toEqual(await ranked(fresh, query));
    }
    expect(await churned.search('start')).toEqual([]);
    expect(await churned.store.textStats!('default')).toEqual(await fresh.store.textStats!('default'));
  });
});

describe('InMemoryStore copies', () => {
  it('hands out records equal to what was written, which callers may change without changing the store', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'copies' });
    const metadata = JSON.parse(
      '{"nested":{"list":[1,{"deep":true},null,"x"]},"n":-0.5,"__proto__":{"kept":"as data"}}',
    );
    const added = await mem.add({ content: 'copied', tags: ['a', 'b'], metadata, embedding: [0.5, -1, 2] });
    const [first] = await mem.store.getMemories('copies', [added.id]);
    expect(first!.memory).toEqual({ ...added });
    expect(Object.keys(first!.memory.metadata)).toEqual(['nested', 'n', '__proto__']);
    expect(Object.getPrototypeOf(first!.memory.metadata)).toBe(Object.prototype);
    first!.memory.tags.push('c');
    const list = (first!.memory.metadata.nested as { list: [number, { deep: boolean }] }).list;
    list[1].deep = false;
    (list as unknown[]).push('more');
    first!.memory.embedding!.push(3);
    first!.clocks.content = 'changed';
    const [second] = await mem.store.getMemories('copies', [added.id]);
    expect(second!.memory.tags).toEqual(['a', 'b']);
    expect(second!.memory.metadata).toEqual(metadata);
    expect(second!.memory.metadata.nested).toEqual({ list: [1, { deep: true }, null, 'x'] });
    expect(second!.memory.embedding).toEqual([0.5, -1, 2]);
    expect(second!.clocks.content).not.toBe('changed');
    await mem.close();
  });
});
