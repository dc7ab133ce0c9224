import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';

/**
 * Sharding by namespace (Citus `create_distributed_table(t, 'ns')`) needs every table's primary key and
 * every index to lead with `ns`, so each row, key and index entry of one namespace lives on one shard.
 * This keeps the schema that way: a new table or index that does not lead with `ns` fails here.
 * `engram_schema_version` is the one global table (a Citus reference table): it holds no tenant data.
 */
const GLOBAL_TABLES = ['engram_schema_version'];

describe('Postgres schema: every key and index leads with the namespace', () => {
  it('holds for every engram_* table and index', async () => {
    const db = await PGlite.create();
    const store = new PostgresStore(pglite(db));
    await store.open();
    await store.apply('n', { meta: { warm: 1 } });
    const tables = (
      await db.query<{ table: string }>(
        "SELECT tablename AS table FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'engram\\_%'",
      )
    ).rows.map((r) => r.table);
    const indexes = (
      await db.query<{ table: string; index: string; primary: boolean; first: string }>(
        `SELECT t.relname AS table, i.relname AS index, x.indisprimary AS primary, a.attname AS first
           FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_namespace s ON s.oid = t.relnamespace AND s.nspname = current_schema()
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
          WHERE t.relname LIKE 'engram\\_%'`,
      )
    ).rows;
    await store.close();
    await db.close();

    const tenantTables = tables.filter((t) => !GLOBAL_TABLES.includes(t)).sort();
    // The check must see the real schema, not an empty catalog.
    expect(tenantTables).toEqual(
      expect.arrayContaining(['engram_memories', 'engram_postings', 'engram_links', 'engram_namespaces']),
    );
    for (const table of tenantTables) {
      const primary = indexes.filter((i) => i.table === table && i.primary);
      expect(primary, `${table} has a primary key`).toHaveLength(1);
    }
    const offending = indexes
      .filter((i) => !GLOBAL_TABLES.includes(i.table) && i.first !== 'ns')
      .map((i) => `${i.index} on ${i.table} leads with ${i.first}`);
    expect(offending).toEqual([]);
    // PGlite's first start (WebAssembly) is slow on a busy machine.
  }, 120_000);
});
