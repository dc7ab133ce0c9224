import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { getRows } from '../../src/backends/indexeddb/reads.js';

/** getRows: native gets with one handler, for the few rows a search returns. */
async function database(): Promise<IDBDatabase> {
  const request = indexedDB.open(`engram-get-rows-${process.pid}-${Date.now()}-${Math.random()}`, 1);
  request.onupgradeneeded = () => {
    const store = request.result.createObjectStore('rows');
    for (const key of ['a', 'b', 'c', 'd']) store.put({ key, value: key.toUpperCase() }, key);
  };
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

describe('getRows', () => {
  it('returns the rows that exist, in the order asked, repeats included', async () => {
    const db = await database();
    const store = db.transaction('rows').objectStore('rows');
    const rows = await getRows<{ key: string }>(store, ['c', 'x', 'a', 'c', 'y', 'd']);
    expect(rows.map((row) => row.key)).toEqual(['c', 'a', 'c', 'd']);
    expect(await getRows(db.transaction('rows').objectStore('rows'), [])).toEqual([]);
    expect(await getRows(db.transaction('rows').objectStore('rows'), ['x'])).toEqual([]);
    db.close();
  });

  it('rejects when the transaction fails under its requests, and when a key is not a key', async () => {
    const db = await database();
    const tx = db.transaction('rows');
    const read = getRows(tx.objectStore('rows'), ['a', 'b', 'c']);
    tx.abort();
    await expect(read).rejects.toMatchObject({ name: 'AbortError' });
    await expect(
      getRows(db.transaction('rows').objectStore('rows'), ['a', {} as IDBValidKey]),
    ).rejects.toMatchObject({
      name: 'DataError',
    });
    db.close();
  });
});
