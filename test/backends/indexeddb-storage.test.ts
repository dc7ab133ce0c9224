import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { FEED_NUMBERS_PER_MS } from '../../src/core/feed-number.js';
import { createMemory, type Json, type MemoryWrite, type WriteBatch } from '../../src/index.js';
import { formatHlc } from '../../src/store/index.js';

let databases = 0;
const freshName = () => `engram-storage-${process.pid}-${Date.now()}-${++databases}`;
const STORES = [
  'memories',
  'vectors',
  'links',
  'tombstones',
  'meta',
  'textTables',
  'textShards',
  'feedBlocks',
];

/** Every row of a namespace, read with raw idb (not our code): store name -> [key, value] pairs. */
async function rawRows(name: string, ns: string): Promise<Record<string, Array<[unknown, unknown]>>> {
  const db = await openDB(name);
  const range = IDBKeyRange.bound([ns], [ns, []]);
  const out: Record<string, Array<[unknown, unknown]>> = {};
  // Memory rows are keyed `namespace NUL id` (schema v5), the others `[namespace, ...]`.
  const memories = IDBKeyRange.bound(`${ns}\u0000`, `${ns}\u0001`);
  for (const store of STORES) {
    const within = store === 'memories' ? memories : range;
    const [keys, values] = await Promise.all([db.getAllKeys(store, within), db.getAll(store, within)]);
    out[store] = keys.map((key, i) => [key, values[i]]);
  }
  const stats = await db.get('stats', ns);
  out.stats = stats === undefined ? [] : [[ns, stats]];
  db.close();
  return out;
}

/** Decodes shard rows by hand: n space-joined terms, `data` = n end offsets, then slot << 16 | tf. */
/**
 * The postings of stored shard rows as [slot, tf] by term, read here from the bytes as schema v9 lays them
 * out (each term's count, then per posting the slot's distance from the one before, doubled, plus one when
 * tf follows; all varints), not through the store's own decoder.
 */
function postingsIn(rows: Array<[unknown, unknown]>): Record<string, number[][]> {
  const out: Record<string, number[][]> = {};
  for (const [, value] of rows) {
    const { terms, bytes } = value as { terms: string; bytes: Uint8Array };
    let at = 0;
    const next = () => {
      let n = 0;
      for (let shift = 0; ; shift += 7) {
        const byte = bytes[at++]!;
        n += (byte & 0x7f) * 2 ** shift;
        if (byte < 0x80) return n;
      }
    };
    const names = terms.split(' ');
    const counts = names.map(() => next());
    names.forEach((term, i) => {
      const list = out[term] ?? [];
      let slot = -1;
      for (let k = 0; k < counts[i]!; k++) {
        const head = next();
        slot += 1 + Math.floor(head / 2);
        list.push([slot, head % 2 === 1 ? next() : 1]);
      }
      out[term] = list;
    });
    expect(at).toBe(bytes.length);
  }
  return out;
}

const empty = {
  memories: [],
  vectors: [],
  links: [],
  tombstones: [],
  meta: [],
  textTables: [],
  textShards: [],
  feedBlocks: [],
  stats: [],
};

describe('IndexedDBStore rows, read back with raw idb', () => {
  it('keeps records, text groups, statistics, feed and meta exactly as written, updated in place', async () => {
    // The clock held still, so the feed numbers are known: the first at least its floor (feed-number.ts).
    const at = Date.parse('2026-12-05T00:00:00Z');
    vi.useFakeTimers({ toFake: ['Date'], now: at });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const n = (k: number) => at * FEED_NUMBERS_PER_MS + k;
    const name = freshName();
    const mem = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'ns' });
    const fox = await mem.add({
      content: 'The quick brown fox',
      kind: 'fact',
      tags: ['animal'],
      embedding: [1, 2],
    });
    const dog = await mem.add({ content: 'Lazy dogs sleep' });
    const link = await mem.link(fox.id, dog.id, 'chases');

    let rows = await rawRows(name, 'ns');
    // Written once, every field carries one stamp: the row keeps it once.
    const stamps = rows.memories!.map(([, row]) => (row as { clocks: unknown }).clocks);
    expect(stamps).toEqual([
      expect.stringMatching(/^[0-9a-f]{12}-/),
      expect.stringMatching(/^[0-9a-f]{12}-/),
    ]);
    expect(rows.vectors).toEqual([[['ns', fox.id], new Float64Array([1, 2])]]);
    // Each memory's feed entry is in its transaction's block (schema v6), not on its row.
    const block = (seq: number, id: string) => [
      ['ns', seq],
      { seqs: new Float64Array([seq]), ids: id, origins: 'l' },
    ];
    expect(rows.feedBlocks).toEqual([block(n(1), fox.id), block(n(2), dog.id)]);
    expect(
      rows.memories!.map(([, row]) =>
        Object.keys(row as object).filter((k) => k.startsWith('feed') || k === 'origin'),
      ),
    ).toEqual([[], []]);
    expect(rows.links).toEqual([
      [['ns', link.id], { link, clocks: expect.any(Object), seq: n(3), origin: 'local' }],
    ]);
    // No memory has an expiry or a validity bound: nothing expires and every memory is valid, as of the
    // latest sequence (see NamespaceStats.expiry and .validity).
    const expiry = (seq: number) => ({ floor: Number.POSITIVE_INFINITY, seq });
    const validity = (seq: number) => ({ from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY, seq });
    expect(rows.stats).toEqual([
      [
        'ns',
        {
          docs: 2,
          tokens: 7,
          seq: n(3),
          openGroup: 0,
          openGroupSlots: 2,
          expiry: expiry(n(3)),
          validity: validity(n(3)),
        },
      ],
    ]);
    expect(rows.textTables).toEqual([
      [['ns', 0, 0], { group: 0, n: 0, ids: `${fox.id} ${dog.id}`, lengths: new Uint32Array([4, 3]) }],
    ]);

    await mem.update(fox.id, { content: 'The quick red fox', embedding: null });
    await mem.remove(dog.id);
    rows = await rawRows(name, 'ns');
    const [[key, row]] = rows.memories as [[unknown, Record<string, unknown>]];
    expect(key).toBe(`ns\u0000${fox.id}`);
    const { embedding: _, ...withoutEmbedding } = fox;
    expect(row).toEqual({
      memory: { ...withoutEmbedding, content: 'The quick red fox', updatedAt: expect.any(String) },
      clocks: expect.any(Object),
      kindKey: 'ns\u0000fact',
      tagKeys: ['ns\u0000animal'],
      group: 0,
      slot: 2,
      seq: n(4),
    });
    // The edit's entry replaced fox's first one, and the delete's tombstone took dog's: their blocks went.
    expect(rows.feedBlocks).toEqual([block(n(4), fox.id)]);
    expect(rows.vectors).toEqual([]);
    // Slots are not reused: the edited fox was re-indexed into slot 2; slots 0 and 1 are emptied.
    expect(rows.textTables).toEqual([
      [['ns', 0, 0], { group: 0, n: 0, ids: `  ${fox.id}`, lengths: new Uint32Array([0, 0, 4]) }],
    ]);
    expect(postingsIn(rows.textShards!)).toEqual({
      fox: [[2, 1]],
      quick: [[2, 1]],
      red: [[2, 1]],
      the: [[2, 1]],
      '~fox': [[2, 1]],
      '~quick': [[2, 1]],
      '~red': [[2, 1]],
      '~the': [[2, 1]],
    });
    expect(rows.stats).toEqual([
      [
        'ns',
        {
          docs: 1,
          tokens: 4,
          seq: n(6),
          openGroup: 0,
          openGroupSlots: 3,
          expiry: expiry(n(6)),
          validity: validity(n(6)),
        },
      ],
    ]);
    expect(rows.links).toEqual([]);
    expect(rows.tombstones!.map(([, t]) => t)).toEqual([
      {
        entity: 'memory',
        id: dog.id,
        namespace: 'ns',
        clock: expect.any(String),
        seq: n(5),
        origin: 'local',
      },
      { entity: 'link', id: link.id, namespace: 'ns', clock: expect.any(String), seq: n(6), origin: 'local' },
    ]);
    expect(rows.meta).toEqual([[['ns', 'clientId'], expect.any(String)]]);
    await mem.close();
  });
});

describe('IndexedDBStore rows of deleted memories', () => {
  it('a deleted memory leaves no embedding behind, nor one for vectors() to list', async () => {
    const name = freshName();
    const store = new IndexedDBStore({ name });
    const mem = await createMemory({ store, namespace: 'ns' });
    const kept = await mem.add({ content: 'kept', embedding: [1, 0], embeddingModel: 'm' });
    const gone = await mem.add({ content: 'gone', embedding: [0, 1], embeddingModel: 'm' });
    await mem.remove(gone.id);
    expect((await rawRows(name, 'ns')).vectors).toEqual([[['ns', kept.id], new Float64Array([1, 0])]]);
    expect(await store.vectors('ns', null, 10)).toEqual([{ id: kept.id, embedding: [1, 0], model: 'm' }]);
    await mem.close();
  });
});

describe('IndexedDBStore text groups filled by batches', () => {
  /** The group and slot of each memory's text, by id. */
  async function places(name: string, ns: string): Promise<Record<string, [number, number]>> {
    const rows = (await rawRows(name, ns)).memories!;
    return Object.fromEntries(
      rows.map(([, row]) => {
        const { memory, group, slot } = row as { memory: { id: string }; group: number; slot: number };
        return [memory.id, [group, slot]];
      }),
    );
  }
  const batchOf = (ns: string, prefix: string, count: number) => ({
    memories: Array.from({ length: count }, (_, i) => write(ns, `${prefix}${i}`, `word ${prefix}${i}`)),
  });

  it('starts the next group for a batch that would overflow one at least half full, else fills it', async () => {
    const name = freshName();
    const store = new IndexedDBStore({ name, textGroupSize: 8 });
    // Half full, and the batch overflows it: the group closes first, the batch takes a fresh one.
    await store.apply('half', batchOf('half', 'a', 4));
    await store.apply('half', batchOf('half', 'b', 5));
    expect(await places(name, 'half')).toMatchObject({ a3: [0, 3], b0: [1, 0], b4: [1, 4] });
    // Less than half full: the batch fills the group and goes on into the next.
    await store.apply('less', batchOf('less', 'a', 3));
    await store.apply('less', batchOf('less', 'b', 6));
    expect(await places(name, 'less')).toMatchObject({ a2: [0, 2], b0: [0, 3], b4: [0, 7], b5: [1, 0] });
    // Half full, and the batch just fits: it fills the group.
    await store.apply('fits', batchOf('fits', 'a', 4));
    await store.apply('fits', batchOf('fits', 'b', 4));
    expect(await places(name, 'fits')).toMatchObject({ b0: [0, 4], b3: [0, 7] });
    const mem = await createMemory({ store, namespace: 'half' });
    expect(await mem.search('word', { limit: 20 })).toHaveLength(9);
    await mem.close();
  });
});

describe('IndexedDBStore merges of large batches', () => {
  it('finds the existing records among many ids, clustered or scattered', async () => {
    const store = new IndexedDBStore({ name: freshName() });
    const id = (i: number) => `id-${String(i).padStart(4, '0')}`;
    await store.apply('ns', {
      memories: Array.from({ length: 200 }, (_, i) => write('ns', id(i * 3), `old ${i}`)),
    });
    const later = formatHlc({ wallMs: Date.parse('2030-01-02'), counter: 0, node: 'n1' });
    const touch = (ids: string[]) =>
      store.apply('ns', {
        memories: ids.map((x) => ({ id: x, values: { content: `new ${x}` }, clocks: { content: later } })),
      });
    // Clustered: a span of 30 ids of which 10 exist; partial writes to the 20 missing are refused.
    const clustered = Array.from({ length: 30 }, (_, i) => id(300 + i));
    const first = await touch(clustered);
    expect(first.memories.map((r) => r.memory.id)).toEqual(
      clustered.filter((x) => Number(x.slice(3)) % 3 === 0),
    );
    expect(first.rejected).toHaveLength(20);
    // Scattered: 10 ids spread over the whole span, more keys in between than the probe reads.
    const scattered = Array.from({ length: 10 }, (_, i) => id(i * 60));
    const second = await touch(scattered);
    expect(second.memories.map((r) => r.memory.id)).toEqual(scattered);
    expect((await store.getMemories('ns', scattered)).every((r) => r.memory.content.startsWith('new'))).toBe(
      true,
    );
    await store.close();
  });

  it('edits a text group it has already written in the same batch', async () => {
    const store = new IndexedDBStore({ name: freshName(), textGroupSize: 64 });
    const later = formatHlc({ wallMs: Date.parse('2030-01-02'), counter: 0, node: 'n1' });
    const writes = Array.from({ length: 100 }, (_, i) =>
      write('ns', `id-${String(i).padStart(4, '0')}`, `doc number ${i}`),
    );
    // The first memory's group fills and is written out after 64; then its text changes again.
    writes.push({ id: 'id-0000', values: { content: 'rewritten zebra' }, clocks: { content: later } });
    await store.apply('ns', { memories: writes });
    const mem = await createMemory({ store, namespace: 'ns' });
    expect((await mem.search('zebra')).map((h) => h.memory.id)).toEqual(['id-0000']);
    const numbered = (await mem.search('number', { limit: 1000 })).map((h) => h.memory.id);
    expect(numbered).toHaveLength(99);
    expect(numbered).not.toContain('id-0000');
    expect(await store.textStats('ns')).toMatchObject({ docs: 100 });
    await mem.close();
  });
});

describe('IndexedDBStore feed blocks of mixed origins', () => {
  it('a block that loses an entry keeps each remaining entry with its own origin', async () => {
    const store = new IndexedDBStore({ name: freshName() });
    const later = (day: number) =>
      formatHlc({ wallMs: Date.parse(`2030-01-0${day}`), counter: 0, node: 'n2' });
    await store.apply('ns', { memories: [write('ns', 'x', 'written here')] });
    // One pulled batch, one block: y is the server's, x keeps a field written here (its entry stays local).
    await store.apply('ns', {
      origin: 'remote',
      memories: [
        write('ns', 'y', 'from the server'),
        { id: 'x', values: { tags: ['pulled'] }, clocks: { tags: later(2) } },
      ],
    });
    const origins = async () =>
      Object.fromEntries((await store.changes('ns', 0, 10)).map((c) => [c.id, c.origin]));
    expect(await origins()).toEqual({ y: 'remote', x: 'local' });
    // Editing y here takes its entry out of that block: x's must still say local, or it is never pushed.
    await store.apply('ns', {
      memories: [{ id: 'y', values: { content: 'edited here' }, clocks: { content: later(3) } }],
    });
    const feed = await store.changes('ns', 0, 10);
    expect(feed.map((c) => [c.id, c.origin])).toEqual([
      ['x', 'local'],
      ['y', 'local'],
    ]);
    await store.close();
  });
});

describe('IndexedDBStore groups larger than one slot table', () => {
  it('indexes, edits and finds memories across table rows', async () => {
    const name = freshName();
    const store = new IndexedDBStore({ name, textGroupSize: 5000 });
    const id = (i: number) => `id-${String(i).padStart(5, '0')}`;
    for (let from = 0; from < 2200; from += 1000) {
      const count = Math.min(1000, 2200 - from);
      await store.apply('ns', {
        memories: Array.from({ length: count }, (_, i) =>
          write('ns', id(from + i), `item ${from + i} common`),
        ),
      });
    }
    const later = formatHlc({ wallMs: Date.parse('2030-01-02'), counter: 0, node: 'n1' });
    await store.apply('ns', {
      memories: [{ id: id(2100), values: { content: 'moved walrus' }, clocks: { content: later } }],
      tombstones: [{ entity: 'memory', id: id(5), namespace: 'ns', clock: later }],
    });
    const mem = await createMemory({ store, namespace: 'ns' });
    expect((await mem.search('walrus')).map((h) => h.memory.id)).toEqual([id(2100)]);
    expect((await mem.search('2150')).map((h) => h.memory.id)).toEqual([id(2150)]);
    expect(await mem.search('5')).toEqual([]);
    const db = await openDB(name);
    expect(await db.getAllKeys('textTables', IDBKeyRange.bound(['ns'], ['ns', []]))).toEqual([
      ['ns', 0, 0],
      ['ns', 0, 1],
    ]);
    // The edit emptied slot 2100 in the second table row (index 52 of it) and took slot 2200 (index 152).
    const second = (await db.get('textTables', ['ns', 0, 1])).ids.split(' ');
    expect([second[52], second[152]]).toEqual(['', id(2100)]);
    expect((await db.get('textTables', ['ns', 0, 0])).ids.split(' ')[5]).toBe('');
    db.close();
    await mem.close();
  });
});

const stamp = formatHlc({ wallMs: Date.parse('2030-01-01'), counter: 0, node: 'n1' });
const clocks = Object.fromEntries(['content', 'kind', 'tags', 'metadata'].map((f) => [f, stamp]));

function write(ns: string, id: string, content: string, metadata: Record<string, Json> = {}): MemoryWrite {
  return {
    id,
    create: { namespace: ns, createdAt: '2030-01-01T00:00:00.000Z' },
    values: { content, kind: 'note', tags: ['t'], metadata },
    clocks,
  };
}

function batch(ns: string): WriteBatch {
  return {
    memories: [write(ns, 'a', 'alpha words here'), write(ns, 'b', 'beta words')],
    links: [
      {
        id: 'l',
        create: { namespace: ns, from: 'a', to: 'b', createdAt: '2030-01-01T00:00:00.000Z' },
        values: { type: 'rel', metadata: {} },
        clocks: { type: stamp, metadata: stamp },
      },
    ],
    meta: { cursor: 7 },
  };
}

describe('IndexedDBStore writes are atomic', () => {
  const originalPut = IDBObjectStore.prototype.put;
  afterEach(() => vi.restoreAllMocks());

  it('a put that throws mid-transaction leaves nothing behind', async () => {
    const name = freshName();
    const store = new IndexedDBStore({ name });
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args) {
      if (this.name === 'links') throw new DOMException('simulated disk failure', 'UnknownError');
      return originalPut.apply(this, args);
    });
    await expect(store.apply('ns', batch('ns'))).rejects.toMatchObject({
      code: 'STORAGE',
      message: expect.stringContaining('simulated disk failure'),
    });
    expect(await rawRows(name, 'ns')).toEqual(empty);

    vi.restoreAllMocks();
    const result = await store.apply('ns', batch('ns'));
    expect(result.memories).toHaveLength(2);
    const rows = await rawRows(name, 'ns');
    expect([rows.memories, rows.links].map((r) => r!.length)).toEqual([2, 1]);
    await store.close();
  });

  it('a request that fails later, after other writes were queued, rolls them all back', async () => {
    const name = freshName();
    const store = new IndexedDBStore({ name });
    await store.apply('ns', { memories: [write('ns', 'before', 'already here')] });
    const before = await rawRows(name, 'ns');
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args) {
      if (this.name !== 'textShards') return originalPut.apply(this, args);
      originalPut.apply(this, args);
      return this.add(...args); // the key now exists: a ConstraintError, reported asynchronously
    });
    await expect(store.apply('ns', batch('ns'))).rejects.toMatchObject({
      code: 'STORAGE',
      message: expect.stringMatching(/constraint|already exists/i),
    });
    expect(await rawRows(name, 'ns')).toEqual(before);
    await store.close();
  });

  it('a write that fails while the merge still reads is the error reported, not the abort it caused', async () => {
    const name = freshName();
    const store = new IndexedDBStore({ name });
    await store.apply('ns', batch('ns'));
    const before = await rawRows(name, 'ns');
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args) {
      if (this.name !== 'memories') return originalPut.apply(this, args);
      originalPut.apply(this, args);
      return this.add(...args); // a ConstraintError, which aborts the transaction under the next read
    });
    // The memory's row is written first; the tombstone then reads the links touching 'a'.
    const later = formatHlc({ wallMs: Date.parse('2030-01-02'), counter: 0, node: 'n1' });
    const failing = store.apply('ns', {
      memories: [{ id: 'b', values: { content: 'beta again' }, clocks: { content: later } }],
      tombstones: [{ entity: 'memory', id: 'a', namespace: 'ns', clock: later }],
    });
    await expect(failing).rejects.toMatchObject({
      code: 'STORAGE',
      message: expect.stringMatching(/constraint|already exists/i),
    });
    expect(await rawRows(name, 'ns')).toEqual(before);
    await store.close();
  });

  it('a value IndexedDB cannot clone fails the whole batch as STORAGE', async () => {
    const name = freshName();
    const store = new IndexedDBStore({ name });
    const poisoned = {
      ...batch('ns'),
      memories: [write('ns', 'ok', 'fine'), write('ns', 'bad', 'x', { f: (() => 1) as unknown as Json })],
    };
    await expect(store.apply('ns', poisoned)).rejects.toMatchObject({
      code: 'STORAGE',
      message: expect.stringMatching(/clone/i),
    });
    expect(await rawRows(name, 'ns')).toEqual(empty);
    await store.close();
  });
});

describe('IndexedDBStore transaction durability', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("opens every transaction with the durability asked, the browser's default unless told", async () => {
    const transactions = vi.spyOn(IDBDatabase.prototype, 'transaction');
    const durabilities = async (durability?: IDBTransactionDurability) => {
      transactions.mockClear();
      const store = new IndexedDBStore({ name: freshName(), ...(durability && { durability }) });
      const mem = await createMemory({ store, namespace: 'ns' });
      await mem.add({ content: 'kept' });
      await mem.search('kept');
      await mem.close();
      // fake-indexeddb's upgrade opens its own transaction on no store: not the store's.
      const ours = transactions.mock.calls.filter(([stores]) => stores.length > 0);
      expect(ours.length).toBeGreaterThan(2);
      return new Set(ours.map(([, , options]) => options?.durability));
    };
    expect(await durabilities()).toEqual(new Set(['default']));
    expect(await durabilities('relaxed')).toEqual(new Set(['relaxed']));
  });
});
