import { openDB } from 'idb';
import { expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import type { MemoryRowV5 } from '../../src/backends/indexeddb/migrate-v5.js';
import type { StoredShardRow, TextShardRow } from '../../src/backends/indexeddb/schema.js';
import { unpackShard } from '../../src/backends/indexeddb/text-shards.js';
import { SCHEMA_VERSION } from '../../src/backends/indexeddb/upgrade.js';
import { createMemory, type Engram } from '../../src/index.js';
import {
  decodeImageValue,
  type IndexedDBImage,
  imageRows,
  loadIndexedDB,
  memoryFeedOfBlocks,
  memoryFeedOfImage,
} from '../fixtures/indexeddb-dump.js';
import imageUrl from '../fixtures/indexeddb-v3.json?url';
import imageV4Url from '../fixtures/indexeddb-v4.json?url';
import expectedV4Url from '../fixtures/indexeddb-v4-expected.json?url';
import imageV5Url from '../fixtures/indexeddb-v5.json?url';
import expectedV5Url from '../fixtures/indexeddb-v5-expected.json?url';
import refoldImageUrl from '../fixtures/indexeddb-v6-refold.json?url';
import segmentImageUrl from '../fixtures/indexeddb-v7-segment.json?url';
import imageV8Url from '../fixtures/indexeddb-v8.json?url';
import expectedV8Url from '../fixtures/indexeddb-v8-expected.json?url';
import { SEGMENT_NAMESPACES, SEGMENT_QUERIES } from '../fixtures/segment-dataset.js';
import { expectedState, NS, readState } from '../fixtures/v4-dataset.js';
import expectedUrl from '../fixtures/v4-expected.json?url';
import { expectAsReference } from '../migrations/fixture-answers.js';

/**
 * Recreates the fixture image (of schema `version`) in Chromium's IndexedDB, opens it with today's store
 * (upgrading it to SCHEMA_VERSION) and reopens it, each time reading what was recorded; returns the image
 * and the database opened raw.
 */
async function upgradesAndReadsTheSame(version: number, image: string, expected: string) {
  const loaded = (await (await fetch(image)).json()) as IndexedDBImage;
  expect(loaded.version).toBe(version);
  const want = await expectedState(await (await fetch(expected)).json());
  const name = `engram-fixture-v${version}-${Date.now()}`;
  await loadIndexedDB(name, loaded);
  for (let open = 0; open < 2; open++) {
    const store = new IndexedDBStore({ name });
    expect(JSON.parse(JSON.stringify(await readState(store)))).toStrictEqual(want);
    await store.close();
  }
  const raw = await openDB(name);
  expect(raw.version).toBe(SCHEMA_VERSION);
  return { image: loaded, raw };
}

// The IndexedDB database of commit 9123c4c (schema v3), recreated in real Chromium's IndexedDB, opened and
// upgraded by today's store: everything reads as recorded then (see test/migrations/v4-fixtures.test.ts).
it('IndexedDB in Chromium: a v3 database from the fixture opens, upgrades and reads the same', async () => {
  const { raw } = await upgradesAndReadsTheSame(3, imageUrl, expectedUrl);
  raw.close();
});

// The same dataset written by commit 6fcedac, the last code on schema v4 (write-indexeddb-fixture.ts):
// in Chromium's IndexedDB, the memory rows move to string keys and everything reads as that code read it.
it('IndexedDB in Chromium: a v4 database from the fixture opens, upgrades to v5 and reads the same', async () => {
  const { image, raw } = await upgradesAndReadsTheSame(4, imageV4Url, expectedV4Url);
  expect(raw.transaction('memories').store.keyPath).toBeNull();
  const memories = imageRows(image, 'memories');
  expect(await raw.getAllKeys('memories')).toEqual(
    memories.map(({ key }) => (key as string[]).join('\u0000')),
  );
  raw.close();
});

// The same dataset written by commit 4d04ec0, the last code on schema v5 (write-indexeddb-fixture.ts):
// in Chromium's IndexedDB, the upgrade moves the memories' feed entries into feed blocks and drops the
// feed index; every row stays as written (but the text slots of NS, whose Korean and Japanese v7 indexes
// again), and everything reads as that code read it, searches as today's code ranks them.
it('IndexedDB in Chromium: a v5 database from the fixture opens, upgrades to v6 and reads the same', async () => {
  const { image, raw } = await upgradesAndReadsTheSame(5, imageV5Url, expectedV5Url);
  const memories = imageRows(image, 'memories');
  expect(await raw.getAllKeys('memories')).toEqual(memories.map(({ key }) => key));
  const withoutSlot = (row: MemoryRowV5) => {
    const { group: _, slot: __, ...rest } = row;
    return row.memory.namespace === NS ? rest : row;
  };
  expect(((await raw.getAll('memories')) as MemoryRowV5[]).map(withoutSlot)).toEqual(
    memories.map(({ value }) => withoutSlot(value as MemoryRowV5)),
  );
  expect(await memoryFeedOfBlocks(raw)).toEqual(memoryFeedOfImage(image));
  expect([...raw.transaction('memories').store.indexNames].sort()).toEqual(['kind', 'tags']);
  raw.close();
});

// The refold fixture (write-refold-fixtures.ts, commit 88475b0, schema v6): Korean indexed as jamo pairs, kana
// without voicing marks, in an English and a German namespace, whose analyzer the v7 step may need loaded
// first (connect then opens twice, see rebuild-changed-text.ts).
it("IndexedDB in Chromium: a v6 database of the old folding upgrades to v7 and answers with today's keys", async () => {
  const loaded = (await (await fetch(refoldImageUrl)).json()) as IndexedDBImage;
  expect(loaded.version).toBe(6);
  const name = `engram-refold-${Date.now()}`;
  await loadIndexedDB(name, loaded);
  expect((await indexedDB.databases()).find((d) => d.name === name)?.version).toBe(6);
  const store = new IndexedDBStore({ name });
  const scripts = await createMemory({ store, namespace: 'scripts' });
  const contents = async (mem: Engram, query: string) =>
    (await mem.search(query, { match: 'all' })).map((hit) => hit.memory.content).sort();
  expect(await contents(scripts, '서울')).toEqual(['서울에서 만나요', '서울역 がっこう']);
  expect(await contents(scripts, 'がっこう')).toEqual(['がっこうへいく', '서울역 がっこう']);
  expect(await contents(scripts, 'ΚΟΣ*')).toEqual(['Ο ΚΟΣΜΟΣ ΕΙΝΑΙ ΜΙΚΡΟΣ']);
  const kunde = await createMemory({ store, namespace: 'kunde', language: 'german' });
  expect(await contents(kunde, '서울')).toEqual(['서울의 집은 너무 비싸다']);
  expect(await contents(kunde, 'Haus')).toEqual([
    'Die Häuser am Fluss sind alt',
    'Ich trinke Kaffee im Haus',
  ]);
  await store.close();
  const raw = await openDB(name);
  expect(raw.version).toBe(SCHEMA_VERSION);
  raw.close();
});

// The segment fixture (write-segment-fixtures.ts, commit 2a4997f, schema v7): each run of Thai, Lao, Khmer or
// Myanmar letters one word. v8 splits them with Chromium's own ICU dictionaries: the upgraded database answers
// as a fresh store of today's code in the same browser, and finds words from the middle of a run.
it("IndexedDB in Chromium: a v7 database of one-word Thai runs upgrades to v8 and answers with today's words", async () => {
  const loaded = (await (await fetch(segmentImageUrl)).json()) as IndexedDBImage;
  expect(loaded.version).toBe(7);
  const name = `engram-segment-${Date.now()}`;
  await loadIndexedDB(name, loaded);
  const store = new IndexedDBStore({ name });
  await expectAsReference(store, {
    queries: SEGMENT_QUERIES,
    languages: { [SEGMENT_NAMESPACES.german]: 'german' },
  });
  const scripts = await createMemory({ store, namespace: SEGMENT_NAMESPACES.scripts });
  const contents = async (query: string) =>
    (await scripts.search(query)).map((hit) => hit.memory.content).sort();
  expect(await contents('กิน')).toEqual(['ฉันชอบกินข้าวผัดตอนเช้า', 'เขาชอบกินข้าวมันไก่']);
  expect(await contents('"ข้าวผัด"')).toEqual(['ฉันชอบกินข้าวผัดตอนเช้า']);
  expect(await contents('ກິນ')).toEqual(['ຂ້ອຍມັກກິນເຂົ້າໜຽວ']);
  expect(await contents('ចូលចិត្ត')).toEqual(['ខ្ញុំចូលចិត្តញ៉ាំបាយ']);
  await store.close();
  const raw = await openDB(name);
  expect(raw.version).toBe(SCHEMA_VERSION);
  raw.close();
});

// The dataset written by commit 771f5be, the last code on schema v8 (write-indexeddb-fixture.ts): in Chromium's
// IndexedDB, the upgrade stores every text shard row packed (varints), holding the very postings it held,
// and everything reads as that code read it.
it('IndexedDB in Chromium: a v8 database from the fixture opens, packs its shard rows (v9) and reads the same', async () => {
  const { image, raw } = await upgradesAndReadsTheSame(8, imageV8Url, expectedV8Url);
  const before = imageRows(image, 'textShards');
  expect(await raw.getAllKeys('textShards')).toEqual(before.map(({ key }) => key));
  const rows = (await raw.getAll('textShards')) as StoredShardRow[];
  expect(rows.every((row) => row.bytes instanceof Uint8Array && !('data' in row))).toBe(true);
  expect(rows.map(unpackShard)).toEqual(before.map(({ value }) => decodeImageValue(value) as TextShardRow));
  raw.close();
});
