import 'fake-indexeddb/auto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { openDB } from 'idb';
import postgres from 'postgres';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import type { MemoryRow } from '../../src/backends/indexeddb/schema.js';
import { SCHEMA_VERSION } from '../../src/backends/indexeddb/upgrade.js';
import { PostgresStore, pglite, postgresJs } from '../../src/backends/postgres/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, type Json, type MemoryStore } from '../../src/index.js';
import { type IndexedDBImage, loadIndexedDB } from '../fixtures/indexeddb-dump.js';
import { EXPIRED_AT_READ, expectedState, NS, READ_AT, readState } from '../fixtures/v4-dataset.js';

// Databases written by the code of commit 9123c4c (test/fixtures/write-v4-fixtures.ts), opened by today's
// code: every record, clock, feed entry, sync cursor and search score must read back as recorded then.
const fixtures = join(import.meta.dirname, '../fixtures');
const expected = await expectedState(
  JSON.parse(await readFile(join(fixtures, 'v4-expected.json'), 'utf8')) as Record<string, Json>,
);
const sqlScript = await readFile(join(fixtures, 'postgres-v4.sql'), 'utf8');
const idbImage = JSON.parse(await readFile(join(fixtures, 'indexeddb-v3.json'), 'utf8')) as IndexedDBImage;
// The same dataset written by commit 6fcedac, the last code on IndexedDB schema v4 (write-indexeddb-v4-fixture.ts).
const idbImageV4 = JSON.parse(await readFile(join(fixtures, 'indexeddb-v4.json'), 'utf8')) as IndexedDBImage;
const expectedV4 = await expectedState(
  JSON.parse(await readFile(join(fixtures, 'indexeddb-v4-expected.json'), 'utf8')) as Record<string, Json>,
);

const dir = await mkdtemp(join(tmpdir(), 'engram-fixture-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The state as JSON would hold it (no undefined members), to compare strictly with the recorded one. */
async function stateOf(store: MemoryStore): Promise<unknown> {
  return JSON.parse(JSON.stringify(await readState(store)));
}

/** The migrated store also purges what expired: exactly the memories recorded as expired, nothing else. */
async function expectPurge(store: MemoryStore, state = expected): Promise<void> {
  const mem = await createMemory({
    store,
    namespace: NS,
    now: () => READ_AT,
    maintenance: { intervalMs: 0 },
  });
  expect(await mem.maintain()).toEqual({ purged: EXPIRED_AT_READ.length, collected: 0 });
  const fixture = state[NS] as { memories: Array<{ id: string }> };
  const left = fixture.memories.filter((m) => !EXPIRED_AT_READ.includes(m.id));
  const ids = fixture.memories.map((m) => m.id);
  const records = (await store.getMemories(NS, ids)).map((r) => ({ ...r, id: r.memory.id }));
  expect(JSON.parse(JSON.stringify(records.sort((a, b) => (a.id < b.id ? -1 : 1))))).toStrictEqual(left);
}

/**
 * Loads an IndexedDB image into fake-indexeddb, opens it with today's store (upgrading it) and reopens it,
 * each time reading `state`, then purges through it; returns the database opened raw.
 */
async function idbUpgradesAndReadsTheSame(label: string, image: IndexedDBImage, state: typeof expected) {
  const name = `fixture-${label}-${Date.now()}`;
  await loadIndexedDB(name, image);
  const store = new IndexedDBStore({ name });
  expect(await stateOf(store)).toStrictEqual(state);
  await store.close();
  const again = new IndexedDBStore({ name });
  expect(await stateOf(again)).toStrictEqual(state);
  await expectPurge(again, state);
  await again.close();
  return openDB(name);
}

describe('migrations from the schema of commit 9123c4c keep every record and every search result', () => {
  it('the fixture itself is what the test expects (not empty, all parts present)', () => {
    const fixture = expected.fixture as Record<string, Json[]>;
    expect(fixture.memories).toHaveLength(16);
    expect(fixture.tombstones).toHaveLength(4);
    expect(fixture.searches!.filter((s) => (s as Json[]).length > 0).length).toBeGreaterThan(20);
  });

  it('sql.js: a v4 file opens, migrates, reads the same, and the migrated file reopens the same', async () => {
    const path = join(dir, 'sqljs.db');
    await copyFile(join(fixtures, 'sqljs-v4.db'), path);
    const store = new SqlJsStore({ persist: path });
    expect(await stateOf(store)).toStrictEqual(expected);
    await store.close();
    const again = new SqlJsStore({ persist: path });
    expect(await stateOf(again)).toStrictEqual(expected);
    await expectPurge(again);
    await again.close();
    // Read back with sql.js itself: the file now carries the code's newest schema version.
    const SQL = await initSqlJs();
    const raw = new SQL.Database(await readFile(path));
    const versions = raw.exec('SELECT max(version) FROM engram_schema_version')[0]!.values[0]![0] as number;
    raw.close();
    expect(versions).toBeGreaterThanOrEqual(4);
  });

  it('IndexedDB (fake-indexeddb): a v3 database opens, upgrades, reads the same, and reopens the same', async () => {
    const raw = await idbUpgradesAndReadsTheSame('v3', idbImage, expected);
    expect(raw.version).toBeGreaterThanOrEqual(idbImage.version);
    raw.close();
  });

  it('IndexedDB (fake-indexeddb): a v4 database moves its memory rows to string keys and reads the same', async () => {
    expect(idbImageV4.version).toBe(4);
    const raw = await idbUpgradesAndReadsTheSame('v4', idbImageV4, expectedV4);
    // Read back with raw idb: every memory row of the image, under `namespace NUL id`, with string
    // kind and tag index keys and its feed entry where it was.
    expect(raw.version).toBe(SCHEMA_VERSION);
    const memories = raw.transaction('memories').store;
    expect(memories.keyPath).toBeNull();
    expect(memories.indexNames.length).toBe(3);
    const before = idbImageV4.stores.find((s) => s.name === 'memories')!.rows;
    const left = before.filter(({ key }) => !EXPIRED_AT_READ.includes((key as string[])[1]!));
    const keys = await raw.getAllKeys('memories');
    expect(keys).toEqual(left.map(({ key }) => (key as string[]).join('\u0000')));
    for (const { key, value } of left) {
      const [namespace, id] = key as [string, string];
      const { memory, seq, origin, group, slot } = value as MemoryRow;
      const row = (await raw.get('memories', `${namespace}\u0000${id}`)) as MemoryRow;
      expect(row).toMatchObject({ memory, seq, origin, group, slot });
      expect(row.kindKey).toBe(`${namespace}\u0000${memory.kind}`);
      expect(row.feedKey).toBe(`${namespace}\u0000${String(seq).padStart(16, '0')}`);
      expect(row.tagKeys).toEqual(memory.tags.map((tag) => `${namespace}\u0000${tag}`));
    }
    raw.close();
  });

  it('PGlite: the v4 tables replayed from SQL open, migrate and read the same', async () => {
    const pg = await PGlite.create();
    await pg.exec(sqlScript);
    const store = new PostgresStore(pglite(pg));
    expect(await stateOf(store)).toStrictEqual(expected);
    await store.close();
    const again = new PostgresStore(pglite(pg));
    expect(await stateOf(again)).toStrictEqual(expected);
    await expectPurge(again);
    await pg.close();
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'real Postgres (DATABASE_URL; skipped without it, see test/setup/real-postgres.ts): the v4 tables migrate and read the same',
    async () => {
      const url = process.env.DATABASE_URL!;
      const schema = `fixture_v4_${process.pid}_${Date.now()}`;
      const admin = postgres(url, { max: 1, onnotice: () => {} });
      await admin.unsafe(`CREATE SCHEMA ${schema}`);
      try {
        await admin.begin(async (tx) => {
          await tx.unsafe(`SET LOCAL search_path TO ${schema}`);
          await tx.unsafe(sqlScript);
        });
        const open = () =>
          new PostgresStore(postgresJs(url, { max: 2, connection: { search_path: schema } }));
        const store = open();
        expect(await stateOf(store)).toStrictEqual(expected);
        await store.close();
        const again = open();
        expect(await stateOf(again)).toStrictEqual(expected);
        await expectPurge(again);
        await again.close();
      } finally {
        await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
      }
    },
  );
});
