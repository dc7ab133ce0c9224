import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import type { MemoryRow } from '../../src/backends/indexeddb/schema.js';
import { createMemory, type Engram, InMemoryStore } from '../../src/index.js';
import { formatHlc, type Tombstone } from '../../src/store/index.js';

let databases = 0;
const freshName = () => `engram-compaction-${process.pid}-${Date.now()}-${++databases}`;
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'running', 'kiwi', 'author'];
const GROUP = 8;

const contentOf = (i: number) =>
  Array.from({ length: 1 + (i % 5) }, (_, j) => WORDS[(i * 3 + j * 5) % WORDS.length]).join(' ');
const idOf = (i: number) => `m${String(i).padStart(3, '0')}`;

/** The groups that still hold text rows, and where each memory's text lives, read with raw idb. */
async function layout(name: string) {
  const db = await openDB(name);
  const range = IDBKeyRange.bound(['ns'], ['ns', []]);
  const tables = (await db.getAllKeys('textTables', range)).map((key) => (key as number[])[1]!);
  const shards = (await db.getAllKeys('textShards', range)).map((key) => (key as number[])[2]!);
  const rows = (await db.getAll('memories', IDBKeyRange.bound('ns\u0000', 'ns\u0001'))) as MemoryRow[];
  db.close();
  const place = new Map(rows.map((row) => [row.memory.id, [row.group, row.slot]] as const));
  return { tableGroups: new Set(tables), shardGroups: new Set(shards), place };
}

/** 40 memories in groups of 8, the same in a reference store, and a way to delete several at once. */
async function setup() {
  const name = freshName();
  const store = new IndexedDBStore({ name, textGroupSize: GROUP });
  const clock = { now: Date.parse('2030-01-01T00:00:00.000Z') };
  const ours = await createMemory({ store, namespace: 'ns', now: () => clock.now });
  const reference = await createMemory({ store: new InMemoryStore(), namespace: 'ns', now: () => clock.now });
  const inputs = Array.from({ length: 40 }, (_, i) => ({ id: idOf(i), content: contentOf(i) }));
  await ours.addMany(inputs);
  await reference.addMany(inputs);
  /** Deletes `ids` in one transaction (one batch of tombstones), in both stores. */
  const removeAll = async (ids: string[]) => {
    clock.now += 1000;
    const tombstones: Tombstone[] = ids.map((id) => ({
      entity: 'memory',
      id,
      namespace: 'ns',
      clock: formatHlc({ wallMs: clock.now, counter: 0, node: 'n1' }),
    }));
    await store.apply('ns', { tombstones });
    for (const id of ids) await reference.remove(id);
  };
  return { name, store, ours, reference, removeAll };
}

async function sameSearches(ours: Engram, reference: Engram): Promise<void> {
  for (const query of [...WORDS, 'alpha beta', 'run*', 'kiwi -gamma', 'au*']) {
    const hits = async (mem: Engram) =>
      (await mem.search(query, { limit: 50 })).map((h) => [h.memory.id, h.score]);
    expect(await hits(ours), query).toEqual(await hits(reference));
  }
}

describe('IndexedDBStore compacts text groups after churn', () => {
  it('moves the survivors of a mostly deleted group into the open group, same ids and scores', async () => {
    const { name, store, ours, reference, removeAll } = await setup();
    await sameSearches(ours, reference); // fills the slot cache with group 0's table
    const before = await layout(name);
    expect(before.tableGroups).toContain(0);
    const feedBefore = await store.changes('ns', 0, 1000);

    await removeAll(['m000', 'm001', 'm002', 'm003', 'm004', 'm005']); // 2 of 8 left: 25%
    const after = await layout(name);
    expect(after.tableGroups).not.toContain(0);
    expect(after.shardGroups).not.toContain(0);
    for (const id of ['m006', 'm007']) expect(after.place.get(id)![0]).toBe(5); // the open group
    await sameSearches(ours, reference);
    expect(await store.textStats('ns')).toEqual(await reference.store.textStats!('ns'));

    // Moving text is not a change: the survivors keep their feed entries, only tombstones were added.
    const feedAfter = await store.changes('ns', 0, 1000);
    const ids = (feed: typeof feedBefore) => feed.map((c) => `${c.entity}:${c.id}:${c.seq}`);
    const survivors = (entry: string) => /^memory:m00[67]:/.test(entry);
    expect(ids(feedAfter).filter(survivors)).toEqual(ids(feedBefore).filter(survivors));
    expect(feedAfter).toHaveLength(feedBefore.length);

    // A fresh store (no cache) reads the compacted index the same way.
    await ours.close();
    const reopened = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'ns' });
    await sameSearches(reopened, reference);
    await reopened.close();
  });

  it('leaves a group alone while more than a quarter of it lives', async () => {
    const { name, ours, reference, removeAll } = await setup();
    await removeAll(['m008', 'm009', 'm010', 'm011', 'm012']); // 3 of 8 left
    const after = await layout(name);
    expect(after.tableGroups).toContain(1);
    expect(after.place.get('m013')).toEqual([1, 5]);
    await sameSearches(ours, reference);
    await ours.close();
  });

  it('compacts at most two table rows per transaction; a later removal compacts the rest', async () => {
    const { name, ours, reference, removeAll } = await setup();
    const sparse = [0, 1, 2].flatMap((group) => [0, 1, 2, 3, 4, 5, 6].map((i) => idOf(group * GROUP + i)));
    await removeAll(sparse); // leaves one memory in each of groups 0, 1 and 2
    const once = await layout(name);
    expect([0, 1, 2].filter((group) => once.tableGroups.has(group))).toHaveLength(1);
    await sameSearches(ours, reference);
    const left = [0, 1, 2].find((group) => once.tableGroups.has(group))!;
    await removeAll([]); // nothing removed there: nothing to compact
    expect((await layout(name)).tableGroups).toContain(left);
    await ours.remove(idOf(left * GROUP + 7)); // its last memory goes: the rows go with it
    await reference.remove(idOf(left * GROUP + 7));
    const twice = await layout(name);
    expect(twice.tableGroups).not.toContain(left);
    expect(twice.shardGroups).not.toContain(left);
    await sameSearches(ours, reference);
    await ours.close();
  });

  it('leaves the open group alone, however few of it live', async () => {
    const { name, ours, reference, removeAll } = await setup();
    await removeAll(['m032', 'm033', 'm034', 'm035', 'm036', 'm037']); // 2 of 8 left in group 4, still open
    const after = await layout(name);
    expect(after.tableGroups).toContain(4);
    expect(after.place.get('m038')).toEqual([4, 6]);
    expect(after.place.get('m039')).toEqual([4, 7]);
    await sameSearches(ours, reference);
    await ours.close();
  });

  it('counts only rows with survivors against the two a transaction compacts', async () => {
    const { name, ours, reference, removeAll } = await setup();
    const group = (g: number, count: number) => Array.from({ length: count }, (_, i) => idOf(g * GROUP + i));
    // Group 0 goes whole (its rows are deleted, nothing to move); groups 1 and 2 keep one memory each.
    await removeAll([...group(0, 8), ...group(1, 7), ...group(2, 7)]);
    const after = await layout(name);
    expect([0, 1, 2].filter((g) => after.tableGroups.has(g))).toEqual([]);
    expect(after.place.get('m015')![0]).toBe(5);
    expect(after.place.get('m023')![0]).toBe(5);
    await sameSearches(ours, reference);
    await ours.close();
  });

  it('keeps a group of churned updates small: rows of emptied groups go', async () => {
    const { name, ours, reference } = await setup();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 40; i++) {
        const content = `${contentOf(i + round + 1)} round${round}`;
        await ours.update(idOf(i), { content });
        await reference.update(idOf(i), { content });
      }
    }
    const after = await layout(name);
    // 40 live memories need 5 groups; what churn left behind was compacted or emptied.
    expect(after.tableGroups.size).toBeLessThanOrEqual(8);
    expect(after.shardGroups.size).toBeLessThanOrEqual(8);
    await sameSearches(ours, reference);
    await ours.close();
  });
});
