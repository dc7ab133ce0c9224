import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { describe, expect, it, vi } from 'vitest';
import { PostgresStore, pglite, postgresJs } from '../../src/backends/postgres/index.js';

const url = process.env.DATABASE_URL;

describe('Postgres drivers, checked when made', () => {
  it('PostgresStore refuses what is no driver, and points a URL at postgresJs', () => {
    expect(() => new PostgresStore('postgres://me@127.0.0.1/db' as never)).toThrow(
      expect.objectContaining({
        code: 'VALIDATION',
        field: 'PostgresStore.db',
        message: expect.stringContaining('pass postgresJs(url)'),
      }),
    );
    for (const db of [undefined, {}, { all: () => [] }, { transaction: async () => {} }]) {
      expect(() => new PostgresStore(db as never), JSON.stringify(db)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: 'PostgresStore.db' }),
      );
    }
  });

  it('postgresJs takes postgres:// and postgresql:// URLs or a client, and keeps a password out of its refusal', async () => {
    // No connection is made until the first query.
    for (const given of [
      'postgres://me@127.0.0.1/db',
      'postgresql://me@127.0.0.1/db',
      'POSTGRES://me@h/db',
    ]) {
      expect(postgresJs(given).persistent, given).toBe(true);
    }
    const client = postgres('postgres://me@127.0.0.1:1/db');
    expect(postgresJs(client).persistent).toBe(true);
    await client.end();
    const refusal = (given: unknown) => {
      try {
        postgresJs(given as string);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(refusal('mysql://me:s3cret@db.internal/app')).toMatchObject({
      code: 'VALIDATION',
      field: 'postgresJs.url',
      message: expect.stringContaining('"mysql://…@db.internal/app"'),
    });
    expect(String((refusal('mysql://me:s3cret@db.internal/app') as Error).message)).not.toContain('s3cret');
    // A password with a raw / or @ in it (a malformed URL) is hidden all the same, as is one without //.
    for (const [given, shown] of [
      ['mysql://me:s3/cret@db.internal/app', '"mysql://…@db.internal/app"'],
      ['mysql://me:s3@cret@db.internal/app', '"mysql://…@db.internal/app"'],
      ['me:s3cret@db.internal:5432/app', '"…@db.internal:5432/app"'],
    ]) {
      const message = String((refusal(given!) as Error).message);
      expect(message, given).toContain(shown);
      expect(message, given).not.toMatch(/s3|cret/);
    }
    // A JDBC URL (from a Java service's config) holds postgresql:// but is not one.
    for (const given of [
      '127.0.0.1:5432',
      'http://db.internal/app',
      'jdbc:postgresql://db.internal/app',
      () => 'not a client',
      42,
    ]) {
      expect(refusal(given), String(given)).toMatchObject({ code: 'VALIDATION', field: 'postgresJs.url' });
    }
  });

  it('pglite() refuses what is neither a directory nor an instance, naming the field', () => {
    for (const given of [42, {}, { query: 'SELECT 1' }, null]) {
      expect(() => pglite(given as never), JSON.stringify(given)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: 'pglite.dir' }),
      );
    }
  });

  it('pglite() calls a directory or an instance it was given persistent, and memory not', () => {
    // Nothing opens before the first query.
    expect(pglite('./some-dir').persistent).toBe(true);
    expect(pglite('idb://some-name').persistent).toBe(true);
    expect(pglite('memory://').persistent).toBe(false);
    expect(pglite().persistent).toBe(false);
    // An instance's storage is the app's: it may be a directory.
    expect(pglite({ query: async () => ({ rows: [] }) } as never).persistent).toBe(true);
    expect(new PostgresStore(pglite('memory://')).capabilities).toEqual({ persistent: false, shared: true });
  });

  // PGlite on a new directory runs initdb first: 6 s on an idle 2-core machine, over 30 s with the suite's
  // other workers and more beside it.
  it('pglite() locks a file:// directory by its path', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'engram-pglite-file-'));
    const dir = join(parent, 'pg');
    try {
      const store = new PostgresStore(pglite(`file://${dir}`));
      await store.open();
      expect(existsSync(`${dir}.lock`)).toBe(true);
      await store.close();
      expect(existsSync(`${dir}.lock`)).toBe(false);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }, 120_000);

  it('pglite() that cannot start leaves no lock behind', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'engram-pglite-fail-'));
    const dir = join(parent, 'not-a-dir');
    await writeFile(dir, 'a file where the data directory should be');
    try {
      await expect(new PostgresStore(pglite(dir)).open()).rejects.toMatchObject({
        code: 'STORAGE',
        message: expect.stringContaining('pglite: open failed'),
      });
      expect(existsSync(`${dir}.lock`)).toBe(false);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }, 120_000);
});

// The real server is there when DATABASE_URL names it (CI sets it; test/setup/real-postgres.ts).
describe.skipIf(!url)('postgresJs on a real server: close', () => {
  it('ends the pool it made from a URL, and leaves a client it was given open', async () => {
    const owned = postgresJs(url!, { max: 1 });
    expect(await owned.all('SELECT 1 AS one', [])).toEqual([{ one: 1 }]);
    await owned.close?.();
    await expect(owned.all('SELECT 1 AS one', [])).rejects.toMatchObject({ code: 'CONNECTION_ENDED' });
    const client = postgres(url!, { max: 1, onnotice: () => {} });
    const given = postgresJs(client);
    expect(await given.all('SELECT 2 AS two', [])).toEqual([{ two: 2 }]);
    await given.close?.();
    expect(await client`SELECT 3 AS three`).toEqual([{ three: 3 }]);
    await client.end();
  });

  it("keeps the server's notices off the app's console (postgres.js prints them by default), unless asked for", async () => {
    // Statements like CREATE INDEX IF NOT EXISTS (the HNSW index, on each new store's first search) send a
    // notice when there is nothing to do: printed, they would fill a server's log.
    const notice = "DO $$ BEGIN RAISE NOTICE 'engram: a notice'; END $$";
    const printed = vi.spyOn(console, 'log').mockImplementation(() => {});
    const quiet = postgresJs(url!, { max: 1 });
    const heard: string[] = [];
    const asked = postgresJs(url!, { max: 1, onnotice: (n) => heard.push(String(n.message)) });
    try {
      await quiet.run(notice, []);
      await asked.run(notice, []);
      expect(printed).not.toHaveBeenCalled();
      expect(heard).toEqual(['engram: a notice']);
    } finally {
      printed.mockRestore();
      await Promise.all([quiet.close?.(), asked.close?.()]);
    }
  });

  it('keeps a statement with parameters prepared on its connection; one without, or spelt out at length, is not', async () => {
    // One connection, so pg_prepared_statements (per session) lists what this driver's statements left there.
    const driver = postgresJs(url!, { max: 1 });
    const short = 'SELECT $1::int AS n';
    const long = `SELECT $1::int AS n /* ${'x'.repeat(5000)} */`;
    const bare = 'SELECT 2 AS n';
    for (const [text, params] of [
      [short, [1]],
      [long, [3]],
      [bare, []],
    ] as const) {
      await driver.all(text, params);
    }
    const kept = await driver.all<{ statement: string }>('SELECT statement FROM pg_prepared_statements', []);
    const statements = kept.map((row) => row.statement);
    expect(statements).toContain(short);
    expect(statements).not.toContain(long);
    expect(statements).not.toContain(bare);
    await driver.close?.();
  });
});
