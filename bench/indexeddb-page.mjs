// Runs inside Chromium (bundled by indexeddb.mjs): every timing is taken in the page with
// performance.now(), so the DevTools round trips of the driver never count.
import Dexie from 'dexie';
import { deleteDB, openDB } from 'idb';
import { IndexedDBStore } from '../dist/backends/indexeddb/index.js';
import { createMemory } from '../dist/index.js';
import { tokenize } from '../dist/store/index.js';
import { makeCorpus } from './corpus.mjs';

const NAMESPACE = 'bench';
const BATCH = 1000; // addMany's limit: one transaction per 1000 memories
const corpora = new Map();
let created = 0;

function corpus(size) {
  if (!corpora.has(size)) corpora.set(size, makeCorpus(size));
  return corpora.get(size);
}

const rowsOf = (items) => items.map((item, i) => ({ id: `doc-${String(i).padStart(8, '0')}`, ...item }));
const withWords = (rows) => rows.map((row) => ({ ...row, words: [...new Set(tokenize(row.content))] }));

async function timed(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function openEngram(name) {
  return createMemory({ store: new IndexedDBStore({ name }), namespace: NAMESPACE });
}

/** Dexie with the same secondary indexes as Engram's memories store, plus a word index when searchable. */
function openDexie(name, words) {
  const db = new Dexie(name);
  db.version(1).stores({ docs: words ? 'id, kind, *tags, *words' : 'id, kind, *tags' });
  return db;
}

/** The usual hand-rolled IndexedDB search: OR over a multiEntry word index, ranked by terms matched. */
async function dexieSearch(db, query) {
  const terms = [...new Set(tokenize(query))];
  const lists = await Promise.all(terms.map((term) => db.docs.where('words').equals(term).primaryKeys()));
  const matched = new Map();
  for (const keys of lists) for (const key of keys) matched.set(key, (matched.get(key) ?? 0) + 1);
  const top = [...matched].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1)).slice(0, 10);
  return db.docs.bulkGet(top.map(([key]) => key));
}

const FILL = {
  async engram(name, items) {
    const mem = await openEngram(name);
    const ms = await timed(async () => {
      for (let i = 0; i < items.length; i += BATCH) await mem.addMany(items.slice(i, i + BATCH));
    });
    await mem.close();
    return ms;
  },
  async raw(name, items) {
    const db = await openDB(name, 1, { upgrade: (d) => d.createObjectStore('docs', { keyPath: 'id' }) });
    const rows = rowsOf(items);
    const ms = await timed(async () => {
      const tx = db.transaction('docs', 'readwrite');
      for (const row of rows) tx.store.put(row);
      await tx.done;
    });
    db.close();
    return ms;
  },
  async dexie(name, items) {
    const db = openDexie(name, false);
    await db.open();
    const rows = rowsOf(items);
    const ms = await timed(() => db.docs.bulkPut(rows));
    db.close();
    return ms;
  },
  async dexieWords(name, items) {
    const db = openDexie(name, true);
    await db.open();
    const rows = rowsOf(items);
    const ms = await timed(() => db.docs.bulkPut(withWords(rows)));
    db.close();
    return ms;
  },
};

/** Opens a database for searching; `search` resolves to the hits, `close` lets it go. */
const OPEN = {
  async engram(name) {
    const mem = await openEngram(name);
    return {
      search: (query) => mem.search(query, { limit: 10 }),
      count: () => mem.count(),
      close: () => mem.close(),
    };
  },
  async dexieWords(name) {
    const db = openDexie(name, true);
    await db.open();
    return {
      search: (query) => dexieSearch(db, query),
      count: () => db.docs.count(),
      close: () => db.close(),
    };
  },
};

globalThis.bench = {
  ready: true,
  queries: (size) => corpus(size).queries,

  /** Fills a new database with the first `size` items of the corpus; returns its name and the time. */
  async fill(kind, size, keep) {
    const name = `${kind}-${size}-${performance.timeOrigin}-${++created}`;
    const ms = await FILL[kind](name, corpus(size).items);
    if (!keep) await deleteDB(name);
    return { name, ms };
  },

  /** Search latencies over `queries`, after ten warm-up queries, on an already-open database. */
  async latencies(kind, name, queries) {
    const db = await OPEN[kind](name);
    for (const query of queries.slice(0, 10)) await db.search(query);
    const out = [];
    for (const query of queries) out.push(await timed(() => db.search(query)));
    await db.close();
    return out;
  },

  /** `count()` of every memory, `rounds` times after one warm-up, on a newly opened database. */
  async counts(kind, name, rounds) {
    const db = await OPEN[kind](name);
    const expected = await db.count();
    const out = [];
    for (let i = 0; i < rounds; i++) {
      let n;
      out.push(await timed(async () => (n = await db.count())));
      if (n !== expected) throw new Error(`${kind} count ${n}, then ${expected}`);
    }
    await db.close();
    return { times: out, count: expected };
  },

  /** Cold open + first search: call on a freshly loaded page. */
  async coldSearch(kind, name, query) {
    let hits;
    let db;
    const ms = await timed(async () => {
      db = await OPEN[kind](name);
      hits = await db.search(query);
    });
    await db.close();
    return { ms, hits: hits.length };
  },

  deleteDatabase: (name) => deleteDB(name),
};
