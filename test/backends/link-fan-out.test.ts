import 'fake-indexeddb/auto';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { mergeBatch, type StoreTransaction } from '../../src/core/merge.js';
import type { LinkRecord } from '../../src/core/store-contract.js';
import { createLinkWrite } from '../../src/core/writes.js';
import { createMemory, EngramError, InMemoryStore, type MemoryStore } from '../../src/index.js';

const FAN_OUT = 200;
const pg = await PGlite.create();
const stores: Record<string, MemoryStore> = {
  memory: new InMemoryStore(),
  sqljs: new SqlJsStore(),
  indexeddb: new IndexedDBStore({ name: `link-fan-out-${process.pid}-${Date.now()}` }),
  pglite: new PostgresStore(pglite(pg)),
};
afterAll(async () => {
  for (const store of Object.values(stores)) await store.close();
});

describe('linking a memory that has many links reads only the pair, not its other links', () => {
  for (const [name, store] of Object.entries(stores)) {
    it(name, async () => {
      const mem = await createMemory({ store, namespace: 'fan', maintenance: { intervalMs: 0 } });
      await mem.addMany([{ id: 'hub', content: 'hub' }]);
      await mem.addMany(Array.from({ length: FAN_OUT + 1 }, (_, i) => ({ id: `c${i}`, content: `c ${i}` })));
      for (let i = 0; i < FAN_OUT; i++) await mem.link('hub', `c${i}`, 'has');
      const read = { links: 0 };
      const linksOf = store.linksOf.bind(store);
      store.linksOf = async (...args) => {
        const found = await linksOf(...args);
        read.links += found.length;
        return found;
      };
      try {
        const added = await mem.link('hub', `c${FAN_OUT}`, 'has');
        const first = (await mem.links('c0'))[0]!;
        read.links = 0;
        const updated = await mem.link('hub', 'c0', 'has', { weight: 2 });
        expect(updated).toMatchObject({ id: first.id, weight: 2 });
        expect(read.links).toBe(0);
        expect(await mem.link('hub', `c${FAN_OUT}`, 'other')).not.toMatchObject({ id: added.id });
        expect(read.links).toBe(0);
      } finally {
        store.linksOf = linksOf;
      }
      expect(await mem.links('hub')).toHaveLength(FAN_OUT + 2);
    });
  }
});

describe('SQL stores index links by their pair (schema v22)', () => {
  it('sql.js and Postgres look a pair up without the other links of its memories', async () => {
    const sqljs = new SqlJsStore();
    await createMemory({ store: sqljs, namespace: 'idx', maintenance: { intervalMs: 0 } });
    const { default: initSqlJs } = await import('sql.js');
    const raw = new (await initSqlJs()).Database(await sqljs.export());
    const plan = raw.exec(
      "EXPLAIN QUERY PLAN SELECT id FROM engram_links WHERE ns = 'idx' AND from_id = 'a' AND to_id = 'b'",
    );
    expect(JSON.stringify(plan)).toContain('engram_links_by_pair (ns=? AND from_id=? AND to_id=?)');
    raw.close();
    await sqljs.close();
    await createMemory({ store: stores.pglite!, namespace: 'idx', maintenance: { intervalMs: 0 } });
    const { rows } = await pg.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE tablename = 'engram_links' ORDER BY indexname",
    );
    expect(rows.map((r) => r.indexname)).toEqual([
      'engram_links_by_pair',
      'engram_links_by_seq',
      'engram_links_by_to',
      'engram_links_pkey',
    ]);
  });
});

describe("a new link's twin check in the store's transaction", () => {
  const link = (id: string, from: string, to: string): LinkRecord => ({
    link: { id, namespace: 'ns', from, to, type: 'has', metadata: {}, createdAt: '', updatedAt: '' },
    clocks: {},
  });
  const transaction = (between: LinkRecord[]): StoreTransaction => ({
    readMemories: () => new Map(),
    readLinks: () => new Map(),
    readTombstones: () => new Map(),
    readLinksTouching: () => {
      throw new Error('read every link of the memory');
    },
    readLinksBetween: () => between,
    putMemory: () => {},
    deleteMemory: () => {},
    putLink: () => {},
    deleteLink: () => {},
    putTombstone: () => {},
    recordChange: () => {},
    setMeta: () => {},
  });
  const write = createLinkWrite(
    { id: 'new', namespace: 'ns', from: 'hub', to: 'c1', type: 'has', createdAt: '2026-01-01T00:00:00.000Z' },
    '0190f3a1c2d4-0000-0000000000000001',
  );

  it('reads the pair where the store can', async () => {
    const result = await mergeBatch(transaction([]), { links: [write], newIds: ['new'] });
    expect(result.links.map((r) => r.link.id)).toEqual(['new']);
  });

  it('reads the pairs of a push once, in one read where the store can', async () => {
    const pairsRead: { from: string; to: string }[][] = [];
    const tx: StoreTransaction = {
      ...transaction([]),
      readLinksBetween: () => {
        throw new Error('one read a pair');
      },
      readLinksJoining: (pairs) => {
        pairsRead.push([...pairs]);
        return [link('old', 'hub', 'c1')];
      },
    };
    const writes = Array.from({ length: 50 }, (_, i) =>
      createLinkWrite(
        {
          id: `l${i}`,
          namespace: 'ns',
          from: 'hub',
          to: `c${i}`,
          type: 'has',
          createdAt: '2026-01-01T00:00:00.000Z',
        },
        '0190f3a1c2d4-0000-0000000000000001',
      ),
    );
    const result = await mergeBatch(tx, { links: writes, origin: 'remote', foldTwinLinks: true });
    expect(pairsRead).toHaveLength(1);
    expect(pairsRead[0]).toHaveLength(50);
    expect(result.deleted).toEqual(['l1']);
  });

  it('still finds the twin', async () => {
    const twin = mergeBatch(transaction([link('old', 'hub', 'c1')]), { links: [write], newIds: ['new'] });
    await expect(twin).rejects.toBeInstanceOf(EngramError);
    await expect(twin).rejects.toMatchObject({ code: 'CONFLICT', field: 'newIds' });
  });
});
