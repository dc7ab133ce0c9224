import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BaseStore,
  type IndexConfig,
  InvalidNamespaceError,
  type Operation,
  InMemoryStore as PeerStore,
} from '@langchain/langgraph-checkpoint';
import { afterAll, describe, expect, it } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory } from '../../src/create-memory.js';
import { EngramStore } from '../../src/langgraph/index.js';
import { CountingEmbeddings, WordEmbeddings } from './fake-embeddings.js';

// LangGraph's own store expectations (libs/checkpoint/src/tests/store.test.ts and the store
// contract of its docs), run against EngramStore.
const dir = mkdtempSync(join(tmpdir(), 'engram-langgraph-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs `scenario` on a new LangGraph InMemoryStore and a new EngramStore of the same options, expects
 * equal results, and returns LangGraph's.
 */
async function sameAsPeer<T>(scenario: (store: BaseStore) => Promise<T>, options?: { index?: IndexConfig }) {
  const theirs = await scenario(new PeerStore(options));
  const ours = new EngramStore(options);
  try {
    expect(await scenario(ours)).toEqual(theirs);
  } finally {
    await ours.close();
  }
  return theirs;
}

describe('EngramStore, the LangGraph BaseStore contract', () => {
  it('is a BaseStore of the caller’s copy of @langchain/langgraph-checkpoint', () => {
    expect(new EngramStore()).toBeInstanceOf(BaseStore);
  });

  it('returns indexConfig exactly as given', () => {
    const index = { dims: 4, embeddings: new CountingEmbeddings(), fields: ['text'] };
    expect(new EngramStore({ index }).indexConfig).toBe(index);
    expect(new EngramStore().indexConfig).toBeUndefined();
  });

  it('get() returns exactly { value, key, namespace, createdAt, updatedAt }, or null', async () => {
    const store = new EngramStore();
    expect(await store.get(['test'], '123')).toBeNull();
    await store.put(['test'], '123', { value: 1 });
    const item = await store.get(['test'], '123');
    expect(item).toEqual({
      value: { value: 1 },
      key: '123',
      namespace: ['test'],
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    expect(Object.keys(item!).sort()).toEqual(['createdAt', 'key', 'namespace', 'updatedAt', 'value']);
    await new Promise((r) => setTimeout(r, 5));
    await store.put(['test'], '123', { value: 2 });
    const updated = await store.get(['test'], '123');
    expect(updated!.value).toEqual({ value: 2 });
    expect(updated!.createdAt).toEqual(item!.createdAt);
    expect(updated!.updatedAt.getTime()).toBeGreaterThan(item!.updatedAt.getTime());
    await store.close();
  });

  it('treats value null in a put as a delete, and delete() removes', async () => {
    const store = new EngramStore();
    await store.put(['test'], 'a', { v: 1 });
    await store.put(['test'], 'b', { v: 2 });
    await store.batch([{ namespace: ['test'], key: 'a', value: null }]);
    expect(await store.get(['test'], 'a')).toBeNull();
    await store.delete(['test'], 'b');
    expect(await store.get(['test'], 'b')).toBeNull();
    expect(await store.search(['test'])).toEqual([]);
    await store.close();
  });

  it('searches in insertion order with filters, limit and offset', async () => {
    const store = new EngramStore();
    await store.put(['test'], '123', { value: 1, color: 'red' });
    await store.put(['test'], '456', { value: 2, color: 'blue' });
    await store.put(['test', 'deeper'], '789', { value: 3, color: 'red' });
    await store.put(['other'], 'x', { value: 4, color: 'red' });
    const all = await store.search(['test']);
    expect(all.map((i) => i.key)).toEqual(['123', '456', '789']);
    expect(all[0]).toMatchObject({ value: { value: 1, color: 'red' }, key: '123', namespace: ['test'] });
    expect((await store.search(['test'], { filter: { color: 'red' } })).map((i) => i.key)).toEqual([
      '123',
      '789',
    ]);
    expect((await store.search([], { filter: { value: { $gte: 2, $lt: 4 } } })).map((i) => i.key)).toEqual([
      '456',
      '789',
    ]);
    expect((await store.search([], { filter: { value: { $in: [1, 4] } } })).map((i) => i.key)).toEqual([
      '123',
      'x',
    ]);
    expect((await store.search([], { filter: { color: { $nin: ['red'] } } })).map((i) => i.key)).toEqual([
      '456',
    ]);
    expect(
      (await store.search([], { filter: { color: { $ne: 'red' }, value: { $gt: 1 } } })).map((i) => i.key),
    ).toEqual(['456']);
    expect((await store.search([], { filter: { value: { $lte: 1 } } })).map((i) => i.key)).toEqual(['123']);
    expect((await store.search([], { filter: { value: { $eq: 3 } } })).map((i) => i.key)).toEqual(['789']);
    expect((await store.search([], { limit: 2, offset: 1 })).map((i) => i.key)).toEqual(['456', '789']);
    await store.close();
  });

  it('returns the first 10 items for a search operation without a limit, as InMemoryStore does', async () => {
    const keys = await sameAsPeer(async (store) => {
      for (let i = 0; i < 12; i++) await store.put(['many'], `k${i}`, { i });
      // A batch's operation, as a host may send it (BaseStore.search fills in a limit of its own).
      const [found] = await store.batch([{ namespacePrefix: ['many'] }]);
      return found!.map((i) => i.key);
    });
    expect(keys).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`));
  });

  it('compares a filter strictly, as InMemoryStore does: $ne "1" keeps the number 1, $ne null a missing field, $nin no list keeps all', async () => {
    const found = async (store: BaseStore) => {
      await store.put(['f'], 'one', { n: 1 });
      await store.put(['f'], 'none', {});
      return [
        (await store.search(['f'], { filter: { n: { $ne: '1' } } })).map((i) => i.key),
        (await store.search(['f'], { filter: { n: { $ne: null } } })).map((i) => i.key),
        // $in and $nin given no list: nothing is in it, everything is not.
        (await store.search(['f'], { filter: { n: { $in: 1 } } })).map((i) => i.key),
        (await store.search(['f'], { filter: { n: { $nin: 1 } } })).map((i) => i.key),
        // An object that is not all operators is a value to equal, as any object is.
        (await store.search(['f'], { filter: { n: { $gte: 0, note: 1 } } })).map((i) => i.key),
      ];
    };
    const theirs = await sameAsPeer(found);
    expect(theirs).toEqual([['one', 'none'], ['one', 'none'], [], ['one', 'none'], []]);
  });

  it('orders strings by their numbers, equals strictly and takes null and [] as InMemoryStore does', async () => {
    const found = async (store: BaseStore) => {
      await store.put(['g'], 'ten', { n: '10' });
      await store.put(['g'], 'one', { n: 1 });
      await store.put(['g'], 'null', { n: null });
      await store.put(['g'], 'none', {});
      const keys = async (filter: Record<string, unknown>) =>
        (await store.search(['g'], { filter })).map((i) => i.key);
      return [
        // '10' > '9' as numbers, not as text.
        await keys({ n: { $gt: '9' } }),
        await keys({ n: { $lt: '9' } }),
        // No loose equality: the string '1' is not the number 1.
        await keys({ n: { $eq: '1' } }),
        await keys({ n: '1' }),
        // null is a value to equal, which a missing field is not.
        await keys({ n: null }),
        // An empty list is an object of no operators: it keeps every item.
        await keys({ n: [] }),
      ];
    };
    const theirs = await sameAsPeer(found);
    // null counts as 0 and a missing field as NaN in the number order.
    expect(theirs).toEqual([['ten'], ['one', 'null'], [], [], ['null'], ['ten', 'one', 'null', 'none']]);
  });

  it('shows a get the new value of a key its batch updates, and null for a key its batch creates', async () => {
    const gets = async (store: BaseStore) => {
      await store.put(['b'], 'old', { v: 1 });
      const results = await store.batch([
        { namespace: ['b'], key: 'old' },
        { namespace: ['b'], key: 'new' },
        { namespace: ['b'], key: 'old', value: { v: 2 } },
        { namespace: ['b'], key: 'new', value: { v: 3 } },
      ]);
      return results.map((r) => (r && 'value' in r ? r.value : r));
    };
    const theirs = await sameAsPeer(gets);
    expect(theirs).toEqual([{ v: 2 }, null, null, null]);
  });

  it('answers a listNamespaces operation without matchConditions with every namespace', async () => {
    const store = new EngramStore();
    await store.put(['b'], 'k', { v: 1 });
    await store.put(['a', 'x'], 'k', { v: 2 });
    expect(await store.batch([{ limit: 10, offset: 0 }])).toEqual([[['a', 'x'], ['b']]]);
    await store.close();
  });

  it('answers a listNamespaces operation without a limit with every namespace, as InMemoryStore does', async () => {
    const listed = await sameAsPeer(async (store) => {
      for (let i = 0; i < 12; i++) await store.put(['ns', `n${i}`], 'k', { i });
      // A raw operation: BaseStore's listNamespaces always gives a limit (100).
      return store.batch([{ matchConditions: [] } as unknown as Operation]);
    });
    expect(listed[0]).toHaveLength(12);
  });

  it('refuses a match condition of no known type, naming it, rather than reading it as a suffix', async () => {
    const store = new EngramStore();
    await store.put(['a', 'b'], 'k', { v: 1 });
    const path = ['a'];
    const op = {
      matchConditions: [
        { matchType: 'prefix', path },
        { matchType: 'contains', path },
      ],
    };
    await expect(store.batch([op as unknown as Operation])).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'batch.0.matchConditions.1.matchType',
      message: 'batch.0.matchConditions.1.matchType: expected "prefix" or "suffix", got "contains"',
    });
    // InMemoryStore refuses it too (once it has a namespace to match).
    const peer = new PeerStore();
    await peer.put(['a', 'b'], 'k', { v: 1 });
    await expect(peer.batch([op as unknown as Operation])).rejects.toThrow(/contains/);
    await store.close();
  });

  it('refuses an operation whose namespace, key, index, paging, query, filter or conditions are malformed, naming the field; the batch writes nothing', async () => {
    const store = new EngramStore();
    await store.put(['a', 'b'], 'k', { v: 1 });
    const refusals: Array<[unknown, string, string]> = [
      [{ namespacePrefix: ['a'], limit: -1 }, 'batch.1.limit', 'a whole number of at least 0, got -1'],
      [{ namespacePrefix: ['a'], offset: '2' }, 'batch.1.offset', 'a whole number of at least 0, got "2"'],
      [{ namespacePrefix: ['a'], limit: 1.5 }, 'batch.1.limit', 'a whole number of at least 0, got 1.5'],
      [{ namespacePrefix: ['a'], query: 5 }, 'batch.1.query', 'a string, got 5'],
      [{ namespacePrefix: ['a'], filter: 'v' }, 'batch.1.filter', 'an object of field conditions, got "v"'],
      [{ namespacePrefix: 'a' }, 'batch.1.namespacePrefix', 'an array of labels, got "a"'],
      [{ limit: 5, maxDepth: 0 }, 'batch.1.maxDepth', 'a whole number of at least 1, got 0'],
      [{ matchConditions: 'a' }, 'batch.1.matchConditions', 'an array of conditions, got "a"'],
      [{ matchConditions: [null] }, 'batch.1.matchConditions.0', 'a condition { matchType, path }, got null'],
      [
        { matchConditions: [{ matchType: 'prefix', path: ['a', 1] }] },
        'batch.1.matchConditions.0.path',
        'an array of labels ("*" for any), got ["a",1]',
      ],
      [
        { matchConditions: [{ matchType: 'suffix' }] },
        'batch.1.matchConditions.0.path',
        'an array of labels ("*" for any), got undefined',
      ],
      // The other kinds of operation: a namespace that is no array, a get's key that is no string (no put
      // can have written it), an index that is neither false nor field paths.
      [{ namespace: 'a', key: 'k' }, 'batch.1.namespace', 'an array of labels, got "a"'],
      [{ namespace: ['a', 'b'], key: 5 }, 'get.key', 'a string, got number 5 (in namespace ["a","b"])'],
      [
        { namespace: ['a', 'b'], key: 'k2', value: { v: 1 }, index: 'v' },
        'put.index',
        'false or an array of field paths for key "k2" in namespace ["a","b"], got "v"',
      ],
      [
        { namespace: ['a', 'b'], key: 'k2', value: { v: 1 }, index: ['v', 1] },
        'put.index',
        'false or an array of field paths for key "k2" in namespace ["a","b"], got ["v",1]',
      ],
    ];
    for (const [op, field, expected] of refusals) {
      const put = { namespace: ['a', 'b'], key: 'new', value: { v: 2 } };
      await expect(store.batch([put, op] as unknown as Operation[]), field).rejects.toMatchObject({
        code: 'VALIDATION',
        field,
        message: `${field}: expected ${expected}`,
      });
      expect(await store.get(['a', 'b'], 'new')).toBeNull();
    }
    await store.batch([
      { namespace: ['a', 'b'], key: 'n', value: { v: 3 }, index: null },
    ] as unknown as Operation[]);
    expect((await store.get(['a', 'b'], 'n'))?.value).toEqual({ v: 3 });
    // Through the public methods too; what they send by default is taken.
    await expect(store.search(['a'], { limit: -1 })).rejects.toMatchObject({ field: 'batch.0.limit' });
    await expect(store.listNamespaces({ maxDepth: 0 })).rejects.toMatchObject({ field: 'batch.0.maxDepth' });
    expect((await store.search(['a'])).map((item) => item.key)).toEqual(['k', 'n']);
    expect(await store.listNamespaces({ prefix: ['a'], suffix: ['*'], maxDepth: 1 })).toEqual([['a']]);
    await store.close();
  });

  it('embeds each indexed field on its own; an item scores by its best field; index: false items last, unscored', async () => {
    const embeddings = new WordEmbeddings(['coffee', 'tea', 'rain']);
    const store = new EngramStore({ index: { dims: 3, embeddings, fields: ['title', 'body'] } });
    await store.put(['docs'], 'both', { title: 'coffee', body: 'tea' });
    await store.put(['docs'], 'tea', { title: 'tea', body: 'tea and tea' });
    await store.put(['docs'], 'plain', { title: 'coffee' }, false);
    await store.put(['docs'], 'rain', { title: 'rain', body: 'more rain' });
    await store.put(['docs'], 'only-body', { title: 'rain', body: 'coffee' }, ['body']);
    const hits = await store.search(['docs'], { query: 'coffee' });
    expect(hits.map((h) => [h.key, h.score])).toEqual([
      ['both', 1],
      ['only-body', 1],
      ['tea', 0],
      ['rain', 0],
      ['plain', undefined],
    ]);
    // Without a query nothing is scored, and order is insertion order.
    const unranked = await store.search(['docs']);
    expect(unranked.map((h) => h.key)).toEqual(['both', 'tea', 'plain', 'rain', 'only-body']);
    expect(unranked.every((h) => h.score === undefined)).toBe(true);
    await store.close();
  });

  it('fills a page with unscored items only up to its limit, as InMemoryStore does', async () => {
    const index = { dims: 2, embeddings: new WordEmbeddings(['coffee', 'tea']), fields: ['text'] };
    const pages = async (store: BaseStore) => {
      await store.put(['n'], 'scored', { text: 'coffee' });
      for (const key of ['u1', 'u2', 'u3']) await store.put(['n'], key, { text: 'tea' }, false);
      const page = async (limit: number, offset = 0) =>
        (await store.search(['n'], { query: 'coffee', limit, offset })).map((h) => [h.key, h.score]);
      return [await page(2), await page(3), await page(2, 1)];
    };
    const theirs = await sameAsPeer(pages, { index });
    expect(theirs[0]).toEqual([
      ['scored', 1],
      ['u1', undefined],
    ]);
  });

  it('pages a query’s results from one ranking, scored then unscored, offset counting both', async () => {
    // As LangGraph's InMemoryStore on its main branch (its vector-pagination tests); the released 1.2.2
    // filled every page past the scored items with the unscored ones from the first.
    const index = { dims: 2, embeddings: new WordEmbeddings(['coffee', 'tea']), fields: ['text'] };
    const store = new EngramStore({ index });
    await store.put(['n'], 'u1', { text: 'coffee' }, false);
    await store.put(['n'], 'coffee', { text: 'coffee', multi: 'x' });
    await store.put(['n'], 'u2', { text: 'coffee' }, false);
    await store.put(['n'], 'tea', { text: 'tea' });
    await store.put(['n'], 'u3', { text: 'coffee' }, false);
    const page = async (offset: number, limit: number) =>
      (await store.search(['n'], { query: 'coffee', offset, limit })).map((h) => [h.key, h.score]);
    expect(await page(0, 2)).toEqual([
      ['coffee', 1],
      ['tea', 0],
    ]);
    expect(await page(1, 2)).toEqual([
      ['tea', 0],
      ['u1', undefined],
    ]);
    expect(await page(3, 2)).toEqual([
      ['u2', undefined],
      ['u3', undefined],
    ]);
    expect(await page(4, 5)).toEqual([['u3', undefined]]);
    expect(await page(5, 2)).toEqual([]);
    expect(await page(1, 0)).toEqual([]);
    // A filter applies before the offset counts.
    const filtered = await store.search(['n'], { query: 'coffee', filter: { text: 'coffee' }, offset: 2 });
    expect(filtered.map((h) => h.key)).toEqual(['u2', 'u3']);
    await store.close();
  });

  it('scores 0 against an embedding of no length, as InMemoryStore does', async () => {
    const index = { dims: 2, embeddings: new WordEmbeddings(['coffee', 'tea']), fields: ['text'] };
    const scores = async (store: BaseStore) => {
      await store.put(['z'], 'coffee', { text: 'coffee' });
      // No known word: its embedding is all zeros.
      await store.put(['z'], 'blank', { text: 'nothing' });
      const hits = async (query: string) =>
        (await store.search(['z'], { query })).map((h) => [h.key, h.score]);
      return [await hits('coffee'), await hits('nothing known')];
    };
    const theirs = await sameAsPeer(scores, { index });
    expect(theirs).toEqual([
      [
        ['coffee', 1],
        ['blank', 0],
      ],
      [
        ['coffee', 0],
        ['blank', 0],
      ],
    ]);
  });

  it('replaces an item’s embeddings with its last put’s: none with index: false, other fields’ only', async () => {
    // LangGraph's InMemoryStore on its main branch does the same (its vector-replacement tests); the
    // released 1.2.2 kept the vectors of fields a new put did not embed and scored the item by them.
    const embeddings = new WordEmbeddings(['coffee', 'tea']);
    const store = new EngramStore({ index: { dims: 2, embeddings, fields: ['text'] } });
    const hits = async () =>
      (await store.search(['n'], { query: 'coffee' })).map((h) => [h.key, h.score, h.value.text]);
    await store.put(['n'], 'a', { text: 'coffee' });
    await store.put(['n'], 'b', { text: 'tea' });
    expect(await hits()).toEqual([
      ['a', 1, 'coffee'],
      ['b', 0, 'tea'],
    ]);
    await store.put(['n'], 'a', { text: 'coffee still' }, false);
    expect(await hits()).toEqual([
      ['b', 0, 'tea'],
      ['a', undefined, 'coffee still'],
    ]);
    await store.put(['n'], 'a', { text: 'coffee', other: 'tea' }, ['other']);
    expect(await hits()).toEqual([
      ['a', 0, 'coffee'],
      ['b', 0, 'tea'],
    ]);
    // A batch keeps its last put of a key: nothing of the first is embedded or kept.
    await store.batch([
      { namespace: ['n'], key: 'b', value: { text: 'coffee' } },
      { namespace: ['n'], key: 'b', value: { text: 'coffee later' }, index: false },
    ]);
    expect(await hits()).toEqual([
      ['a', 0, 'coffee'],
      ['b', undefined, 'coffee later'],
    ]);
    await store.close();
  });

  it('names the embedding of a path by the path when it holds one text, by path.i when several; a put replaces them all', async () => {
    const index = { dims: 3, embeddings: new WordEmbeddings(['coffee', 'tea', 'rain']), fields: ['tags[*]'] };
    const store = new EngramStore({ index });
    const scores = async () => (await store.search(['n'], { query: 'coffee' })).map((h) => [h.key, h.score]);
    await store.put(['n'], 'a', { tags: ['coffee'] });
    await store.put(['n'], 'b', { tags: ['tea', 'coffee'] });
    expect(await scores()).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    // Two texts now, tags[*].0 and tags[*].1; the tags[*] of before is gone with its coffee.
    await store.put(['n'], 'a', { tags: ['tea', 'rain'] });
    // One text now, tags[*]; b's tags[*].1 (coffee) is gone.
    await store.put(['n'], 'b', { tags: ['tea'] });
    expect(await scores()).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
    await store.put(['n'], 'b', { tags: [] });
    expect(await scores()).toEqual([
      ['a', 0],
      ['b', undefined],
    ]);
    await store.close();
  });

  it('scores with the vectors exactly as embedded, to the last bit of InMemoryStore’s scores', async () => {
    // Fractions no float32 holds: a vector kept or read back with less precision scores differently.
    const vector = (text: string) => [1 / 3, Math.sqrt(text.length), Math.PI / text.charCodeAt(0)];
    const embeddings = {
      embedQuery: async (text: string) => vector(text),
      embedDocuments: async (texts: string[]) => texts.map(vector),
    } as unknown as CountingEmbeddings;
    const scores = async (store: BaseStore) => {
      for (const text of ['coffee', 'tea at noon', 'rain']) await store.put(['s'], text, { text });
      return (await store.search(['s'], { query: 'morning coffee' })).map((h) => [h.key, h.score]);
    };
    const index = { dims: 3, embeddings, fields: ['text'] };
    await sameAsPeer(scores, { index });
  });

  it('refuses a put its embeddings return no vector for, naming the text as InMemoryStore does, and writes nothing', async () => {
    // One vector for two texts: the second text has none.
    const embeddings = {
      embedQuery: async () => [1, 0],
      embedDocuments: async () => [[1, 0]],
    } as unknown as CountingEmbeddings;
    const index = { dims: 2, embeddings, fields: ['text'] };
    const batch = [
      { namespace: ['e'], key: 'a', value: { text: 'coffee' } },
      { namespace: ['e'], key: 'b', value: { text: 'tea at noon' } },
    ];
    await expect(new PeerStore({ index }).batch(batch)).rejects.toThrow(
      'No embedding found for text: tea at noon',
    );
    const store = new EngramStore({ index });
    await expect(store.batch(batch)).rejects.toThrow(
      'EngramStore: No embedding found for text: tea at noon (embedDocuments returned 1 vector for 2 texts)',
    );
    expect(await store.listNamespaces()).toEqual([]);
    await store.close();
  });

  it('embeds every text of the batch in one call, the same text once', async () => {
    const embeddings = new CountingEmbeddings();
    const store = new EngramStore({ index: { dims: 4, embeddings, fields: ['a', 'b'] } });
    await store.batch([
      { namespace: ['n'], key: '1', value: { a: 'same', b: 'other' } },
      { namespace: ['n'], key: '2', value: { a: 'same' } },
    ]);
    expect(embeddings.documentCalls).toEqual([['same', 'other']]);
    // A put with index: false embeds nothing, and calls nothing.
    await store.put(['n'], '3', { a: 'unindexed' }, false);
    expect(embeddings.documentCalls).toHaveLength(1);
    await store.search(['n'], { query: 'q' });
    expect(embeddings.queryCalls).toEqual(['q']);
    await store.close();
  });

  it('embeds each distinct query of a batch once', async () => {
    const embeddings = new CountingEmbeddings();
    const store = new EngramStore({ index: { dims: 4, embeddings } });
    await store.put(['n'], '1', { text: 'coffee' });
    const [first, second, other, empty] = await store.batch([
      { namespacePrefix: ['n'], query: 'q' },
      { namespacePrefix: ['n'], query: 'q', limit: 1 },
      { namespacePrefix: ['n'], query: 'r' },
      // An empty query is no query, as in InMemoryStore: not embedded, nothing scored.
      { namespacePrefix: ['n'], query: '' },
    ]);
    expect(embeddings.queryCalls.sort()).toEqual(['q', 'r']);
    expect(second).toEqual(first);
    expect(other).toHaveLength(1);
    expect(empty!.map((h) => h.score)).toEqual([undefined]);
    // A delete embeds nothing, not even the whole value's "null".
    await store.delete(['n'], '1');
    expect(embeddings.documentCalls).toHaveLength(1);
    await store.close();
  });

  it('lists namespaces: prefix and suffix with * wildcards combined, maxDepth, limit/offset, sorted', async () => {
    const store = new EngramStore();
    const namespaces = [
      ['a', 'b', 'c'],
      ['a', 'b', 'd', 'e'],
      ['a', 'b', 'd', 'i'],
      ['a', 'b', 'f'],
      ['a', 'c', 'f'],
      ['b', 'a', 'f'],
      ['users', '123'],
      ['users', '456', 'settings'],
      ['admin', 'users', '789'],
    ];
    for (const [i, ns] of [...namespaces].reverse().entries()) await store.put(ns, `k${i}`, { i });
    expect(await store.listNamespaces()).toEqual(
      [...namespaces].sort((x, y) => x.join(':').localeCompare(y.join(':'))),
    );
    expect(await store.listNamespaces({ prefix: ['a', 'b'] })).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'd', 'e'],
      ['a', 'b', 'd', 'i'],
      ['a', 'b', 'f'],
    ]);
    expect(await store.listNamespaces({ suffix: ['f'] })).toEqual([
      ['a', 'b', 'f'],
      ['a', 'c', 'f'],
      ['b', 'a', 'f'],
    ]);
    expect(await store.listNamespaces({ prefix: ['a', '*', 'f'] })).toEqual([
      ['a', 'b', 'f'],
      ['a', 'c', 'f'],
    ]);
    expect(await store.listNamespaces({ suffix: ['*', 'f'] })).toEqual([
      ['a', 'b', 'f'],
      ['a', 'c', 'f'],
      ['b', 'a', 'f'],
    ]);
    expect(await store.listNamespaces({ prefix: ['a'], suffix: ['f'], maxDepth: 2 })).toEqual([
      ['a', 'b'],
      ['a', 'c'],
    ]);
    expect(await store.listNamespaces({ maxDepth: 1 })).toEqual([['a'], ['admin'], ['b'], ['users']]);
    expect(await store.listNamespaces({ prefix: ['a'], limit: 2, offset: 1 })).toEqual([
      ['a', 'b', 'd', 'e'],
      ['a', 'b', 'd', 'i'],
    ]);
    expect(await store.listNamespaces({ prefix: ['non', 'existent'] })).toEqual([]);
    await store.close();
  });

  it('matches no namespace shorter than a prefix or suffix, even one of wildcards', async () => {
    const lists = async (store: BaseStore) => {
      await store.put(['a'], 'k', { v: 1 });
      await store.put(['a', 'b'], 'k', { v: 2 });
      return [
        await store.listNamespaces({ prefix: ['a', '*'] }),
        await store.listNamespaces({ suffix: ['*', 'a'] }),
        await store.listNamespaces({ suffix: ['*', 'b'] }),
      ];
    };
    const theirs = await sameAsPeer(lists);
    expect(theirs).toEqual([[['a', 'b']], [], [['a', 'b']]]);
  });

  it('blocks invalid namespaces with the caller’s InvalidNamespaceError', async () => {
    const store = new EngramStore();
    const doc = { foo: 'bar' };
    await expect(store.put([], 'foo', doc)).rejects.toThrow(InvalidNamespaceError);
    await expect(store.put(['the', 'thing.about'], 'foo', doc)).rejects.toThrow(InvalidNamespaceError);
    await expect(store.put(['some', 'fun', ''], 'foo', doc)).rejects.toThrow(InvalidNamespaceError);
    await expect(store.put(['langgraph', 'foo'], 'bar', doc)).rejects.toThrow(InvalidNamespaceError);
    await expect(store.batch([{ namespace: ['a:b'], key: 'k', value: doc }])).rejects.toThrow(
      InvalidNamespaceError,
    );
    // A batch's get too, as InMemoryStore's batch checks every namespace.
    const get = { namespace: ['a:b'], key: 'k' };
    await expect(new PeerStore().batch([get])).rejects.toThrow(InvalidNamespaceError);
    await expect(store.batch([get])).rejects.toThrow(InvalidNamespaceError);
    // A batch's search prefix too, as InMemoryStore's batch checks it (BaseStore.search did already).
    for (const namespacePrefix of [['a:b'], ['a', 'b\u0000']]) {
      const search = { namespacePrefix, limit: 10, offset: 0 };
      await expect(new PeerStore().batch([search])).rejects.toThrow(InvalidNamespaceError);
      await expect(store.batch([search])).rejects.toThrow(InvalidNamespaceError);
    }
    await store.put(['foo', 'langgraph', 'foo'], 'bar', doc);
    expect((await store.get(['foo', 'langgraph', 'foo'], 'bar'))?.value).toEqual(doc);
    // batch() itself allows the reserved root, as LangGraph's stores do.
    await store.batch([{ namespace: ['langgraph', 'foo'], key: 'bar', value: doc }]);
    expect((await store.search(['langgraph', 'foo']))[0]!.value).toEqual(doc);
    await store.delete(['langgraph', 'foo'], 'bar');
    expect(await store.get(['langgraph', 'foo'], 'bar')).toBeNull();
    await store.close();
  });

  it('keeps its items in an Engram store: they survive reopening a SQLite file', async () => {
    const file = join(dir, 'langgraph.db');
    const embeddings = new WordEmbeddings(['coffee', 'tea']);
    const first = new EngramStore({
      store: new SqlJsStore({ persist: file }),
      namespace: 'agent',
      index: { dims: 2, embeddings },
    });
    await first.put(['users', 'u1'], 'prefs', { drink: 'coffee' });
    await first.put(['users', 'u1'], 'other', { drink: 'tea' });
    await first.close();
    const second = new EngramStore({
      store: new SqlJsStore({ persist: file }),
      namespace: 'agent',
      index: { dims: 2, embeddings },
    });
    expect((await second.get(['users', 'u1'], 'prefs'))?.value).toEqual({ drink: 'coffee' });
    expect((await second.search(['users'], { query: 'tea' })).map((h) => h.key)).toEqual(['other', 'prefs']);
    expect(await second.listNamespaces()).toEqual([['users', 'u1']]);
    await second.close();
    // Read back independently: the items are ordinary memories of the namespace.
    const mem = await createMemory({ store: new SqlJsStore({ persist: file }), namespace: 'agent' });
    const { items } = await mem.list({ kind: 'langgraph-item' });
    expect(items.map((m) => m.metadata.key).sort()).toEqual(['other', 'prefs']);
    await mem.close();
  });
});

describe('EngramStore, a batch with a put Engram cannot keep', () => {
  const big = { s: 'x'.repeat(70_000) };
  const keys = async (store: EngramStore, ns: string[]) =>
    (await store.search(ns, { limit: 100 })).map((i) => [i.key, i.value]);

  it('writes nothing: every put is checked before the first is written', async () => {
    const store = new EngramStore();
    await store.put(['a'], 'existing', { v: 0 });
    const failed = store.batch([
      { namespace: ['a'], key: 'first', value: { v: 1 } },
      { namespace: ['a'], key: 'existing', value: { v: 2 } },
      { namespace: ['new'], key: 'k', value: { v: 1 } },
      { namespace: ['a'], key: 'big', value: big },
      { namespace: ['a'], key: 'after', value: { v: 3 } },
    ]);
    await expect(failed).rejects.toMatchObject({ code: 'VALIDATION', field: 'put.value' });
    await expect(failed).rejects.toThrow(
      /at most 64 KiB .*got 68\.\d KiB for key "big" in namespace \["a"\]/,
    );
    // Counted in bytes of UTF-8: 30,000 '€' are 90,000 bytes.
    await expect(store.put(['a'], 'euro', { s: '€'.repeat(30_000) })).rejects.toThrow(/got 8[78]\.\d KiB/);
    expect(await keys(store, ['a'])).toEqual([['existing', { v: 0 }]]);
    // Nor is the namespace of a refused put listed.
    await expect(store.put(['phantom'], 'big', big)).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(await store.listNamespaces()).toEqual([['a']]);
    await store.close();
  });

  it('names a long key by its first 60 characters in the error', async () => {
    const store = new EngramStore();
    const key = `${'k'.repeat(60)}TAIL`;
    const put = store.put(['a'], key, big);
    await expect(put).rejects.toThrow(`for key "${'k'.repeat(60)}…" in namespace ["a"]`);
    await expect(put).rejects.not.toThrow('TAIL');
    // A key of 60 characters is shown whole.
    await expect(store.put(['a'], 'k'.repeat(60), big)).rejects.toThrow(`for key "${'k'.repeat(60)}" in`);
    await store.close();
  });

  it('refuses a value JSON cannot hold, naming the field and the item, instead of a raw error', async () => {
    const store = new EngramStore();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const values: [unknown, RegExp][] = [
      [undefined, /put\.value: expected a JSON value \(null deletes the item\), got undefined for key "u"/],
      [() => 1, /got a function/],
      [{ n: 1n }, /got a value JSON cannot hold \(.*BigInt/],
      [cyclic, /got a value JSON cannot hold/],
    ];
    for (const [value, message] of values) {
      const put = store.put(['t'], 'u', value as Record<string, unknown>);
      await expect(put).rejects.toMatchObject({ code: 'VALIDATION', field: 'put.value' });
      await expect(put).rejects.toThrow(message);
    }
    expect(await store.listNamespaces()).toEqual([]);
    // A batch with such a put fails whole, its unrelated reads included.
    await store.put(['t'], 'ok', { v: 1 });
    await expect(
      store.batch([
        { namespace: ['t'], key: 'ok' },
        { namespace: ['t'], key: 'x', value: undefined as unknown as Record<string, unknown> },
      ]),
    ).rejects.toMatchObject({ field: 'put.value' });
    await store.close();
  });

  it('refuses a key that is not a string, which could never be read back', async () => {
    const store = new EngramStore();
    const put = store.put(['k'], 42 as unknown as string, { v: 7 });
    await expect(put).rejects.toMatchObject({ code: 'VALIDATION', field: 'put.key' });
    await expect(put).rejects.toThrow('put.key: expected a string, got number 42 (in namespace ["k"])');
    await expect(store.put(['k'], null as unknown as string, { v: 7 })).rejects.toThrow(
      'put.key: expected a string, got null (in namespace ["k"])',
    );
    expect(await store.listNamespaces()).toEqual([]);
    await store.close();
  });

  it('refuses an operation of no known kind, rather than answering out of place', async () => {
    const store = new EngramStore();
    const ops = [{ namespace: ['a'], key: 'k', value: { v: 1 } }, { foo: 1 }] as unknown as Operation[];
    await expect(store.batch(ops)).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'batch.1',
      message:
        'batch.1: expected a get, search, put or listNamespaces operation, got an object with keys foo',
    });
    expect(await store.get(['a'], 'k')).toBeNull();
    for (const [op, got] of [
      [{}, 'an object with no keys'],
      [null, 'null'],
      [7, '7'],
    ] as const) {
      await expect(store.batch([op as unknown as Operation])).rejects.toMatchObject({
        code: 'VALIDATION',
        field: 'batch.0',
        message: `batch.0: expected a get, search, put or listNamespaces operation, got ${got}`,
      });
    }
    await store.close();
  });
});
