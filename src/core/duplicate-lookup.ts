import { duplicateQuery, findListed, normalizeContent } from './lifecycle.js';
import type { WritesHost } from './memory-writes.js';
import type { Memory } from './model.js';
import { searchStore } from './search.js';
import * as schema from './validate.js';

/** Search hits compared by normalized content when `add` dedupes: first a few, then up to the search limit. */
const DEDUPE_CANDIDATES = [50, schema.LIMITS.searchLimit];

/**
 * A memory valid now with the same normalized content. It holds every word of the content, so it is
 * among the hits that match them all; those are read best first, a few and then more, and only when a
 * thousand such memories outrank it is the namespace listed through.
 */
export async function findDuplicate(host: WritesHost, content: string): Promise<Memory | undefined> {
  const { store, namespace, language } = host;
  const wanted = normalizeContent(content);
  const same = (m: Memory) => normalizeContent(m.content) === wanted;
  const query = duplicateQuery(content, language);
  const now = host.nowIso();
  const listed = () => findListed(store, namespace, { tagMode: 'any', now }, same);
  if (query === '') return listed();
  for (const limit of DEDUPE_CANDIDATES) {
    const hits = await searchStore(store, namespace, {
      query,
      mode: 'text',
      match: 'all',
      limit,
      tagMode: 'any',
      now,
      language,
    });
    const found = hits.map((h) => h.record.memory).find(same);
    if (found || hits.length < limit) return found;
  }
  return listed();
}
