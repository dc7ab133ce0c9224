import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite as PGlite06 } from 'pglite-0-6';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { createMemory } from '../../src/index.js';
import { testStore } from '../conformance/index.js';
import { bundledAgainst } from '../setup/bundled-against.js';

// Both PGlite lines are in the peer range: 0.5.x (Postgres 18, with pgvector), which the rest of the suite
// runs, and 0.6.x (Postgres 19), installed here under an npm alias. PGlite takes seconds to start: the
// conformance suite shares one 0.6 instance, and namespaces keep its cases apart.
const db = await PGlite06.create();
afterAll(() => db.close());

const storeOver = () => new PostgresStore(pglite(db as never));

testStore({
  name: 'PostgresStore (PGlite 0.6, Postgres 19)',
  create: storeOver,
  reopen: async (store) => {
    await store.close();
    return storeOver();
  },
  capabilities: { persistent: true },
});

// engram/edge as an app on PGlite 0.6 loads it: our entry bundled with the peer left external and resolved
// to the alias, so that pglite(dir) starts 0.6 itself.
const on06 = await bundledAgainst<typeof import('../../src/backends/postgres/index.js')>(
  'src/backends/postgres/index.ts',
  '@electric-sql/pglite',
  'pglite-0-6',
  ['@electric-sql/pglite-pgvector', 'postgres'],
);

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'engram-pglite-major-'));
  dirs.push(dir);
  return join(dir, 'pg');
}

async function openFails(store: { open(): Promise<void>; close(): Promise<void> }): Promise<unknown> {
  const failure = await store.open().then(
    () => undefined,
    (error: unknown) => error,
  );
  await store.close();
  return failure;
}

describe('pglite(dir) on a directory another Postgres major wrote', () => {
  it('a Postgres 18 directory (PGlite 0.5) opened by PGlite 0.6 is a STORAGE error saying why and what to do; nothing in it changes', async () => {
    const dir = await dataDir();
    const mem = await createMemory({ store: new PostgresStore(pglite(dir)), namespace: 'kept' });
    await mem.add({ id: 'm1', content: 'written on Postgres 18' });
    await mem.close();

    const failure = await openFails(new on06.PostgresStore(on06.pglite(dir)));
    expect(failure).toMatchObject({ code: 'STORAGE' });
    const message = (failure as Error).message;
    expect(message).toContain(`pglite: ${dir} holds a Postgres 18 database`);
    expect(message).toContain(
      'the installed @electric-sql/pglite 0.6.1 runs Postgres 19, which cannot open it',
    );
    expect(message).toContain('@electric-sql/pglite@0.5');
    expect(message).toContain(`engram export --from pglite:${dir}`);

    // The lock was let go and the data left alone: the release that wrote it still reads it.
    const again = await createMemory({ store: new PostgresStore(pglite(dir)), namespace: 'kept' });
    expect((await again.get('m1'))?.content).toBe('written on Postgres 18');
    await again.close();
  }, 120_000);

  it('a Postgres 19 directory (PGlite 0.6) opened by PGlite 0.5 names 0.6 as the release to read it with', async () => {
    const dir = await dataDir();
    await (await PGlite06.create(dir)).close();

    const failure = await openFails(new PostgresStore(pglite(dir)));
    expect(failure).toMatchObject({ code: 'STORAGE' });
    const message = (failure as Error).message;
    expect(message).toContain(`pglite: ${dir} holds a Postgres 19 database`);
    expect(message).toContain('runs Postgres 18');
    expect(message).toContain('@electric-sql/pglite@0.6');
  }, 120_000);

  it('a directory of a Postgres major no PGlite release ran names the major to look for', async () => {
    // Postgres 17 data (say, copied from a server): no PGlite line to name, so the message names the major.
    const dir = await dataDir();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'PG_VERSION'), '17\n');
    const failure = await openFails(new PostgresStore(pglite(dir)));
    expect(failure).toMatchObject({ code: 'STORAGE' });
    const message = (failure as Error).message;
    expect(message).toContain(`pglite: ${dir} holds a Postgres 17 database`);
    expect(message).toContain('With the release that wrote it installed (one running Postgres 17)');
  }, 120_000);

  it('a start that fails for another reason is passed on as it was', async () => {
    // A directory that claims the installed major but holds no database: PGlite's own failure, not a mismatch.
    const dir = await dataDir();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'PG_VERSION'), '19\n');
    const failure = await openFails(new on06.PostgresStore(on06.pglite(dir)));
    expect(failure).toMatchObject({ code: 'STORAGE' });
    expect((failure as Error).message).not.toContain('holds a Postgres');
  }, 120_000);
});
