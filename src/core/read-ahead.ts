/**
 * How many ranked candidates a search reads per store call. Filters (validity — on by default —,
 * kind, tags, TTL) reject some candidates after they are read; reading exactly `limit` then costs a
 * second call for the few still missing. So each (store, namespace) remembers the share of examined
 * candidates its recent searches accepted (a moving average), and the first read asks for enough to
 * fill `limit` at that rate. A namespace whose searches accept everything keeps reading `limit`.
 */
const acceptance = new WeakMap<object, Map<string, number>>();

/**
 * What the acceptance rate is remembered under: the namespace and the filters, since a tag filter or
 * `history: true` accepts a very different share than the default "valid now".
 */
export function readAheadKey(
  namespace: string,
  filter: { kind?: string; tags?: readonly string[]; tagMode: string; asOf?: string; history?: boolean },
): string {
  const tags = filter.tags?.length ? `${filter.tagMode}:${filter.tags.join(',')}` : '';
  return JSON.stringify([
    namespace,
    filter.kind ?? null,
    tags,
    filter.history ? 'all' : filter.asOf ? 'asOf' : 'now',
  ]);
}

/** Weight of the latest search in the moving average. */
const LEARNING = 0.2;
/** Margin over the expected need, so most searches finish in one read. */
const MARGIN = 1.25;
const MAX_FACTOR = 20;

function rateOf(store: object, namespace: string): number {
  return acceptance.get(store)?.get(namespace) ?? 1;
}

function sized(need: number, rate: number, limit: number): number {
  if (rate >= 0.95) return need;
  return Math.min(limit * MAX_FACTOR, Math.ceil((need / Math.max(rate, 1 / MAX_FACTOR)) * MARGIN));
}

export function firstChunk(store: object, namespace: string, limit: number): number {
  return sized(limit, rateOf(store, namespace), limit);
}

/** After a read left hits missing: what this search's own rate says is needed; double if none passed. */
export function nextChunk(chunk: number, limit: number, found: number, examined: number): number {
  if (found === 0) return chunk * 2;
  return Math.max(1, sized(limit - found, found / examined, limit));
}

/** Folds one search's acceptance (hits over candidates examined) into the namespace's average. */
export function noteAcceptance(store: object, namespace: string, found: number, examined: number): void {
  if (examined === 0) return;
  let byNamespace = acceptance.get(store);
  if (!byNamespace) {
    byNamespace = new Map();
    acceptance.set(store, byNamespace);
  }
  const rate = rateOf(store, namespace);
  byNamespace.set(namespace, rate + LEARNING * (found / examined - rate));
}
