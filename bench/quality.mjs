// Retrieval quality: Engram's text search beside SQLite FTS5 bm25, Postgres ts_rank, MiniSearch and Orama
// on one generated, labelled conversation set (bench/quality-corpus.mjs): recall@5, recall@10 and MRR of
// the evidence turns, each question searched within its own conversation, as a memory per user would be.
// ENGRAM_MODULE=/path/to/index.js measures another build of Engram (e.g. before a ranking change).

import { create, insertMultiple, search as oramaSearch } from '@orama/orama';
import { stopwords } from '@orama/stopwords/english';
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import MiniSearch from 'minisearch';
import postgres from 'postgres';
import { makeConversations } from './quality-corpus.mjs';
import { standInEmbedder } from './stand-in-embedder.mjs';

const CONVERSATIONS = Number(process.env.BENCH_QUALITY_CONVERSATIONS ?? 60);
// Other seeds generate other conversations and questions: a ranking change should help on several.
const SEED = Number(process.env.BENCH_QUALITY_SEED ?? 12);
const engramModule = process.env.ENGRAM_MODULE ?? '../dist/index.js';

const HYBRID = 'Engram hybrid (stand-in embedder)';

/** The words of a question, for engines whose query syntax a question would break. */
const words = (text) => text.normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? [];

export function byConversation(turns) {
  const out = new Map();
  for (const turn of turns) out.set(turn.conversation, [...(out.get(turn.conversation) ?? []), turn]);
  return out;
}

/** Engram's text search; with an embedder, hybrid search (text and vector ranks fused). */
async function engram(groups, embedder) {
  const { createMemory, InMemoryStore } = await import(engramModule);
  const store = new InMemoryStore();
  const mems = new Map();
  for (const [conversation, turns] of groups) {
    const mem = await createMemory({ store, namespace: conversation, ...(embedder ? { embedder } : {}) });
    await mem.addMany(turns.map((t) => ({ id: t.id, content: t.text })));
    mems.set(conversation, mem);
  }
  const options = embedder ? { limit: 10, mode: 'hybrid' } : { limit: 10 };
  return async (q) => (await mems.get(q.conversation).search(q.text, options)).map((h) => h.memory.id);
}

function miniSearch(groups) {
  const indexes = new Map();
  for (const [conversation, turns] of groups) {
    const mini = new MiniSearch({ fields: ['text'], idField: 'id' });
    mini.addAll(turns);
    indexes.set(conversation, mini);
  }
  return async (q) =>
    indexes
      .get(q.conversation)
      .search(q.text)
      .slice(0, 10)
      .map((h) => h.id);
}

async function orama(groups) {
  const dbs = new Map();
  for (const [conversation, turns] of groups) {
    const db = create({ schema: { tid: 'string', text: 'string' } });
    await insertMultiple(
      db,
      turns.map((t) => ({ tid: t.id, text: t.text })),
      500,
    );
    dbs.set(conversation, db);
  }
  return async (q) =>
    (await oramaSearch(dbs.get(q.conversation), { term: q.text, properties: ['text'], limit: 10 })).hits.map(
      (h) => h.document.tid,
    );
}

/** FTS5 with the porter tokenizer, one table per conversation (its own bm25 statistics), words OR-ed. */
async function fts5(groups) {
  const sqlite3 = await sqlite3InitModule();
  const db = new sqlite3.oo1.DB(':memory:');
  const tables = new Map();
  for (const [conversation, turns] of groups) {
    const table = `t_${conversation}`;
    db.exec(
      `CREATE VIRTUAL TABLE ${table} USING fts5(tid UNINDEXED, text, tokenize='porter unicode61 remove_diacritics 2')`,
    );
    db.exec('BEGIN');
    for (const t of turns)
      db.exec({ sql: `INSERT INTO ${table} (tid, text) VALUES (?, ?)`, bind: [t.id, t.text] });
    db.exec('COMMIT');
    tables.set(conversation, table);
  }
  return async (q) => {
    const match = words(q.text)
      .map((w) => `"${w}"`)
      .join(' OR ');
    if (!match) return [];
    const sql = `SELECT tid FROM ${tables.get(q.conversation)} WHERE ${tables.get(q.conversation)} MATCH ? ORDER BY bm25(${tables.get(q.conversation)}) LIMIT 10`;
    return db.exec({ sql, bind: [match], rowMode: 'array', returnValue: 'resultRows' }).map((r) => r[0]);
  };
}

/** Postgres full-text search: english tsvector, the question's words OR-ed, ordered by ts_rank. */
async function postgresTsRank(turns) {
  // The server the other modules use (bench/postgres.mjs); BENCH_QUALITY_PG=0 leaves Postgres out.
  if (process.env.BENCH_QUALITY_PG === '0') return null;
  const url = process.env.DATABASE_URL ?? 'postgres://postgres:bench@127.0.0.1:5432/test';
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  await sql`DROP TABLE IF EXISTS bench_quality_turns`;
  await sql`CREATE TABLE bench_quality_turns (tid text PRIMARY KEY, conv text NOT NULL, doc tsvector NOT NULL)`;
  for (let i = 0; i < turns.length; i += 1000) {
    const rows = turns.slice(i, i + 1000).map((t) => ({ tid: t.id, conv: t.conversation, text: t.text }));
    await sql`INSERT INTO bench_quality_turns (tid, conv, doc)
      SELECT r.tid, r.conv, to_tsvector('english', r.text) FROM json_to_recordset(${sql.json(rows)}::json)
      AS r(tid text, conv text, text text)`;
  }
  const search = async (q) => {
    const terms = words(q.text).map((w) => w.toLowerCase().replace(/'/g, ''));
    if (terms.length === 0) return [];
    // Each word through plainto_tsquery (stemmed, stop words dropped), then OR-ed.
    const rows = await sql`
      WITH parts AS (SELECT plainto_tsquery('english', w) AS p FROM unnest(${terms}::text[]) AS w),
           q AS (SELECT coalesce(string_agg(p::text, ' | ') FILTER (WHERE p::text <> ''), '') AS s FROM parts)
      SELECT tid FROM bench_quality_turns, q
      WHERE conv = ${q.conversation} AND q.s <> '' AND doc @@ to_tsquery('english', q.s)
      ORDER BY ts_rank(doc, to_tsquery('english', q.s)) DESC, tid DESC LIMIT 10`;
    return rows.map((r) => r.tid);
  };
  return { search, close: () => sql.end() };
}

const STOP_WORDS = new Set(stopwords);

/**
 * Splits the questions by whether they share a content word (not a stop word, not a speaker's name) with
 * their evidence: those text search can reach, and those only a model that knows meanings can.
 */
async function byOverlap(questions, turns) {
  const { tokenize } = await import('../dist/store/index.js');
  const text = new Map(turns.map((t) => [t.id, t.text]));
  const names = new Set(turns.map((t) => t.speaker.toLowerCase()));
  const shares = (q) => {
    const content = words(q.text)
      .map((w) => w.toLowerCase())
      .filter((w) => !STOP_WORDS.has(w) && !names.has(w));
    const wanted = new Set(tokenize(content.join(' ')));
    return q.evidence.some((id) => tokenize(text.get(id)).some((term) => wanted.has(term)));
  };
  return {
    'shares a content word': questions.filter(shares),
    'shares none': questions.filter((q) => !shares(q)),
  };
}

/** Each question's top 10 by one system (searches are deterministic: the subsets below reuse them). */
async function rank(questions, search) {
  const top = new Map();
  for (const q of questions) top.set(q, await search(q));
  return top;
}

/** recall@k: share of a question's evidence turns in the top k, averaged; MRR: 1 / rank of the first. */
export function evaluate(questions, top) {
  let r5 = 0;
  let r10 = 0;
  let mrr = 0;
  for (const q of questions) {
    const ids = top.get(q);
    const evidence = new Set(q.evidence);
    r5 += ids.slice(0, 5).filter((id) => evidence.has(id)).length / evidence.size;
    r10 += ids.slice(0, 10).filter((id) => evidence.has(id)).length / evidence.size;
    const first = ids.findIndex((id) => evidence.has(id));
    mrr += first < 0 ? 0 : 1 / (first + 1);
  }
  const n = questions.length;
  return { 'recall@5': r5 / n, 'recall@10': r10 / n, MRR: mrr / n };
}

export default async function run(record, info = { settings: [] }) {
  const { turns, questions } = makeConversations({ conversations: CONVERSATIONS, seed: SEED });
  const groups = byConversation(turns);
  const pg = await postgresTsRank(turns);
  const systems = {
    Engram: await engram(groups),
    // Not a model: a hashed character-trigram stand-in (bench/stand-in-embedder.mjs), none can be downloaded here.
    [HYBRID]: await engram(groups, standInEmbedder()),
    'SQLite FTS5': await fts5(groups),
    MiniSearch: miniSearch(groups),
    Orama: await orama(groups),
    ...(pg ? { 'Postgres ts_rank': pg.search } : {}),
  };
  const results = {};
  const tops = {};
  for (const [name, search] of Object.entries(systems)) {
    tops[name] = await rank(questions, search);
    results[name] = evaluate(questions, tops[name]);
  }
  const types = [...new Set(questions.map((q) => q.type))];
  const byType = {};
  const hybridByType = {};
  for (const type of types) {
    const ofType = questions.filter((q) => q.type === type);
    byType[type] = evaluate(ofType, tops.Engram);
    hybridByType[type] = evaluate(ofType, tops[HYBRID]);
  }
  for (const [group, ofGroup] of Object.entries(await byOverlap(questions, turns))) {
    byType[`${group} (${ofGroup.length})`] = evaluate(ofGroup, tops.Engram);
    hybridByType[`${group} (${ofGroup.length})`] = evaluate(ofGroup, tops[HYBRID]);
  }
  await pg?.close();
  for (const metric of ['recall@5', 'recall@10', 'MRR']) {
    record({
      suite: 'quality',
      metric: `${metric}, hybrid with a stand-in embedder`,
      ours: results[HYBRID][metric],
      ref: results.Engram[metric],
      refName: 'Engram text',
      unit: '',
    });
    for (const name of Object.keys(systems).filter((n) => n !== 'Engram' && n !== HYBRID)) {
      record({
        suite: 'quality',
        metric,
        ours: results.Engram[metric],
        ref: results[name][metric],
        refName: name,
        unit: '',
      });
    }
  }
  console.log(JSON.stringify({ results, engramByType: byType, hybridByType }, null, 1));
  info.settings.push(
    `Quality: ${turns.length} generated turns in ${CONVERSATIONS} conversations (seed ${SEED}), ${questions.length} questions (${types.join(', ')}), each searched within its conversation; FTS5 and Postgres get the question's words OR-ed; hybrid uses a hashed character-trigram stand-in embedder (bench/stand-in-embedder.mjs), not a model.`,
  );
}
