import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import type { PostgresDriver } from '../../src/backends/postgres/driver.js';
import { PostgresStore, pglite, postgresJs } from '../../src/backends/postgres/index.js';
import type { SqlQueries } from '../../src/backends/sql/executor.js';
import { bucketOf, PENDING_BATCHES_MAX } from '../../src/backends/sql/pending-postings.js';
import { forEachEntry } from '../../src/backends/sql/pending-rows.js';
import { BLOCK_DOCS } from '../../src/backends/sql/posting-blocks.js';
import type { MemoryWrite } from '../../src/core/store-contract.js';
import { memoryRecordToWrite } from '../../src/core/sync/records.js';
import { createMemory, type Engram, InMemoryStore } from '../../src/index.js';
import { CURRENT_SQL_VERSION, downgradePostgresToVersion12 } from './sql-legacy.js';

/**
 * Postgres' pending list (pending-postings.ts): new postings wait in `engram_pending` and are merged into
 * the blocks when a group of document numbers fills, when too many batches wait, or before an edit or a
 * delete touches them. Whatever the state of the list, searches answer what InMemoryStore answers (same
 * ids, same scores), at once after every write. On PGlite, and on the real server when DATABASE_URL is set.
 */
interface Database {
  name: string;
  driver(): PostgresDriver;
  store(): PostgresStore;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

const databases: Database[] = [];
const pg = await PGlite.create();
afterAll(() => pg.close());
databases.push({
  name: 'PGlite',
  driver: () => pglite(pg),
  store: () => new PostgresStore(pglite(pg)),
  query: async <T>(sql: string, params: unknown[] = []) => (await pg.query<T>(sql, params)).rows,
});
const url = process.env.DATABASE_URL;
if (url) {
  const schema = `engram_pending_${process.pid}_${Date.now().toString(36)}`;
  const admin = postgres(url, { onnotice: () => {}, max: 2, connection: { search_path: schema } });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  afterAll(async () => {
    await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });
  databases.push({
    name: 'Postgres',
    driver: () => postgresJs(url, { max: 4, connection: { search_path: schema } }),
    store: () => new PostgresStore(postgresJs(url, { max: 4, connection: { search_path: schema } })),
    query: async <T>(sql: string, params: unknown[] = []) =>
      (await admin.unsafe(sql, params as string[])) as unknown as T[],
  });
}

const WORDS = ['coffee', 'roast', 'dark', 'tea', 'green', 'morning', 'running', 'cat', 'zebra', 'quiet'];
const text = (i: number) =>
  `${WORDS[i % 10]} ${WORDS[(i * 7 + 3) % 10]} ${WORDS[(i * 3 + 1) % 10]} note${i % 37} common`;
const QUERIES = ['coffee', 'dark roast', 'run*', 'note1*', 'common', 'zebra -tea', '"green morning"', 'q*'];

/** The same writes into InMemoryStore, the reference every search is compared with. */
async function pair(db: Database, namespace: string): Promise<[Engram, Engram]> {
  return [
    await createMemory({ store: db.store(), namespace }),
    await createMemory({ store: new InMemoryStore(), namespace }),
  ];
}

async function expectSameSearches(ours: Engram, reference: Engram): Promise<void> {
  for (const q of QUERIES) {
    const hits = async (mem: Engram) =>
      (await mem.search(q, { limit: 1000 })).map((h) => [h.memory.id, h.score]);
    expect(await hits(ours), q).toEqual(await hits(reference));
  }
}

async function state(db: Database, namespace: string) {
  const [row] = await db.query<{ docnos: string; merged: string; pending: string }>(
    'SELECT docnos, merged, pending FROM engram_namespaces WHERE ns = $1',
    [namespace],
  );
  const [count] = await db.query<{ n: string }>('SELECT count(*) AS n FROM engram_pending WHERE ns = $1', [
    namespace,
  ]);
  return {
    docnos: Number(row!.docnos),
    merged: Number(row!.merged),
    pending: Number(row!.pending),
    rows: Number(count!.n),
  };
}

/** The namespace's posting blocks and pending rows, bytes as hex, in key order. */
async function rowsOf(db: Database, namespace: string) {
  return {
    blocks: await db.query(
      `SELECT term, grp, encode(data, 'hex') AS data FROM engram_postings WHERE ns = $1 ORDER BY term, grp`,
      [namespace],
    ),
    pending: await db.query(
      `SELECT bucket, first, encode(data, 'hex') AS data FROM engram_pending WHERE ns = $1 ORDER BY bucket, first`,
      [namespace],
    ),
  };
}

/** A store over `db` that counts the pending list's reads (a merge reading the rows back). */
function countingStore(db: Database): { store: PostgresStore; readsBack: () => number } {
  const driver = db.driver();
  let reads = 0;
  const counted = (queries: SqlQueries): SqlQueries => ({
    all: (sql, params) => {
      if (sql.startsWith('SELECT data FROM engram_pending')) reads++;
      return queries.all(sql, params);
    },
    run: (sql, params) => queries.run(sql, params),
  });
  const store = new PostgresStore({
    ...driver,
    ...counted(driver),
    transaction: (fn) => driver.transaction((tx) => fn(counted(tx))),
  });
  return { store, readsBack: () => reads };
}

const inputs = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: `m${String(from + i).padStart(6, '0')}`,
    content: text(from + i),
  }));

for (const db of databases) {
  describe(`Postgres pending list of postings (${db.name})`, () => {
    it('merges a group into its blocks when a batch fills it, and keeps the rest pending', async () => {
      const [ours, reference] = await pair(db, 'fill');
      const batch = 1000;
      for (let from = 0; from < BLOCK_DOCS + 300; from += batch) {
        const items = inputs(from, Math.min(batch, BLOCK_DOCS + 300 - from));
        await ours.addMany(items);
        await reference.addMany(items);
        const after = await state(db, 'fill');
        expect(after.merged).toBe(from + batch > BLOCK_DOCS ? BLOCK_DOCS : 0);
        await expectSameSearches(ours, reference);
      }
      // Group 0 is wholly in blocks, each written once: its docs are no longer in the pending rows.
      const rows = await db.query<{ grp: string }>(
        `SELECT grp FROM engram_postings WHERE ns = 'fill' AND term = 'common'`,
      );
      expect(rows.map((r) => Number(r.grp))).toEqual([0]);
      expect(await state(db, 'fill')).toMatchObject({
        docnos: BLOCK_DOCS + 300,
        merged: BLOCK_DOCS,
        pending: 1,
      });
      await Promise.all([ours.close(), reference.close()]);
    }, 120_000);

    it('merges everything once more than PENDING_BATCHES_MAX small batches wait', async () => {
      const [ours, reference] = await pair(db, 'small');
      for (let i = 0; i <= PENDING_BATCHES_MAX; i++) {
        const [item] = inputs(i, 1);
        await ours.add(item!);
        await reference.add(item!);
        expect((await state(db, 'small')).pending).toBe(i < PENDING_BATCHES_MAX ? i + 1 : 0);
      }
      expect(await state(db, 'small')).toMatchObject({ merged: PENDING_BATCHES_MAX + 1, rows: 0 });
      await expectSameSearches(ours, reference);
      // Merged blocks take appends: the next merge adds to them instead of replacing them.
      for (let i = 0; i <= PENDING_BATCHES_MAX; i++) {
        const [item] = inputs(100 + i, 1);
        await ours.add(item!);
        await reference.add(item!);
      }
      expect(await state(db, 'small')).toMatchObject({ merged: 2 * (PENDING_BATCHES_MAX + 1), rows: 0 });
      await expectSameSearches(ours, reference);
      await Promise.all([ours.close(), reference.close()]);
    });

    it('edits, deletes and mixed batches on pending memories show in the next search', async () => {
      const [oursStore, referenceStore] = [db.store(), new InMemoryStore()];
      const ours = await createMemory({ store: oursStore, namespace: 'edits' });
      const reference = await createMemory({ store: referenceStore, namespace: 'edits' });
      for (const mem of [ours, reference]) await mem.addMany(inputs(0, 40));
      // An old memory (merged) and pending ones, edited, deleted and added in one batch and in several.
      for (const mem of [ours, reference]) await mem.addMany(inputs(40, 30));
      expect((await state(db, 'edits')).rows).toBeGreaterThan(0);
      for (const mem of [ours, reference]) {
        await mem.update('m000045', { content: 'zebra crossing quietly' });
        await mem.remove('m000050');
      }
      expect(await state(db, 'edits')).toMatchObject({ pending: 0, rows: 0 });
      await expectSameSearches(ours, reference);
      expect((await ours.search('crossing')).map((h) => h.memory.id)).toEqual(['m000045']);
      expect((await ours.search('note13', { limit: 100 })).map((h) => h.memory.id)).not.toContain('m000050');
      for (const mem of [ours, reference]) {
        await mem.addMany(inputs(70, 10));
        await mem.update('m000072', { content: 'green tea at dawn' });
        await mem.addMany(inputs(80, 5));
      }
      await expectSameSearches(ours, reference);
      // One batch that edits a merged memory, edits a pending one and adds two (a sync push can).
      await ours.addMany(inputs(85, 5));
      await reference.addMany(inputs(85, 5));
      await reference.update('m000003', { content: 'cat quiet replaced' });
      await reference.update('m000086', { content: 'running late again' });
      await reference.addMany(inputs(90, 2));
      const records = await referenceStore.getMemories('edits', ['m000003', 'm000086', 'm000090', 'm000091']);
      await oursStore.apply('edits', { memories: records.map(memoryRecordToWrite), origin: 'remote' });
      await expectSameSearches(ours, reference);
      await Promise.all([ours.close(), reference.close()]);
    });

    it('an edit of the first pending memory alone merges the list before rewriting its postings', async () => {
      const [oursStore, referenceStore] = [db.store(), new InMemoryStore()];
      const ours = await createMemory({ store: oursStore, namespace: 'first-pending' });
      const reference = await createMemory({ store: referenceStore, namespace: 'first-pending' });
      for (const mem of [ours, reference]) await mem.addMany(inputs(0, 10));
      // m000000 holds document number 0, where the pending list starts.
      expect(await state(db, 'first-pending')).toMatchObject({ merged: 0, pending: 1 });
      for (const mem of [ours, reference]) await mem.update('m000000', { content: 'zebra crossing quietly' });
      expect(await state(db, 'first-pending')).toMatchObject({ pending: 0, rows: 0 });
      await expectSameSearches(ours, reference);
      expect((await ours.search('crossing')).map((h) => h.memory.id)).toEqual(['m000000']);
      expect((await ours.search('note0')).map((h) => h.memory.id)).toEqual([]);
      await Promise.all([ours.close(), reference.close()]);
    });

    it('merges the batches it wrote without reading them back, into the same rows; not after another writer', async () => {
      // Written by one store, which knows the batches it left pending; then by a new store per batch,
      // each merge reading the rows back; then by one store with another writing in between.
      const sizes = [700, 700, 700, 700, 700, 700, 300];
      const one = countingStore(db);
      let from = 0;
      for (const size of sizes) {
        await one.store.apply('known', { memories: writes('known', from, size), origin: 'remote' });
        from += size;
      }
      expect(one.readsBack()).toBe(0);
      from = 0;
      let readsBack = 0;
      for (const size of sizes) {
        const fresh = countingStore(db);
        await fresh.store.apply('read', { memories: writes('read', from, size), origin: 'remote' });
        readsBack += fresh.readsBack();
        await fresh.store.close();
        from += size;
      }
      expect(readsBack).toBe(1);
      const other = db.store();
      from = 0;
      for (const [i, size] of sizes.entries()) {
        await (i === 3 ? other : one.store).apply('shared', {
          memories: writes('shared', from, size),
          origin: 'remote',
        });
        from += size;
      }
      expect(one.readsBack()).toBe(1);
      const known = await rowsOf(db, 'known');
      expect(known.blocks.length).toBeGreaterThan(0);
      expect(known.pending.length).toBeGreaterThan(0);
      expect(await rowsOf(db, 'read')).toEqual(known);
      expect(await rowsOf(db, 'shared')).toEqual(known);
      await Promise.all([one.store.close(), other.close()]);
    }, 120_000);

    it('a merge that read the list back keeps its rest pending, so an edit of a memory in it merges first', async () => {
      // Each batch by a store of its own, which knows none of the pending batches: the merge reads them back.
      const applyAlone = async (write: (store: PostgresStore) => Promise<unknown>) => {
        const store = db.store();
        await write(store);
        await store.close();
      };
      await applyAlone((s) => s.apply('rest', { memories: writes('rest', 0, 3500), origin: 'remote' }));
      // Past the end of group 0: the group is merged, documents BLOCK_DOCS and up stay pending.
      await applyAlone((s) => s.apply('rest', { memories: writes('rest', 3500, 700), origin: 'remote' }));
      expect(await state(db, 'rest')).toMatchObject({ merged: BLOCK_DOCS, pending: 1 });
      // Believing the list empty, an edit would rewrite the blocks alone and leave the old words pending.
      const last = sourceWrites[4199]!.id;
      const oldWord = `note${4199 % 37}`;
      const editor = await createMemory({ store: db.store(), namespace: 'rest' });
      const found = async (q: string) => (await editor.search(q, { limit: 1000 })).map((h) => h.memory.id);
      expect(await found(oldWord)).toContain(last);
      await editor.update(last, { content: 'zebra crossing quietly' });
      expect(await found(oldWord)).not.toContain(last);
      expect(await found('crossing')).toEqual([last]);
      await editor.close();
    }, 120_000);

    it('concurrent writers across a group boundary lose no posting', async () => {
      const writers = await Promise.all(
        [0, 1, 2, 3].map(() => createMemory({ store: db.store(), namespace: 'race' })),
      );
      const per = Math.ceil((BLOCK_DOCS + 200) / writers.length);
      await Promise.all(
        writers.map(async (mem, w) => {
          for (let from = 0; from < per; from += 250) {
            await mem.addMany(inputs(w * 100_000 + from, Math.min(250, per - from)));
          }
        }),
      );
      const total = per * writers.length;
      // Every memory's posting of the word they all hold, each once: documents 0 to total - 1.
      const store = db.store();
      const docs = (await store.docPostings('race', ['common'], [])).flatMap((list) => Array.from(list.docs));
      expect(docs.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
      await store.close();
      expect(await state(db, 'race')).toMatchObject({ docnos: total, merged: BLOCK_DOCS });
      await Promise.all(writers.map((mem) => mem.close()));
    }, 120_000);

    it('a pending row cut inside a number fails searches and merges with STORAGE; it never hangs them', async () => {
      const mem = await createMemory({ store: db.store(), namespace: 'cut' });
      await mem.addMany(inputs(0, 20));
      const before = await state(db, 'cut');
      expect(before.merged).toBe(0);
      expect(before.rows).toBeGreaterThan(0);
      // Every pending row ends with a byte that says another follows: a varint that never ends. Read on
      // past the end, each byte is undefined, never below 0x80: the reader looped for ever.
      await db.query("UPDATE engram_pending SET data = data || '\\x80'::bytea WHERE ns = $1", ['cut']);
      await expect(mem.search('coffee')).rejects.toMatchObject({ code: 'STORAGE' });
      await expect(mem.search('coffee')).rejects.toThrow(/corrupt text index/);
      // An edit merges the pending list first, reading it: the same error, and nothing written.
      const [first] = await mem.list({ limit: 1 }).then((page) => page.items);
      await expect(mem.update(first!.id, { content: 'changed' })).rejects.toMatchObject({ code: 'STORAGE' });
      expect((await mem.get(first!.id))!.content).toBe(first!.content);
      await mem.close();
    });
  });
}

/** New memories as a sync push carries them: the same records for every namespace, so the same rows. */
const source = new InMemoryStore();
const sourceMemory = await createMemory({ store: source, namespace: 'source' });
for (let from = 0; from < 4500; from += 900) await sourceMemory.addMany(inputs(from, 900));
const sourceWrites = (
  await source.getMemories(
    'source',
    inputs(0, 4500).map((i) => i.id),
  )
).map(memoryRecordToWrite);
await sourceMemory.close();

function writes(namespace: string, from: number, count: number): MemoryWrite[] {
  return sourceWrites
    .slice(from, from + count)
    .map((w) => ({ ...w, create: w.create && { ...w.create, namespace } }));
}

// The two upgrade tests step the whole schema back, so they keep off `pg`; they share one more instance
// (seconds of start-up each) in turn: v7 -> v8 first, then v8 -> v9 with the first one's namespace still in.
const upgrades = await PGlite.create();
afterAll(() => upgrades.close());

describe('schema v7 -> v8: the pending list arrives empty, and every search stays the same', () => {
  it('PGlite: a v7 database (postings in blocks only) migrates, reads the same and keeps writing', async () => {
    const db = upgrades;
    const first = new PostgresStore(pglite(db));
    const mem = await createMemory({ store: first, namespace: 'upgrade' });
    await mem.addMany(inputs(0, 200));
    // An edit of a pending memory merges the whole list: the postings are then laid out as v7 had them.
    await mem.update('m000001', { content: 'dark roast coffee edited' });
    const merged = await createMemory({ store: new InMemoryStore(), namespace: 'upgrade' });
    await merged.addMany(inputs(0, 200));
    await merged.update('m000001', { content: 'dark roast coffee edited' });
    await expectSameSearches(mem, merged);
    await mem.close();
    expect((await db.query('SELECT * FROM engram_pending')).rows).toEqual([]);
    // v10-v12 run again harmlessly on today's rows; v13's feed layout is undone first.
    await downgradePostgresToVersion12(db);
    await db.exec(`DROP TABLE engram_pending;
      ALTER TABLE engram_namespaces DROP COLUMN merged, DROP COLUMN pending;
      DELETE FROM engram_schema_version WHERE version > 7`);
    const reopened = await createMemory({ store: new PostgresStore(pglite(db)), namespace: 'upgrade' });
    await expectSameSearches(reopened, merged);
    const { rows } = await db.query<{ docnos: number; merged: number; pending: number }>(
      'SELECT docnos, merged, pending FROM engram_namespaces',
    );
    expect(rows.map((r) => [Number(r.docnos), Number(r.merged), Number(r.pending)])).toEqual([[200, 200, 0]]);
    for (const target of [reopened, merged]) {
      await target.addMany(inputs(200, 20));
      await target.remove('m000002');
      await target.update('m000210', { content: 'zebra zebra' });
    }
    await expectSameSearches(reopened, merged);
    await Promise.all([reopened.close(), merged.close()]);
  }, 120_000);
});

/** Every entry of the pending list as `ns first term postings-hex`, sorted: what a re-layout must keep. */
async function pendingEntries(db: PGlite): Promise<string[]> {
  const { rows } = await db.query<{ ns: string; first: number; data: Uint8Array }>(
    'SELECT ns, first, data FROM engram_pending',
  );
  const out: string[] = [];
  for (const { ns, first, data } of rows) {
    forEachEntry(data, (name, postings) => {
      out.push(`${ns} ${first} ${new TextDecoder().decode(name)} ${Buffer.from(postings).toString('hex')}`);
    });
  }
  return out.sort();
}

function varint(value: number): number[] {
  const out: number[] = [];
  for (; value >= 0x80; value >>>= 7) out.push((value & 0x7f) | 0x80);
  return [...out, value];
}

/** Lays the pending rows out as v8 did, written with the raw library: one row per batch and first two characters. */
async function toVersion8Buckets(db: PGlite): Promise<void> {
  // First back to v12 (postings as v8 wrote them, three varints each), then the v8 buckets.
  await downgradePostgresToVersion12(db);
  const { rows } = await db.query<{ ns: string; first: number; data: Uint8Array }>(
    'SELECT ns, first, data FROM engram_pending',
  );
  const v8 = new Map<string, { ns: string; bucket: string; first: number; bytes: number[] }>();
  for (const { ns, first, data } of rows) {
    forEachEntry(data, (name, postings) => {
      const bucket = [...new TextDecoder().decode(name)].slice(0, 2).join('');
      const key = JSON.stringify([ns, bucket, first]);
      const row = v8.get(key) ?? { ns, bucket, first, bytes: [] };
      v8.set(key, row);
      row.bytes.push(...varint(name.length), ...name, ...varint(postings.length), ...postings);
    });
  }
  await db.exec('DELETE FROM engram_pending; DELETE FROM engram_schema_version WHERE version > 8');
  for (const { ns, bucket, first, bytes } of v8.values()) {
    await db.query('INSERT INTO engram_pending (ns, bucket, first, data) VALUES ($1, $2, $3, $4)', [
      ns,
      bucket,
      first,
      Uint8Array.from(bytes),
    ]);
  }
}

describe('schema v8 -> v9: pending stems move to hashed buckets, and every search stays the same', () => {
  it('PGlite: pending rows of several batches and namespaces are re-laid out, entry for entry', async () => {
    const db = upgrades;
    const pairs: [Engram, Engram][] = [];
    for (const namespace of ['rebucket', 'other']) {
      const ours = await createMemory({ store: new PostgresStore(pglite(db)), namespace });
      const reference = await createMemory({ store: new InMemoryStore(), namespace });
      for (const [from, count] of [
        [0, 120],
        [120, 80],
        [200, 1],
      ] as const) {
        await ours.addMany(inputs(from, count));
        await reference.addMany(inputs(from, count));
      }
      pairs.push([ours, reference]);
      await ours.close();
    }
    const entries = await pendingEntries(db);
    expect(entries.length).toBeGreaterThan(50);
    await toVersion8Buckets(db);
    const { rows: v8 } = await db.query<{ bucket: string }>('SELECT DISTINCT bucket FROM engram_pending');
    expect(v8.map((r) => r.bucket)).toContain('co');
    for (const [i, namespace] of ['rebucket', 'other'].entries()) {
      const reopened = await createMemory({ store: new PostgresStore(pglite(db)), namespace });
      const reference = pairs[i]![1];
      await expectSameSearches(reopened, reference);
      pairs[i] = [reopened, reference];
    }
    expect(await pendingEntries(db)).toEqual(entries);
    const { rows } = await db.query<{ bucket: string; data: Uint8Array }>(
      'SELECT bucket, data FROM engram_pending',
    );
    for (const { bucket, data } of rows) {
      forEachEntry(data, (name) => expect(bucketOf(new TextDecoder().decode(name))).toBe(bucket));
    }
    const { rows: versions } = await db.query<{ v: number }>(
      'SELECT max(version) AS v FROM engram_schema_version',
    );
    expect(Number(versions[0]!.v)).toBe(CURRENT_SQL_VERSION);
    // The list keeps working: more batches, then an edit that merges it.
    for (const [ours, reference] of pairs) {
      for (const mem of [ours, reference]) {
        await mem.addMany(inputs(201, 30));
        await mem.update('m000005', { content: 'zebra quiet crossing' });
      }
      await expectSameSearches(ours, reference);
      await Promise.all([ours.close(), reference.close()]);
    }
  }, 120_000);
});

describe('a memory row the database refuses', () => {
  it.each(databases.map((db) => [db.name, db] as const))(
    '%s: fails the batch with its own error, though the batch goes on to merge a group',
    async (_name, db) => {
      const store = db.store();
      const at = '2026-12-01T00:00:00.000Z';
      const stamp = '019ad7b4e000-0000-x';
      // A whole group: the batch's postings are merged into blocks, awaited after the rows were sent.
      const writes: MemoryWrite[] = Array.from({ length: BLOCK_DOCS }, (_, i) => ({
        id: `refused-${i}`,
        create: { namespace: 'refused', createdAt: at },
        // Postgres text cannot hold NUL: the rows' insert fails.
        values: { content: i === 7 ? 'nul \u0000 here' : text(i), kind: 'note' },
        clocks: { content: stamp, kind: stamp },
      }));
      const failure = await store.apply('refused', { memories: writes }).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      expect(failure?.message).toMatch(/unsupported Unicode escape sequence/);
      expect(await store.getMemories('refused', ['refused-0'])).toEqual([]);
      await store.close();
    },
  );
});
