import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, pglite, postgresJs } from '../../src/backends/postgres/index.js';
import { DocIdCache } from '../../src/backends/sql/doc-id-cache.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, type Engram, InMemoryStore, type MemoryStore } from '../../src/index.js';
import { freshNamespace } from '../conformance/harness.js';
import { inProcessSync } from '../edge/helpers.js';

// SQL stores rank on document numbers and turn into ids only what a search returns (core's
// resolvingSource); these cases pin what that must not change: the results of the in-memory store.

const pg = await PGlite.create();
const url = process.env.DATABASE_URL;
const admin = url ? postgres(url, { max: 1, onnotice: () => {} }) : null;
const schema = `docnums_${process.pid}_${Date.now()}`;
if (admin) await admin.unsafe(`CREATE SCHEMA ${schema}`);
afterAll(async () => {
  await pg.close();
  if (admin) {
    await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
});

type Backend = { name: string; open: () => MemoryStore; shared: boolean };
const backends: Backend[] = [
  { name: 'sql.js', open: () => new SqlJsStore(), shared: false },
  { name: 'PGlite', open: () => new PostgresStore(pglite(pg)), shared: true },
];
if (url) {
  backends.push({
    name: 'Postgres',
    open: () => new PostgresStore(postgresJs(url, { max: 2, connection: { search_path: schema } })),
    shared: true,
  });
}

/** Ids unrelated to insertion order, so document numbers never sort like ids. */
const scrambled = (i: number) => `m-${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}`;

const hits = async (mem: Engram, query: string, options: Parameters<Engram['search']>[1] = {}) =>
  (await mem.search(query, options)).map((h) => [h.memory.id, h.score] as const);

/** Counts the document numbers a store is asked to name or read, and the other reads of a search. */
function countNaming(store: MemoryStore) {
  const seen = { docs: 0, postings: 0, getMemories: 0 };
  const docIds = store.docIds!.bind(store);
  store.docIds = (namespace, docs) => {
    seen.docs += docs.length;
    return docIds(namespace, docs);
  };
  const docMemories = store.docMemories!.bind(store);
  store.docMemories = (namespace, docs, live) => {
    seen.docs += docs.length;
    return docMemories(namespace, docs, live);
  };
  const postings = store.postings!.bind(store);
  store.postings = (namespace, terms, prefixes) => {
    seen.postings++;
    return postings(namespace, terms, prefixes);
  };
  const getMemories = store.getMemories.bind(store);
  store.getMemories = (namespace, ids) => {
    seen.getMemories++;
    return getMemories(namespace, ids);
  };
  return seen;
}

describe.each(backends)('$name: text search on document numbers', ({ open, shared }) => {
  async function pair(inputs: Array<Parameters<Engram['add']>[0]>) {
    const namespace = freshNamespace('docnums');
    const store = open();
    const mem = await createMemory({ store, namespace });
    const reference = await createMemory({ store: new InMemoryStore(), namespace });
    await mem.addMany(inputs);
    await reference.addMany(inputs);
    return { store, mem, reference, namespace };
  }

  it('names only the candidates it returns, not every matched memory', async () => {
    // 400 matches of distinct lengths, so of distinct scores: no ties to widen what is named.
    const inputs = Array.from({ length: 400 }, (_, i) => ({
      id: scrambled(i),
      content: `apple ${'filler '.repeat(i)}`.trim(),
    }));
    const { store, mem, reference } = await pair(inputs);
    const seen = countNaming(store);
    const found = await hits(mem, 'apple', { limit: 10 });
    expect(found).toEqual(await hits(reference, 'apple', { limit: 10 }));
    expect(found).toHaveLength(10);
    expect(seen.postings).toBe(0);
    // The ten best are read with their records in one step: no separate getMemories.
    expect(seen.docs).toBe(10);
    expect(seen.getMemories).toBe(0);
    await mem.close();
  });

  it('still serves postings by id through the plain contract, the same as the in-memory store', async () => {
    const inputs = Array.from({ length: 30 }, (_, i) => ({
      id: scrambled(i),
      content: `${i % 2 ? 'lime' : 'lemon'} ${'zest '.repeat(i % 4)}`.trim(),
    }));
    const { store, reference, namespace } = await pair(inputs);
    const sorted = (postings: Awaited<ReturnType<NonNullable<MemoryStore['postings']>>>) =>
      postings.map((p) => `${p.term} ${p.id} ${p.tf} ${p.length}`).sort();
    const terms = ['lime', 'zest'];
    const prefixes = ['~lem'];
    const served = sorted(await store.postings!(namespace, terms, prefixes));
    expect(served).toEqual(sorted(await reference.store.postings!(namespace, terms, prefixes)));
    // Words, and the prefix's expansion (the word as written, marked).
    expect(served.some((p) => p.startsWith('lime '))).toBe(true);
    expect(served.some((p) => p.startsWith('~lemon '))).toBe(true);
    await store.close();
  });

  it('orders ties by id descending, also when the tie crosses the limit', async () => {
    const inputs = Array.from({ length: 60 }, (_, i) => ({
      id: scrambled(i),
      content: i % 3 === 0 ? 'pear tree' : i % 3 === 1 ? 'pear orchard tree' : 'pear',
    }));
    const { mem, reference } = await pair(inputs);
    for (const limit of [1, 7, 20, 21, 45, 60]) {
      expect(await hits(mem, 'pear', { limit }), `limit ${limit}`).toEqual(
        await hits(reference, 'pear', { limit }),
      );
    }
    expect(await hits(mem, 'pear tree', { limit: 25 })).toEqual(
      await hits(reference, 'pear tree', { limit: 25 }),
    );
    await mem.close();
  });

  it('reads further, naming more, when filters reject most of the best candidates', async () => {
    // The best-scored memories (short) are notes; only the 5 longest, the worst, are facts.
    const inputs = Array.from({ length: 300 }, (_, i) => ({
      id: scrambled(i),
      content: `plum ${'word '.repeat(i % 150)}`.trim(),
      kind: i >= 295 ? 'fact' : 'note',
      tags: i % 2 === 0 ? ['even'] : ['odd'],
    }));
    const { mem, reference } = await pair(inputs);
    for (const options of [
      { kind: 'fact', limit: 3 },
      { kind: 'fact', limit: 10 },
      { tags: ['odd'], limit: 40 },
      { kind: 'nothing', limit: 5 },
    ]) {
      expect(await hits(mem, 'plum', options), JSON.stringify(options)).toEqual(
        await hits(reference, 'plum', options),
      );
    }
    await mem.close();
  });

  it('turns down memories expired or not valid unread, with the results of the in-memory store', async () => {
    // Distinct lengths, so distinct scores; every third superseded, every seventh valid only from 2999,
    // every eleventh expired.
    const inputs = Array.from({ length: 120 }, (_, i) => ({
      id: scrambled(i),
      content: `quince ${'pulp '.repeat(i)}`.trim(),
      ...(i % 3 === 0
        ? { validFrom: '2020-01-01T00:00:00Z', validTo: '2021-01-01T00:00:00Z' }
        : i % 7 === 0
          ? { validFrom: '2999-01-01T00:00:00Z' }
          : {}),
      ...(i % 11 === 0 ? { expiresAt: '2001-01-01T00:00:00Z' } : {}),
    }));
    const { store, mem, reference } = await pair(inputs);
    const read: string[] = [];
    let asked = 0;
    let calls = 0;
    const docMemories = store.docMemories!.bind(store);
    store.docMemories = async (namespace, docs, live) => {
      calls++;
      asked += docs.length;
      const records = await docMemories(namespace, docs, live);
      for (const record of records.values()) read.push(record.memory.id);
      return records;
    };
    const isLive = (i: number) => i % 3 !== 0 && i % 7 !== 0 && i % 11 !== 0;
    for (const options of [
      { limit: 10 },
      { limit: 40, explain: true },
      { limit: 10, history: true },
      { limit: 10, asOf: '2020-06-01T00:00:00Z' },
      { limit: 10, asOf: '3000-01-01T00:00:00Z', kind: 'note' },
    ]) {
      const answer = async (m: Engram) =>
        (await m.search('quince', options)).map((h) => [h.memory.id, h.score, h.explain]);
      expect(await answer(mem), JSON.stringify(options)).toEqual(await answer(reference));
    }
    // The default (valid now) reads no record it then rejects, yet asks for the numbers it rejects.
    read.length = 0;
    asked = 0;
    expect((await hits(mem, 'quince', { limit: 30 })).length).toBe(30);
    expect(read.every((id) => isLive(inputs.findIndex((input) => input.id === id)))).toBe(true);
    expect(asked).toBeGreaterThan(read.length);
    // Those turned down count as examined where they rank: the read-ahead learns the filter's real rate
    // (about half pass here) and a search again takes one read.
    for (let i = 0; i < 10; i++) await mem.search('quince', { limit: 10 });
    calls = 0;
    expect(await hits(mem, 'quince', { limit: 10 })).toEqual(await hits(reference, 'quince', { limit: 10 }));
    expect(calls).toBe(1);
    await mem.close();
  });

  it('skips a memory deleted between the postings read and the naming, and fills the page past it', async () => {
    const inputs = Array.from({ length: 30 }, (_, i) => ({
      id: scrambled(i),
      content: `grape ${'x '.repeat(i)}`.trim(),
    }));
    const { store, mem } = await pair(inputs);
    const before = await hits(mem, 'grape', { limit: 6 });
    let raced = false;
    const race = async () => {
      if (raced) return;
      raced = true;
      await mem.remove(before[0]![0]);
    };
    // Whichever step names the candidates (records for a small batch, ids for a large one).
    const docIds = store.docIds!.bind(store);
    store.docIds = async (namespace, docs) => {
      await race();
      return docIds(namespace, docs);
    };
    const docMemories = store.docMemories!.bind(store);
    store.docMemories = async (namespace, docs, live) => {
      await race();
      return docMemories(namespace, docs, live);
    };
    // Scored before the delete, so the scores are those of the first search.
    expect(await hits(mem, 'grape', { limit: 5 })).toEqual(before.slice(1));
    await mem.close();
  });

  it('keeps naming right after deletes, edits, and an id purged then re-created', async () => {
    const inputs = Array.from({ length: 40 }, (_, i) => ({ id: scrambled(i), content: `kiwi fruit ${i}` }));
    const { store, mem, reference, namespace } = await pair(inputs);
    const referenceStore = reference.store;
    const both = async (work: (m: Engram, s: MemoryStore) => Promise<unknown>) => {
      await work(mem, store);
      await work(reference, referenceStore);
      for (const query of ['kiwi', 'fruit', 'kiwi -fruit', 'melon', 'kiwi melon']) {
        expect(await hits(mem, query, { limit: 50 }), query).toEqual(
          await hits(reference, query, { limit: 50 }),
        );
      }
    };
    // A purge leaves no tombstone, so the id may come back: as a new memory, with a new number.
    const purge = (s: MemoryStore, id: string) => s.apply(namespace, { forget: { memories: [id] } });
    await both(async () => {});
    await both((m) => m.remove(scrambled(3)));
    await both((m) => m.update(scrambled(4), { content: 'kiwi melon' }));
    await both((_, s) => purge(s, scrambled(5)));
    await both((m) => m.add({ id: scrambled(5), content: 'melon only' }));
    await both((_, s) => purge(s, scrambled(6)));
    await both((m) => m.add({ id: scrambled(6), content: 'kiwi kiwi kiwi' }));
    await both((m) =>
      m.addMany([
        { id: 'new-1', content: 'kiwi new one' },
        { id: 'new-2', content: 'melon new one' },
      ]),
    );
    await mem.close();
  });

  it('an edited memory keeps its number but not the words it lost, also when one pulled batch moves a word', async () => {
    const namespace = freshNamespace('docnums-pull');
    const sync = await inProcessSync(namespace);
    const writer = await createMemory({ namespace, sync });
    const replica = await createMemory({ store: open(), namespace, sync });
    const same = async () => {
      await writer.sync();
      await replica.sync();
      for (const query of ['quince', 'apricot', 'jam', 'plum']) {
        expect(await hits(replica, query), query).toEqual(await hits(writer, query));
      }
    };
    await writer.addMany([
      { id: 'a', content: 'quince jam' },
      { id: 'b', content: 'plum jam' },
    ]);
    await same();
    // Pulled as one batch: "quince" leaves the first memory's number and reaches the next one's, after
    // the last number its row holds.
    await writer.update('a', { content: 'apricot jam' });
    await writer.update('b', { content: 'plum jam quince' });
    await same();
    // The only memory holding "quince" loses it: its row goes.
    await writer.update('b', { content: 'plum jam' });
    await same();
    expect(await replica.search('quince')).toEqual([]);
    await Promise.all([writer.close(), replica.close()]);
  });

  // Only where two stores can share one database (PGlite, Postgres): a sql.js database belongs to one
  // store, which holds the file's lock (skipped there, so one skip per run).
  it.runIf(shared)(
    'a store that cached names stays right while another store on the database writes',
    async () => {
      const namespace = freshNamespace('docnums-shared');
      const reader = await createMemory({ store: open(), namespace });
      const writer = await createMemory({ store: open(), namespace });
      const reference = await createMemory({ store: new InMemoryStore(), namespace });
      const inputs = Array.from({ length: 50 }, (_, i) => ({
        id: scrambled(i),
        content: `fig leaf ${i % 7}`,
      }));
      await writer.addMany(inputs);
      await reference.addMany(inputs);
      const check = async () => {
        for (const query of ['fig', 'leaf', 'fig 3']) {
          expect(await hits(reader, query, { limit: 60 }), query).toEqual(
            await hits(reference, query, { limit: 60 }),
          );
        }
      };
      await check();
      for (const [m, s] of [
        [writer, writer.store],
        [reference, reference.store],
      ] as const) {
        for (let i = 0; i < 50; i += 8) await m.remove(scrambled(i));
        // Purged ids come back as new memories: new numbers, where the reader has the old ones cached.
        const purged = Array.from({ length: 6 }, (_, k) => scrambled(8 * k + 4));
        await s.apply(namespace, { forget: { memories: purged } });
        await m.addMany(purged.map((id, k) => ({ id, content: `fig tree ${k}` })));
        await m.update(scrambled(1), { content: 'fig fig leaf' });
      }
      await check();
      await Promise.all([reader.close(), writer.close()]);
    },
  );
});

describe('DocIdCache', () => {
  it('answers what it was told, per namespace', () => {
    const cache = new DocIdCache(10);
    cache.set('a', 1, 'one');
    cache.set('b', 1, 'uno');
    expect(cache.get('a', 1)).toBe('one');
    expect(cache.get('b', 1)).toBe('uno');
    expect(cache.get('a', 2)).toBeUndefined();
  });

  it('drops the least recently used entry, of the least recently used namespace, beyond its capacity', () => {
    const cache = new DocIdCache(3);
    cache.set('a', 1, 'a1');
    cache.set('a', 2, 'a2');
    cache.set('b', 1, 'b1');
    expect(cache.get('a', 1)).toBe('a1');
    cache.set('b', 2, 'b2');
    // 'a' was used before 'b' last: its least recent entry (2) goes.
    expect(cache.get('a', 2)).toBeUndefined();
    expect([cache.get('a', 1), cache.get('b', 1), cache.get('b', 2)]).toEqual(['a1', 'b1', 'b2']);
    cache.set('c', 1, 'c1');
    expect(cache.get('a', 1)).toBeUndefined();
    expect([cache.get('b', 1), cache.get('b', 2), cache.get('c', 1)]).toEqual(['b1', 'b2', 'c1']);
  });

  it('a read makes its entry and its namespace the most recently used', () => {
    const cache = new DocIdCache(2);
    cache.set('a', 1, 'a1');
    cache.set('b', 1, 'b1');
    expect(cache.get('a', 1)).toBe('a1');
    cache.set('c', 1, 'c1');
    // 'b' is now the least recently used namespace: its entry goes, not the one just read.
    expect([cache.get('a', 1), cache.get('b', 1), cache.get('c', 1)]).toEqual(['a1', undefined, 'c1']);
    // In the namespace used last ('c'), a read moves the entry alone: the other one goes first.
    cache.set('c', 2, 'c2');
    expect(cache.get('c', 1)).toBe('c1');
    cache.set('c', 3, 'c3');
    expect([cache.get('c', 2), cache.get('c', 1), cache.get('c', 3)]).toEqual([undefined, 'c1', 'c3']);
    // A namespace emptied by eviction and used again is kept again.
    cache.set('a', 2, 'a2');
    expect([cache.get('a', 2), cache.get('c', 3), cache.get('c', 1)]).toEqual(['a2', 'c3', undefined]);
  });

  it('counts an entry told again once, and holds no more than its capacity across namespaces', () => {
    const cache = new DocIdCache(2);
    cache.set('a', 1, 'a1');
    cache.set('a', 1, 'a1');
    cache.set('a', 2, 'a2');
    expect([cache.get('a', 1), cache.get('a', 2)]).toEqual(['a1', 'a2']);
    const one = new DocIdCache(1);
    one.set('a', 1, 'a1');
    one.set('b', 1, 'b1');
    one.set('b', 2, 'b2');
    // Each set past the capacity drops one entry: 'a' emptied and gone, then b's older entry.
    expect([one.get('a', 1), one.get('b', 1), one.get('b', 2)]).toEqual([undefined, undefined, 'b2']);
  });

  it('keeps nothing at capacity 0', () => {
    const cache = new DocIdCache(0);
    cache.set('a', 1, 'one');
    expect(cache.get('a', 1)).toBeUndefined();
  });
});
