import { applyBoost } from './boost.js';
import { type Embedder, type EmbeddingOptions, embedTexts } from './embedding/embedder.js';
import type { MemoryEvents } from './engram-options.js';
import { EngramError, errorMessage, validationError } from './errors.js';
import type { NamespaceView } from './live-records.js';
import type { SearchHit, SearchMode, SearchOptions } from './model.js';
import { searchStore } from './search.js';
import type { SearchReport } from './store-contract.js';
import { cutQuery, type Language } from './text/index.js';
import * as schema from './validate.js';

const DEFAULT_SEARCH_LIMIT = 10;
/** With boosts, relevance picks a pool this many times `limit` and boosts reorder within it. */
const BOOST_POOL = 3;
const boostPool = (limit: number) => Math.min(limit * BOOST_POOL, schema.LIMITS.searchLimit);

/** What the façade lends its search: the namespace, its language, the embedder, and its warnings. */
export interface SearchHost extends NamespaceView {
  readonly language: Language | undefined;
  embedder(): Embedder | undefined;
  embeddingOptions(): EmbeddingOptions;
  warn(code: MemoryEvents['warning']['code'], message: string, count?: number): void;
}

/**
 * `Engram.search` after its input is validated. Mode defaults to `text`, or `hybrid` when a vector is
 * given with a query (`vector` when the query is empty); without a vector, the embedder embeds the query.
 */
export async function searchMemories(
  host: SearchHost,
  query: string,
  parsed: SearchOptions & { vector?: number[] },
): Promise<SearchHit[]> {
  // Cut once, here: the store (a RemoteStore sends it on) and the embedder get the same text.
  const text = cutQuery(query);
  const limit = parsed.limit ?? DEFAULT_SEARCH_LIMIT;
  let mode: SearchMode = parsed.mode ?? (parsed.vector ? (text.trim() ? 'hybrid' : 'vector') : 'text');
  let { vector, model } = parsed;
  const embedder = host.embedder();
  if (mode !== 'text' && !vector && embedder) {
    // Nothing typed is nothing to embed (OpenAI refuses an empty input): the error a text search gives.
    if (!text.trim()) throw validationError('query', 'at least one search term', JSON.stringify(text));
    try {
      [vector] = await embedTexts(embedder, [text], host.embeddingOptions().timeoutMs);
      model ??= embedder.id;
    } catch (error) {
      // Local first: hybrid search still answers by text when the embedder is unreachable.
      if (mode === 'vector') {
        throw new EngramError('OFFLINE', `search: the embedder failed: ${errorMessage(error)}`, {
          field: 'embedder',
          cause: error,
        });
      }
      host.warn('EMBEDDER_FAILED', `search: the embedder failed, text results only: ${errorMessage(error)}`);
      mode = 'text';
    }
  }
  const report: SearchReport = { otherModels: 0 };
  const hits = await searchStore(
    host.store,
    host.namespace,
    {
      query: text,
      mode,
      limit: parsed.boost ? boostPool(limit) : limit,
      kind: parsed.kind,
      tags: parsed.tags,
      tagMode: parsed.tagMode ?? 'any',
      vector,
      model,
      now: host.nowIso(),
      language: host.language,
      match: parsed.match,
      metadata: parsed.metadata,
      since: parsed.since,
      until: parsed.until,
      explain: parsed.explain,
      asOf: parsed.asOf,
      history: parsed.history,
    },
    report,
  );
  if (report.otherModels > 0) {
    host.warn(
      'EMBEDDING_MODEL_MISMATCH',
      model === undefined
        ? `search: skipped ${report.otherModels} embeddings of another length than the query's; run reembed to move them`
        : `search: skipped ${report.otherModels} embeddings made by a model other than ${model}, or of another length; run reembed to move them`,
      report.otherModels,
    );
  }
  const ranked: SearchHit[] = hits.map((h) =>
    h.explain
      ? { memory: h.record.memory, score: h.score, explain: h.explain }
      : { memory: h.record.memory, score: h.score },
  );
  if (!parsed.boost) return ranked;
  const at = Date.parse(parsed.asOf ?? host.nowIso());
  return applyBoost(ranked, parsed.boost, at, limit).map((b) => b.hit);
}
