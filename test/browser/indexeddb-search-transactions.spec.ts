import { afterEach, describe, expect, it, vi } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { createMemory, type Engram, InMemoryStore } from '../../src/index.js';

/**
 * In Chromium each transaction costs work in the browser process whatever it reads, so a text
 * search's reads share one (see search-transactions.ts). This holds only if Chromium keeps a transaction
 * active through the promise chain of its requests as the spec says; fake-indexeddb is not the proof.
 */
const hits = async (mem: Engram, query: string, limit = 50) =>
  (await mem.search(query, { limit })).map((h) => [h.memory.id, h.score]);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('IndexedDBStore text search in Chromium', () => {
  it('reads a warm search in one readonly transaction, with the reference store’s results', async () => {
    const clock = { now: Date.parse('2030-01-01T00:00:00.000Z') };
    const now = () => (clock.now += 1000);
    const name = `engram-search-transactions-${Date.now()}`;
    const mem = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'ns', now });
    const reference = await createMemory({ store: new InMemoryStore(), namespace: 'ns', now });
    const words = ['kiwi', 'jam', 'tart', 'plum', 'fig', 'lime'];
    const inputs = Array.from({ length: 300 }, (_, i) => ({
      id: `m${String(i).padStart(3, '0')}`,
      content: Array.from({ length: 3 + (i % 5) }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' '),
    }));
    for (const target of [mem, reference]) {
      clock.now = Date.parse('2030-01-01T00:00:00.000Z');
      await target.addMany(inputs);
    }
    const queries = ['kiwi', 'jam tart', 'pl*', 'fig -lime', 'kiwwi'];
    for (const query of queries) await hits(mem, query);
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    for (const query of queries) {
      const before = transaction.mock.calls.length;
      expect(await hits(mem, query), query).toEqual(await hits(reference, query));
      expect(
        transaction.mock.calls.slice(before).map(([, mode]) => mode),
        query,
      ).toEqual(['readonly']);
    }
    // Searches run together interleave their reads: each joins whichever transaction is active, or opens one.
    const together = await Promise.all(queries.map((query) => hits(mem, query)));
    for (const [i, query] of queries.entries())
      expect(together[i], query).toEqual(await hits(reference, query));
    // Five of a tie of dozens: core names the tie (in the search's transaction), then reads the records
    // of the five it keeps with getMemories, which has a transaction of its own.
    const before = transaction.mock.calls.length;
    expect(await hits(mem, 'jam tart', 5)).toEqual(await hits(reference, 'jam tart', 5));
    expect(transaction.mock.calls.length - before).toBe(2);
    await mem.close();
    await reference.close();
    indexedDB.deleteDatabase(name);
  });
});
