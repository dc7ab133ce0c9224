// Vector search at scale: exact search on a Float32Array matrix, int8 quantisation with exact rescoring,
// the IVF approximate index (int8 lists, rescored) and the HNSW graph (rescored), beside Orama's vector
// search on the same vectors and queries, and the `hnsw` package (pure TypeScript HNSW) used directly
// as the ANN library peer, at a smaller size because its build is slow.
// Vectors are synthetic but shaped like sentence embeddings: unit vectors around 2 000 topic centres
// (no model can be downloaded here), 384 dimensions as all-MiniLM-L6-v2 / bge-small produce.
import { create, insertMultiple, search as oramaSearch } from '@orama/orama';
import { HNSW } from 'hnsw';
import { HnswIndex, Int8Matrix, IvfIndex, VectorMatrix } from '../dist/store/index.js';
import { median, mulberry32 } from './corpus.mjs';

const SIZE = Number(process.env.BENCH_VECTOR_SIZE ?? 100_000);
const DIMS = Number(process.env.BENCH_VECTOR_DIMS ?? 384);
const QUERIES = Number(process.env.BENCH_VECTOR_QUERIES ?? 40);
// Orama scans every vector per query in JS objects (seconds each at 100K): fewer rounds, same queries.
const ORAMA_QUERIES = Number(process.env.BENCH_VECTOR_ORAMA_QUERIES ?? 6);
// The `hnsw` package links ~1 ms per vector here (JS arrays and Maps), more as it grows: 100K would take
// minutes, and 5K took 43 s of a 15-minute run on a slower machine (2026-12-01), so 3K.
const PEER_SIZE = Math.min(SIZE, Number(process.env.BENCH_VECTOR_PEER_SIZE ?? 2_000));
const TOPICS = Math.max(10, Math.round(SIZE / 50));
const K = 10;

function gaussian(random) {
  return Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
}

/** `count` vectors in one Float32Array: each a topic centre plus noise of 0.8 its length, normalised. */
export function makeVectors(count, seed) {
  const random = mulberry32(seed);
  const centres = new Float32Array(TOPICS * DIMS);
  const centreRandom = mulberry32(7);
  for (let i = 0; i < centres.length; i++) centres[i] = gaussian(centreRandom) / Math.sqrt(DIMS);
  const out = new Float32Array(count * DIMS);
  const noise = 0.8 / Math.sqrt(DIMS);
  for (let i = 0; i < count; i++) {
    const topic = Math.floor(random() * TOPICS);
    let norm = 0;
    for (let d = 0; d < DIMS; d++) {
      const x = centres[topic * DIMS + d] + noise * gaussian(random);
      out[i * DIMS + d] = x;
      norm += x * x;
    }
    const scale = 1 / Math.sqrt(norm);
    for (let d = 0; d < DIMS; d++) out[i * DIMS + d] *= scale;
  }
  return out;
}

const row = (data, i) => data.subarray(i * DIMS, (i + 1) * DIMS);

function memoryNow() {
  // Twice: a structure dropped just before (Orama's) is only fully reclaimed by a second pass.
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function built(build) {
  const before = memoryNow();
  const start = performance.now();
  const value = await build();
  const ms = performance.now() - start;
  return { value, ms, bytes: memoryNow() - before };
}

async function p50(queries, run) {
  for (let i = 0; i < Math.min(3, queries.length); i++) await run(i);
  const times = [];
  for (let i = 0; i < queries.length; i++) {
    const start = performance.now();
    await run(i);
    times.push(performance.now() - start);
  }
  return median(times);
}

function recall(truth, got) {
  let hit = 0;
  for (let i = 0; i < truth.length; i++) {
    const want = new Set(truth[i]);
    hit += got[i].filter((id) => want.has(id)).length / truth[i].length;
  }
  return hit / truth.length;
}

export default async function run(record, info = { settings: [] }) {
  const n = SIZE;
  const vectors = makeVectors(n, 1);
  const queryData = makeVectors(QUERIES, 2);
  const queries = Array.from({ length: QUERIES }, (_, i) => row(queryData, i));
  const ids = Array.from({ length: n }, (_, i) => `m${String(i).padStart(7, '0')}`);
  const suite = 'vector';
  const k = `${n / 1000}K×${DIMS}`;
  const mb = (bytes) => bytes / 2 ** 20;

  const exact = await built(() => {
    const matrix = new VectorMatrix(DIMS, n);
    for (let i = 0; i < n; i++) matrix.set(ids[i], row(vectors, i));
    return matrix;
  });
  const truth = queries.map((q) => exact.value.search(q, K).map((h) => h.id));
  const exactP50 = await p50(queries, (i) => exact.value.search(queries[i], K));

  const orama = await built(async () => {
    const db = create({ schema: { embedding: `vector[${DIMS}]` } });
    for (let i = 0; i < n; i += 1000) {
      const docs = [];
      for (let j = i; j < Math.min(n, i + 1000); j++)
        docs.push({ id: ids[j], embedding: Array.from(row(vectors, j)) });
      await insertMultiple(db, docs, 1000);
    }
    return db;
  });
  const oramaQueries = queries.slice(0, ORAMA_QUERIES);
  const oramaHits = [];
  const oramaP50 = await p50(oramaQueries, async (i) => {
    const result = await oramaSearch(orama.value, {
      mode: 'vector',
      vector: { value: Array.from(queries[i]), property: 'embedding' },
      similarity: -1,
      limit: K,
    });
    oramaHits[i] = result.hits.map((h) => h.id);
  });
  orama.value = undefined;

  record({
    suite,
    metric: `exact search p50 at ${k} (ms)`,
    ours: exactP50,
    ref: oramaP50,
    refName: 'Orama',
    unit: ' ms',
  });
  record({
    suite,
    metric: `exact index memory at ${k} (MiB)`,
    ours: mb(exact.bytes),
    ref: mb(orama.bytes),
    refName: 'Orama',
    unit: ' MiB',
  });
  record({
    suite,
    metric: `exact index build at ${k} (ms)`,
    ours: exact.ms,
    ref: orama.ms,
    refName: 'Orama',
    unit: ' ms',
  });
  record({
    suite,
    metric: `Orama recall@10 vs exact at ${k} (fraction)`,
    ours: recall(truth.slice(0, ORAMA_QUERIES), oramaHits),
    ref: 1,
    refName: 'exact',
    unit: '',
  });

  // int8: a quarter of the bytes; candidates rescored exactly from the full vectors (the store's copy).
  const int8 = await built(() => {
    const m = new Int8Matrix(DIMS, n);
    for (let i = 0; i < n; i++) m.set(ids[i], row(vectors, i));
    return m;
  });
  const slotOf = new Map(ids.map((id, i) => [id, i]));
  const exactOf = (id) => row(vectors, slotOf.get(id));
  const int8Hits = [];
  const int8P50 = await p50(queries, (i) => {
    int8Hits[i] = int8.value
      .search(queries[i], K, undefined, { exact: exactOf, rescore: 4 })
      .map((h) => h.id);
  });
  record({
    suite,
    metric: `int8 memory at ${k} (MiB)`,
    ours: mb(int8.bytes),
    ref: mb(exact.bytes),
    refName: 'Float32 exact',
    unit: ' MiB',
    target: { ratio: 0.3 },
  });
  record({
    suite,
    metric: `int8 recall@10 miss (1 − recall) at ${k}`,
    ours: 1 - recall(truth, int8Hits),
    ref: 1,
    refName: 'exact',
    unit: '',
    target: { max: 0.02 },
  });
  record({
    suite,
    metric: `int8 search p50 at ${k} (ms)`,
    ours: int8P50,
    ref: exactP50,
    refName: 'Float32 exact',
    unit: ' ms',
  });
  int8.value = undefined;

  // IVF over the Float32 matrix: bounded training measured, then search (4k candidates rescored exactly
  // from the matrix, as the stores do), then incremental adds.
  const ivfBuilt = await built(() => {
    const index = new IvfIndex(exact.value);
    index.train(mulberry32(3));
    return index;
  });
  const ivf = ivfBuilt.value;
  const rescored = (q, probes) => {
    const unit = exact.value.query(q);
    return ivf
      .search(q, K * 4, undefined, probes)
      .map((h) => ({ id: h.id, score: exact.value.score(unit, exact.value.slot(h.id)) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, K)
      .map((h) => h.id);
  };
  for (const probes of [24, 48, 64]) {
    const ivfHits = [];
    const ivfP50 = await p50(queries, (i) => {
      ivfHits[i] = rescored(queries[i], probes);
    });
    const targeted = probes === 48;
    record({
      suite,
      metric: `IVF (${probes} probes) search p50 at ${k} (ms)`,
      ours: ivfP50,
      ref: exactP50,
      refName: 'Float32 exact',
      unit: ' ms',
      target: targeted ? { ratio: 0.1 } : undefined,
    });
    record({
      suite,
      metric: `IVF (${probes} probes) recall@10 miss (1 − recall) at ${k}`,
      ours: 1 - recall(truth, ivfHits),
      ref: 1,
      refName: 'exact',
      unit: '',
      target: targeted ? { max: 0.05 } : undefined,
    });
  }
  record({
    suite,
    metric: `IVF training at ${k} (ms)`,
    ours: ivf.lastTrainMs,
    ref: orama.ms,
    refName: 'Orama build',
    unit: ' ms',
  });
  record({
    suite,
    metric: `IVF lists memory at ${k} (MiB)`,
    ours: mb(ivf.bytes),
    ref: mb(exact.bytes),
    refName: 'Float32 exact',
    unit: ' MiB',
  });
  // What an IndexedDBStore with { index: 'ivf' } spends in memory when a tab first searches (filling the
  // matrix and training; reading the embeddings out of IndexedDB comes on top).
  record({
    suite,
    metric: `IVF rebuild on open, fill + train at ${k} (ms)`,
    ours: exact.ms + ivf.lastTrainMs,
    ref: orama.ms,
    refName: 'Orama build',
    unit: ' ms',
  });
  const extra = makeVectors(1000, 3);
  const addStart = performance.now();
  for (let i = 0; i < 1000; i++) ivf.add(exact.value.set(`x${i}`, row(extra, i)));
  record({
    suite,
    metric: 'IVF incremental add, per vector (ms)',
    ours: (performance.now() - addStart) / 1000,
    ref: exact.ms / n,
    refName: 'matrix set',
    unit: ' ms',
  });

  // HNSW over a Float32 matrix that keeps deleted slots, as the stores build it: fill + link measured,
  // then searches taking the stores' 4k + 10 candidates, rescored exactly. The rebuild past half deleted
  // is a build of the live rows: timed as the first half of this build, which links in slot order, so
  // the graph and the work are those of a build of the first half alone (no second build needed).
  let halfMs = 0;
  const hnswBuilt = await built(() => {
    const matrix = new VectorMatrix(DIMS, n, false);
    const index = new HnswIndex(matrix);
    const start = performance.now();
    for (let i = 0; i < n / 2; i++) matrix.set(ids[i], row(vectors, i));
    index.catchUp();
    halfMs = performance.now() - start;
    for (let i = n / 2; i < n; i++) matrix.set(ids[i], row(vectors, i));
    index.catchUp();
    return index;
  });
  const hnsw = hnswBuilt.value;
  const hnswTop = (q, ef, accept) => {
    const unit = exact.value.query(q);
    return hnsw
      .search(q, K * 4 + 10, accept, ef)
      .map((h) => ({ id: h.id, score: exact.value.score(unit, exact.value.slot(h.id)) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, K)
      .map((h) => h.id);
  };
  for (const ef of [64, 128]) {
    const hnswHits = [];
    const hnswP50 = await p50(queries, (i) => {
      hnswHits[i] = hnswTop(queries[i], ef);
    });
    const targeted = ef === 64;
    record({
      suite,
      metric: `HNSW (efSearch ${ef}) search p50 at ${k} (ms)`,
      ours: hnswP50,
      ref: exactP50,
      refName: 'Float32 exact',
      unit: ' ms',
      target: targeted ? { ratio: 0.1 } : undefined,
    });
    record({
      suite,
      metric: `HNSW (efSearch ${ef}) recall@10 miss (1 − recall) at ${k}`,
      ours: 1 - recall(truth, hnswHits),
      ref: 1,
      refName: 'exact',
      unit: '',
      target: targeted ? { max: 0.05 } : undefined,
    });
  }
  record({
    suite,
    metric: `HNSW build (fill + link) at ${k} (ms)`,
    ours: hnswBuilt.ms,
    ref: orama.ms,
    refName: 'Orama build',
    unit: ' ms',
  });
  record({
    suite,
    metric: `HNSW memory (matrix + graph) at ${k} (MiB)`,
    ours: mb(hnswBuilt.bytes),
    ref: mb(exact.bytes),
    refName: 'Float32 exact',
    unit: ' MiB',
  });
  // A tab reopening with { linkMs: 50 }: its first search links for 50 ms and scans the rest exactly
  // (a second graph over the same rows, nothing linked yet).
  const budgeted = new HnswIndex(hnsw.matrix, { linkMs: 50 });
  const firstStart = performance.now();
  budgeted.search(queries[0], K * 4 + 10);
  record({
    suite,
    metric: `HNSW (linkMs 50) first search, ${k} unlinked (ms)`,
    ours: performance.now() - firstStart,
    ref: exactP50,
    refName: 'Float32 exact p50',
    unit: ' ms',
  });
  const linkedFirst = n - budgeted.pending;

  // Deletes: a tenth of the rows gone (their nodes keep routing); recall against the exact live set.
  const gone = new Set();
  for (let i = 0; i < n; i += 10) {
    hnsw.matrix.delete(ids[i]);
    gone.add(ids[i]);
  }
  const live = (id) => !gone.has(id) && id.startsWith('m');
  const liveTruth = queries.map((q) => exact.value.search(q, K, live).map((h) => h.id));
  const liveHits = queries.map((q) => hnswTop(q, 64));
  record({
    suite,
    metric: `HNSW recall@10 miss with 10% deleted at ${k}`,
    ours: 1 - recall(liveTruth, liveHits),
    ref: 1,
    refName: 'exact',
    unit: '',
  });
  const hnswAdds = makeVectors(1000, 4);
  const hnswAddStart = performance.now();
  for (let i = 0; i < 1000; i++) hnsw.matrix.set(`y${i}`, row(hnswAdds, i));
  hnsw.catchUp();
  record({
    suite,
    metric: 'HNSW incremental add, per vector (ms)',
    ours: (performance.now() - hnswAddStart) / 1000,
    ref: hnswBuilt.ms / n,
    refName: 'build per vector',
    unit: ' ms',
  });
  record({
    suite,
    metric: `HNSW rebuild after half deleted (${n / 2000}K live) (ms)`,
    ours: halfMs,
    ref: hnswBuilt.ms,
    refName: `build at ${k}`,
    unit: ' ms',
  });

  // The ANN library peer: `hnsw` (npm) with the same m, efConstruction and efSearch, beside ours, both
  // on the first PEER_SIZE vectors, recall against the exact top 10 of those.
  const pk = `${PEER_SIZE / 1000}K×${DIMS}`;
  const peerExact = new VectorMatrix(DIMS, PEER_SIZE);
  for (let i = 0; i < PEER_SIZE; i++) peerExact.set(ids[i], row(vectors, i));
  const peerTruth = queries.map((q) => peerExact.search(q, K).map((h) => h.id));
  const oursSmall = await built(() => {
    const matrix = new VectorMatrix(DIMS, PEER_SIZE, false);
    for (let i = 0; i < PEER_SIZE; i++) matrix.set(ids[i], row(vectors, i));
    const index = new HnswIndex(matrix);
    index.catchUp();
    return index;
  });
  const peer = await built(async () => {
    const index = new HNSW(16, 40, DIMS, 'cosine', 64);
    for (let i = 0; i < PEER_SIZE; i++) await index.addPoint(i, Float32Array.from(row(vectors, i)));
    return index;
  });
  const oursSmallHits = [];
  const oursSmallP50 = await p50(queries, (i) => {
    oursSmallHits[i] = oursSmall.value.search(queries[i], K).map((h) => h.id);
  });
  const peerHits = [];
  const peerP50 = await p50(queries, (i) => {
    peerHits[i] = peer.value.searchKNN(queries[i], K).map((h) => ids[h.id]);
  });
  record({
    suite,
    metric: `HNSW build at ${pk} (ms)`,
    ours: oursSmall.ms,
    ref: peer.ms,
    refName: 'hnsw (npm)',
    unit: ' ms',
  });
  record({
    suite,
    metric: `HNSW search p50 at ${pk}, no rescoring (ms)`,
    ours: oursSmallP50,
    ref: peerP50,
    refName: 'hnsw (npm)',
    unit: ' ms',
  });
  record({
    suite,
    metric: `HNSW recall@10 at ${pk}, no rescoring (fraction)`,
    ours: recall(peerTruth, oursSmallHits),
    ref: recall(peerTruth, peerHits),
    refName: 'hnsw (npm)',
    unit: '',
  });
  record({
    suite,
    metric: `HNSW memory (matrix + graph) at ${pk} (MiB)`,
    ours: mb(oursSmall.bytes),
    ref: mb(peer.bytes),
    refName: 'hnsw (npm)',
    unit: ' MiB',
  });

  info.settings.push(
    `Vector: ${n.toLocaleString('en-US')} synthetic unit vectors of ${DIMS} dims around ${TOPICS} topic centres, ${QUERIES} queries from the same distribution (Orama: the first ${ORAMA_QUERIES}), k = ${K}; recall is against Engram's exact search. Memory is heap + array buffers after a forced GC. IVF: √n lists, k-means on a 4 096-vector sample; p50 includes rescoring 4k candidates. HNSW: m 16, efConstruction 40, efSearch 64 (the defaults), 4k + 10 candidates rescored; the \`hnsw\` npm package with the same settings on the first ${PEER_SIZE.toLocaleString('en-US')} vectors (its build at 100K would take minutes), compared there with ours without rescoring. HNSW with linkMs 50 linked ${linkedFirst} vectors in its first search.`,
  );
}
