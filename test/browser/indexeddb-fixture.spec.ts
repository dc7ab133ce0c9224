import { openDB } from 'idb';
import { expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { SCHEMA_VERSION } from '../../src/backends/indexeddb/upgrade.js';
import { type IndexedDBImage, loadIndexedDB } from '../fixtures/indexeddb-dump.js';
import imageUrl from '../fixtures/indexeddb-v3.json?url';
import imageV4Url from '../fixtures/indexeddb-v4.json?url';
import expectedV4Url from '../fixtures/indexeddb-v4-expected.json?url';
import { expectedState, readState } from '../fixtures/v4-dataset.js';
import expectedUrl from '../fixtures/v4-expected.json?url';

// The IndexedDB database of commit 9123c4c (schema v3), recreated in real Chromium's IndexedDB, opened and
// upgraded by today's store: everything reads as recorded then (see test/migrations/v4-fixtures.test.ts).
it('IndexedDB in Chromium: a v3 database from the fixture opens, upgrades and reads the same', async () => {
  const image = (await (await fetch(imageUrl)).json()) as IndexedDBImage;
  const expected = await expectedState(await (await fetch(expectedUrl)).json());
  const name = `engram-fixture-v3-${Date.now()}`;
  await loadIndexedDB(name, image);
  const store = new IndexedDBStore({ name });
  expect(JSON.parse(JSON.stringify(await readState(store)))).toStrictEqual(expected);
  await store.close();
  const again = new IndexedDBStore({ name });
  expect(JSON.parse(JSON.stringify(await readState(again)))).toStrictEqual(expected);
  await again.close();
  const raw = await openDB(name);
  expect(raw.version).toBeGreaterThanOrEqual(image.version);
  raw.close();
});

// The same dataset written by commit 6fcedac, the last code on schema v4 (write-indexeddb-v4-fixture.ts):
// in Chromium's IndexedDB, the memory rows move to string keys and everything reads as that code read it.
it('IndexedDB in Chromium: a v4 database from the fixture opens, upgrades to v5 and reads the same', async () => {
  const image = (await (await fetch(imageV4Url)).json()) as IndexedDBImage;
  const expected = await expectedState(await (await fetch(expectedV4Url)).json());
  expect(image.version).toBe(4);
  const name = `engram-fixture-v4-${Date.now()}`;
  await loadIndexedDB(name, image);
  const store = new IndexedDBStore({ name });
  expect(JSON.parse(JSON.stringify(await readState(store)))).toStrictEqual(expected);
  await store.close();
  const again = new IndexedDBStore({ name });
  expect(JSON.parse(JSON.stringify(await readState(again)))).toStrictEqual(expected);
  await again.close();
  const raw = await openDB(name);
  expect(raw.version).toBe(SCHEMA_VERSION);
  expect(raw.transaction('memories').store.keyPath).toBeNull();
  const memories = image.stores.find((s) => s.name === 'memories')!.rows;
  expect(await raw.getAllKeys('memories')).toEqual(
    memories.map(({ key }) => (key as string[]).join('\u0000')),
  );
  raw.close();
});
