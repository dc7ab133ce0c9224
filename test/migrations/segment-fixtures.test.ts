import 'fake-indexeddb/auto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { openDB } from 'idb';
import postgres from 'postgres';
import initSqlJs, { type Database } from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { SCHEMA_VERSION } from '../../src/backends/indexeddb/upgrade.js';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { SEGMENTED_TEXT } from '../../src/backends/sql/resegment-text.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, type MemoryStore } from '../../src/index.js';
import { CURRENT_SQL_VERSION } from '../backends/sql-legacy.js';
import { type IndexedDBImage, loadIndexedDB } from '../fixtures/indexeddb-dump.js';
import { withReplayedSchema } from '../fixtures/postgres-dump.js';
import { SEGMENT_NAMESPACES, SEGMENT_QUERIES } from '../fixtures/segment-dataset.js';
import { asRead } from '../fixtures/shard-rows.js';
import { expectAsReference, postingsOf, rows } from './fixture-answers.js';

// Databases written by commit 2a4997f (test/fixtures/write-segment-fixtures.ts), the last code that kept a run
// of Thai, Lao, Khmer or Myanmar letters as one word: "ฉันชอบกินข้าวผัดตอนเช้า" was one key. Today's code must
// rebuild the text index of the namespaces holding such text (SQL schema v20, IndexedDB v8), answer as a store
// fed the same records today, and leave the English namespace's rows as they were, byte for byte.
const fixtures = join(import.meta.dirname, '../fixtures');
const pgScript = await readFile(join(fixtures, 'postgres-v19-segment.sql'), 'utf8');
const idbImage = JSON.parse(
  await readFile(join(fixtures, 'indexeddb-v7-segment.json'), 'utf8'),
) as IndexedDBImage;
const SQL = await initSqlJs();
const dir = await mkdtemp(join(tmpdir(), 'engram-segment-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const { scripts, german, plain } = SEGMENT_NAMESPACES;
const fixture = { queries: SEGMENT_QUERIES, languages: { [german]: 'german' as const } };
/** The whole run as the old code keyed it, and a word inside it as today's does. */
const RUN_KEY = '~ฉันชอบกินข้าวผัดตอนเช้า';
const WORD_KEY = '~กิน';

/** The upgraded store answers as the reference does, and the reference's answers are right. */
async function expectSegmented(store: MemoryStore): Promise<void> {
  await expectAsReference(store, fixture);
  // Not vacuous: the answers are today's, which the old keys could not give.
  const mem = await createMemory({ store, namespace: scripts });
  const contents = async (query: string) => (await mem.search(query)).map((hit) => hit.memory.content).sort();
  expect(await contents('กิน')).toEqual(['ฉันชอบกินข้าวผัดตอนเช้า', 'เขาชอบกินข้าวมันไก่']);
  expect(await contents('"ข้าวผัด"')).toEqual(['ฉันชอบกินข้าวผัดตอนเช้า']);
  expect(await contents('สำนักงาน')).toEqual(['ผมกำลังทำงานที่สำนักงาน']);
  expect(await contents('ກິນ')).toEqual(['ຂ້ອຍມັກກິນເຂົ້າໜຽວ']);
  expect(await contents('ចូលចិត្ត')).toEqual(['ខ្ញុំចូលចិត្តញ៉ាំបាយ']);
  expect(await contents('iphone')).toEqual(['ซื้อiPhoneรุ่นใหม่2เครื่อง']);
  const kunde = await createMemory({ store, namespace: german, language: 'german' });
  expect((await kunde.search('กาแฟ')).map((hit) => hit.memory.content)).toEqual(['ฉันชอบดื่มกาแฟร้อน']);
}

const pickText = ({ docs, tokens, openGroup, openGroupSlots }: Record<string, unknown>) => ({
  docs,
  tokens,
  openGroup,
  openGroupSlots,
});
const countOf = (db: Database, ns: string, term: string) =>
  rows(db, `SELECT count(*) FROM engram_postings WHERE ns = '${ns}' AND term = '${term}'`)[0]![0];

describe('a text index written before Thai, Lao, Khmer and Myanmar were segmented is rebuilt where it changed', () => {
  it('sql.js: a v19 file of 2a4997f upgrades to v20, segmented namespaces rebuilt, the English one untouched', async () => {
    const path = join(dir, 'segment.db');
    await copyFile(join(fixtures, 'sqljs-v19-segment.db'), path);
    const before = new SQL.Database(await readFile(path));
    expect(rows(before, 'SELECT max(version) FROM engram_schema_version')[0]![0]).toBe(19);
    expect(countOf(before, scripts, RUN_KEY)).toBe(1);
    expect(countOf(before, scripts, WORD_KEY)).toBe(0);
    const plainBefore = postingsOf(before, plain);
    const counters = 'SELECT ns, docs, tokens, docnos FROM engram_namespaces ORDER BY ns';
    const plainCounters = rows(before, counters).find(([ns]) => ns === plain);
    before.close();
    expect(plainBefore.length).toBeGreaterThan(5);

    const store = new SqlJsStore({ persist: path });
    await expectSegmented(store);
    const after = new SQL.Database(await store.export());
    await store.close();
    expect(rows(after, 'SELECT max(version) FROM engram_schema_version')[0]![0]).toBe(CURRENT_SQL_VERSION);
    expect(countOf(after, scripts, RUN_KEY)).toBe(0);
    expect(countOf(after, scripts, WORD_KEY)).toBe(1);
    expect(postingsOf(after, plain)).toEqual(plainBefore);
    expect(rows(after, counters).find(([ns]) => ns === plain)).toEqual(plainCounters);
    after.close();
    // Reopened: nothing left to do, the same answers.
    await expectSegmented(new SqlJsStore({ persist: path }));
  });

  it('PGlite: v19 tables with pending postings upgrade; the segmented namespaces leave their pending list', async () => {
    const pg = await PGlite.create();
    await pg.exec(pgScript);
    const pendingOf = async (ns: string) =>
      (await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM engram_pending WHERE ns = $1', [ns]))
        .rows[0]!.n;
    const plainRows = async () => [
      (await pg.query('SELECT bucket, first, data FROM engram_pending WHERE ns = $1 ORDER BY 1, 2', [plain]))
        .rows,
      (await pg.query('SELECT term, grp, data FROM engram_postings WHERE ns = $1 ORDER BY 1, 2', [plain]))
        .rows,
      // Its counters: the columns of v19 (v23 adds the home client, null until the next memory write).
      (
        await pg.query(
          'SELECT ns, seq, docs, tokens, docnos, merged, pending FROM engram_namespaces WHERE ns = $1',
          [plain],
        )
      ).rows,
    ];
    expect(await pendingOf(scripts)).toBeGreaterThan(0);
    const plainBefore = await plainRows();
    expect(plainBefore[0]!.length).toBeGreaterThan(0);
    expect(plainBefore[1]!.length).toBeGreaterThan(0);
    // The server-side filter reads the scripts' texts only.
    const filtered = async (ns: string) =>
      (
        await pg.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM engram_memories WHERE ns = $1 AND ${SEGMENTED_TEXT.postgresFilter}`,
          [ns],
        )
      ).rows[0]!.n;
    expect(await filtered(plain)).toBe(0);
    expect(await filtered(scripts)).toBeGreaterThan(5);

    const store = new PostgresStore(pglite(pg));
    await expectSegmented(store);
    expect(await pendingOf(scripts)).toBe(0);
    expect(await pendingOf(german)).toBe(0);
    const state = await pg.query<{ merged: number; docnos: number; pending: number }>(
      'SELECT merged, docnos, pending FROM engram_namespaces WHERE ns = $1',
      [scripts],
    );
    expect(state.rows[0]!.merged).toBe(state.rows[0]!.docnos);
    expect(state.rows[0]!.pending).toBe(0);
    expect(await plainRows()).toEqual(plainBefore);
    // Writes after the rebuild go on from it: a new Thai memory is found beside the rebuilt ones.
    const mem = await createMemory({ store, namespace: scripts });
    const added = await mem.add({ content: 'แมวชอบกินปลา' });
    expect((await mem.search('กิน')).map((hit) => hit.memory.id)).toContain(added.id);
    await expectAsReference(store, fixture);
    await store.close();
    await pg.close();
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'real Postgres (DATABASE_URL; skipped without it, see test/setup/real-postgres.ts): the v19 tables upgrade the same',
    async () => {
      const sql = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      // The server's regular expressions read the blocks as this process does.
      const picked = await sql.unsafe<Array<{ content: string }>>(
        `SELECT content FROM (VALUES ('ภาษา'), ('ກິນ'), ('ខ្ញុំ'), ('တယ်'), ('\u19e0'), ('\uaa60'), ('\ua9e0'),
          ('coffee'), ('서울'), ('हिंदी'), ('naïve')) AS t(content) WHERE ${SEGMENTED_TEXT.postgresFilter}`,
      );
      await sql.end();
      expect(picked.map((row) => row.content)).toEqual([
        'ภาษา',
        'ກິນ',
        'ខ្ញុំ',
        'တယ်',
        '\u19e0',
        '\uaa60',
        '\ua9e0',
      ]);
      await withReplayedSchema(process.env.DATABASE_URL!, 'segment', pgScript, async (open) => {
        const store = open();
        await expectSegmented(store);
        await store.close();
        await expectSegmented(open());
      });
    },
  );

  it('IndexedDB: a v7 database of 2a4997f upgrades to v8, segmented namespaces rebuilt, the English one untouched', async () => {
    expect(idbImage.version).toBe(7);
    const name = `segment-${Date.now()}`;
    await loadIndexedDB(name, idbImage);
    const rowsOf = async (ns: string) => {
      const db = await openDB(name);
      const range = IDBKeyRange.bound([ns], [ns, []]);
      const all = {
        // As code reads them: v9 stores every row packed, the untouched ones too.
        shards: (await db.getAll('textShards', range)).map(asRead),
        tables: await db.getAll('textTables', range),
        // The text counters; the image's JSON writes the open bounds (±Infinity) as null, which opening mends.
        stats: pickText(await db.get('stats', ns)),
      };
      db.close();
      return all;
    };
    const plainBefore = await rowsOf(plain);
    const scriptsBefore = await rowsOf(scripts);
    expect(plainBefore.shards.length).toBeGreaterThan(0);
    const feedNumber = async () => {
      const db = await openDB(name);
      const { seq } = await db.get('stats', scripts);
      db.close();
      return seq as number;
    };
    const seqBefore = await feedNumber();
    const store = new IndexedDBStore({ name });
    await store.open();
    // A rebuilt namespace starts its text counters again, not its change feed.
    expect(await feedNumber()).toBe(seqBefore);
    await expectSegmented(store);
    await store.close();
    const db = await openDB(name);
    expect(db.version).toBe(SCHEMA_VERSION);
    db.close();
    expect(await rowsOf(plain)).toEqual(plainBefore);
    expect(await rowsOf(scripts)).not.toEqual(scriptsBefore);
    const again = new IndexedDBStore({ name });
    await expectSegmented(again);
    await again.close();
  });
});
