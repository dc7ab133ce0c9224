// SqlJsStore beside raw sql.js on one corpus: bulk add, text search and save (export), at 10K and 100K.
// The references are lower bounds: prepared INSERTs in one transaction into a plain table, and SQLite's
// own FTS4 (sql.js has no FTS5) with the porter tokenizer, ranked by BM25 over matchinfo in a JS function.
import initSqlJs from 'sql.js';
import { SqlJsStore } from '../dist/backends/sqljs/index.js';
import { createMemory } from '../dist/index.js';
import { makeCorpus, median, time } from './corpus.mjs';

const SIZES = (process.env.BENCH_SQLJS_SIZES ?? '10000,100000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SQL = await initSqlJs();

async function buildEngram(items) {
  const store = new SqlJsStore({ sqlJs: SQL });
  const mem = await createMemory({ store, namespace: 'bench' });
  for (let i = 0; i < items.length; i += 1000) await mem.addMany(items.slice(i, i + 1000));
  return { mem, store };
}

function buildRaw(items, fts) {
  const db = new SQL.Database();
  db.run(
    fts
      ? 'CREATE VIRTUAL TABLE docs USING fts4(content, tags, tokenize=porter, notindexed=tags)'
      : 'CREATE TABLE docs (id INTEGER PRIMARY KEY, content TEXT NOT NULL, tags TEXT NOT NULL)',
  );
  db.run('BEGIN');
  const insert = db.prepare('INSERT INTO docs (content, tags) VALUES (?, ?)');
  for (const item of items) insert.run([item.content, JSON.stringify(item.tags)]);
  insert.free();
  db.run('COMMIT');
  return db;
}

/** BM25 with core's constants over matchinfo 'pcnalx' (counts of the first column, the content). */
function bm25(blob) {
  const info = new Uint32Array(blob.slice().buffer);
  const [phrases, columns, docs] = info;
  const averageLength = info[3];
  const length = info[3 + columns];
  let score = 0;
  for (let p = 0; p < phrases; p++) {
    const at = 3 + 2 * columns + p * columns * 3;
    const tf = info[at];
    if (tf === 0) continue;
    const df = info[at + 2];
    const idf = Math.log(1 + (docs - df + 0.5) / (df + 0.5));
    score += (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * length) / averageLength));
  }
  return score;
}

async function latencies(queries, run) {
  for (const q of queries.slice(0, 10)) await run(q);
  const out = [];
  for (const q of queries) out.push(await time(() => run(q)));
  return out;
}

function ftsSearch(db, sql) {
  const statement = db.prepare(sql);
  return {
    run(query) {
      statement.bind([query.split(' ').join(' OR ')]);
      const ids = [];
      while (statement.step()) ids.push(statement.get()[0]);
      statement.reset();
      return ids;
    },
    free: () => statement.free(),
  };
}

async function bulkAdd(record, items, k, rounds) {
  const times = { engram: [], plain: [], fts: [] };
  let engram;
  let fts;
  for (let round = 0; round < rounds; round++) {
    await engram?.mem.close();
    fts?.close();
    times.engram.push(await time(async () => (engram = await buildEngram(items))));
    times.plain.push(await time(() => buildRaw(items, false).close()));
    times.fts.push(await time(() => (fts = buildRaw(items, true))));
  }
  for (const [refName, ref, target] of [
    ['raw sql.js INSERT, no index', times.plain],
    ['raw sql.js FTS4 INSERT', times.fts, { ratio: 1.2 }],
  ]) {
    const ours = median(times.engram);
    const metric = `bulk add ${k}${rounds === 1 ? ' (one run)' : ''}`;
    record({ suite: 'sqljs', metric, ours, ref: median(ref), refName, unit: 'ms', target });
  }
  return { ...engram, fts };
}

async function textSearch(record, { mem, fts }, queries, k) {
  fts.create_function('bm25', bm25);
  const ranked = ftsSearch(
    fts,
    "SELECT docid FROM docs WHERE docs MATCH ? ORDER BY bm25(matchinfo(docs, 'pcnalx')) DESC LIMIT 10",
  );
  const unranked = ftsSearch(fts, 'SELECT docid FROM docs WHERE docs MATCH ? LIMIT 10');
  const ours = [];
  const theirs = { ranked: [], unranked: [] };
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(...(await latencies(queries, (q) => mem.search(q, { limit: 10 }))));
    theirs.ranked.push(...(await latencies(queries, async (q) => ranked.run(q))));
    theirs.unranked.push(...(await latencies(queries, async (q) => unranked.run(q))));
  }
  ranked.free();
  unranked.free();
  for (const [refName, ref, target] of [
    ['FTS4 MATCH + BM25 (matchinfo)', theirs.ranked, { ratio: 1 }],
    ['FTS4 MATCH, unranked', theirs.unranked],
  ]) {
    const metric = `text search p50 at ${k}`;
    record({ suite: 'sqljs', metric, ours: median(ours), ref: median(ref), refName, unit: 'ms', target });
  }
}

/**
 * Runs each of `runs` once per round, in turns whose order alternates round by round, each after a forced
 * collection (node --expose-gc): garbage left by an earlier step (two 100K fills) is then collected before
 * the timing, not inside whichever run happened to come first.
 */
async function alternating(rounds, runs) {
  const times = Object.fromEntries(Object.keys(runs).map((name) => [name, []]));
  const names = Object.keys(runs);
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      globalThis.gc?.();
      times[name].push(await time(runs[name]));
    }
  }
  return times;
}

/** Open and export are single runs of tens of milliseconds at 100K: more rounds than the searches get. */
const SHORT_ROUNDS = Math.max(ROUNDS, 5);

/** Opening a saved file and answering one query: what an app pays at start-up. */
async function openAndSearch(record, files, query, k) {
  const times = await alternating(SHORT_ROUNDS, {
    engram: async () => {
      const persist = { load: async () => files.engram, save: async () => {} };
      const mem = await createMemory({
        store: new SqlJsStore({ sqlJs: SQL, persist }),
        namespace: 'bench',
      });
      await mem.search(query, { limit: 10 });
      await mem.close();
    },
    fts: async () => {
      const db = new SQL.Database(files.fts);
      db.create_function('bm25', bm25);
      const ranked = ftsSearch(
        db,
        "SELECT docid FROM docs WHERE docs MATCH ? ORDER BY bm25(matchinfo(docs, 'pcnalx')) DESC LIMIT 10",
      );
      ranked.run(query);
      ranked.free();
      db.close();
    },
  });
  record({
    suite: 'sqljs',
    metric: `open saved file + first search at ${k}`,
    ours: median(times.engram),
    ref: median(times.fts),
    refName: 'raw sql.js FTS4 open + ranked MATCH',
    unit: 'ms',
  });
}

async function save(record, { store, fts }, k, query) {
  const files = {};
  // The first export also writes the posting rows a bulk add left pending (posting-tails.ts), as a save does.
  const times = await alternating(SHORT_ROUNDS, {
    engram: async () => {
      files.engram = await store.export();
    },
    fts: async () => {
      files.fts = fts.export();
    },
  });
  const bytes = { engram: files.engram.byteLength, fts: files.fts.byteLength };
  await openAndSearch(record, files, query, k);
  const refName = 'raw sql.js FTS4';
  const mib = (n) => n / 2 ** 20;
  record({
    suite: 'sqljs',
    metric: `save (export) at ${k}`,
    ours: median(times.engram),
    ref: median(times.fts),
    refName,
    unit: 'ms',
  });
  record({
    suite: 'sqljs',
    metric: `file size at ${k}`,
    ours: mib(bytes.engram),
    ref: mib(bytes.fts),
    refName,
    unit: 'MiB',
  });
}

export default async function run(record, info = { settings: [] }) {
  for (const size of SIZES) {
    const k = `${size / 1000}K`;
    const { items, queries } = makeCorpus(size);
    // Every size gets ROUNDS rounds: one 100K run swung 2.9-3.9x FTS4 on the same code (machine noise).
    const built = await bulkAdd(record, items, k, ROUNDS);
    await textSearch(record, built, queries, k);
    await save(record, built, k, queries[0]);
    await built.mem.close();
    built.fts.close();
  }
  info.settings.push(
    `sql.js: ${SIZES.map((n) => `${n / 1000}K`).join(' and ')}; bulk add ${ROUNDS} rounds alternating Engram, raw INSERT and raw FTS4, search ${ROUNDS} rounds × 100 queries, export and open + first search ${SHORT_ROUNDS} rounds, the two alternating which goes first, each after a forced GC.`,
  );
}
