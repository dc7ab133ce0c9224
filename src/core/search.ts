import { type CandidateSource, listSource, REJECTED } from './candidate-source.js';
import { returnable } from './corrected-read.js';
import { validationError } from './errors.js';
import { type MemoryFilter, matchesFilter, validAt } from './filter.js';
import type { Explanation } from './model.js';
import { fuse } from './rank-fusion.js';
import { firstChunk, nextChunk, noteAcceptance, readAheadKey } from './read-ahead.js';
import type {
  MemoryRecord,
  MemoryStore,
  NativeSearchHit,
  SearchReport,
  SearchRequest,
  TextIndex,
} from './store-contract.js';
import {
  containsPhrase,
  hasExclusions,
  holdsExclusion,
  LANGUAGE_META,
  loadLanguage,
  type ParsedQuery,
  parseQuery,
  tokenize,
} from './text/index.js';
import { type TextCandidates, textCandidates } from './text-candidates.js';
import { cosine, norm } from './vector/cosine.js';
import { LengthTally } from './vector/query-length.js';

const VECTOR_PAGE = 1000;

interface Ranked {
  id: string;
  score: number;
  explain?: Explanation;
  record?: MemoryRecord;
}

/**
 * Reads candidates best first in growing chunks and keeps those passing `accept`, until `limit` are
 * found: one read when nothing is filtered out, a few when filters are selective, never the whole list.
 */
async function takeAccepted<C extends Ranked>(
  store: MemoryStore,
  namespace: string,
  source: CandidateSource<C | typeof REJECTED>,
  limit: number,
  accept: (record: MemoryRecord, candidate: C) => boolean,
  readAhead: string = namespace,
): Promise<NativeSearchHit[]> {
  const hits: NativeSearchHit[] = [];
  // Most searches keep every candidate they read: ask for about `limit` (see read-ahead.ts).
  let chunk = firstChunk(store, readAhead, limit);
  let examined = 0;
  for (
    let done = false;
    !done && hits.length < limit;
    chunk = nextChunk(chunk, limit, hits.length, examined)
  ) {
    const slice = await source(chunk);
    done = slice.length < chunk;
    if (slice.length === 0) break;
    // Candidates may come with their record, read when they were named (resolvingSource), or be
    // rejected unread by the store.
    const unread = slice.flatMap((c) => (c === REJECTED || c.record !== undefined ? [] : [c.id]));
    const records = new Map(
      unread.length === 0
        ? []
        : (await store.getMemories(namespace, unread)).map((r) => [r.memory.id, r] as const),
    );
    for (const candidate of slice) {
      examined++;
      if (candidate === REJECTED) continue;
      const record = candidate.record ?? records.get(candidate.id);
      if (!record || !accept(record, candidate)) continue;
      hits.push(
        candidate.explain
          ? { record, score: candidate.score, explain: candidate.explain }
          : { record, score: candidate.score },
      );
      if (hits.length === limit) break;
    }
  }
  noteAcceptance(store, readAhead, hits.length, examined);
  return hits;
}

/** The query parsed with the namespace's stemmer and stop words, as its index was written (LANGUAGE_META). */
async function parseInNamespace(
  store: MemoryStore & TextIndex,
  namespace: string,
  request: SearchRequest,
): Promise<{ parsed: ParsedQuery; name: string }> {
  const language = request.language ?? (await store.getMeta(namespace, LANGUAGE_META));
  const { language: name } = await loadLanguage(language);
  return { parsed: parseQuery(request.query, { language: name }), name };
}

async function textSearch(
  store: MemoryStore & TextIndex,
  namespace: string,
  request: SearchRequest,
  { parsed, name }: { parsed: ParsedQuery; name: string },
  filter: MemoryFilter,
  limit: number,
): Promise<NativeSearchHit[]> {
  // Text with nothing searchable in it ("?", "...") finds nothing rather than failing.
  if (parsed.clauses.length === 0) return [];
  // `history` reads every period: nothing for the store to turn down (an expired memory is rare enough,
  // purged by maintenance, that checking for it alone costs more than it saves).
  const instant = validAt(filter);
  const live = instant === undefined ? undefined : { now: filter.now, validAt: instant };
  const phrases = parsed.clauses.flatMap((c) => (c.kind === 'phrase' ? [c.terms] : []));
  const readAhead = readAheadKey(namespace, filter);
  const take = (candidates: TextCandidates, seen?: (record: MemoryRecord) => void) =>
    takeAccepted(
      store,
      namespace,
      candidates.source,
      limit,
      (record, candidate) => {
        seen?.(record);
        if (!matchesFilter(record.memory, filter)) return false;
        if (!candidate.needsPhraseCheck) return true;
        const tokens = tokenize(record.memory.content, name);
        return (
          phrases.every((p) => containsPhrase(tokens, p)) &&
          !parsed.excludedPhrases.some((p) => containsPhrase(tokens, p))
        );
      },
      readAhead,
    );
  const candidates = await textCandidates(store, namespace, parsed, request, name, live, new Set());
  // A word counts as held (and is not corrected as a typo) only if a memory the search may return holds
  // it, whatever its kind, tags or metadata. The records read anyway mostly tell; the word's other
  // holders are read only when none of those does.
  let unconfirmed = candidates.held;
  const hits = await take(candidates, (record) => {
    if (unconfirmed.length === 0 || !returnable(record.memory, filter)) return;
    const terms = new Set(tokenize(record.memory.content, name));
    unconfirmed = unconfirmed.filter((term) => !terms.has(term));
  });
  const unheld = new Set<string>();
  for (const term of unconfirmed) if (!(await candidates.heldReturnably(term, filter))) unheld.add(term);
  if (unheld.size === 0) return hits;
  return take(await textCandidates(store, namespace, parsed, request, name, live, unheld));
}

/** Exact cosine similarity over every stored embedding, paged so memory stays bounded. */
async function vectorSearch(
  store: MemoryStore & TextIndex,
  namespace: string,
  vector: readonly number[],
  filter: MemoryFilter,
  limit: number,
  model: string | undefined,
  report: SearchReport | undefined,
  explain = false,
): Promise<NativeSearchHit[]> {
  // A store with its own vector index answers a model's query without serving every embedding, and
  // one without a model when it says it can.
  if (store.nearestVectors && (model !== undefined || store.nearestAnyModel)) {
    const query = model === undefined ? { vector, limit, filter } : { vector, model, limit, filter };
    const nearest = await store.nearestVectors(namespace, query);
    if (report) report.otherModels += nearest.otherModels;
    return explain ? nearest.hits.map((hit) => ({ ...hit, explain: { vector: hit.score } })) : nearest.hits;
  }
  const normA = norm(vector);
  const scored: Ranked[] = [];
  const lengths = new LengthTally(vector.length);
  for (let after: string | null = null; ; ) {
    const page = await store.vectors(namespace, after, VECTOR_PAGE);
    for (const { id, embedding, model: entryModel } of page) {
      // Vectors of two models live in unrelated spaces: never score one against the other.
      if (model !== undefined && entryModel !== model) {
        if (report) report.otherModels += 1;
        continue;
      }
      if (!lengths.admits(embedding.length)) continue;
      const score = cosine(vector, embedding, normA);
      scored.push(explain ? { id, score, explain: { vector: score } } : { id, score });
    }
    if (page.length < VECTOR_PAGE) break;
    after = page[page.length - 1]!.id;
  }
  const skipped = lengths.settle();
  if (report) report.otherModels += skipped;
  return takeAccepted(
    store,
    namespace,
    listSource(scored),
    limit,
    (record) => matchesFilter(record.memory, filter),
    readAheadKey(namespace, filter),
  );
}

/** Text, vector or hybrid search: ranked best first, equal scores by id descending. */
export async function searchStore(
  store: MemoryStore,
  namespace: string,
  request: SearchRequest,
  report?: SearchReport,
): Promise<NativeSearchHit[]> {
  if (store.search) return store.search(namespace, request, report);
  const indexed = withTextIndex(store);
  const filter: MemoryFilter = {
    kind: request.kind,
    tags: request.tags,
    tagMode: request.tagMode,
    now: request.now,
    metadata: request.metadata,
    asOf: request.asOf,
    history: request.history,
    since: request.since,
    until: request.until,
  };
  if (request.mode === 'text') {
    const query = await parseInNamespace(indexed, namespace, request);
    return textSearch(indexed, namespace, request, query, filter, request.limit);
  }
  if (!request.vector) {
    throw validationError('vector', `a query vector for mode '${request.mode}'`, 'nothing');
  }
  if (request.mode === 'vector') {
    return vectorSearch(
      indexed,
      namespace,
      request.vector,
      filter,
      request.limit,
      request.model,
      report,
      request.explain,
    );
  }
  const depth = Math.max(request.limit * 3, 50);
  const query = await parseInNamespace(indexed, namespace, request);
  const [text, vector] = await Promise.all([
    textSearch(indexed, namespace, request, query, filter, depth),
    vectorSearch(indexed, namespace, request.vector, filter, depth, request.model, report, request.explain),
  ]);
  // The query's exclusions hold for the vector hits too: `coffee -decaf` must not bring decaf back.
  const { parsed, name } = query;
  const kept = hasExclusions(parsed)
    ? vector.filter((hit) => !holdsExclusion(hit.record.memory.content, parsed, name))
    : vector;
  return fuse([text, kept], request.limit);
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
