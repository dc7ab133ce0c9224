// IndexedDBStore beside raw idb and Dexie on one corpus. In Node this runs on fake-indexeddb, whose
// costs (one macrotask per request, a JS B-tree) are not Chromium's: the ratios are indicative only.
// References: raw idb puts of the same items in one transaction (a lower bound with no index at all),
// and Dexie with a multiEntry word index, the usual hand-rolled IndexedDB "search".
import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { openDB } from 'idb';
import { IndexedDBStore } from '../dist/backends/indexeddb/index.js';
import { createMemory } from '../dist/index.js';
import { tokenize } from '../dist/store/index.js';
import { makeCorpus, median, time } from './corpus.mjs';

const BULK = Number(process.env.BENCH_IDB_BULK ?? 10_000);
const SEARCH_SIZE = Number(process.env.BENCH_IDB_SEARCH_SIZE ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
let databases = 0;
const freshName = (what) => `bench-${what}-${process.pid}-${++databases}`;

async function engramBulk(items) {
  const name = freshName('engram');
  const mem = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'bench' });
  const ms = await time(async () => {
    for (let i = 0; i < items.length; i += 1000) await mem.addMany(items.slice(i, i + 1000));
  });
  await mem.close();
  return { ms, name };
}

async function rawBulk(items) {
  const db = await openDB(freshName('raw'), 1, {
    upgrade: (d) => d.createObjectStore('docs', { keyPath: 'id' }),
  });
  const rows = items.map((item, i) => ({ id: `doc-${String(i).padStart(8, '0')}`, ...item }));
  const ms = await time(async () => {
    const tx = db.transaction('docs', 'readwrite');
    for (const row of rows) tx.store.put(row);
    await tx.done;
  });
  db.close();
  return ms;
}

async function dexieBuild(items) {
  const db = new Dexie(freshName('dexie'));
  db.version(1).stores({ docs: '++id, *words' });
  const rows = items.map((item) => ({ ...item, words: [...new Set(tokenize(item.content))] }));
  await db.docs.bulkAdd(rows);
  const name = db.name;
  db.close();
  return name;
}

/** Dexie's answer to a query: docs holding every term (no ranking: a generous reference). */
async function dexieSearch(db, query) {
  const terms = tokenize(query);
  const sets = await Promise.all(terms.map((t) => db.docs.where('words').equals(t).primaryKeys()));
  const [first, ...rest] = sets.map((keys) => new Set(keys));
  const ids = [...first].filter((id) => rest.every((s) => s.has(id))).slice(0, 10);
  return db.docs.bulkGet(ids);
}

export default async function run(record) {
  const { items, queries } = makeCorpus(Math.max(BULK, SEARCH_SIZE));
  const bulkItems = items.slice(0, BULK);
  const ours = [];
  const raw = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push((await engramBulk(bulkItems)).ms);
    raw.push(await rawBulk(bulkItems));
  }
  const k = (n) => `${n / 1000}K`;
  record({
    suite: 'indexeddb',
    metric: `bulk add ${k(BULK)} (addMany of 1000)`,
    ours: median(ours),
    ref: median(raw),
    refName: 'raw idb puts',
    unit: 'ms',
  });

  const { name } = await engramBulk(items.slice(0, SEARCH_SIZE));
  const dexieName = await dexieBuild(items.slice(0, SEARCH_SIZE));
  const cold = [];
  const dexieCold = [];
  for (const query of queries.slice(0, Math.max(ROUNDS, 5))) {
    cold.push(
      await time(async () => {
        const mem = await createMemory({ store: new IndexedDBStore({ name }), namespace: 'bench' });
        await mem.search(query, { limit: 10 });
        await mem.close();
      }),
    );
    dexieCold.push(
      await time(async () => {
        const db = new Dexie(dexieName);
        db.version(1).stores({ docs: '++id, *words' });
        await dexieSearch(db, query);
        db.close();
      }),
    );
  }
  record({
    suite: 'indexeddb',
    metric: `cold open + first search ${k(SEARCH_SIZE)}`,
    ours: median(cold),
    ref: median(dexieCold),
    refName: 'Dexie *words',
    unit: 'ms',
  });
}
