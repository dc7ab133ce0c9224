import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { emptyGroupRows, OpenGroupCache } from '../../src/backends/indexeddb/open-group-cache.js';
import { createMemory, type Engram, InMemoryStore, type MemoryInput } from '../../src/index.js';
import { countReads } from './indexeddb-test-kit.js';

/**
 * A store keeps its open text group's rows after each commit and appends to them without reading them
 * back. These check that it reads them again whenever they may have changed behind it (another tab's
 * write, its own failed transaction), by comparing searches with the reference store after every step.
 */
let databases = 0;
const freshName = () => `engram-open-group-${process.pid}-${Date.now()}-${++databases}`;
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'running', 'kiwi', 'author', 'zeta'];
const contentOf = (i: number) =>
  Array.from({ length: 1 + (i % 4) }, (_, j) => WORDS[(i * 3 + j * 5) % WORDS.length]).join(' ');
const inputs = (from: number, count: number): MemoryInput[] =>
  Array.from({ length: count }, (_, k) => ({ id: `m${from + k}`, content: contentOf(from + k) }));

async function sameSearches(mems: Engram[], reference: Engram, step: string): Promise<void> {
  const hits = async (mem: Engram, query: string) =>
    (await mem.search(query, { limit: 100 })).map((h) => [h.memory.id, h.score]);
  for (const query of [...WORDS, 'alpha beta', 'run*', 'au*']) {
    const expected = await hits(reference, query);
    for (const mem of mems) expect(await hits(mem, query), `${step}: ${query}`).toEqual(expected);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('IndexedDBStore kept open-group rows', () => {
  it('appends without reading its own rows back, and reads them again after another tab wrote', async () => {
    const name = freshName();
    const tabA = await createMemory({
      store: new IndexedDBStore({ name, textGroupSize: 64 }),
      namespace: 'ns',
    });
    const tabB = await createMemory({
      store: new IndexedDBStore({ name, textGroupSize: 64 }),
      namespace: 'ns',
    });
    const reference = await createMemory({ store: new InMemoryStore(), namespace: 'ns' });
    const both = async (mem: Engram, batch: MemoryInput[]) => {
      await mem.addMany(batch);
      await reference.addMany(batch);
    };
    await both(tabA, inputs(0, 10));
    const shardGets = countReads('get', 'textShards');
    await both(tabA, inputs(10, 10));
    expect(shardGets()).toBe(0);
    await both(tabB, inputs(20, 5));
    const beforeA = shardGets();
    await both(tabA, inputs(25, 5));
    expect(shardGets()).toBeGreaterThan(beforeA);
    await sameSearches([tabA, tabB], reference, 'after both tabs added');
    await Promise.all([tabA.close(), tabB.close(), reference.close()]);
  });

  it('reads them again after another tab re-indexed a memory with as many words: only the slots moved', async () => {
    const name = freshName();
    const open = () =>
      createMemory({ store: new IndexedDBStore({ name, textGroupSize: 64 }), namespace: 'ns' });
    const [tabA, tabB] = [await open(), await open()];
    const reference = await createMemory({ store: new InMemoryStore(), namespace: 'ns' });
    const both = async (mem: Engram, write: (m: Engram) => Promise<unknown>) => {
      await write(mem);
      await write(reference);
    };
    await both(tabA, (m) => m.addMany(inputs(0, 3)));
    // One word for one word: the namespace's memory and word counts stay as they were.
    expect(contentOf(0).split(' ')).toHaveLength(1);
    await both(tabB, (m) => m.update('m0', { content: 'kiwi' }));
    await both(tabA, (m) => m.addMany(inputs(3, 2)));
    await sameSearches([tabA, tabB], reference, 'after the re-index and the add');
    await Promise.all([tabA.close(), tabB.close(), reference.close()]);
  });

  it('stays correct when two tabs take turns editing, removing and filling groups', async () => {
    const name = freshName();
    const tabA = await createMemory({
      store: new IndexedDBStore({ name, textGroupSize: 8 }),
      namespace: 'ns',
    });
    const tabB = await createMemory({
      store: new IndexedDBStore({ name, textGroupSize: 8 }),
      namespace: 'ns',
    });
    const reference = await createMemory({ store: new InMemoryStore(), namespace: 'ns' });
    const steps: Array<[string, (mem: Engram) => Promise<unknown>, Engram]> = [
      ['A adds 3', (m) => m.addMany(inputs(0, 3)), tabA],
      ['B adds 2', (m) => m.addMany(inputs(3, 2)), tabB],
      ['A adds 2', (m) => m.addMany(inputs(5, 2)), tabA],
      ["B edits A's memory", (m) => m.update('m1', { content: 'kiwi kiwi zeta' }), tabB],
      ['A adds 4 across a group boundary', (m) => m.addMany(inputs(7, 4)), tabA],
      ["B removes A's memory", (m) => m.remove('m8'), tabB],
      ['A adds 1', (m) => m.add(inputs(11, 1)[0]!), tabA],
      ["A edits B's memory", (m) => m.update('m3', { content: 'author running' }), tabA],
      ['B adds 6', (m) => m.addMany(inputs(12, 6)), tabB],
      ['A removes its own', (m) => m.remove('m12'), tabA],
      ['A adds 2', (m) => m.addMany(inputs(18, 2)), tabA],
    ];
    for (const [step, run, tab] of steps) {
      await run(tab);
      await run(reference);
      await sameSearches([tabA, tabB], reference, step);
    }
    await Promise.all([tabA.close(), tabB.close(), reference.close()]);
  });

  it('keeps nothing from a transaction that failed after writing its text rows', async () => {
    const name = freshName();
    const mem = await createMemory({
      store: new IndexedDBStore({ name, textGroupSize: 64 }),
      namespace: 'ns',
    });
    const reference = await createMemory({ store: new InMemoryStore(), namespace: 'ns' });
    await mem.addMany(inputs(0, 6));
    await reference.addMany(inputs(0, 6));
    // The counters are written last, after the text rows: failing there aborts a fully staged write.
    const put = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args) {
      if (this.name === 'stats') throw new DOMException('disk full', 'QuotaExceededError');
      return put.apply(this, args);
    });
    await expect(mem.addMany(inputs(6, 4))).rejects.toMatchObject({ code: 'STORAGE' });
    vi.restoreAllMocks();
    await mem.addMany(inputs(10, 3));
    await reference.addMany(inputs(10, 3));
    await sameSearches([mem], reference, 'after the failed write');
    expect(await mem.get('m7')).toBeNull();
    await Promise.all([mem.close(), reference.close()]);
  });
});

describe('OpenGroupCache', () => {
  const entry = (stamp: string) => ({ stamp, rows: emptyGroupRows(0, true) });

  it('keeps the four namespaces written last', () => {
    const cache = new OpenGroupCache();
    for (const namespace of ['a', 'b', 'c', 'd', 'e'])
      cache.set(namespace, entry(namespace), cache.generation);
    expect(['a', 'b', 'c', 'd', 'e'].map((namespace) => cache.get(namespace)?.stamp)).toEqual([
      undefined,
      'b',
      'c',
      'd',
      'e',
    ]);
  });

  it('keeps nothing from a write begun before it was cleared', () => {
    const cache = new OpenGroupCache();
    const begun = cache.generation;
    cache.clear();
    cache.set('a', entry('a'), begun);
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', entry('a'), cache.generation);
    expect(cache.get('a')?.stamp).toBe('a');
  });
});
