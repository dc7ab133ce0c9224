import { bestFirst } from './best-first.js';
import { validationError } from './errors.js';
import { compareIdsDesc, type MemoryFilter, matchesFilter } from './filter.js';
import type {
  MemoryRecord,
  MemoryStore,
  NativeSearchHit,
  SearchRequest,
  TextIndex,
} from './store-contract.js';
import { compareCandidates, containsPhrase, parseQuery, scoreDocuments, tokenize } from './text/index.js';

/** Reciprocal-rank-fusion constant: the usual 60 keeps one list's top hit from drowning the other. */
const RRF_K = 60;
const VECTOR_PAGE = 1000;

interface Ranked {
  id: string;
  score: number;
}

/**
 * Reads candidates best first in growing chunks and keeps those passing `accept`, until `limit` are
 * found: one read when nothing is filtered out, a few when filters are selective, never the whole list.
 */
async function takeAccepted<C extends Ranked>(
  store: MemoryStore,
  namespace: string,
  candidates: C[],
  limit: number,
  accept: (record: MemoryRecord, candidate: C) => boolean,
): Promise<NativeSearchHit[]> {
  const hits: NativeSearchHit[] = [];
  // Most searches keep every candidate they read: ask for `limit`, and double only when filters reject.
  let chunk = limit;
  const ordered = bestFirst(candidates, compareCandidates);
  for (let done = false; !done && hits.length < limit; chunk *= 2) {
    const slice: C[] = [];
    while (slice.length < chunk) {
      const next = ordered.next();
      if (next.done) {
        done = true;
        break;
      }
      slice.push(next.value);
    }
    if (slice.length === 0) break;
    const records = new Map(
      (
        await store.getMemories(
          namespace,
          slice.map((c) => c.id),
        )
      ).map((r) => [r.memory.id, r] as const),
    );
    for (const candidate of slice) {
      const record = records.get(candidate.id);
      if (!record || !accept(record, candidate)) continue;
      hits.push({ record, score: candidate.score });
      if (hits.length === limit) break;
    }
  }
  return hits;
}

async function textSearch(
  store: MemoryStore & TextIndex,
  namespace: string,
  request: SearchRequest,
  filter: MemoryFilter,
  limit: number,
): Promise<NativeSearchHit[]> {
  const parsed = parseQuery(request.query);
  const [stats, postings] = await Promise.all([
    store.textStats(namespace),
    store.postings(namespace, parsed.terms, parsed.prefixes),
  ]);
  const candidates = scoreDocuments(parsed, postings, stats);
  const phrases = parsed.clauses.flatMap((c) => (c.kind === 'phrase' ? [c.terms] : []));
  return takeAccepted(store, namespace, candidates, limit, (record, candidate) => {
    if (!matchesFilter(record.memory, filter)) return false;
    if (!candidate.needsPhraseCheck) return true;
    const tokens = tokenize(record.memory.content);
    return (
      phrases.every((p) => containsPhrase(tokens, p)) &&
      !parsed.excludedPhrases.some((p) => containsPhrase(tokens, p))
    );
  });
}

function cosine(a: readonly number[], b: readonly number[], normA: number): number {
  let dot = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normB += b[i]! * b[i]!;
  }
  return normA === 0 || normB === 0 ? 0 : dot / (normA * Math.sqrt(normB));
}

/** Exact cosine similarity over every stored embedding, paged so memory stays bounded. */
async function vectorSearch(
  store: MemoryStore & TextIndex,
  namespace: string,
  vector: readonly number[],
  filter: MemoryFilter,
  limit: number,
): Promise<NativeSearchHit[]> {
  const normA = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  const scored: Ranked[] = [];
  for (let after: string | null = null; ; ) {
    const page = await store.vectors(namespace, after, VECTOR_PAGE);
    for (const { id, embedding } of page) {
      if (embedding.length !== vector.length) {
        throw validationError(
          'vector',
          `${embedding.length} dimensions like the stored embeddings`,
          vector.length,
        );
      }
      scored.push({ id, score: cosine(vector, embedding, normA) });
    }
    if (page.length < VECTOR_PAGE) break;
    after = page[page.length - 1]!.id;
  }
  return takeAccepted(store, namespace, scored, limit, (record) => matchesFilter(record.memory, filter));
}

function fuse(lists: readonly NativeSearchHit[][], limit: number): NativeSearchHit[] {
  const fused = new Map<string, NativeSearchHit>();
  for (const list of lists) {
    list.forEach((hit, rank) => {
      const id = hit.record.memory.id;
      const prior = fused.get(id);
      const score = (prior?.score ?? 0) + 1 / (RRF_K + rank + 1);
      fused.set(id, { record: hit.record, score });
    });
  }
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || compareIdsDesc(a.record.memory.id, b.record.memory.id))
    .slice(0, limit);
}

/** Text, vector or hybrid search: ranked best first, equal scores by id descending. */
export async function searchStore(
  store: MemoryStore,
  namespace: string,
  request: SearchRequest,
): Promise<NativeSearchHit[]> {
  if (store.search) return store.search(namespace, request);
  const indexed = withTextIndex(store);
  const filter: MemoryFilter = {
    kind: request.kind,
    tags: request.tags,
    tagMode: request.tagMode,
    now: request.now,
  };
  if (request.mode === 'text') return textSearch(indexed, namespace, request, filter, request.limit);
  if (!request.vector) {
    throw validationError('vector', `a query vector for mode '${request.mode}'`, 'nothing');
  }
  if (request.mode === 'vector')
    return vectorSearch(indexed, namespace, request.vector, filter, request.limit);
  const depth = Math.max(request.limit * 3, 50);
  const [text, vector] = await Promise.all([
    textSearch(indexed, namespace, request, filter, depth),
    vectorSearch(indexed, namespace, request.vector, filter, depth),
  ]);
  return fuse([text, vector], request.limit);
}

/**
 * A store must either answer `search` itself or serve the text index core ranks over; checked when a
 * memory opens, so a custom store missing both fails at once, naming what it lacks.
 */
export function withTextIndex(store: MemoryStore): MemoryStore & TextIndex {
  if (store.textStats && store.postings && store.vectors) return store as MemoryStore & TextIndex;
  const missing = (['textStats', 'postings', 'vectors'] as const).filter((name) => !store[name]);
  throw validationError(
    'store',
    'a store with search(), or with textStats(), postings() and vectors()',
    `a ${store.kind} store without ${missing.map((name) => `${name}()`).join(', ')}`,
  );
}

/** Throws unless the store can search: see {@link withTextIndex}. */
export function assertSearchable(store: MemoryStore): void {
  if (!store.search) withTextIndex(store);
}
