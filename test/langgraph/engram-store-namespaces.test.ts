import { type BaseStore, InMemoryStore as PeerStore } from '@langchain/langgraph-checkpoint';
import { describe, expect, it } from 'vitest';
import { InMemoryStore } from '../../src/backends/in-memory/in-memory-store.js';
import type { ListQuery, MemoryRecord } from '../../src/core/store-contract.js';
import { createMemory } from '../../src/create-memory.js';
import { EngramStore } from '../../src/langgraph/index.js';

const plain = (item: { namespace: string[]; key: string; value: unknown } | null) =>
  item && { namespace: item.namespace, key: item.key, value: item.value };

/** An in-memory store that counts the records its reads hand out: what an EngramStore operation costs. */
class CountingStore extends InMemoryStore {
  read = 0;
  override async list(namespace: string, query: ListQuery): Promise<MemoryRecord[]> {
    const records = await super.list(namespace, query);
    this.read += records.length;
    return records;
  }
  override async getMemories(namespace: string, ids: readonly string[]): Promise<MemoryRecord[]> {
    const records = await super.getMemories(namespace, ids);
    this.read += records.length;
    return records;
  }
}

/** The `langgraph-namespace` memories as stored, read through a memory of its own. */
async function namespaceMemories(store: InMemoryStore) {
  const mem = await createMemory({ store, namespace: 'langgraph' });
  const { items } = await mem.list({ kind: 'langgraph-namespace', limit: 1000 });
  return items.reverse().map((m) => ({ content: m.content, path: m.metadata.path, tags: m.tags }));
}

describe('EngramStore namespaces whose labels are only whitespace', () => {
  const blank = [[' '], ['\n'], ['\t\t'], ['\u00a0'], ['\u3000'], [' ', 'x'], ['x', ' '], [' ', '\n']];

  it('are written, read, listed, searched and deleted from as in LangGraph’s InMemoryStore', async () => {
    const run = async (store: BaseStore) => {
      for (const [i, ns] of blank.entries()) await store.put(ns, 'k', { i });
      const seen = {
        gets: await Promise.all(blank.map(async (ns) => plain(await store.get(ns, 'k')))),
        namespaces: await store.listNamespaces(),
        top: await store.listNamespaces({ maxDepth: 1 }),
        prefixed: await store.listNamespaces({ prefix: [' '] }),
        suffixed: await store.listNamespaces({ suffix: [' '] }),
        under: await Promise.all(
          [[' '], ['x'], ['\n'], []].map(async (prefix) => (await store.search(prefix)).map(plain)),
        ),
      };
      for (const ns of blank) await store.delete(ns, 'k');
      return { ...seen, after: await store.search([]), gone: await store.get([' '], 'k') };
    };
    const peer = await run(new PeerStore());
    const engram = new EngramStore();
    const ours = await run(engram);
    await engram.close();
    expect(ours).toEqual(peer);
    expect(ours.gets.map((item) => item?.value)).toEqual(blank.map((_, i) => ({ i })));
    expect(ours.under[0]).toHaveLength(3);
    expect(ours.after).toEqual([]);
  });

  it('leaves how other namespaces are stored as it was, and still reads what was stored before', async () => {
    const store = new InMemoryStore();
    // A namespace and item as earlier versions wrote them: content the labels joined by ':', no tags.
    const mem = await createMemory({ store, namespace: 'langgraph' });
    await mem.add({ kind: 'langgraph-namespace', content: 'old:ns', metadata: { path: ['old', 'ns'] } });
    const lg = new EngramStore({ store });
    await lg.put(['users', 'u1'], 'k', { v: 1 });
    await lg.put([' '], 'k', { v: 2 });
    await lg.put(['old', 'ns'], 'k', { v: 3 });
    expect(await namespaceMemories(store)).toEqual([
      { content: 'old:ns', path: ['old', 'ns'], tags: [] },
      { content: 'users:u1', path: ['users', 'u1'], tags: [expect.stringMatching(/^lgn:/)] },
      // A blank joined text is no content Engram keeps: the labels as JSON stand for it.
      { content: '[" "]', path: [' '], tags: [expect.stringMatching(/^lgn:/)] },
      // A namespace stored untagged is not found by its tag: its first put adds a tagged copy, once.
      { content: 'old:ns', path: ['old', 'ns'], tags: [expect.stringMatching(/^lgn:/)] },
    ]);
    await lg.put(['old', 'ns'], 'k2', { v: 4 });
    const other = new EngramStore({ store });
    await other.put(['old', 'ns'], 'k3', { v: 5 });
    await other.stop();
    expect(await namespaceMemories(store)).toHaveLength(4);
    expect(await lg.listNamespaces()).toEqual([[' '], ['old', 'ns'], ['users', 'u1']]);
    expect((await lg.search([])).map((i) => i.value)).toEqual([
      { v: 3 },
      { v: 4 },
      { v: 5 },
      { v: 1 },
      { v: 2 },
    ]);
    await lg.close();
    await mem.close();
  });
});

describe('EngramStore reads per operation', () => {
  /** Records read by a get, puts into new and known namespaces and a delete, on a store of `n` namespaces. */
  async function costs(n: number) {
    const store = new CountingStore();
    const writer = new EngramStore({ store });
    for (let i = 0; i < n; i++) await writer.put(['ns', `n${i}`], 'k', { i });
    // Another instance on the same store, as a new process would open it.
    const lg = new EngramStore({ store });
    const reads = async (run: () => Promise<unknown>) => {
      const before = store.read;
      await run();
      return store.read - before;
    };
    const cost = {
      get: await reads(() => lg.get(['ns', 'n1'], 'k')),
      putKnown: await reads(() => lg.put(['ns', 'n2'], 'k2', { v: 1 })),
      deleteKnown: await reads(() => lg.delete(['ns', 'n2'], 'k')),
      // Sequential puts into new namespaces, gets and deletes, as an agent writes over a session.
      session: await reads(async () => {
        for (let i = 0; i < 20; i++) {
          await lg.put(['new', `m${i}`], 'k', { i });
          await lg.put(['ns', 'n1'], `k${i}`, { i });
          await lg.get(['ns', 'n0'], 'k');
          await lg.delete(['new', `m${i}`], 'k');
        }
      }),
    };
    await writer.close();
    await lg.close();
    return cost;
  }

  it('does not read every namespace for a get, put or delete: 300 namespaces cost what 3 do', async () => {
    const [few, many] = [await costs(3), await costs(300)];
    expect(many).toEqual(few);
    expect(few.get).toBeLessThanOrEqual(1);
    expect(few.session).toBeLessThan(20 * 8);
  });

  it('writes a new namespace’s memory once for a batch of several puts into it', async () => {
    const store = new InMemoryStore();
    const lg = new EngramStore({ store });
    await lg.batch([
      { namespace: ['n'], key: 'k1', value: { v: 1 } },
      { namespace: ['n'], key: 'k2', value: { v: 2 } },
    ]);
    expect((await namespaceMemories(store)).map((m) => m.path)).toEqual([['n']]);
    await lg.close();
  });

  it('does not look up again a namespace it has written itself', async () => {
    const store = new CountingStore();
    const lg = new EngramStore({ store });
    await lg.put(['fresh'], 'k1', { v: 1 });
    const before = store.read;
    // The item is new (its lookup finds nothing) and the namespace is known: nothing to read.
    await lg.put(['fresh'], 'k2', { v: 2 });
    expect(store.read - before).toBe(0);
    await lg.close();
  });

  it('looks up a namespace another instance wrote once, for all the puts of a batch and after', async () => {
    const store = new CountingStore();
    const writer = new EngramStore({ store });
    await writer.put(['shared'], 'k', { v: 0 });
    const lg = new EngramStore({ store });
    const reads = async (run: () => Promise<unknown>) => {
      const before = store.read;
      await run();
      return store.read - before;
    };
    // New keys (their lookups find nothing): the namespace's memory is the one record read, once.
    const batch = await reads(() =>
      lg.batch([1, 2, 3].map((i) => ({ namespace: ['shared'], key: `k${i}`, value: { i } }))),
    );
    expect(batch).toBe(1);
    expect(await reads(() => lg.put(['shared'], 'k4', { i: 4 }))).toBe(0);
    await writer.close();
    await lg.close();
  });

  it('sees namespaces another instance on the same store added, and does not list one twice', async () => {
    const store = new InMemoryStore();
    const a = new EngramStore({ store });
    const b = new EngramStore({ store });
    await a.put(['a'], 'k', { v: 1 });
    expect(await a.listNamespaces()).toEqual([['a']]);
    await b.put(['b'], 'k', { v: 2 });
    await b.put(['a', 'deeper'], 'k', { v: 3 });
    expect(await a.listNamespaces()).toEqual([['a'], ['a', 'deeper'], ['b']]);
    // Each instance writes into the other's namespaces without adding them again.
    await a.put(['b'], 'k2', { v: 4 });
    await b.put(['a'], 'k2', { v: 5 });
    expect((await namespaceMemories(store)).map((m) => m.path)).toEqual([['a'], ['b'], ['a', 'deeper']]);
    // Search orders namespaces as first written, whichever instance wrote them.
    expect((await a.search([])).map((i) => i.value)).toEqual([
      { v: 1 },
      { v: 5 },
      { v: 2 },
      { v: 4 },
      { v: 3 },
    ]);
    await a.close();
    await b.close();
  });

  it('reads past a page of 1,000 memories: searches all of 1,001 items', async () => {
    const lg = new EngramStore();
    const keys = Array.from({ length: 1001 }, (_, i) => `k${i}`);
    await lg.batch(keys.map((key, i) => ({ namespace: ['many'], key, value: { i } })));
    const found = await lg.search(['many'], { limit: 2000 });
    expect(found.map((item) => item.key)).toEqual(keys);
    await lg.close();
  });

  it('lists a namespace again after its memory was cleared from outside and it was written to again', async () => {
    const store = new InMemoryStore();
    const lg = new EngramStore({ store });
    await lg.put(['a'], 'k', { v: 1 });
    const mem = await createMemory({ store, namespace: 'langgraph' });
    await mem.clear();
    expect(await lg.listNamespaces()).toEqual([]);
    await lg.put(['a'], 'k', { v: 2 });
    expect(await lg.listNamespaces()).toEqual([['a']]);
    await lg.stop();
    await mem.close();
  });
});
