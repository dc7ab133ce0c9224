import { type BaseStore, InMemoryStore as PeerStore } from '@langchain/langgraph-checkpoint';
import { describe, expect, it } from 'vitest';
import { InMemoryStore } from '../../src/backends/in-memory/in-memory-store.js';
import { createMemory } from '../../src/create-memory.js';
import { EngramStore } from '../../src/langgraph/index.js';
import { hash } from '../../src/langgraph/item-records.js';

// Keys holding ':', values and keys an Engram memory can't hold as is, and namespaces of any depth, each
// run against LangGraph's own InMemoryStore (the peer) and compared.

/** What a store answers, made comparable: items without their dates. */
const plain = (item: { namespace: string[]; key: string; value: unknown } | null) =>
  item && { namespace: item.namespace, key: item.key, value: item.value };

async function both<T>(run: (store: BaseStore) => Promise<T>): Promise<[T, T]> {
  const engram = new EngramStore();
  try {
    return [await run(new PeerStore()), await run(engram)];
  } finally {
    await engram.close();
  }
}

describe('EngramStore beside LangGraph’s InMemoryStore, at the edges', () => {
  it('keeps (["a"], "b:c") and (["a", "b"], "c") apart, in puts, batches and searches', async () => {
    const [peer, ours] = await both(async (store) => {
      await store.put(['memories'], 'user:1', { text: 'a' });
      await store.put(['memories', 'user'], '1', { text: 'b' });
      return {
        found: (await store.search(['memories'])).map(plain),
        get: [
          plain(await store.get(['memories'], 'user:1')),
          plain(await store.get(['memories', 'user'], '1')),
        ],
      };
    });
    expect(ours).toEqual(peer);
    expect(ours.found).toHaveLength(2);
    // One batch with both puts: the peer keys a batch's puts by `ns.join(':'):key` and keeps only the
    // second (memory.js, its put dedupe); each is an item of its own, so both stay.
    const store = new EngramStore();
    await store.batch([
      { namespace: ['x'], key: 'y:z', value: { n: 1 } },
      { namespace: ['x', 'y'], key: 'z', value: { n: 2 } },
    ]);
    expect((await store.search(['x'])).map(plain)).toEqual([
      { namespace: ['x'], key: 'y:z', value: { n: 1 } },
      { namespace: ['x', 'y'], key: 'z', value: { n: 2 } },
    ]);
    await store.close();
  });

  it('answers null for each put and delete of a batch, as the peer does', async () => {
    const [peer, ours] = await both(async (store) =>
      (
        await store.batch([
          { namespace: ['a'], key: 'k', value: { v: 1 } },
          { namespace: ['a'], key: 'gone', value: null },
          { namespace: ['a'], key: 'k' },
          { namespace: ['b'], key: 'k', value: { v: 2 } },
        ])
      ).map((r) => (r && 'key' in r ? plain(r) : r)),
    );
    expect(ours).toEqual(peer);
    expect(ours).toEqual([null, null, null, null]);
  });

  it('puts a value whose text cut would split an emoji, and gives it back whole', async () => {
    const value = { text: `xx${'😀'.repeat(9000)}` };
    const [peer, ours] = await both(async (store) => {
      await store.put(['notes'], 'k', value);
      return plain(await store.get(['notes'], 'k'));
    });
    expect(ours).toEqual(peer);
    expect(ours?.value).toEqual(value);
  });

  it('writes what Engram’s own search sees: namespace/key and the value’s JSON, cut to 16,000 units whole', async () => {
    const store = new InMemoryStore();
    const lg = new EngramStore({ store });
    await lg.put(['docs', 'd1'], 'k', { text: 'espresso tonic' });
    // 'c/a' (or 'c/b') and the JSON before the emoji take 13 units: one 'x' more puts the cut after an
    // emoji's low surrogate (16,000 units kept), two after its high one (that emoji dropped: 15,999).
    await lg.put(['c'], 'a', { text: `x${'😀'.repeat(9000)}` });
    await lg.put(['c'], 'b', { text: `xx${'😀'.repeat(9000)}` });
    const mem = await createMemory({ store, namespace: 'langgraph' });
    const hits = await mem.search('espresso');
    expect(hits.map((h) => h.memory.content)).toEqual(['docs/d1/k\n{"text":"espresso tonic"}']);
    const { items } = await mem.list({ kind: 'langgraph-item', limit: 10 });
    const contents = items.filter((m) => m.content.startsWith('c/')).map((m) => m.content);
    expect(contents.map((c) => [c.slice(0, c.indexOf('😀')), c.length])).toEqual([
      ['c/b\n{"text":"xx', 15_999],
      ['c/a\n{"text":"x', 16_000],
    ]);
    expect(contents.every((c) => c.endsWith('😀'))).toBe(true);
    await lg.close();
    await mem.close();
  });

  it('keeps values, keys and labels with lone surrogates or NUL characters exactly', async () => {
    const odd = ['half \ud83d of an emoji', 'other half \ude00', 'nul \u0000 inside'];
    const [peer, ours] = await both(async (store) => {
      for (const [i, text] of odd.entries()) {
        await store.put(['odd'], `key ${text}`, { text, [`field ${text}`]: [text, { deep: text }], i });
      }
      await store.put(['label \ud800'], 'k', { v: 1 });
      return {
        items: (await store.search(['odd'], { limit: 10 })).map(plain),
        gets: await Promise.all(odd.map(async (text) => plain(await store.get(['odd'], `key ${text}`)))),
        label: plain(await store.get(['label \ud800'], 'k')),
        namespaces: await store.listNamespaces(),
      };
    });
    expect(ours).toEqual(peer);
    expect(ours.items).toHaveLength(3);
    expect(ours.label?.value).toEqual({ v: 1 });
  });

  it('keeps a value nested deeper than Engram’s metadata allows', async () => {
    let value: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 40; i++) value = { down: value };
    const [peer, ours] = await both(async (store) => {
      await store.put(['deep'], 'k', value);
      return plain(await store.get(['deep'], 'k'));
    });
    expect(ours).toEqual(peer);
  });

  it('works at any namespace depth: puts, gets, prefix searches and listings', async () => {
    const ns = (depth: number, tail = '') =>
      Array.from({ length: depth }, (_, i) => `l${i}${i === depth - 1 ? tail : ''}`);
    const [peer, ours] = await both(async (store) => {
      for (const depth of [15, 16, 17, 63, 64, 100]) await store.put(ns(depth), 'k', { depth });
      await store.put(ns(100, 'x'), 'k', { depth: 'sibling' });
      const found = async (depth: number) =>
        (await store.search(ns(depth), { limit: 20 }))
          .map((i) => i.value)
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      return {
        gets: await Promise.all([64, 100].map(async (d) => plain(await store.get(ns(d), 'k')))),
        under: await Promise.all([1, 16, 17, 20, 64, 99, 100].map(found)),
        exact: (await store.search(ns(100, 'x'))).map((i) => i.value),
        namespaces: (await store.listNamespaces({ maxDepth: 70 })).length,
      };
    });
    expect(ours).toEqual(peer);
    expect(ours.under[4]).toHaveLength(3);
    expect(ours.exact).toEqual([{ depth: 'sibling' }]);
  });

  it('still finds items written when every namespace depth had its own tag', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'langgraph' });
    const namespace = Array.from({ length: 40 }, (_, i) => `n${i}`);
    // Stored items carry tags of this hash: its values may never change.
    expect([hash(JSON.stringify(['n0'])), hash(JSON.stringify([['a'], 'k']))]).toEqual([
      '2dfc08a3bed86b68',
      '2e6adbd7181cb41e',
    ]);
    // The tags as the store wrote them before prefixes stopped at a depth: one per depth, all 40.
    const tags = [`lgk:${hash(JSON.stringify([namespace, 'old']))}`];
    for (let depth = 1; depth <= namespace.length; depth++) {
      tags.push(`lgp:${hash(JSON.stringify(namespace.slice(0, depth)))}`);
    }
    await mem.add({
      kind: 'langgraph-namespace',
      content: namespace.join(':'),
      metadata: { path: namespace },
    });
    await mem.add({
      kind: 'langgraph-item',
      content: 'old item',
      tags,
      metadata: { namespace, key: 'old', value: { old: true }, vectors: {} },
    });
    const lg = new EngramStore({ store });
    for (const depth of [1, 16, 17, 30, 40]) {
      expect(
        (await lg.search(namespace.slice(0, depth))).map((i) => i.key),
        `prefix of ${depth}`,
      ).toEqual(['old']);
    }
    expect((await lg.get(namespace, 'old'))?.value).toEqual({ old: true });
    await lg.put(namespace, 'old', { old: false });
    expect((await lg.search(namespace.slice(0, 30))).map((i) => i.value)).toEqual([{ old: false }]);
    // Its put gave it today's tags: its key's and 16 prefixes'.
    const [item] = (await mem.list({ kind: 'langgraph-item' })).items;
    expect(item!.tags).toHaveLength(17);
    await lg.close();
    await mem.close();
  });

  it('takes a memory whose tags collide with a key’s for no copy of that key', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'langgraph' });
    // A 64-bit tag hash can collide: this item of key "other" carries the tag of key "k" too.
    await mem.add({
      kind: 'langgraph-item',
      content: 'other item',
      tags: [`lgk:${hash(JSON.stringify([['a'], 'k']))}`, `lgp:${hash(JSON.stringify(['a']))}`],
      metadata: { namespace: ['a'], key: 'other', value: { other: true }, vectors: {} },
    });
    const lg = new EngramStore({ store });
    expect(await lg.get(['a'], 'k')).toBeNull();
    await lg.put(['a'], 'k', { v: 1 });
    expect((await lg.get(['a'], 'k'))?.value).toEqual({ v: 1 });
    expect((await lg.search(['a'])).map((i) => [i.key, i.value])).toEqual([
      ['other', { other: true }],
      ['k', { v: 1 }],
    ]);
    await lg.close();
    await mem.close();
  });

  it('takes a namespace memory whose tag collides with a namespace’s for no memory of that namespace', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'langgraph' });
    // The memory of namespace ["b"] carries the tag of ["a"] too.
    await mem.add({
      kind: 'langgraph-namespace',
      content: 'b',
      tags: [`lgn:${hash(JSON.stringify(['a']))}`],
      metadata: { path: ['b'] },
    });
    const lg = new EngramStore({ store });
    await lg.put(['a'], 'k', { v: 1 });
    expect(await lg.listNamespaces()).toEqual([['a'], ['b']]);
    await lg.close();
    await mem.close();
  });

  it('searches an item whose namespace has no memory of its own after the others', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'langgraph' });
    // Written without its `langgraph-namespace` memory (by another tool, or half restored).
    await mem.add({
      kind: 'langgraph-item',
      content: 'orphan',
      tags: [`lgk:${hash(JSON.stringify([['z'], 'k']))}`],
      metadata: { namespace: ['z'], key: 'k', value: { orphan: true }, vectors: {} },
    });
    const lg = new EngramStore({ store });
    await lg.put(['a'], 'k', { v: 1 });
    expect((await lg.search([])).map((i) => i.value)).toEqual([{ v: 1 }, { orphan: true }]);
    await lg.close();
    await mem.close();
  });

  it('tags an item with the prefixes of its namespace down to 16 labels, the depth stored items keep', async () => {
    const store = new InMemoryStore();
    const lg = new EngramStore({ store });
    const namespace = Array.from({ length: 20 }, (_, i) => `n${i}`);
    await lg.put(namespace, 'k', { v: 1 });
    const mem = await createMemory({ store, namespace: 'langgraph' });
    const [item] = (await mem.list({ kind: 'langgraph-item' })).items;
    const prefixes = Array.from(
      { length: 16 },
      (_, i) => `lgp:${hash(JSON.stringify(namespace.slice(0, i + 1)))}`,
    );
    expect(item!.tags.slice().sort()).toEqual(
      [`lgk:${hash(JSON.stringify([namespace, 'k']))}`, ...prefixes].sort(),
    );
    await lg.close();
    await mem.close();
  });

  it('deletes a key two writers created at once for good, without bringing the other copy back', async () => {
    // Two processes on one store (or two replicas offline) each create the key: two copies are stored.
    const store = new InMemoryStore();
    const a = new EngramStore({ store });
    const b = new EngramStore({ store });
    await Promise.all([a.put(['a'], 'k', { by: 'a' }), b.put(['a'], 'k', { by: 'b' })]);
    expect((await a.get(['a'], 'k'))?.value).toEqual({ by: 'a' });
    // A search shows the key once, as its first copy.
    expect((await b.search(['a'])).map((i) => [i.key, i.value])).toEqual([['k', { by: 'a' }]]);

    await a.delete(['a'], 'k');
    expect(await a.get(['a'], 'k')).toBeNull();
    expect(await b.get(['a'], 'k')).toBeNull();
    // A put leaves one copy too: a delete after it removes the key.
    await a.put(['a'], 'k', { by: 'a again' });
    await Promise.all([a.put(['a'], 'k2', { by: 'a' }), b.put(['a'], 'k2', { by: 'b' })]);
    await a.put(['a'], 'k2', { v: 3 });
    await b.delete(['a'], 'k2');
    expect(await a.get(['a'], 'k2')).toBeNull();
    expect((await a.search(['a'])).map((i) => [i.key, i.value])).toEqual([['k', { by: 'a again' }]]);
    await a.close();
    await b.close();
  });
});

describe('EngramStore options', () => {
  it('refuses a misspelt or malformed option when made, naming it, instead of writing elsewhere', () => {
    const embeddings = {
      embedQuery: async () => [1, 0],
      embedDocuments: async (texts: string[]) => texts.map(() => [1, 0]),
    };
    for (const [options, field] of [
      [{ namespce: 'agent-1' }, 'EngramStore.namespce'],
      [{ namespace: 'a b/c' }, 'EngramStore.namespace'],
      [{ store: './memory.db' }, 'EngramStore.store'],
      [{ index: { dims: 2, embeddings, field: ['text'] } }, 'EngramStore.index.field'],
      [{ index: { dims: '2', embeddings } }, 'EngramStore.index.dims'],
      [{ index: { dims: 2, embeddings, fields: 'text' } }, 'EngramStore.index.fields'],
      [{ index: { dims: 2, embeddings, fields: ['text', ''] } }, 'EngramStore.index.fields.1'],
      [{ store: { apply: () => {} } }, 'EngramStore.store.getMemories'],
      [{ index: { dims: 2, embed: async () => [] } }, 'EngramStore.index.embeddings'],
      [
        { index: { dims: 2, embeddings: { embedQuery: async () => [1, 0] } } },
        'EngramStore.index.embeddings.embedDocuments',
      ],
      [null, 'EngramStore'],
    ] as const) {
      expect(() => new EngramStore(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field }),
      );
    }
    const made = new EngramStore({
      namespace: 'agent-1',
      index: { dims: 2, embeddings: embeddings as never, fields: ['text'] },
    });
    expect(made.indexConfig?.fields).toEqual(['text']);
    // sync is taken here and checked by the memory when it opens, on first use.
    expect(() => new EngramStore({ sync: { url: 'http://127.0.0.1:9', token: 't' } })).not.toThrow();
  });
});
