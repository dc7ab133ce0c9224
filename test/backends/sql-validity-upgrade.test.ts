import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory } from '../../src/index.js';
import { CURRENT_SQL_VERSION, downgradeToVersion1 } from './sql-legacy.js';

const dir = await mkdtemp(join(tmpdir(), 'engram-validity-upgrade-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('SQL schema upgrade to validity columns (version 4)', () => {
  it('opens a version-1 database, adds the columns, keeps its memories valid always', async () => {
    const path = join(dir, 'v1.db');
    const mem = await createMemory({ store: new SqlJsStore({ persist: path }), namespace: 'old' });
    const kept = await mem.add({ content: 'written before validity existed', tags: ['legacy'] });
    await mem.close();

    // Turn the file into what engram wrote at schema version 1, with plain sql.js.
    const SQL = await initSqlJs();
    const db = new SQL.Database(await readFile(path));
    downgradeToVersion1(db);
    await writeFile(path, db.export());
    db.close();

    const store = new SqlJsStore({ persist: path });
    const again = await createMemory({ store, namespace: 'old' });
    expect(await again.get(kept.id)).toEqual(kept);
    expect((await again.list({ asOf: '1990-01-01T00:00:00Z' })).items.map((m) => m.id)).toEqual([kept.id]);
    const next = await again.supersede(kept.id, { content: 'written after the upgrade' });
    expect((await again.list()).items.map((m) => m.id)).toEqual([next.id]);
    await again.close();

    const raw = new SQL.Database(await readFile(path));
    const [versions] = raw.exec('SELECT max(version) FROM engram_schema_version');
    expect(versions?.values).toEqual([[CURRENT_SQL_VERSION]]);
    const [rows] = raw.exec(`SELECT valid_to, valid_to_ms FROM engram_memories WHERE id = '${kept.id}'`);
    expect(rows?.values[0]?.[0]).toBe(next.validFrom);
    expect(rows?.values[0]?.[1]).toBe(Date.parse(next.validFrom!));
    raw.close();
  });
});
