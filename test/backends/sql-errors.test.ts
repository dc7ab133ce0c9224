import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, postgresJs } from '../../src/backends/postgres/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, EngramError } from '../../src/index.js';
import { CURRENT_SQL_VERSION } from './sql-legacy.js';

const dir = await mkdtemp(join(tmpdir(), 'engram-sql-errors-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function storageFailure(promise: Promise<unknown>): Promise<EngramError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngramError);
  expect((error as EngramError).code).toBe('STORAGE');
  return error as EngramError;
}

/** A sql.js file holding a memory, marked as written by an engram of the next schema version. */
async function newerSchemaFile(name: string): Promise<string> {
  const path = join(dir, name);
  const mem = await createMemory({ store: new SqlJsStore({ persist: path }), namespace: 'ns' });
  await mem.add({ content: 'written by a later engram' });
  await mem.close();
  const SQL = await initSqlJs();
  const db = new SQL.Database(await readFile(path));
  db.run('INSERT INTO engram_schema_version (version) VALUES (?)', [CURRENT_SQL_VERSION + 1]);
  await writeFile(path, db.export());
  db.close();
  return path;
}

describe('SQL stores report driver failures as STORAGE errors', () => {
  it('an unreachable Postgres server fails open, naming the store and the step', async () => {
    const store = new PostgresStore(
      postgresJs('postgres://postgres@127.0.0.1:1/none', { connect_timeout: 2 }),
    );
    const error = await storageFailure(store.open());
    expect(error.message).toMatch(/^postgres: open failed: /);
    await store.close();
  });

  it('a file of a newer schema (a later engram wrote it) fails open, unread and unchanged', async () => {
    // Schema v21's paired rows are an example: code before it would read them as no postings at all.
    const path = await newerSchemaFile('newer.db');
    const before = await readFile(path);
    const store = new SqlJsStore({ persist: path });
    const error = await storageFailure(store.open());
    expect(error.message).toContain(
      `the database has engram schema version ${CURRENT_SQL_VERSION + 1}, newer than this engram understands (${CURRENT_SQL_VERSION}); upgrade engram`,
    );
    await store.close();
    expect(await readFile(path)).toEqual(before);
  });

  it('a file of a newer schema leaves the file unlocked: the next opener gets the same error, not a lock one', async () => {
    const path = await newerSchemaFile('newer-twice.db');
    const first = new SqlJsStore({ persist: path });
    expect((await storageFailure(first.open())).message).toContain('upgrade engram');
    // The same store tries again on its next call, and another store may try meanwhile.
    expect((await storageFailure(first.open())).message).toContain('upgrade engram');
    const second = new SqlJsStore({ persist: path });
    expect((await storageFailure(second.open())).message).toContain('upgrade engram');
    await first.close();
    await second.close();
  });

  it('a store whose open failed opens on its next call once the cause is gone', async () => {
    let loads = 0;
    const store = new SqlJsStore({
      persist: {
        load: async () => {
          loads++;
          if (loads === 1) throw new Error('disk not mounted yet');
          return null;
        },
        save: async () => {},
      },
    });
    expect((await storageFailure(store.open())).message).toContain('disk not mounted yet');
    await store.open();
    expect(await store.namespaces()).toEqual([]);
    expect(loads).toBe(2);
    await store.close();
  });

  it('a call made before close() is refused once close() has begun, not run on the closing database', async () => {
    const store = new SqlJsStore();
    const pending = store.namespaces();
    const closing = store.close();
    expect((await storageFailure(pending)).message).toBe('sqljs: the store is closed');
    await closing;
  });

  it('a file that is not a database fails open instead of being overwritten', async () => {
    const path = join(dir, 'garbage.db');
    const garbage = 'this is not an SQLite file, but it is long enough to have a header'.repeat(20);
    await writeFile(path, garbage);
    const store = new SqlJsStore({ persist: path });
    const error = await storageFailure(store.open());
    expect(error.message).toContain('sqljs: open failed');
    await store.close();
    expect(await readFile(path, 'utf8')).toBe(garbage);
  });

  it('a path that cannot be read fails open, again on the next call, and leaves no lock behind', async () => {
    const store = new SqlJsStore({ persist: dir });
    for (let attempt = 0; attempt < 2; attempt++) {
      expect((await storageFailure(store.open())).message).toMatch(/EISDIR/);
    }
    await expect(readFile(`${dir}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a closed store refuses every call', async () => {
    const store = new SqlJsStore();
    const mem = await createMemory({ store, namespace: 'closing' });
    await mem.close();
    await storageFailure(store.getMemories('closing', ['x']));
    await storageFailure(store.apply('closing', { meta: { a: 1 } }));
    await storageFailure(store.open());
  });
});
