import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { clientOfNode, parseHlc } from '../../src/core/hlc.js';
import { createMemory, type Json, type MemoryStore } from '../../src/index.js';
import { CURRENT_SQL_VERSION } from '../backends/sql-legacy.js';
import { withReplayedSchema } from '../fixtures/postgres-dump.js';
import { expectedState, NS, OTHER_NS, READ_AT, readState } from '../fixtures/v4-dataset.js';

// Databases written by commit 2e014d7 (test/fixtures/write-v22-fixtures.ts), the last on SQL schema v22, opened
// by today's code: v23 gives each namespace a home client, whose lone stamps memory rows store without its id.
// Rows written before keep their form; every record, clock, feed entry and read must come back as recorded,
// and a write after the upgrade names the home client and packs against it.
const fixtures = join(import.meta.dirname, '../fixtures');
const recorded = await expectedState(
  JSON.parse(await readFile(join(fixtures, 'v22-expected.json'), 'utf8')) as Record<string, Json>,
);
const pgScript = await readFile(join(fixtures, 'postgres-v22.sql'), 'utf8');
const SQL = await initSqlJs();
const dir = await mkdtemp(join(tmpdir(), 'engram-fixture-v22-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const stateOf = async (store: MemoryStore) => JSON.parse(JSON.stringify(await readState(store))) as unknown;

/** What a raw query on the store's database answers, as rows of values. */
type Raw = (sql: string) => Promise<unknown[][]>;

/** Reads as recorded; the upgrade names no home client; a write names it, packs against it, reads back. */
async function expectUpgraded(open: () => MemoryStore, raw: (store: MemoryStore) => Raw): Promise<void> {
  const store = open();
  expect(await stateOf(store)).toStrictEqual(recorded);
  const db = raw(store);
  // postgres.js reads a bigint as a string.
  const version = await db('SELECT max(version) FROM engram_schema_version');
  expect(version.map((row) => row.map(Number))).toEqual([[CURRENT_SQL_VERSION]]);
  expect(await db('SELECT ns, home FROM engram_namespaces ORDER BY ns')).toEqual([
    [NS, null],
    [OTHER_NS, null],
  ]);
  const packed = "SELECT count(*) FROM engram_memories WHERE substr(clocks, 1, 1) = '#'";
  expect((await db(packed)).map((row) => row.map(Number))).toEqual([[0]]);
  const before = await store.getMemories(NS, ['m01', 'm02']);

  // The namespace's own client id (kept in its meta by the fixture's writer) writes on.
  const mem = await createMemory({
    store,
    namespace: NS,
    now: () => READ_AT,
    maintenance: { intervalMs: 0 },
  });
  const added = await mem.add({ content: 'written after the upgrade', tags: ['after'] });
  const client = await store.getMeta(NS, 'clientId');
  expect(typeof client).toBe('string');
  expect(await db('SELECT ns, home FROM engram_namespaces ORDER BY ns')).toEqual([
    [NS, client],
    [OTHER_NS, null],
  ]);
  const [[clocks]] = (await db(`SELECT clocks FROM engram_memories WHERE id = '${added.id}'`)) as [[string]];
  expect(clocks).toMatch(/^#[0-9a-f]{4}\.[0-9a-f]{8}$/);
  const [record] = await store.getMemories(NS, [added.id]);
  expect(clientOfNode(parseHlc(record!.clocks.content!)!.node)).toBe(client);
  expect(Object.values(record!.clocks)).toEqual(
    Object.values(record!.clocks).map(() => record!.clocks.content),
  );
  // A link written after the upgrade keeps its one stamp alone; the fixture's links keep a stamp per field.
  const link = await mem.link(added.id, 'm01', 'related_to');
  const [[linkClocks]] = (await db(`SELECT clocks FROM engram_links WHERE id = '${link.id}'`)) as [[string]];
  const linkStamp = JSON.parse(linkClocks) as string;
  expect(linkStamp).toMatch(/^[0-9a-f]{12}-[0-9a-f]{4}-[0-9a-f]{16}\.[0-9a-f]{8}$/);
  const [linked] = await store.getLinks(NS, [link.id]);
  expect(linked!.clocks).toEqual({ type: linkStamp, weight: linkStamp, metadata: linkStamp });
  const oldLinks = (await db(`SELECT clocks FROM engram_links WHERE id <> '${link.id}'`)) as [string][];
  expect(oldLinks.length).toBeGreaterThan(0);
  expect(oldLinks.every(([clocks]) => clocks.startsWith('{'))).toBe(true);
  // Rows written before read as they did.
  expect(await store.getMemories(NS, ['m01', 'm02'])).toEqual(before);
  expect((await mem.search('upgrade')).map((h) => h.memory.id)).toEqual([added.id]);
  await store.close();

  const again = open();
  expect(await again.getMemories(NS, [added.id])).toEqual([record]);
  expect(await again.getMemories(NS, ['m01', 'm02'])).toEqual(before);
  await again.close();
}

describe('schema v22 databases of commit 2e014d7 upgrade to the home client (v23)', () => {
  it('sql.js: reads as recorded, then packs the writes of its own client', async () => {
    const path = join(dir, 'v22.db');
    await copyFile(join(fixtures, 'sqljs-v22.db'), path);
    await expectUpgraded(
      () => new SqlJsStore({ persist: path, sqlJs: SQL }),
      (store) => async (sql) => {
        const db = new SQL.Database(await (store as SqlJsStore).export());
        const values = db.exec(sql)[0]?.values ?? [];
        db.close();
        return values;
      },
    );
  }, 60_000);

  it('PGlite: reads as recorded, then packs the writes of its own client', async () => {
    const pg = await PGlite.create();
    await pg.exec(pgScript);
    await expectUpgraded(
      () => new PostgresStore(pglite(pg)),
      () => async (sql) => (await pg.query<Record<string, unknown>>(sql)).rows.map(Object.values),
    );
    await pg.close();
  }, 60_000);

  it.skipIf(!process.env.DATABASE_URL)(
    'real Postgres (DATABASE_URL; skipped without it, see test/setup/real-postgres.ts): reads as recorded, then packs the writes of its own client',
    async () => {
      await withReplayedSchema(process.env.DATABASE_URL!, 'v22', pgScript, async (open, schema) => {
        const raw = postgres(process.env.DATABASE_URL!, { max: 1, connection: { search_path: schema } });
        try {
          await expectUpgraded(open, () => async (sql) => (await raw.unsafe(sql)).map(Object.values));
        } finally {
          await raw.end();
        }
      });
    },
    60_000,
  );
});
