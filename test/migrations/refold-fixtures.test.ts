import 'fake-indexeddb/auto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { openDB } from 'idb';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { SCHEMA_VERSION } from '../../src/backends/indexeddb/upgrade.js';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, type MemoryStore } from '../../src/index.js';
import { CURRENT_SQL_VERSION } from '../backends/sql-legacy.js';
import { type IndexedDBImage, loadIndexedDB } from '../fixtures/indexeddb-dump.js';
import { withReplayedSchema } from '../fixtures/postgres-dump.js';
import { REFOLD_NAMESPACES, REFOLD_QUERIES } from '../fixtures/refold-dataset.js';
import { asRead } from '../fixtures/shard-rows.js';
import { expectAsReference as expectAsFresh, postingsOf, rows } from './fixture-answers.js';

// Databases written by commit 88475b0 (test/fixtures/write-refold-fixtures.ts), the last code that stripped
// every mark and never composed again: its Korean was indexed as jamo, its kana without voicing marks, its
// Hindi without vowel signs. Today's code must rebuild the text index of the namespaces holding such text
// (SQL schema v19, IndexedDB v7) and answer as a store fed the same records today, and leave the others be.
const fixtures = join(import.meta.dirname, '../fixtures');
const pgScript = await readFile(join(fixtures, 'postgres-v18-refold.sql'), 'utf8');
const idbImage = JSON.parse(
  await readFile(join(fixtures, 'indexeddb-v6-refold.json'), 'utf8'),
) as IndexedDBImage;
const SQL = await initSqlJs();
const dir = await mkdtemp(join(tmpdir(), 'engram-refold-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const { scripts, german, plain } = REFOLD_NAMESPACES;
const fixture = { queries: REFOLD_QUERIES, languages: { [german]: 'german' as const } };
const expectAsReference = (store: MemoryStore) => expectAsFresh(store, fixture);

/** The upgraded store answers as the reference does, and the reference's answers are right. */
async function expectRefolded(store: MemoryStore): Promise<void> {
  await expectAsReference(store);
  // Not vacuous: the answers are today's, which the old keys could not give.
  const mem = await createMemory({ store, namespace: scripts });
  const contents = async (query: string, all = false) =>
    (await mem.search(query, all ? { match: 'all' } : {})).map((hit) => hit.memory.content);
  expect((await contents('서울')).sort()).toEqual(['서울에서 만나요', '서울역 がっこう']);
  expect((await contents('がっこう', true)).sort()).toEqual(['がっこうへいく', '서울역 がっこう']);
  expect(await contents('हद')).toEqual(['हद से ज़्यादा']);
  expect(await contents('ΚΟΣ*')).toEqual(['Ο ΚΟΣΜΟΣ ΕΙΝΑΙ ΜΙΚΡΟΣ']);
  const kunde = await createMemory({ store, namespace: german, language: 'german' });
  expect((await kunde.search('서울')).map((hit) => hit.memory.content)).toEqual(['서울의 집은 너무 비싸다']);
}

describe('a text index written before the script-aware folding is rebuilt where it changed', () => {
  it('sql.js: a v18 file of 88475b0 upgrades to v19, refolded namespaces rebuilt, the others untouched', async () => {
    const path = join(dir, 'refold.db');
    await copyFile(join(fixtures, 'sqljs-v18-refold.db'), path);
    const before = new SQL.Database(await readFile(path));
    expect(rows(before, 'SELECT max(version) FROM engram_schema_version')[0]![0]).toBe(18);
    // The fixture holds the old keys: Korean pairs of jamo (서 is U+1109 U+1165 there).
    const jamo = `SELECT count(*) FROM engram_postings WHERE ns = '${scripts}' AND term = '~\u1109\u1165'`;
    expect(rows(before, jamo)[0]![0]).toBe(1);
    const plainBefore = postingsOf(before, plain);
    before.close();
    expect(plainBefore.length).toBeGreaterThan(5);

    const store = new SqlJsStore({ persist: path });
    await expectRefolded(store);
    const after = new SQL.Database(await store.export());
    await store.close();
    expect(rows(after, 'SELECT max(version) FROM engram_schema_version')[0]![0]).toBe(CURRENT_SQL_VERSION);
    expect(rows(after, jamo)[0]![0]).toBe(0);
    expect(
      rows(after, `SELECT count(*) FROM engram_postings WHERE ns = '${scripts}' AND term = '~서울'`)[0]![0],
    ).toBe(1);
    expect(postingsOf(after, plain)).toEqual(plainBefore);
    after.close();
    // Reopened: nothing left to do, the same answers.
    await expectRefolded(new SqlJsStore({ persist: path }));
  });

  it('PGlite: v18 tables with pending postings upgrade; the refolded namespaces leave their pending list', async () => {
    const pg = await PGlite.create();
    await pg.exec(pgScript);
    const pendingOf = async (ns: string) =>
      (await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM engram_pending WHERE ns = $1', [ns]))
        .rows[0]!.n;
    expect(await pendingOf(scripts)).toBeGreaterThan(0);
    const plainPending = await pg.query(
      'SELECT bucket, first, data FROM engram_pending WHERE ns = $1 ORDER BY 1, 2',
      [plain],
    );
    expect(plainPending.rows.length).toBeGreaterThan(0);
    const store = new PostgresStore(pglite(pg));
    await expectRefolded(store);
    expect(await pendingOf(scripts)).toBe(0);
    expect(await pendingOf(german)).toBe(0);
    const state = await pg.query<{ merged: number; docnos: number; pending: number }>(
      'SELECT merged, docnos, pending FROM engram_namespaces WHERE ns = $1',
      [scripts],
    );
    expect(state.rows[0]!.merged).toBe(state.rows[0]!.docnos);
    expect(state.rows[0]!.pending).toBe(0);
    expect(
      (await pg.query('SELECT bucket, first, data FROM engram_pending WHERE ns = $1 ORDER BY 1, 2', [plain]))
        .rows,
    ).toEqual(plainPending.rows);
    // Writes after the rebuild go on from it: a new Korean memory is found beside the rebuilt ones.
    const mem = await createMemory({ store, namespace: scripts });
    const added = await mem.add({ content: '서울 지하철' });
    expect((await mem.search('서울')).map((hit) => hit.memory.id)).toContain(added.id);
    await expectAsReference(store);
    await store.close();
    await pg.close();
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'real Postgres (DATABASE_URL; skipped without it, see test/setup/real-postgres.ts): the v18 tables upgrade the same',
    async () => {
      await withReplayedSchema(process.env.DATABASE_URL!, 'refold', pgScript, async (open) => {
        const store = open();
        await expectRefolded(store);
        await store.close();
      });
    },
  );

  it('IndexedDB: a v6 database of 88475b0 upgrades to v7, refolded namespaces rebuilt, the others untouched', async () => {
    expect(idbImage.version).toBe(6);
    const name = `refold-${Date.now()}`;
    await loadIndexedDB(name, idbImage);
    const shardsOf = async (ns: string) => {
      const db = await openDB(name);
      // Compared as code reads them: v9 stores every row packed, the untouched ones too.
      const all = (await db.getAll('textShards', IDBKeyRange.bound([ns], [ns, []]))).map(asRead);
      db.close();
      return all;
    };
    const plainBefore = await shardsOf(plain);
    expect(plainBefore.length).toBeGreaterThan(0);
    const store = new IndexedDBStore({ name });
    await expectRefolded(store);
    await store.close();
    const db = await openDB(name);
    expect(db.version).toBe(SCHEMA_VERSION);
    db.close();
    expect(await shardsOf(plain)).toEqual(plainBefore);
    const again = new IndexedDBStore({ name });
    await expectRefolded(again);
    await again.close();
  });
});
