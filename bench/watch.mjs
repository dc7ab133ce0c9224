// What watching costs a write: 20 watched searches, then single adds, each timed until every watch has
// settled (re-run and delivered, or decided it need not). "ms added" is that time minus the same write
// with no watch open, medians of alternating rounds.
// 1. InMemoryStore at 100K: mem.watch beside the naive way (every search re-run on each 'change' event).
// 2. IndexedDB on fake-indexeddb at 10K (Node; fake-indexeddb's costs are not Chromium's, so indicative):
//    IndexedDBStore + mem.watch beside Dexie liveQuery over a multiEntry word index, the same 20 queries.
import 'fake-indexeddb/auto';
import Dexie, { liveQuery } from 'dexie';
import { IndexedDBStore } from '../dist/backends/indexeddb/index.js';
import { createMemory, InMemoryStore } from '../dist/index.js';
import { tokenize } from '../dist/store/index.js';
import { makeCorpus, median } from './corpus.mjs';

const MEMORY_SIZE = Number(process.env.BENCH_WATCH_SIZE ?? 100_000);
const IDB_SIZE = Number(process.env.BENCH_WATCH_IDB_SIZE ?? 10_000);
const WATCHES = 20;
const WRITES = Number(process.env.BENCH_WATCH_WRITES ?? 60);
/** Bare and watched writes alternate in this many rounds, so drift in the machine hits both alike. */
const ROUNDS = 3;
const LIMIT = 10;

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Counts queries in flight; settled once none ran for a few macrotask turns in a row. */
function tracker() {
  let inFlight = 0;
  let runs = 0;
  let activity = 0;
  return {
    get runs() {
      return runs;
    },
    wrap(fn) {
      return async (...args) => {
        inFlight++;
        runs++;
        activity++;
        try {
          return await fn(...args);
        } finally {
          inFlight--;
          activity++;
        }
      };
    },
    async settled() {
      for (let quiet = 0; quiet < 3; ) {
        const before = activity;
        await turn();
        quiet = inFlight === 0 && activity === before ? quiet + 1 : 0;
      }
    },
  };
}

/** Ms per write, each write timed until everything it set off has settled. */
async function timeWrites(write, items, track) {
  const times = [];
  for (const item of items) {
    const start = performance.now();
    await write(item);
    await track.settled();
    times.push(performance.now() - start);
  }
  return times;
}

/**
 * Alternates rounds of bare writes and writes under watches (`open` starts them and returns the stop),
 * and returns the difference of the medians and the re-runs per watched write.
 */
async function addedCost(write, writes, track, open) {
  const bare = [];
  const watched = [];
  let runs = 0;
  const per = Math.floor(writes.length / (2 * ROUNDS));
  for (let round = 0; round < ROUNDS; round++) {
    const at = 2 * round * per;
    bare.push(...(await timeWrites(write, writes.slice(at, at + per), track)));
    const stop = open();
    await track.settled();
    const before = track.runs;
    watched.push(...(await timeWrites(write, writes.slice(at + per, at + 2 * per), track)));
    runs += track.runs - before;
    stop();
  }
  return { added: median(watched) - median(bare), runsPerWrite: runs / watched.length };
}

async function loadMemory(store, items) {
  const mem = await createMemory({ store, namespace: 'bench' });
  for (let i = 0; i < items.length; i += 1000) await mem.addMany(items.slice(i, i + 1000));
  return mem;
}

/** mem.watch, or the hand-written refresh it replaces: every search again on every change. */
function openEngramWatches(mem, queries, track, how) {
  const search = mem.search.bind(mem);
  mem.search = track.wrap(search);
  if (how === 'watch') {
    const stops = queries.map((q) => mem.watch({ search: q, limit: LIMIT }, () => {}));
    return () => {
      for (const stop of stops) stop();
      mem.search = search;
    };
  }
  const refreshAll = () => {
    for (const q of queries) mem.search(q, { limit: LIMIT }).catch(() => {});
  };
  refreshAll();
  const off = mem.on('change', refreshAll);
  return () => {
    off();
    mem.search = search;
  };
}

function engramCost(mem, queries, writes, how) {
  const track = tracker();
  return addedCost(
    (item) => mem.add(item),
    writes,
    track,
    () => openEngramWatches(mem, queries, track, how),
  );
}

/** Dexie's version of the search: docs holding every term, the first LIMIT (no ranking). */
async function dexieSearch(db, terms) {
  const sets = await Promise.all(terms.map((t) => db.docs.where('words').equals(t).primaryKeys()));
  const [first, ...rest] = sets.map((keys) => new Set(keys));
  const ids = [...first].filter((id) => rest.every((s) => s.has(id))).slice(0, LIMIT);
  return db.docs.bulkGet(ids);
}

const withWords = (item) => ({ ...item, words: [...new Set(tokenize(item.content))] });

async function dexieCost(items, queries, writes, round) {
  const db = new Dexie(`bench-watch-dexie-${process.pid}-${round}`);
  db.version(1).stores({ docs: '++id, *words' });
  await db.docs.bulkAdd(items.map(withWords));
  const track = tracker();
  const open = () => {
    const subscriptions = queries.map((q) => {
      const terms = tokenize(q);
      return liveQuery(track.wrap(() => dexieSearch(db, terms))).subscribe({ next: () => {} });
    });
    return () => {
      for (const s of subscriptions) s.unsubscribe();
    };
  };
  const cost = await addedCost((item) => db.docs.add(withWords(item)), writes, track, open);
  db.close();
  return cost;
}

const fmt = (n) => n.toFixed(2);

export default async function run(record, info = { settings: [] }) {
  const corpus = makeCorpus(MEMORY_SIZE + WRITES);
  const queries = corpus.queries.slice(0, WATCHES);
  const writes = corpus.items.slice(MEMORY_SIZE);
  const k = (n) => `${n / 1000}K`;

  // Two stores with the same data, so each way is measured on a store nothing else has written to.
  const ours = await engramCost(
    await loadMemory(new InMemoryStore(), corpus.items.slice(0, MEMORY_SIZE)),
    queries,
    writes,
    'watch',
  );
  const naive = await engramCost(
    await loadMemory(new InMemoryStore(), corpus.items.slice(0, MEMORY_SIZE)),
    queries,
    writes,
    'naive',
  );
  record({
    suite: 'watch',
    metric: `${WATCHES} watched searches, ms added to a write, ${k(MEMORY_SIZE)} in memory`,
    ours: ours.added,
    ref: naive.added,
    refName: 'every search re-run',
    unit: 'ms',
  });

  const idbItems = corpus.items.slice(0, IDB_SIZE);
  // Writes holding none of the watched words: what deciding to skip costs, with no search to re-run.
  const unrelated = writes.map((item, i) => ({ ...item, content: `unwatched zqx${i} words only` }));
  const results = {};
  for (const [label, batch] of [
    ['', writes],
    [' holding none of their words', unrelated],
  ]) {
    const mem = await loadMemory(
      new IndexedDBStore({ name: `bench-watch-${process.pid}-${label.length}` }),
      idbItems,
    );
    const idb = await engramCost(mem, queries, batch, 'watch');
    await mem.close();
    const dexie = await dexieCost(idbItems, queries, batch, label.length);
    results[label] = { idb, dexie };
    record({
      suite: 'watch',
      metric: `${WATCHES} watched searches, ms added to a write${label}, ${k(IDB_SIZE)} fake-indexeddb`,
      ours: idb.added,
      ref: dexie.added,
      refName: 'Dexie liveQuery',
      unit: 'ms',
    });
  }
  const { idb, dexie } = results[''];
  info.settings.push(
    `Watch: ${WATCHES} watched searches (limit ${LIMIT}) over ${k(MEMORY_SIZE)} memories in memory and ${k(IDB_SIZE)} on fake-indexeddb; ${WRITES} single adds in ${ROUNDS} rounds alternating without and with the watches, each timed until every watch settled; ms added = difference of medians. Searches re-run per write: mem.watch ${fmt(ours.runsPerWrite)} (in memory) / ${fmt(idb.runsPerWrite)} (IndexedDB), naive ${fmt(naive.runsPerWrite)}, Dexie liveQuery ${fmt(dexie.runsPerWrite)}.`,
  );
}
