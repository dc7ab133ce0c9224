import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs, { type Database } from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteDialect } from '../../src/backends/sql/dialect.js';
import { expiredStatement } from '../../src/backends/sql/maintenance.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, type Json, type MemoryStore } from '../../src/index.js';
import { CURRENT_SQL_VERSION } from '../backends/sql-legacy.js';
import { NS, OTHER_NS, READ_AT, readState, WRITE_AT } from '../fixtures/v4-dataset.js';

// A file written by the code of commit 4d04ec0, the last on schema v12 (write-sqljs-v12-fixture.ts), opened
// by today's code: v13 keys the change feed by (ns, seq) and keeps each entry's number in its row.
const fixtures = join(import.meta.dirname, '../fixtures');
/** What that code read from the file, searches included: ranking has not changed since, so ids and scores must match. */
const recorded = JSON.parse(await readFile(join(fixtures, 'sqljs-v12-expected.json'), 'utf8')) as Record<
  string,
  Json
>;
const SQL = await initSqlJs();
const dir = await mkdtemp(join(tmpdir(), 'engram-fixture-v12-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function stateOf(store: MemoryStore): Promise<unknown> {
  return JSON.parse(JSON.stringify(await readState(store)));
}

const scalar = (db: Database, sql: string) => db.exec(sql)[0]?.values[0]?.[0];

/** Feed entries that no row of the entity they name holds by number, and rows whose number names no entry. */
function feedMismatches(db: Database): unknown[] {
  const rows = `SELECT ns, 'memory' AS entity, id, seq FROM engram_memories
    UNION ALL SELECT ns, 'link', id, seq FROM engram_links
    UNION ALL SELECT ns, entity, id, seq FROM engram_tombstones`;
  const [orphans] = db.exec(`SELECT c.ns, c.seq, c.entity, c.id FROM engram_changes c
    WHERE NOT EXISTS (SELECT 1 FROM (${rows}) r WHERE r.ns = c.ns AND r.seq = c.seq AND r.entity = c.entity AND r.id = c.id)`);
  const [unlisted] = db.exec(`SELECT r.ns, r.entity, r.id, r.seq FROM (${rows}) r
    WHERE NOT EXISTS (SELECT 1 FROM engram_changes c WHERE c.ns = r.ns AND c.seq = r.seq)`);
  return [...(orphans?.values ?? []), ...(unlisted?.values ?? [])];
}

describe('sql.js: a file of schema v12 (commit 4d04ec0) upgrades its change feed', () => {
  it('opens, migrates and reads every record, feed entry and search as that code did, then reopens the same', async () => {
    const path = join(dir, 'read.db');
    await copyFile(join(fixtures, 'sqljs-v12.db'), path);
    const before = new SQL.Database(await readFile(path));
    expect(scalar(before, 'SELECT max(version) FROM engram_schema_version')).toBe(12);
    expect(scalar(before, "SELECT count(*) FROM sqlite_master WHERE name = 'engram_changes_by_seq'")).toBe(1);
    const entries = scalar(before, 'SELECT count(*) FROM engram_changes') as number;
    before.close();
    expect(entries).toBeGreaterThan(20);

    const store = new SqlJsStore({ persist: path });
    expect(await stateOf(store)).toStrictEqual(recorded);
    await store.close();
    const again = new SqlJsStore({ persist: path });
    expect(await stateOf(again)).toStrictEqual(recorded);
    // Read back with sql.js itself (a file is saved after a write, so the export): the new layout, every
    // entry kept and held by exactly its row.
    const raw = new SQL.Database(await again.export());
    await again.close();
    expect(scalar(raw, 'SELECT max(version) FROM engram_schema_version')).toBe(CURRENT_SQL_VERSION);
    expect(scalar(raw, "SELECT count(*) FROM sqlite_master WHERE name = 'engram_changes_by_seq'")).toBe(0);
    expect(scalar(raw, 'SELECT count(*) FROM engram_changes')).toBe(entries);
    expect(
      raw.exec("SELECT name, pk FROM pragma_table_info('engram_changes') WHERE pk > 0 ORDER BY pk")[0]!
        .values,
    ).toEqual([
      ['ns', 1],
      ['seq', 2],
    ]);
    expect(feedMismatches(raw)).toEqual([]);
    // The feed's reads and the deletes of its entries stay key searches, not scans.
    const plans = [
      "SELECT seq, entity, id, origin FROM engram_changes WHERE ns = 'fixture' AND seq > 3 ORDER BY seq LIMIT 10",
      `DELETE FROM engram_changes WHERE ns = 'fixture' AND seq IN
        (SELECT seq FROM engram_memories WHERE ns = 'fixture' AND id IN ('m01', 'm02'))`,
    ].map((sql) => JSON.stringify(raw.exec(`EXPLAIN QUERY PLAN ${sql}`)[0]!.values));
    for (const plan of plans) {
      expect(plan).not.toMatch(/SCAN/);
      expect(plan).toMatch(/SEARCH engram_changes USING PRIMARY KEY \(ns=\? AND seq/);
    }
    // v14: finding expired memories (every open runs it) is a range of the partial expiry index.
    const expired = expiredStatement(sqliteDialect, NS, { now: new Date(READ_AT).toISOString(), limit: 100 });
    const expiredPlan = JSON.stringify(
      raw.exec(`EXPLAIN QUERY PLAN ${expired.sql}`, expired.params)[0]!.values,
    );
    expect(expiredPlan).not.toMatch(/SCAN/);
    expect(expiredPlan).toMatch(
      /SEARCH engram_memories USING INDEX engram_memories_by_expiry \(ns=\? AND expires_ms/,
    );
    expect(raw.exec(expired.sql, expired.params)[0]!.values).toEqual([['m12']]);
    raw.close();
  });

  it('after the upgrade, edits, deletes, a purge and tombstone collection keep one entry per entity', async () => {
    const path = join(dir, 'write.db');
    await copyFile(join(fixtures, 'sqljs-v12.db'), path);
    const store = new SqlJsStore({ persist: path });
    const feedBefore = await store.changes(NS, 0, 10_000);
    let now = READ_AT;
    const mem = await createMemory({ store, namespace: NS, now: () => now, maintenance: { intervalMs: 0 } });
    await mem.update('m01', { content: 'Edited after the feed moved to its new key' });
    await mem.remove('m03');
    const link = await mem.link('m01', 'm04', 'related_to');
    await mem.unlink(link.id);
    expect(await mem.maintain()).toEqual({ purged: 1, collected: 0 });
    // 40 days on: tombstones older than the collection window go, with their entries.
    now = WRITE_AT + 40 * 86_400_000;
    const { collected } = await mem.maintain();
    expect(collected).toBeGreaterThan(0);

    const feed = await store.changes(NS, 0, 10_000);
    const keys = feed.map((e) => `${e.entity}:${e.id}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(feed.map((e) => e.seq)).toEqual([...feed.map((e) => e.seq)].sort((a, b) => a - b));
    const top = Math.max(...feedBefore.map((e) => e.seq));
    const moved = feed.filter((e) => e.seq > top).map((e) => `${e.entity}:${e.id}`);
    expect(moved).toEqual(expect.arrayContaining(['memory:m01', 'memory:m03', `link:${link.id}`]));
    expect(keys).not.toContain('memory:m12'); // purged: no trace
    expect(feed.length).toBeLessThan(feedBefore.length + 2);
    // The other namespace's entries are untouched.
    expect((await store.changes(OTHER_NS, 0, 100)).length).toBeGreaterThan(0);
    await store.close();
    const raw = new SQL.Database(await readFile(path));
    expect(feedMismatches(raw)).toEqual([]);
    raw.close();
  });
});
