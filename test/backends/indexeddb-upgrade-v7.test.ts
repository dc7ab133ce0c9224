import 'fake-indexeddb/auto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { SCHEMA_VERSION } from '../../src/backends/indexeddb/upgrade.js';
import { isLanguageLoaded } from '../../src/core/text/index.js';
import { createMemory } from '../../src/index.js';
import { type IndexedDBImage, loadIndexedDB } from '../fixtures/indexeddb-dump.js';

// A file of its own: vitest gives each test file fresh modules, so no other test has loaded German here.
const image = JSON.parse(
  await readFile(join(import.meta.dirname, '../fixtures/indexeddb-v6-refold.json'), 'utf8'),
) as IndexedDBImage;

describe('IndexedDB v6 -> v7 with an index language this process has not loaded', () => {
  it('stops the upgrade before writing, loads the language, and upgrades on the second open', async () => {
    expect(isLanguageLoaded('german')).toBe(false);
    const name = `v7-languages-${Date.now()}`;
    await loadIndexedDB(name, image);
    const store = new IndexedDBStore({ name });
    await store.open();
    // The fixture's German namespace holds Korean text: v7 indexed it again, which needed the German stemmer.
    expect(isLanguageLoaded('german')).toBe(true);
    expect(isLanguageLoaded('french')).toBe(false);
    const kunde = await createMemory({ store, namespace: 'kunde', language: 'german' });
    const found = await kunde.search('서울', { match: 'all' });
    expect(found.map((hit) => hit.memory.content)).toEqual(['서울의 집은 너무 비싸다']);
    await store.close();
    const db = await openDB(name);
    expect(db.version).toBe(SCHEMA_VERSION);
    db.close();
  });
});
