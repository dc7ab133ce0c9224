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
import { expectedState, NS, OTHER_NS, READ_AT, readState, WRITE_AT } from '../fixtures/v4-dataset.js';

// A file written by the code of commit 4d04ec0, the last on schema v12 (write-sqljs-v12-fixture.ts), opened
// by today's code: v13 keys the change feed by (ns, seq) and keeps each entry's number in its row, v18 reads
// the feed from the rows alone.
const fixtures = join(import.meta.dirname, '../fixtures');
/**
 * What that code read from the file, searches as today's code ranks them (expectedState): v19 indexes the
 * fixture's Korean and Japanese text under new keys, which changes its namespace's token count and so
 * every score there. Records, feed entries and every other read must match as recorded.
 */
const recorded = await expectedState(
  JSON.parse(await readFile(join(fixtures, 'sqljs-v12-expected.json'), 'utf8')) as Record<string, Json>,
);
const SQL = await initSqlJs();
const dir = await mkdtemp(join(tmpdir(), 'engram-fixture-v12-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function stateOf(store: MemoryStore): Promise<unknown> {
  return JSON.parse(JSON.stringify(await readState(store)));
}

const scalar = (db: Database, sql: string) => db.exec(sql)[0]?.values[0]?.[0];

/** The change feed of a v12 file, as its own table held it: namespace, number, entity, id, origin. */
function rawFeed(db: Database): unknown[][] {
  return db.exec('SELECT ns, seq, entity, id, origin FROM engram_changes ORDER BY ns, seq')[0]!.values;
}

/** The feed as today's store reads it, laid out as rawFeed. */
async function storeFeed(store: MemoryStore): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for (const ns of [NS, OTHER_NS].sort()) {
    for (const e of await store.changes(ns, 0, 10_000)) out.push([ns, e.seq, e.entity, e.id, e.origin]);
  }
  return out;
}

describe('sql.js: a file of schema v12 (commit 4d04ec0) upgrades its change feed', () => {
  it('opens, migrates and reads every record, feed entry and search as that code did, then reopens the same', async () => {
    const path = join(dir, 'read.db');
    await copyFile(join(fixtures, 'sqljs-v12.db'), path);
    const before = new SQL.Database(await readFile(path));
    expect(scalar(before, 'SELECT max(version) FROM engram_schema_version')).toBe(12);
    expect(scalar(before, "SELECT count(*) FROM sqlite_master WHERE name = 'engram_changes_by_seq'")).toBe(1);
    const entries = rawFeed(before);
    before.close();
    expect(entries.length).toBeGreaterThan(20);
    expect(new Set(entries.map((e) => e[0]))).toEqual(new Set([NS, OTHER_NS]));

    const store = new SqlJsStore({ persist: path });
    expect(await stateOf(store)).toStrictEqual(recorded);
    // v18: the feed is read from the rows; every entry is still there, in order, with its origin.
    expect(await storeFeed(store)).toEqual(entries);
    await store.close();
    const again = new SqlJsStore({ persist: path });
    expect(await stateOf(again)).toStrictEqual(recorded);
    // Read back with sql.js itself (a file is saved after a write, so the export): the new layout, every
    // entry kept and held by exactly its row.
    const raw = new SQL.Database(await again.export());
    await again.close();
    expect(scalar(raw, 'SELECT max(version) FROM engram_schema_version')).toBe(CURRENT_SQL_VERSION);
    expect(scalar(raw, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'engram_changes%'")).toBe(0);
    // The feed's reads stay key searches, not scans: one (ns, seq) range per table.
    const feedPlan = JSON.stringify(
      raw.exec(
        `EXPLAIN QUERY PLAN SELECT seq, id, remote FROM engram_memories WHERE ns = 'fixture' AND seq > 3
          ORDER BY seq LIMIT 10`,
      )[0]!.values,
    );
    expect(feedPlan).not.toMatch(/SCAN/);
    expect(feedPlan).toMatch(
      /SEARCH engram_memories USING INDEX engram_memories_by_seq \(ns=\? AND seq>\?\)/,
    );
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
  });
});
