import { PGlite } from '@electric-sql/pglite';
import initSqlJs from 'sql.js';
import { describe, expect, it } from 'vitest';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import type { MemoryStore } from '../../src/core/store-contract.js';
import { createMemory } from '../../src/index.js';
import {
  downgradePostgresToVersion4,
  downgradePostgresToVersion15,
  downgradeToVersion4,
  downgradeToVersion15,
} from './sql-legacy.js';

/**
 * Schema v5 moves the text index from one row per (term, memory) to posting blocks. A v4 database must
 * come out with every search answering the same ids and scores, its counters intact, and keep working.
 * 1100 memories in the first namespace: more than one group of document numbers.
 */
const WORDS = ['coffee', 'coffees', 'roast', 'dark', 'tea', 'green', 'morning', 'running', 'runs', 'cat'];
const QUERIES = ['coffee', 'coff*', 'dark roast', '"dark roast"', 'tea -green', 'run*', 'cats morning'];

function corpus(n: number, seed: number): { content: string; tags: string[] }[] {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state;
  };
  return Array.from({ length: n }, (_, i) => {
    const words = Array.from({ length: 3 + (next() % 9) }, () => WORDS[next() % WORDS.length]!);
    return { content: `${words.join(' ')} note ${i}`, tags: [] };
  });
}

async function fill(store: MemoryStore) {
  const big = await createMemory({ store, namespace: 'big' });
  const items = corpus(1100, 7);
  await big.addMany(items.slice(0, 600));
  await big.addMany(items.slice(600));
  const small = await createMemory({ store, namespace: 'small' });
  await small.addMany(corpus(40, 11));
}

async function answers(store: MemoryStore) {
  const out: Record<string, unknown> = {};
  for (const namespace of ['big', 'small']) {
    const mem = await createMemory({ store, namespace });
    for (const q of QUERIES) {
      out[`${namespace} ${q}`] = (await mem.search(q, { limit: 1000 })).map((h) => [h.memory.id, h.score]);
    }
    out[`${namespace} stats`] = await store.textStats!(namespace);
  }
  return out;
}

/** After the upgrade: edits, deletes and adds reach the index. */
async function stillWrites(store: MemoryStore) {
  const mem = await createMemory({ store, namespace: 'small' });
  const [first, second] = (await mem.list({ limit: 2 })).items;
  await mem.update(first!.id, { content: 'zebra crossing' });
  await mem.remove(second!.id);
  const added = await mem.add({ content: 'a zebra and a coffee' });
  expect((await mem.search('zebra')).map((h) => h.memory.id).sort()).toEqual([first!.id, added.id].sort());
  expect(
    (await mem.search(first!.content.split(' ')[0]!, { limit: 100 })).map((h) => h.memory.id),
  ).not.toContain(first!.id);
  expect((await mem.search('note', { limit: 100 })).map((h) => h.memory.id)).not.toContain(second!.id);
}

describe('SQL schema v4 -> v5: the text index becomes posting blocks', () => {
  it('sql.js: same answers after the upgrade, and writes keep working', async () => {
    let bytes: Uint8Array | null = null;
    const persist = {
      load: async () => null,
      save: async (saved: Uint8Array) => {
        bytes = saved;
      },
    };
    const first = new SqlJsStore({ persist });
    await fill(first);
    const before = await answers(first);
    await first.close();
    const SQL = await initSqlJs();
    const legacy = new SQL.Database(bytes!);
    downgradeToVersion4(legacy);
    const legacyBytes = legacy.export();
    legacy.close();

    const reopened = new SqlJsStore({ persist: { load: async () => legacyBytes, save: async () => {} } });
    expect(await answers(reopened)).toEqual(before);
    await stillWrites(reopened);
    await reopened.close();
  });

  // PGlite's start and a full fill: over 30 s on a loaded two-core machine (seen twice this session).
  it('Postgres (PGlite): same answers after the upgrade, and writes keep working', async () => {
    const db = await PGlite.create();
    const first = new PostgresStore(pglite(db));
    await fill(first);
    const before = await answers(first);
    await first.close();
    // What v4 held: one row per (term, memory); no document numbers, no blocks, no vector columns.
    await downgradePostgresToVersion4(db);

    const reopened = new PostgresStore(pglite(db));
    expect(await answers(reopened)).toEqual(before);
    await stillWrites(reopened);
    await reopened.close();
    await db.close();
  }, 120_000);
});

describe('SQL schema v15 -> v18: postings re-encoded (a count shares its delta), no kind index on SQLite', () => {
  const blocksOf = (db: import('sql.js').Database) =>
    db.exec('SELECT ns, term, grp, hex(data) FROM engram_postings ORDER BY ns, term, grp')[0]!.values;
  const kindIndexes = (db: import('sql.js').Database) =>
    db.exec("SELECT count(*) FROM sqlite_master WHERE name = 'engram_memories_by_kind'")[0]!.values[0]![0];

  it('sql.js: the same bytes as a store writing v16 from the start, the same answers, writes keep working', async () => {
    let bytes: Uint8Array | null = null;
    const first = new SqlJsStore({
      persist: {
        load: async () => null,
        save: async (saved: Uint8Array) => {
          bytes = saved;
        },
      },
    });
    await fill(first);
    const before = await answers(first);
    await first.close();
    const SQL = await initSqlJs();
    const today = new SQL.Database(bytes!);
    const written = blocksOf(today);
    expect(kindIndexes(today)).toBe(0);
    downgradeToVersion15(today);
    const legacy = blocksOf(today);
    // The v15 bytes are longer (three varints a posting), and not what v16 writes.
    const size = (rows: unknown[][]) => rows.reduce((n, row) => n + String(row[3]).length, 0);
    expect(size(legacy)).toBeGreaterThan(size(written) * 1.2);
    const legacyBytes = today.export();
    today.close();

    let saved: Uint8Array | null = null;
    const reopened = new SqlJsStore({
      persist: {
        load: async () => legacyBytes,
        save: async (out: Uint8Array) => {
          saved = out;
        },
      },
    });
    expect(await answers(reopened)).toEqual(before);
    const upgraded = new SQL.Database(await reopened.export());
    expect(blocksOf(upgraded)).toEqual(written);
    expect(kindIndexes(upgraded)).toBe(0);
    upgraded.close();
    await stillWrites(reopened);
    await reopened.close();
    expect(saved).not.toBeNull();
  });

  it('Postgres (PGlite): blocks and pending rows re-encoded, the same answers, writes keep working', async () => {
    const db = await PGlite.create();
    const first = new PostgresStore(pglite(db));
    await fill(first);
    const before = await answers(first);
    await first.close();
    const dump = async () => ({
      blocks: (
        await db.query("SELECT ns, term, grp, encode(data, 'hex') AS d FROM engram_postings ORDER BY 1, 2, 3")
      ).rows,
      pending: (
        await db.query(
          "SELECT ns, bucket, first, encode(data, 'hex') AS d FROM engram_pending ORDER BY 1, 2, 3",
        )
      ).rows,
    });
    const written = await dump();
    // The pending list holds postings too (both namespaces' last batches wait there).
    expect(written.pending.length).toBeGreaterThan(0);
    await downgradePostgresToVersion15(db);
    expect(await dump()).not.toEqual(written);

    const reopened = new PostgresStore(pglite(db));
    expect(await answers(reopened)).toEqual(before);
    expect(await dump()).toEqual(written);
    await stillWrites(reopened);
    await reopened.close();
    await db.close();
  });
});
