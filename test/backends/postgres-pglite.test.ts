import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import type { SqlParam } from '../../src/backends/sql/executor.js';
import { createMemory, EngramError } from '../../src/index.js';
import { testStore } from '../conformance/index.js';

// PGlite takes seconds to start: every store in this file shares one instance, and namespaces keep cases apart.
const db = await PGlite.create();
afterAll(() => db.close());

const storeOver = () => new PostgresStore(pglite(db));

describe('PostgresStore on PGlite: migrations', () => {
  it('two stores migrating the fresh database at once both succeed, and a re-run changes nothing', async () => {
    const [a, b] = [storeOver(), storeOver()];
    await Promise.all([a.open(), b.open()]);
    const again = storeOver();
    await again.open();
    const { rows } = await db.query<{ version: number }>(
      'SELECT version FROM engram_schema_version ORDER BY version',
    );
    // Each version applied exactly once, all of them: 1, 2, ... with no repeat.
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows).toEqual(rows.map((_, i) => ({ version: i + 1 })));
    await Promise.all([a.close(), b.close(), again.close()]);
    expect(db.closed).toBe(false);
  });
});

describe('PostgresStore on PGlite: extras', () => {
  it('calls itself pglite, not postgres (what /health reports)', () => {
    expect(storeOver().kind).toBe('pglite');
  });

  it('delivers notifications to listeners until they stop, and leaves the instance it was given open on close', async () => {
    const driver = pglite(db);
    const heard: string[] = [];
    const stop = await driver.listen!('engram_pglite', (payload) => heard.push(payload));
    await driver.notify!('engram_pglite', 'one');
    await expect.poll(() => heard).toEqual(['one']);
    await stop();
    await driver.notify!('engram_pglite', 'two');
    // A notification still heard would have been delivered by the time a later query on the instance returns.
    await db.query('SELECT 1');
    await driver.close?.();
    expect(db.closed).toBe(false);
    expect(heard).toEqual(['one']);
  });

  it('binds id and tag lists as array literals, whatever characters they hold', async () => {
    const mem = await createMemory({ store: storeOver(), namespace: 'literals' });
    const odd = ['a,b', 'quote"d', 'back\\slash', '{braces}', 'NULL', ' spaced '];
    const made = await mem.addMany(odd.map((tag) => ({ content: `tagged ${tag}`, tags: [tag] })));
    for (const [i, tag] of odd.entries()) {
      expect((await mem.list({ tags: [tag] })).items.map((m) => m.id)).toEqual([made[i]!.id]);
    }
    expect((await mem.list({ tags: odd, tagMode: 'any' })).items).toHaveLength(odd.length);
    await mem.close();
  });

  it("reads a search's statistics and postings in one statement, and the statistics alone when asked alone", async () => {
    const statements: string[] = [];
    const driver = pglite(db);
    const recording = {
      ...driver,
      all: <T extends object>(text: string, params: readonly SqlParam[]) => {
        statements.push(text);
        return driver.all<T>(text, params);
      },
    };
    const store = new PostgresStore(recording);
    const mem = await createMemory({ store, namespace: 'one-statement' });
    const other = await createMemory({ store: storeOver(), namespace: 'one-statement-too' });
    await mem.addMany(['dark roast coffee', 'green tea', 'coffee with milk'].map((content) => ({ content })));
    await other.add({ content: 'coffee elsewhere' });
    statements.length = 0;
    const hits = await mem.search('coffee');
    expect(hits.map((h) => h.memory.content).sort()).toEqual(['coffee with milk', 'dark roast coffee']);
    // Two statements: the statistics with the postings, then the records of the best.
    expect(statements).toHaveLength(2);
    expect(statements[0]).toContain('engram_namespaces');
    expect(statements[0]).toContain('engram_postings');
    // The records' statement does not read the statistics again (it names engram_namespaces only for the
    // home client of a packed clock, rows.ts MEMORY_SELECT).
    expect(statements[1]).not.toMatch(/\btokens\b/);
    const together = await store.docPostingsWithStats('one-statement', ['coffe'], []);
    const [mine, theirs, postings] = await Promise.all([
      store.textStats('one-statement'),
      store.textStats('one-statement-too'),
      store.docPostings('one-statement', ['coffe'], []),
    ]);
    expect(mine).toEqual({ docs: 3, tokens: expect.any(Number) });
    expect(together.stats).toEqual(mine);
    expect(theirs).toEqual({ docs: 1, tokens: 2 });
    expect(postings.map((list) => [list.term, list.docs.length])).toEqual([['coffe', 2]]);
    expect(together.lists).toEqual(postings);
    expect(await store.textStats('nobody')).toEqual({ docs: 0, tokens: 0 });
    expect(await store.docPostingsWithStats('nobody', ['coffe'], [])).toEqual({
      stats: { docs: 0, tokens: 0 },
      lists: [],
    });
    await Promise.all([mem.close(), other.close()]);
  });
});

testStore({
  name: 'PostgresStore (PGlite)',
  create: storeOver,
  reopen: async (store) => {
    await store.close();
    return storeOver();
  },
  capabilities: { persistent: true },
});

describe('pglite(dir): one opener per directory', () => {
  it('refuses a second driver on the directory with STORAGE naming it, until the first is closed', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'engram-pglite-lock-')), 'pg');
    try {
      const first = await createMemory({ store: new PostgresStore(pglite(dir)), namespace: 'locked' });
      await first.add({ id: 'kept', content: 'written by the first opener' });
      expect(JSON.parse(await readFile(`${dir}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });

      const second = new PostgresStore(pglite(dir));
      const refused = await second.open().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(EngramError);
      expect(refused).toMatchObject({ code: 'STORAGE' });
      expect((refused as Error).message).toMatch(
        /^pglite: \S+pg is in use by another pglite\(\) driver in this process/,
      );
      // Nothing was lost, and the refused driver tries again on its next use: once the first is closed it opens.
      await first.close();
      await expect(readFile(`${dir}.lock`, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
      const reopened = await createMemory({ store: second, namespace: 'locked' });
      expect((await reopened.get('kept'))?.content).toBe('written by the first opener');
      await reopened.close();
      await expect(readFile(`${dir}.lock`, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await rm(dirname(dir), { recursive: true, force: true });
    }
  }, 60_000);

  it('names the other process that holds the directory, and its lock file, to a second opener', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'engram-pglite-held-')), 'pg');
    try {
      // A lock written by a process that still runs (this one's parent), as another server's would be.
      await writeFile(
        `${dir}.lock`,
        JSON.stringify({ pid: process.ppid, token: 'theirs', at: new Date().toISOString() }),
      );
      const refused = await new PostgresStore(pglite(dir)).open().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toMatchObject({ code: 'STORAGE' });
      const message = (refused as Error).message;
      expect(message).toMatch(new RegExp(`^pglite: \\S+pg is in use by process ${process.ppid};`));
      expect(message).toContain(`delete ${dir}.lock only if that process is gone`);
      // Theirs is left alone.
      expect(JSON.parse(await readFile(`${dir}.lock`, 'utf8'))).toMatchObject({ token: 'theirs' });
    } finally {
      await rm(dirname(dir), { recursive: true, force: true });
    }
  });

  it('locks no memory:// database (no lock file beside the working directory)', async () => {
    const store = new PostgresStore(pglite('memory://'));
    await store.open();
    const other = new PostgresStore(pglite('memory://'));
    await other.open();
    expect(existsSync('memory:')).toBe(false);
    expect(existsSync('memory:/.lock')).toBe(false);
    await Promise.all([store.close(), other.close()]);
  }, 60_000);
});
