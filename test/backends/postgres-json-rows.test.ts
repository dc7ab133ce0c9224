import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import type { PostgresDriver } from '../../src/backends/postgres/driver.js';
import { PostgresStore, pglite, postgresJs } from '../../src/backends/postgres/index.js';
import { postgresDialect } from '../../src/backends/sql/dialect.js';
import type { SqlParam } from '../../src/backends/sql/executor.js';
import { MEMORY_COLUMNS, memoryToRow } from '../../src/backends/sql/rows.js';
import type { MemoryRecord } from '../../src/core/store-contract.js';

const COLUMNS = [...MEMORY_COLUMNS, 'doc'];
const stamp = '2026-01-01T00:00:00.000Z-0000-abcdef0123456789';

/** Memories with every optional field, none of them, and some: the null columns a row leaves out vary. */
const records: MemoryRecord[] = [
  {
    memory: {
      id: 'a',
      namespace: 'n',
      content: 'plain',
      kind: 'note',
      tags: [],
      metadata: {},
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    },
    clocks: { content: stamp },
  },
  {
    memory: {
      id: 'b',
      namespace: 'n',
      content: 'full "quoted" \\ é',
      kind: 'fact',
      tags: ['x', 'y'],
      metadata: { k: [1, null] },
      createdAt: 'not a date',
      updatedAt: '',
      embedding: [0.25, -1e-300, 3],
      embeddingModel: 'm',
      importance: 0.5,
      expiresAt: '2030-01-01T00:00:00.000Z',
      validFrom: '2025-01-01T00:00:00.000Z',
      validTo: '2027-01-01T00:00:00.000Z',
    },
    clocks: { content: stamp, tags: stamp },
  },
  {
    memory: {
      id: 'c',
      namespace: 'n',
      content: '',
      kind: 'event',
      tags: ['z'],
      metadata: {},
      createdAt: '2026-02-01T00:00:00.000Z',
      updatedAt: '2026-03-01T00:00:00.000Z',
      importance: 0,
    },
    clocks: {},
  },
];

/** What the rows parameter was before nulls were left out: every column named, nulls included. */
function everyColumn(rows: readonly SqlParam[][]): string {
  const hex = (bytes: Uint8Array) => `\\x${Buffer.from(bytes).toString('hex')}`;
  return JSON.stringify(
    rows.map((row) =>
      Object.fromEntries(
        COLUMNS.map((c, i) => [
          c,
          row[i] instanceof Uint8Array ? hex(row[i] as Uint8Array) : (row[i] ?? null),
        ]),
      ),
    ),
  );
}

async function storedAlike(driver: PostgresDriver): Promise<void> {
  const store = new PostgresStore(driver);
  await store.open();
  await driver.run('DROP TABLE IF EXISTS json_rows_old, json_rows_new', []);
  await driver.run('CREATE TABLE json_rows_old (LIKE engram_memories)', []);
  await driver.run('CREATE TABLE json_rows_new (LIKE engram_memories)', []);
  const rows = records.map((record, i) => [...memoryToRow('n', record, null), i === 2 ? null : i + 1]);
  const { sql, params } = postgresDialect.insertRows!('json_rows_new', COLUMNS, rows, '');
  // No column is spelt null (the metadata's own null is inside its JSON text).
  expect(String(params[0])).not.toMatch(/"[a-z_]+":null/);
  await driver.run(sql, params);
  await driver.run(sql.replaceAll('json_rows_new', 'json_rows_old'), [everyColumn(rows)]);
  const digest = (table: string) =>
    driver.all<{ n: number | string; md5: string }>(
      `SELECT count(*) AS n, md5(string_agg(t::text, '|' ORDER BY id)) AS md5 FROM ${table} t`,
      [],
    );
  const [[before], [after]] = await Promise.all([digest('json_rows_old'), digest('json_rows_new')]);
  expect(Number(after!.n)).toBe(3);
  expect(after).toEqual(before);
  await driver.run('DROP TABLE json_rows_old, json_rows_new', []);
}

describe('Postgres JSON rows: null columns left out store the same rows', () => {
  it('on PGlite', async () => {
    await storedAlike(pglite(await PGlite.create()));
  });
  it.skipIf(!process.env.DATABASE_URL)('on the real server (DATABASE_URL)', async () => {
    const driver = postgresJs(process.env.DATABASE_URL!, {
      connection: { search_path: 'engram_json_rows' },
      max: 1,
    });
    await driver.run('DROP SCHEMA IF EXISTS engram_json_rows CASCADE', []);
    await driver.run('CREATE SCHEMA engram_json_rows', []);
    try {
      await storedAlike(driver);
    } finally {
      await driver.run('DROP SCHEMA engram_json_rows CASCADE', []);
      await driver.close?.();
    }
  });
});
