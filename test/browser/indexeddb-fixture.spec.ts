import { openDB } from 'idb';
import { expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { SCHEMA_VERSION } from '../../src/backends/indexeddb/upgrade.js';
import {
  type IndexedDBImage,
  loadIndexedDB,
  memoryFeedOfBlocks,
  memoryFeedOfImage,
} from '../fixtures/indexeddb-dump.js';
import imageUrl from '../fixtures/indexeddb-v3.json?url';
import imageV4Url from '../fixtures/indexeddb-v4.json?url';
import expectedV4Url from '../fixtures/indexeddb-v4-expected.json?url';
import imageV5Url from '../fixtures/indexeddb-v5.json?url';
import expectedV5Url from '../fixtures/indexeddb-v5-expected.json?url';
import { expectedState, readState } from '../fixtures/v4-dataset.js';
import expectedUrl from '../fixtures/v4-expected.json?url';

/**
 * Recreates the fixture image in Chromium's IndexedDB, opens it with today's store (upgrading it) and
 * reopens it, each time reading what was recorded; returns the image and the database opened raw.
 */
async function upgradesAndReadsTheSame(label: string, image: string, expected: string, asRecorded = false) {
  const loaded = (await (await fetch(image)).json()) as IndexedDBImage;
  const recorded = await (await fetch(expected)).json();
  const want = asRecorded ? recorded : await expectedState(recorded);
  const name = `engram-fixture-${label}-${Date.now()}`;
  await loadIndexedDB(name, loaded);
  for (let open = 0; open < 2; open++) {
    const store = new IndexedDBStore({ name });
    expect(JSON.parse(JSON.stringify(await readState(store)))).toStrictEqual(want);
    await store.close();
  }
  return { image: loaded, raw: await openDB(name) };
}

// The IndexedDB database of commit 9123c4c (schema v3), recreated in real Chromium's IndexedDB, opened and
// upgraded by today's store: everything reads as recorded then (see test/migrations/v4-fixtures.test.ts).
it('IndexedDB in Chromium: a v3 database from the fixture opens, upgrades and reads the same', async () => {
  const { image, raw } = await upgradesAndReadsTheSame('v3', imageUrl, expectedUrl);
  expect(raw.version).toBeGreaterThanOrEqual(image.version);
  raw.close();
});

// The same dataset written by commit 6fcedac, the last code on schema v4 (write-indexeddb-fixture.ts):
// in Chromium's IndexedDB, the memory rows move to string keys and everything reads as that code read it.
it('IndexedDB in Chromium: a v4 database from the fixture opens, upgrades to v5 and reads the same', async () => {
  const { image, raw } = await upgradesAndReadsTheSame('v4', imageV4Url, expectedV4Url);
  expect(image.version).toBe(4);
  expect(raw.version).toBe(SCHEMA_VERSION);
  expect(raw.transaction('memories').store.keyPath).toBeNull();
  const memories = image.stores.find((s) => s.name === 'memories')!.rows;
  expect(await raw.getAllKeys('memories')).toEqual(
    memories.map(({ key }) => (key as string[]).join('\u0000')),
  );
  raw.close();
});

// The same dataset written by commit 4d04ec0, the last code on schema v5 (write-indexeddb-fixture.ts):
// in Chromium's IndexedDB, the upgrade moves the memories' feed entries into feed blocks and drops the
// feed index; every row stays as written, and everything, searches included, reads as that code read it.
it('IndexedDB in Chromium: a v5 database from the fixture opens, upgrades to v6 and reads the same', async () => {
  const { image, raw } = await upgradesAndReadsTheSame('v5', imageV5Url, expectedV5Url, true);
  expect(image.version).toBe(5);
  expect(raw.version).toBe(SCHEMA_VERSION);
  const memories = image.stores.find((s) => s.name === 'memories')!.rows;
  expect(await raw.getAllKeys('memories')).toEqual(memories.map(({ key }) => key));
  expect(await raw.getAll('memories')).toEqual(memories.map(({ value }) => value));
  expect(await memoryFeedOfBlocks(raw)).toEqual(memoryFeedOfImage(image));
  expect([...raw.transaction('memories').store.indexNames].sort()).toEqual(['kind', 'tags']);
  raw.close();
});
