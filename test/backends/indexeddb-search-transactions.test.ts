import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import {
  type ReadTransaction,
  SearchTransactions,
} from '../../src/backends/indexeddb/search-transactions.js';
import { createMemory, type Engram } from '../../src/index.js';
import { countReads, twoTabsAndReference } from './indexeddb-test-kit.js';

/**
 * A text search's reads (counters, postings, slot tables, the records it returns) share one readonly
 * transaction: in Chromium each transaction costs work in the browser process whatever it reads.
 */
const name = `engram-search-transactions-${process.pid}-${Date.now()}`;

/** Counts transactions opened from now on, and the modes they were opened in. */
function countTransactions(): () => IDBTransactionMode[] {
  const spy = vi.spyOn(IDBDatabase.prototype, 'transaction');
  return () => spy.mock.calls.map(([, mode]) => mode ?? 'readonly');
}

type Filters = { limit?: number; kind?: string; tags?: string[] };

const hits = async (mem: Engram, query: string, filters: Filters = {}) =>
  (await mem.search(query, { limit: 20, ...filters })).map((h) => [h.memory.id, h.score]);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('IndexedDBStore text search transactions', () => {
  it('reads a warm search in one transaction, each search in its own, with the same results', async () => {
    const { tabA, tabB, reference, both } = await twoTabsAndReference(name, { textGroupSize: 4 });
    await both(
      (m) =>
        m.addMany([
          { id: 'a1', content: 'kiwi tart', tags: ['fruit'] },
          { id: 'a2', content: 'kiwi kiwi jam' },
          { id: 'a3', content: 'jam tart', kind: 'fact' },
          { id: 'a4', content: 'kiwano jam kiwi' },
          { id: 'a5', content: 'tart' },
          { id: 'a6', content: 'kiwi tart jam', validTo: '2029-01-01T00:00:00.000Z' },
        ]),
      tabA,
    );
    const searches: [string, Filters?][] = [
      ['kiwi'],
      ['jam tart'],
      ['ki*'],
      ['tart -jam'],
      ['"kiwi jam"'],
      ['kiwii'], // no memory holds it: a second postings read, of the words one edit away
      ['kiwi', { tags: ['fruit'] }],
      ['jam', { kind: 'fact' }],
      ['kiwi jam tart', { limit: 2 }],
    ];
    for (const [query, filters] of searches) {
      expect(await hits(tabA, query, filters)).toEqual(await hits(reference, query, filters));
    }

    const transactions = countTransactions();
    const counterReads = countReads('get', 'stats');
    for (const [query, filters] of searches) {
      const before = transactions().length;
      const countersBefore = counterReads();
      expect(await hits(tabA, query, filters), query).toEqual(await hits(reference, query, filters));
      expect(transactions().slice(before), query).toEqual(['readonly']);
      // The statistics and the stamp of the kept shard rows come from one read of the counters.
      expect(counterReads() - countersBefore, query).toBe(1);
    }

    // Searches run together interleave their reads: each joins whichever transaction is active, or opens one.
    const together = await Promise.all(searches.map(([query, filters]) => hits(tabA, query, filters)));
    for (const [i, [query, filters]] of searches.entries()) {
      expect(together[i], query).toEqual(await hits(reference, query, filters));
    }

    // Another tab's write between two searches is in the second (each search begins its own).
    await both((m) => m.add({ id: 'b1', content: 'kiwi kiwi kiwi' }), tabB);
    expect(await hits(tabA, 'kiwi')).toEqual(await hits(reference, 'kiwi'));
    await tabA.close();
    await tabB.close();
    await reference.close();
  });

  it('reads on a new transaction when the search transaction no longer takes requests', async () => {
    const store = new IndexedDBStore({ name: `${name}-later` });
    // No maintenance: its background run after opening would add transactions of its own to the count.
    const mem = await createMemory({ store, namespace: 'ns', maintenance: { intervalMs: 0 } });
    await mem.addMany([
      { id: 'm1', content: 'plum cake' },
      { id: 'm2', content: 'plum plum' },
    ]);
    const transactions = countTransactions();
    const stats = await store.textStats('ns');
    // Later tasks: the transaction that read the counters has committed. fake-indexeddb finishes a
    // transaction over a few setImmediate turns; a setTimeout(0) may run before them (it failed so once
    // under load), while each awaited setImmediate lets one more of them run.
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    const [plum] = await store.docPostings('ns', ['plum'], []);
    const names = await store.docIds('ns', Array.from(plum!.docs));
    expect(stats).toEqual({ docs: 2, tokens: 4 });
    expect([...names.values()].sort()).toEqual(['m1', 'm2']);
    expect(transactions().length).toBe(2);
    await mem.close();
  });
});

describe('IndexedDBStore docIds', () => {
  it('leaves out a number whose memory is gone, never naming it by an empty or missing id', async () => {
    const dbName = `${name}-gone`;
    const store = new IndexedDBStore({ name: dbName, textGroupSize: 4 });
    const mem = await createMemory({ store, namespace: 'ns', maintenance: { intervalMs: 0 } });
    await mem.addMany([
      { id: 'm1', content: 'plum cake' },
      { id: 'm2', content: 'plum plum' },
      { id: 'm3', content: 'fig' },
      { id: 'm4', content: 'plum' },
      { id: 'm5', content: 'plum tart' },
    ]);
    const [plum] = await store.docPostings('ns', ['plum'], []);
    // m1's slot is emptied; m5's group (the second) loses its only memory, and with it its table row.
    await mem.remove('m1');
    await mem.remove('m5');
    const other = new IndexedDBStore({ name: dbName });
    const names = await other.docIds('ns', Array.from(plum!.docs));
    expect([...names.values()].sort()).toEqual(['m2', 'm4']);
    await other.close();
    await mem.close();
  });
});

describe('SearchTransactions', () => {
  it('runs a read that finds the shared transaction inactive again on a new one, and nothing else', async () => {
    const opened: { id: number; active: boolean }[] = [];
    const searches = new SearchTransactions(async () => {
      const tx = { id: opened.length, active: true, done: new Promise<void>(() => undefined) };
      opened.push(tx);
      return tx as unknown as ReadTransaction;
    });
    const read = (tx: ReadTransaction) => {
      const fake = tx as unknown as { id: number; active: boolean };
      if (!fake.active) throw new DOMException('not active', 'TransactionInactiveError');
      return Promise.resolve(fake.id);
    };
    expect(await searches.begin('read', read)).toBe(0);
    expect(await searches.join('read', read)).toBe(0);
    opened[0]!.active = false;
    expect(await searches.join('read', read)).toBe(1);
    expect(await searches.join('read', read)).toBe(1);
    expect(await searches.begin('read', read)).toBe(2);
    const failing = () => Promise.reject(new DOMException('gone', 'NotFoundError'));
    await expect(searches.join('read', failing)).rejects.toThrow('IndexedDB read failed: gone');
    expect(opened).toHaveLength(3);
  });
});
