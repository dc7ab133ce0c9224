import 'fake-indexeddb/auto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { openDB } from 'idb';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import type { MemoryRowV5 } from '../../src/backends/indexeddb/migrate-v5.js';
import type { StoredShardRow, TextShardRow } from '../../src/backends/indexeddb/schema.js';
import { unpackShard } from '../../src/backends/indexeddb/text-shards.js';
import { SCHEMA_VERSION } from '../../src/backends/indexeddb/upgrade.js';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import {
  type ChangeEntry,
  createMemory,
  type Engram,
  InMemoryStore,
  type Json,
  type MemoryStore,
  type WriteBatch,
} from '../../src/index.js';
import { formatHlc, MEMORY_FIELDS } from '../../src/store/index.js';
import {
  decodeImageValue,
  type IndexedDBImage,
  imageRows,
  loadIndexedDB,
  memoryFeedOfBlocks,
  memoryFeedOfImage,
} from '../fixtures/indexeddb-dump.js';
import { withReplayedSchema } from '../fixtures/postgres-dump.js';
import {
  EXPIRED_AT_READ,
  expectedState,
  NS,
  OTHER_NS,
  READ_AT,
  readState,
  recordDataset,
  replay,
} from '../fixtures/v4-dataset.js';

// Databases written by the code of commit 9123c4c (test/fixtures/write-v4-fixtures.ts), opened by today's
// code: every record, clock, feed entry, sync cursor and search score must read back as recorded then.
const fixtures = join(import.meta.dirname, '../fixtures');
const expected = await expectedState(
  JSON.parse(await readFile(join(fixtures, 'v4-expected.json'), 'utf8')) as Record<string, Json>,
);
const sqlScript = await readFile(join(fixtures, 'postgres-v4.sql'), 'utf8');
const idbImage = JSON.parse(await readFile(join(fixtures, 'indexeddb-v3.json'), 'utf8')) as IndexedDBImage;
// The same dataset written by commit 6fcedac, the last code on IndexedDB schema v4 (write-indexeddb-fixture.ts).
const idbImageV4 = JSON.parse(await readFile(join(fixtures, 'indexeddb-v4.json'), 'utf8')) as IndexedDBImage;
const expectedV4 = await expectedState(
  JSON.parse(await readFile(join(fixtures, 'indexeddb-v4-expected.json'), 'utf8')) as Record<string, Json>,
);
// The same dataset written by commit 4d04ec0, the last code on IndexedDB schema v5, with what that code
// read (write-indexeddb-fixture.ts). Compared as recorded, but searches as today's code ranks them: v7
// indexes the fixture's Korean and Japanese text under new keys (rebuild-changed-text.ts), which moves every score
// of its namespace.
const idbImageV5 = JSON.parse(await readFile(join(fixtures, 'indexeddb-v5.json'), 'utf8')) as IndexedDBImage;
const recordedV5 = await expectedState(
  JSON.parse(await readFile(join(fixtures, 'indexeddb-v5-expected.json'), 'utf8')) as Record<string, Json>,
);
// The same dataset written by commit 771f5be, the last code on IndexedDB schema v8 (32-bit words per posting
// in the text shard rows), with what that code read.
const idbImageV8 = JSON.parse(await readFile(join(fixtures, 'indexeddb-v8.json'), 'utf8')) as IndexedDBImage;
const recordedV8 = await expectedState(
  JSON.parse(await readFile(join(fixtures, 'indexeddb-v8-expected.json'), 'utf8')) as Record<string, Json>,
);

const dir = await mkdtemp(join(tmpdir(), 'engram-fixture-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The state as JSON would hold it (no undefined members), to compare strictly with the recorded one. */
async function stateOf(store: MemoryStore): Promise<unknown> {
  return JSON.parse(JSON.stringify(await readState(store)));
}

/** The migrated store also purges what expired: exactly the memories recorded as expired, nothing else. */
async function expectPurge(store: MemoryStore, state = expected): Promise<void> {
  const mem = await createMemory({
    store,
    namespace: NS,
    now: () => READ_AT,
    maintenance: { intervalMs: 0 },
  });
  expect(await mem.maintain()).toEqual({ purged: EXPIRED_AT_READ.length, collected: 0 });
  const fixture = state[NS] as { memories: Array<{ id: string }> };
  const left = fixture.memories.filter((m) => !EXPIRED_AT_READ.includes(m.id));
  const ids = fixture.memories.map((m) => m.id);
  const records = (await store.getMemories(NS, ids)).map((r) => ({ ...r, id: r.memory.id }));
  expect(JSON.parse(JSON.stringify(records.sort((a, b) => (a.id < b.id ? -1 : 1))))).toStrictEqual(left);
}

/**
 * Loads an IndexedDB image into fake-indexeddb, opens it with today's store (upgrading it) and reopens it,
 * each time reading `state`, then purges through it; returns the database opened raw.
 */
async function idbUpgradesAndReadsTheSame(label: string, image: IndexedDBImage, state: typeof expected) {
  const name = `fixture-${label}-${Date.now()}`;
  await loadIndexedDB(name, image);
  const store = new IndexedDBStore({ name });
  expect(await stateOf(store)).toStrictEqual(state);
  await store.close();
  const again = new IndexedDBStore({ name });
  expect(await stateOf(again)).toStrictEqual(state);
  await expectPurge(again, state);
  await again.close();
  return openDB(name);
}

describe('migrations from the schema of commit 9123c4c keep every record and every search result', () => {
  it('the fixture itself is what the test expects (not empty, all parts present)', () => {
    const fixture = expected.fixture as Record<string, Json[]>;
    expect(fixture.memories).toHaveLength(16);
    expect(fixture.tombstones).toHaveLength(4);
    expect(fixture.searches!.filter((s) => (s as Json[]).length > 0).length).toBeGreaterThan(20);
  });

  it('sql.js: a v4 file opens, migrates, reads the same, and the migrated file reopens the same', async () => {
    const path = join(dir, 'sqljs.db');
    await copyFile(join(fixtures, 'sqljs-v4.db'), path);
    const store = new SqlJsStore({ persist: path });
    expect(await stateOf(store)).toStrictEqual(expected);
    await store.close();
    const again = new SqlJsStore({ persist: path });
    expect(await stateOf(again)).toStrictEqual(expected);
    await expectPurge(again);
    await again.close();
    // Read back with sql.js itself: the file now carries the code's newest schema version.
    const SQL = await initSqlJs();
    const raw = new SQL.Database(await readFile(path));
    const versions = raw.exec('SELECT max(version) FROM engram_schema_version')[0]!.values[0]![0] as number;
    raw.close();
    expect(versions).toBeGreaterThanOrEqual(4);
  });

  it('IndexedDB (fake-indexeddb): a v3 database opens, upgrades, reads the same, and reopens the same', async () => {
    const raw = await idbUpgradesAndReadsTheSame('v3', idbImage, expected);
    expect(raw.version).toBeGreaterThanOrEqual(idbImage.version);
    raw.close();
  });

  it('IndexedDB (fake-indexeddb): a v4 database moves its memory rows to string keys and reads the same', async () => {
    expect(idbImageV4.version).toBe(4);
    const raw = await idbUpgradesAndReadsTheSame('v4', idbImageV4, expectedV4);
    // Read back with raw idb: every memory row of the image, under `namespace NUL id`, with string
    // kind and tag index keys, its feed key as v5 wrote it, and its feed entry (in a block since v6).
    expect(raw.version).toBe(SCHEMA_VERSION);
    const memories = raw.transaction('memories').store;
    expect(memories.keyPath).toBeNull();
    expect([...memories.indexNames].sort()).toEqual(['kind', 'tags']);
    expect(await memoryFeedOfBlocks(raw)).toEqual(memoryFeedOfImage(idbImageV4, EXPIRED_AT_READ));
    const before = imageRows(idbImageV4, 'memories');
    const left = before.filter(({ key }) => !EXPIRED_AT_READ.includes((key as string[])[1]!));
    const keys = await raw.getAllKeys('memories');
    expect(keys).toEqual(left.map(({ key }) => (key as string[]).join('\u0000')));
    for (const { key, value } of left) {
      const [namespace, id] = key as [string, string];
      const { memory, seq, origin, group, slot } = value as MemoryRowV5;
      const row = (await raw.get('memories', `${namespace}\u0000${id}`)) as MemoryRowV5;
      expect(row).toMatchObject({ memory, seq, origin });
      // v7 indexed again the namespaces holding text it folds otherwise (NS has Korean), with new slots.
      if (namespace !== NS) expect(row).toMatchObject({ group, slot });
      expect(row.kindKey).toBe(`${namespace}\u0000${memory.kind}`);
      expect(row.feedKey).toBe(`${namespace}\u0000${String(seq).padStart(16, '0')}`);
      expect(row.tagKeys).toEqual(memory.tags.map((tag) => `${namespace}\u0000${tag}`));
    }
    raw.close();
  });

  it('IndexedDB (fake-indexeddb): a v5 database moves its feed entries into blocks, keeps its rows as they were and reads the same', async () => {
    expect(idbImageV5.version).toBe(5);
    const raw = await idbUpgradesAndReadsTheSame('v5', idbImageV5, recordedV5);
    expect(raw.version).toBe(SCHEMA_VERSION);
    expect([...raw.objectStoreNames]).toContain('feedBlocks');
    // Nothing was copied: every memory row but the purged one is the image's, feed key and origin included;
    // those of NS, whose Korean and Japanese text v7 indexed again, in new text slots.
    const before = imageRows(idbImageV5, 'memories');
    const left = before.filter(({ key }) => !EXPIRED_AT_READ.includes((key as string).split('\u0000')[1]!));
    expect(await raw.getAllKeys('memories')).toEqual(left.map(({ key }) => key));
    const withoutSlot = (row: MemoryRowV5) => {
      const { group: _, slot: __, ...rest } = row;
      return row.memory.namespace === NS ? rest : row;
    };
    expect(((await raw.getAll('memories')) as MemoryRowV5[]).map(withoutSlot)).toEqual(
      left.map(({ value }) => withoutSlot(value as MemoryRowV5)),
    );
    // Their feed entries moved into blocks, the purged memory's retired with it; the index went.
    expect(await memoryFeedOfBlocks(raw)).toEqual(memoryFeedOfImage(idbImageV5, EXPIRED_AT_READ));
    expect([...raw.transaction('memories').store.indexNames].sort()).toEqual(['kind', 'tags']);
    raw.close();
  });

  it('IndexedDB (fake-indexeddb): a v8 database stores its text shard rows packed, with the very postings it held, and reads the same', async () => {
    expect(idbImageV8.version).toBe(8);
    const before = imageRows(idbImageV8, 'textShards');
    expect(before.length).toBeGreaterThan(10);
    expect(before.every(({ value }) => 'data' in (value as object))).toBe(true);
    // Opened once (the upgrade), nothing else: every row is the image's, packed.
    const name = `fixture-v8-rows-${Date.now()}`;
    await loadIndexedDB(name, idbImageV8);
    const store = new IndexedDBStore({ name });
    await store.getMeta(NS, 'anything');
    await store.close();
    const raw = await openDB(name);
    expect(raw.version).toBe(SCHEMA_VERSION);
    expect(await raw.getAllKeys('textShards')).toEqual(before.map(({ key }) => key));
    const rows = (await raw.getAll('textShards')) as StoredShardRow[];
    for (const row of rows) expect(Object.keys(row).sort()).toEqual(['bytes', 'group', 'terms']);
    expect(rows.map(unpackShard)).toEqual(before.map(({ value }) => decodeImageValue(value) as TextShardRow));
    const bytes = (list: Array<{ byteLength: number }>) => list.reduce((sum, a) => sum + a.byteLength, 0);
    const words = bytes(before.map(({ value }) => (decodeImageValue(value) as TextShardRow).data));
    expect(bytes(rows.map((row) => row.bytes)) * 2).toBeLessThan(words);
    raw.close();
    // Read as that code read it (records, clocks, feed, lists, every search and score), reopened, purged.
    (await idbUpgradesAndReadsTheSame('v8', idbImageV8, recordedV8)).close();
  });

  it('IndexedDB (fake-indexeddb): writes after the v5 -> v6 upgrade keep the feed exactly a reference store’s', async () => {
    const name = `fixture-v5-writes-${Date.now()}`;
    await loadIndexedDB(name, idbImageV5);
    const store = new IndexedDBStore({ name });
    const reference = new InMemoryStore();
    await replay(reference, await recordDataset());
    // Rows of v5 (entries behind the index) edited and deleted, new ones added in bulk and one by one,
    // then rows of v6 (entries in blocks) edited and deleted, in one namespace and the other.
    const writes = async (namespace: string, act: (mem: Engram, target: MemoryStore) => Promise<void>) => {
      for (const target of [store, reference]) {
        let t = READ_AT;
        const mem = await createMemory({
          store: target,
          namespace,
          now: () => (t += 1000),
          maintenance: { intervalMs: 0 },
        });
        // Not closed: that would close the store, which the next namespace's writes use.
        await act(mem, target);
      }
    };
    // A batch from a sync pull: rows of both kinds rewritten in one transaction, entries of remote origin.
    const stamp = formatHlc({ wallMs: READ_AT + 3_600_000, counter: 0, node: 'elsewhere' });
    const pulled: WriteBatch = {
      origin: 'remote',
      memories: [
        ...['n0', 'n2', 'm03', 'm05'].map((id) => ({
          id,
          values: { content: `${id}, as pulled` },
          clocks: { content: stamp },
        })),
        // Created elsewhere, every field stamped there: entries of remote origin.
        ...['p1', 'p2'].map((id) => ({
          id,
          create: { namespace: NS, createdAt: new Date(READ_AT).toISOString() },
          values: { content: `${id} from another device`, kind: 'note', tags: [], metadata: {} },
          clocks: Object.fromEntries(MEMORY_FIELDS.map((field) => [field, stamp])),
        })),
      ],
    };
    await writes(NS, async (mem, target) => {
      await mem.update('m01', { content: 'Prefers light roast coffee now' });
      await mem.remove('m04');
      await mem.addMany(Array.from({ length: 5 }, (_, i) => ({ id: `n${i}`, content: `new note ${i}` })));
      await mem.add({ id: 'n9', content: 'one more note' });
      await mem.update('n1', { tags: ['edited'] });
      await mem.addMany([{ id: 'n5', content: 'and a sixth' }]);
      await mem.remove('n3');
      await target.apply(NS, structuredClone(pulled));
      await mem.update('m02', { importance: 0.1 });
    });
    await writes(OTHER_NS, async (mem) => {
      await mem.update('o1', { content: 'Coffee, edited after the upgrade' });
      await mem.add({ id: 'o3', content: 'tea' });
      await mem.addMany(['o4', 'o5', 'o6'].map((id) => ({ id, content: `bulk ${id}` })));
      await mem.remove('o4');
      await mem.remove('o6');
      await mem.remove('o5');
    });
    // Link ids are drawn anew each time the dataset is recorded: the reference's differ from the image's.
    const feedOf = async (target: MemoryStore, namespace: string, after: number, limit: number) =>
      (await target.changes(namespace, after, limit)).map((e) =>
        e.entity === 'link' ? { ...e, id: 'link' } : e,
      );
    // The two stores' numbers follow the clock (src/core/feed-number.ts) at different times: the same
    // entries in the same order, each numbered above the one before.
    const entries = (feed: ChangeEntry[]) => feed.map(({ seq: _, ...entry }) => entry);
    for (const namespace of [NS, OTHER_NS]) {
      const want = await feedOf(store, namespace, 0, 10_000);
      expect(entries(want)).toEqual(entries(await feedOf(reference, namespace, 0, 10_000)));
      expect(want.every((e, i) => i === 0 || e.seq > want[i - 1]!.seq)).toBe(true);
      if (namespace === NS) {
        const remote = want.filter((e) => e.origin === 'remote').map((e) => e.id);
        expect(remote).toEqual(expect.arrayContaining(['p1', 'p2']));
      }
      // Page by page, with limits that end inside blocks and at their edges.
      for (const limit of [1, 2, 3, 5]) {
        const paged: typeof want = [];
        for (let after = 0; ; ) {
          const page = await feedOf(store, namespace, after, limit);
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(limit);
          paged.push(...page);
          after = page[page.length - 1]!.seq;
        }
        expect(paged).toEqual(want);
      }
      const ids = want.filter((e) => e.entity === 'memory').map((e) => e.id);
      // Records without their clocks: the recorded dataset's clock node is drawn anew too.
      const records = async (target: MemoryStore) =>
        (await target.getMemories(namespace, ids)).map((r) => r.memory);
      expect(await records(store)).toEqual(await records(reference));
    }
    await store.close();
  });

  it('PGlite: the v4 tables replayed from SQL open, migrate and read the same', async () => {
    const pg = await PGlite.create();
    await pg.exec(sqlScript);
    const store = new PostgresStore(pglite(pg));
    expect(await stateOf(store)).toStrictEqual(expected);
    await store.close();
    const again = new PostgresStore(pglite(pg));
    expect(await stateOf(again)).toStrictEqual(expected);
    await expectPurge(again);
    await pg.close();
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'real Postgres (DATABASE_URL; skipped without it, see test/setup/real-postgres.ts): the v4 tables migrate and read the same',
    async () => {
      await withReplayedSchema(process.env.DATABASE_URL!, 'v4', sqlScript, async (open) => {
        const store = open();
        expect(await stateOf(store)).toStrictEqual(expected);
        await store.close();
        const again = open();
        expect(await stateOf(again)).toStrictEqual(expected);
        await expectPurge(again);
        await again.close();
      });
    },
  );
});
