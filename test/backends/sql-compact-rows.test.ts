import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import {
  epochMs,
  MEMORY_COLUMNS,
  type MemoryRow,
  memoryFromRow,
  memoryToRow,
  packDates,
  unpackDates,
} from '../../src/backends/sql/rows.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { MEMORY_FIELDS, type MemoryRecord, type MemoryStore } from '../../src/core/store-contract.js';
import { createMemory } from '../../src/index.js';
import { CURRENT_SQL_VERSION, downgradePostgresToVersion9, downgradeToVersion9 } from './sql-legacy.js';

const dir = await mkdtemp(join(tmpdir(), 'engram-packed-dates-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const NS = 'dates';
const QUERIES = ['coffee', 'roast*', 'tea -green', 'morning run'];

/** Instants as a writer could hand them over: canonical, other ISO forms, unparseable, empty, escaped. */
const ODD: Array<[string, string]> = [
  ['2026-01-02T03:04:05.678Z', '2026-01-02T03:04:05.678Z'],
  ['2026-01-02T03:04:05.678Z', '2026-02-02T03:04:05.678Z'],
  ['2026-01-02T03:04:05Z', '2026-01-02T03:04:05Z'],
  ['2026-01-02T04:04:05.678+01:00', '2026-01-02T03:04:05.678Z'],
  ['not a date', ''],
  ['', ''],
  ['', 'x'],
  ['2026-01-02T03:04:05.678Z', ''],
  ['2026-01-02T03:04:05.678Z', '='],
  ['2026-01-02T03:04:05.678Z', '==2026'],
  ['=', '2026-01-02T03:04:05.678Z'],
];

describe('packed memory instants (rows.ts packDates)', () => {
  it('read back as written, whatever was written', () => {
    for (const [createdAt, updatedAt] of ODD) {
      const ms = epochMs(createdAt);
      const [created, updated] = packDates(createdAt, updatedAt, ms);
      expect(unpackDates(created, updated, ms)).toEqual({ createdAt, updatedAt });
      // Postgres hands BIGINT columns back as strings.
      expect(unpackDates(created, updated, ms === null ? null : String(ms))).toEqual({
        createdAt,
        updatedAt,
      });
    }
  });

  it('a memory never edited stores neither instant as text; an edited one keeps only its update', () => {
    const at = '2026-01-02T03:04:05.678Z';
    expect(packDates(at, at, Date.parse(at))).toEqual(['', '']);
    expect(packDates(at, '2026-03-01T00:00:00.000Z', Date.parse(at))).toEqual([
      '',
      '2026-03-01T00:00:00.000Z',
    ]);
  });
});

describe('packed memory clocks (rows.ts packClocks)', () => {
  const at = '2026-01-02T03:04:05.678Z';
  const stampAt = (iso: string, rest = '0003-node.a:1') =>
    `${Date.parse(iso).toString(16).padStart(12, '0')}-${rest}`;
  const record = (createdAt: string, clocks: Record<string, string>): MemoryRecord => ({
    memory: {
      id: 'm1',
      namespace: NS,
      content: 'c',
      kind: 'note',
      tags: [],
      metadata: {},
      createdAt,
      updatedAt: createdAt,
    },
    clocks,
  });
  const uniform = (stamp: string) => Object.fromEntries(MEMORY_FIELDS.map((f) => [f, stamp]));
  const stored = (r: MemoryRecord) => {
    const values = memoryToRow(NS, r);
    return Object.fromEntries(MEMORY_COLUMNS.map((c, i) => [c, values[i]])) as unknown as MemoryRow;
  };

  it('a lone stamp made at created_ms loses its wall clock; every clock reads back as written', () => {
    const cases: MemoryRecord[] = [
      record(at, uniform(stampAt(at))),
      record(at, uniform(stampAt('2026-01-02T03:04:05.679Z'))),
      record('not a date', uniform(stampAt(at))),
      record(at, { ...uniform(stampAt(at)), content: stampAt('2026-02-01T00:00:00.000Z') }),
    ];
    const texts = cases.map((r) => stored(r).clocks);
    expect(texts[0]).toBe('@0003-node.a:1');
    expect(texts.slice(1).every((t) => t.startsWith('"') || t.startsWith('{'))).toBe(true);
    for (const r of cases) {
      const row = stored(r);
      expect(memoryFromRow(NS, row)).toEqual(r);
      expect(
        memoryFromRow(NS, { ...row, created_ms: row.created_ms === null ? null : String(row.created_ms) }),
      ).toEqual(r);
    }
  });
});

/** Five memories the searches find (one edited), two that odd rows replace (ODD_ROWS), one deleted. */
async function fill(store: MemoryStore): Promise<string[]> {
  const mem = await createMemory({ store, namespace: NS });
  const contents = [
    'dark roast coffee',
    'green tea in the morning',
    'tea and coffee',
    'a morning run',
    'roasting beans',
  ];
  const added = await mem.addMany(
    [...contents, 'zebra one', 'zebra two', 'gone'].map((content) => ({ content })),
  );
  await mem.update(added[1]!.id, { content: 'black tea in the morning' });
  await mem.remove(added[7]!.id);
  return added.slice(0, 7).map((m) => m.id);
}

async function stateOf(store: MemoryStore, ids: string[]) {
  const mem = await createMemory({ store, namespace: NS });
  const searches: Record<string, unknown> = {};
  for (const q of QUERIES) searches[q] = (await mem.search(q)).map((h) => [h.memory.id, h.score]);
  const records = await store.getMemories(NS, ids);
  // Every number handed out and one more, the deleted memory's included: the doc index names the live ones.
  const docIds = await store.docIds!(NS, [...Array(ids.length + 2).keys()]);
  return { records: records.sort((a, b) => (a.memory.id < b.memory.id ? -1 : 1)), searches, docIds };
}

/** Rows a writer other than core could have left, set with the raw library on the downgraded database. */
const ODD_ROWS: Array<[string, string]> = [
  ['2026-01-02T03:04:05Z', ''],
  ['2026-01-02T03:04:05.678Z', '=x'],
];
const ODD_AT = 5;

/** The upgraded state is the one before, but for the odd rows, which read back as the raw library set them. */
function expectUpgraded(
  state: Awaited<ReturnType<typeof stateOf>>,
  reference: Awaited<ReturnType<typeof stateOf>>,
  ids: string[],
) {
  expect(state.searches).toEqual(reference.searches);
  expect(state.docIds).toEqual(reference.docIds);
  expect(state.docIds.size).toBe(ids.length);
  const odd = new Set(ids.slice(ODD_AT));
  const kept = (records: typeof state.records) => records.filter((r) => !odd.has(r.memory.id));
  expect(kept(state.records)).toEqual(kept(reference.records));
  const byId = new Map(state.records.map((r) => [r.memory.id, r.memory]));
  const referenceById = new Map(reference.records.map((r) => [r.memory.id, r]));
  ODD_ROWS.forEach(([createdAt, updatedAt], i) => {
    const id = ids[ODD_AT + i]!;
    expect(byId.get(id)).toMatchObject({ createdAt, updatedAt });
    // Its stamp's wall clock is no longer created_ms: kept whole, and read back the same.
    expect(state.records.find((r) => r.memory.id === id)?.clocks).toEqual(referenceById.get(id)?.clocks);
  });
}

/** Never-edited memories outside the odd rows: both instants stored empty, the clock without its wall. */
const PACKED = `SELECT count(*) AS n FROM engram_memories WHERE ns = '${NS}' AND created_at = '' AND updated_at = ''
  AND substr(clocks, 1, 1) = '@'`;
const PACKED_EXPECTED = ODD_AT - 1;

describe('schemas v10 to v12: memories written before get packed instants and clocks, a doc index without ids', () => {
  it('sql.js: a version-9 file reads and searches the same after the upgrade, its rows packed', async () => {
    const path = join(dir, 'v9.db');
    const store = new SqlJsStore({ persist: path });
    const ids = await fill(store);
    const reference = await stateOf(store, ids);
    await store.close();

    const SQL = await initSqlJs();
    const db = new SQL.Database(await readFile(path));
    downgradeToVersion9(db);
    expect(db.exec('PRAGMA index_info(engram_memories_by_doc)')[0]?.values.map((c) => c[2])).toEqual([
      'ns',
      'doc',
      'id',
    ]);
    const [unpacked] = db.exec(
      "SELECT count(*) FROM engram_memories WHERE created_at = '' OR updated_at = '' OR substr(clocks, 1, 1) = '@'",
    );
    expect(unpacked?.values).toEqual([[0]]);
    const odd = db.prepare(
      'UPDATE engram_memories SET created_at = ?, created_ms = ?, updated_at = ? WHERE id = ?',
    );
    ODD_ROWS.forEach(([createdAt, updatedAt], i) => {
      odd.run([createdAt, epochMs(createdAt), updatedAt, ids[ODD_AT + i]!]);
    });
    odd.free();
    await writeFile(path, db.export());
    db.close();

    const upgraded = new SqlJsStore({ persist: path });
    const state = await stateOf(upgraded, ids);
    expectUpgraded(state, reference, ids);
    // sql.js saves the migrated file with the next write.
    await (await createMemory({ store: upgraded, namespace: 'other' })).add({ content: 'saved' });
    await upgraded.close();
    const again = new SqlJsStore({ persist: path });
    expect(await stateOf(again, ids)).toEqual(state);
    await again.close();

    const raw = new SQL.Database(await readFile(path));
    expect(raw.exec('SELECT max(version) FROM engram_schema_version')[0]?.values).toEqual([
      [CURRENT_SQL_VERSION],
    ]);
    expect(raw.exec(PACKED)[0]?.values).toEqual([[PACKED_EXPECTED]]);
    expect(raw.exec('PRAGMA index_info(engram_memories_by_doc)')[0]?.values.map((c) => c[2])).toEqual([
      'ns',
      'doc',
    ]);
    raw.close();
  }, 120_000);

  it('PGlite: a version-9 database reads and searches the same after the upgrade, its rows packed', async () => {
    const pg = await PGlite.create();
    const store = new PostgresStore(pglite(pg));
    const ids = await fill(store);
    const reference = await stateOf(store, ids);
    await store.close();

    await downgradePostgresToVersion9(pg);
    const unpacked = await pg.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM engram_memories WHERE created_at = '' OR updated_at = '' OR substr(clocks, 1, 1) = '@'",
    );
    expect(unpacked.rows).toEqual([{ n: 0 }]);
    for (const [i, [createdAt, updatedAt]] of ODD_ROWS.entries()) {
      await pg.query(
        'UPDATE engram_memories SET created_at = $1, created_ms = $2, updated_at = $3 WHERE id = $4',
        [createdAt, epochMs(createdAt), updatedAt, ids[ODD_AT + i]],
      );
    }

    const upgraded = new PostgresStore(pglite(pg));
    expectUpgraded(await stateOf(upgraded, ids), reference, ids);
    await upgraded.close();
    const packed = await pg.query<{ n: number }>(PACKED.replace('count(*)', 'count(*)::int'));
    expect(packed.rows).toEqual([{ n: PACKED_EXPECTED }]);
    const index = await pg.query<{ def: string }>(
      "SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'engram_memories_by_doc'",
    );
    expect(index.rows[0]?.def).toMatch(/\(ns, doc\)$/);
    await pg.close();
  }, 120_000);
});
