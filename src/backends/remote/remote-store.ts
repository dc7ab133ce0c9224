import * as v from 'valibot';
import type { KeyInfo } from '../../core/crypto/cipher.js';
import { KEY_INFO_META } from '../../core/crypto/namespace-key.js';
import { EngramError, validationError } from '../../core/errors.js';
import type { Direction, Explanation, Json } from '../../core/model.js';
import type {
  ApplyResult,
  ChangeEntry,
  CountQuery,
  LinkRecord,
  ListQuery,
  MemoryRecord,
  MemoryStore,
  NativeSearchHit,
  SearchReport,
  SearchRequest,
  StoreCapabilities,
  StoreCounts,
  Tombstone,
  WriteBatch,
} from '../../core/store-contract.js';
import {
  PULL_LIMIT_MAX,
  type PulledChange,
  SEALING_VERSION,
  type SyncRequest,
  type SyncResponse,
} from '../../core/sync/protocol.js';
import { LANGUAGE_META } from '../../core/text/index.js';
import { LIMITS, timeoutMs } from '../../core/validate.js';
import { checkStoreOptions, optionalFunction, parsedElsewhere } from '../store-options.js';
import { GetBatcher, pick } from './get-batcher.js';
import { EdgeClient, type EdgeClientOptions, type QueryValue, segment } from './http.js';
import { grantedNamespaces } from './token-claims.js';

export type RemoteStoreOptions = EdgeClientOptions;

// `url` and `token` are checked by EdgeClient, which names them as before (`url`, `token`).
const REMOTE_OPTIONS = {
  url: parsedElsewhere,
  token: parsedElsewhere,
  fetch: optionalFunction,
  timeoutMs: v.optional(timeoutMs),
};

type Walk = { direction: Direction; type?: string; now: string };

/**
 * A store whose data lives on an Engram edge server (`createEdgeApp`), reached over its HTTP API.
 * Record reads and writes use the sync route (merging stays on the server, reads issued together share
 * one request); list, search and graph walks run on the server. Meta (the replica's client id, sync
 * cursors) is this client's own bookkeeping and stays in memory. The text index and vectors never
 * leave the server: `postings`, `textStats` and `vectors` throw.
 *
 * @example
 * import { createMemory } from 'engram';
 * import { RemoteStore } from 'engram/remote';
 * const store = new RemoteStore({ url: 'https://memory.example.com', token });
 * const mem = await createMemory({ store, namespace: 'user-42' });
 * await mem.add({ content: 'Prefers window seats' });
 */
export class RemoteStore implements MemoryStore {
  readonly kind = 'remote';
  readonly capabilities: StoreCapabilities = {
    persistent: true,
    shared: true,
  };
  private readonly http: EdgeClient;
  private readonly gets: GetBatcher;
  private readonly meta = new Map<string, Map<string, Json>>();
  private readonly used = new Set<string>();
  private closed = false;

  constructor(private readonly options: RemoteStoreOptions) {
    checkStoreOptions(options, REMOTE_OPTIONS, 'RemoteStore');
    if (options === undefined) throw validationError('RemoteStore', 'options { url, token }');
    this.http = new EdgeClient(options);
    this.gets = new GetBatcher(async (namespace, memories, links) => {
      const response = await this.http.call<SyncResponse>(namespace, 'POST', '/sync', {
        body: { get: { memories, links } },
        answers: 'get',
      });
      return response.get ?? { memories: [], links: [], tombstones: [] };
    });
  }

  async open(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(namespace?: string): void {
    if (this.closed) throw new EngramError('STORAGE', 'RemoteStore: the store is closed');
    if (namespace !== undefined) this.used.add(namespace);
  }

  async apply(namespace: string, batch: WriteBatch): Promise<ApplyResult> {
    this.assertOpen(namespace);
    const { memories = [], links = [], tombstones = [], newIds, unchanged, dedupe } = batch;
    // Checked again inside the edge's transaction, so that two clients racing for an id, a fact or one
    // content are told.
    const guards = {
      ...(newIds?.length ? { newIds } : {}),
      ...(unchanged?.length ? { unchanged } : {}),
      ...(dedupe ? { dedupe } : {}),
    };
    let result: ApplyResult = { memories: [], links: [], deleted: [], rejected: [] };
    // The namespace's index language goes alone when it is set (the edge settles it: createMemory's
    // check), and with every push unless English, so that a namespace the edge has lost is set again.
    const setsLanguage = batch.meta?.[LANGUAGE_META] !== undefined;
    const stored = batch.meta?.[LANGUAGE_META] ?? this.meta.get(namespace)?.get(LANGUAGE_META);
    const language = setsLanguage || stored !== 'english' ? stored : undefined;
    const pushes = memories.length + links.length + tombstones.length > 0;
    // An end-to-end encrypted namespace's key info (an import's key line) goes to the edge, which keeps
    // it if the namespace has none; the sealed records imported after it name its key.
    const setsKey = batch.meta?.[KEY_INFO_META] as KeyInfo | undefined;
    const keyInfo = setsKey ?? (this.meta.get(namespace)?.get(KEY_INFO_META) as KeyInfo | undefined);
    let key: SyncRequest['key'];
    if (setsKey) key = { info: setsKey, seals: SEALING_VERSION };
    if (keyInfo && pushes) key = { ...key, id: keyInfo.keyId, seals: SEALING_VERSION };
    if (pushes || setsLanguage || setsKey) {
      const response = await this.http.call<SyncResponse>(namespace, 'POST', '/sync', {
        query: { origin: batch.origin ?? 'local' },
        answers: pushes ? 'push' : setsKey ? 'key' : undefined,
        body: {
          ...(pushes ? { push: { memories, links, tombstones, ...guards } } : {}),
          ...(language === undefined ? {} : { language }),
          ...(key ? { key } : {}),
        },
      });
      const kept = response.key?.info;
      if (setsKey && kept?.keyId !== setsKey.keyId) {
        throw new EngramError(
          'CONFLICT',
          `sync.key.info: namespace ${JSON.stringify(namespace)} on the edge is ${kept ? `encrypted with key ${kept.keyId}` : 'not encrypted'}, not with key ${setsKey.keyId}; its key info was not set`,
          { field: 'sync.key.info' },
        );
      }
      result = response.push ?? result;
    }
    // Written only once the server has taken the batch, so a failed push leaves no meta behind.
    if (batch.meta) {
      const own = this.meta.get(namespace) ?? new Map<string, Json>();
      for (const [key, value] of Object.entries(batch.meta)) own.set(key, structuredClone(value));
      this.meta.set(namespace, own);
    }
    return result;
  }

  /**
   * The namespace's newest change-feed position on the edge, for a deduping add's guard (`WriteBatch.dedupe`):
   * a pull from past the end answers with the feed's end. `undefined` when the edge cannot tell.
   */
  async latestSeq(namespace: string): Promise<number | undefined> {
    this.assertOpen(namespace);
    const response = await this.http.call<SyncResponse>(namespace, 'POST', '/sync', {
      body: { pull: { after: Number.MAX_SAFE_INTEGER, limit: 1, states: false } },
    });
    const cursor = response.pull?.cursor;
    return cursor === undefined || cursor >= Number.MAX_SAFE_INTEGER ? undefined : cursor;
  }

  async getMemories(namespace: string, ids: readonly string[]): Promise<MemoryRecord[]> {
    this.assertOpen(namespace);
    if (ids.length === 0) return [];
    const { memories } = await this.gets.load(namespace, ids, []);
    return pick(memories, ids, (r) => r.memory.id);
  }

  async getLinks(namespace: string, ids: readonly string[]): Promise<LinkRecord[]> {
    this.assertOpen(namespace);
    if (ids.length === 0) return [];
    const { links } = await this.gets.load(namespace, [], ids);
    return pick(links, ids, (r) => r.link.id);
  }

  async getTombstones(namespace: string, ids: readonly string[]): Promise<Tombstone[]> {
    this.assertOpen(namespace);
    if (ids.length === 0) return [];
    // The server answers tombstones of every id asked, memory or link: asking beside the memories lets
    // a read of records and tombstones of the same ids (the façade's insert check) share one request.
    const { tombstones } = await this.gets.load(namespace, ids, []);
    const wanted = new Set(ids);
    const seen = new Set<string>();
    return tombstones.filter((t) => {
      const key = `${t.entity}:${t.id}`;
      if (!wanted.has(t.id) || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  async linksOf(
    namespace: string,
    memoryIds: readonly string[],
    options: { direction: Direction; type?: string },
  ): Promise<LinkRecord[]> {
    this.assertOpen(namespace);
    const lists = await Promise.all(
      [...new Set(memoryIds)].map((id) =>
        this.http.call<{ items: LinkRecord[] }>(
          namespace,
          'GET',
          `/memories/${segment(id, 'linksOf.id')}/links`,
          {
            query: { include: 'clocks', direction: options.direction, type: options.type },
            answers: 'items',
          },
        ),
      ),
    );
    const byId = new Map(lists.flatMap((l) => l.items).map((r) => [r.link.id, r] as const));
    return [...byId.values()];
  }

  /** Pages through the server's listing: a page holds at most LIMITS.listLimit records. */
  async list(namespace: string, query: ListQuery): Promise<MemoryRecord[]> {
    this.assertOpen(namespace);
    const { beforeId, limit, ...filters } = query;
    const params = filterParams(filters);
    const out: MemoryRecord[] = [];
    let before = beforeId;
    while (out.length < limit) {
      const size = Math.min(limit - out.length, LIMITS.listLimit);
      const { items } = await this.http.call<{ items: MemoryRecord[] }>(namespace, 'GET', '/memories', {
        query: { include: 'clocks', ...params, before, limit: size },
        answers: 'items',
      });
      out.push(...items);
      if (items.length < size) break;
      before = items[items.length - 1]!.memory.id;
    }
    return out;
  }

  /** `GET /count`: the server counts, so no page of records crosses the network. */
  async count(namespace: string, query: CountQuery): Promise<number> {
    this.assertOpen(namespace);
    const { count } = await this.http.call<{ count: number }>(namespace, 'GET', '/count', {
      query: filterParams(query),
      answers: 'count',
    });
    return count;
  }

  async stats(namespace: string): Promise<StoreCounts> {
    this.assertOpen(namespace);
    const { memories, links, tombstones } = await this.http.call<StoreCounts>(namespace, 'GET', '/stats', {
      answers: 'memories',
    });
    return { memories, links, tombstones };
  }

  async search(namespace: string, request: SearchRequest, report?: SearchReport): Promise<NativeSearchHit[]> {
    this.assertOpen(namespace);
    // The edge searches in the namespace's own language (its meta), whatever a client believes it is.
    const { now, query, language: _language, ...options } = request;
    const { hits, otherModels } = await this.http.call<{
      hits: Array<MemoryRecord & { score: number; explain?: Explanation }>;
      otherModels?: number;
    }>(namespace, 'POST', '/search', {
      query: { include: 'clocks', now },
      body: { query, ...options },
      answers: 'hits',
    });
    if (report && otherModels) report.otherModels += otherModels;
    return hits.map(({ memory, clocks, score, explain }) =>
      explain ? { record: { memory, clocks }, score, explain } : { record: { memory, clocks }, score },
    );
  }

  async neighbors(namespace: string, id: string, options: Walk & { depth: number }): Promise<MemoryRecord[]> {
    this.assertOpen(namespace);
    const { items } = await this.http.call<{ items: MemoryRecord[] }>(
      namespace,
      'GET',
      `/memories/${segment(id, 'neighbors.id')}/neighbors`,
      {
        query: { include: 'clocks', ...options },
        answers: 'items',
      },
    );
    return items;
  }

  async path(
    namespace: string,
    from: string,
    to: string,
    options: Walk & { maxDepth: number },
  ): Promise<MemoryRecord[] | null> {
    this.assertOpen(namespace);
    const { path } = await this.http.call<{ path: MemoryRecord[] | null }>(namespace, 'GET', '/path', {
      query: { include: 'clocks', from, to, ...options },
      answers: 'path',
    });
    return path;
  }

  async changes(namespace: string, afterSeq: number, limit: number): Promise<ChangeEntry[]> {
    this.assertOpen(namespace);
    const out: ChangeEntry[] = [];
    let after = afterSeq;
    while (out.length < limit) {
      const size = Math.min(limit - out.length, PULL_LIMIT_MAX);
      const { pull } = await this.http.call<{
        pull: { changes: PulledChange[]; cursor: number; hasMore: boolean };
      }>(namespace, 'POST', '/sync', {
        // Entries only: callers read the records they need, so shipping them here would send them twice.
        body: { pull: { after, limit: size, states: false } },
        answers: 'pull',
      });
      out.push(
        ...pull.changes.map(({ seq, entity, id, origin }) => ({
          seq,
          entity,
          id,
          origin,
        })),
      );
      if (!pull.hasMore || pull.changes.length === 0) break;
      after = pull.cursor;
    }
    return out;
  }

  async getMeta(namespace: string, key: string): Promise<Json | undefined> {
    this.assertOpen(namespace);
    const value = this.meta.get(namespace)?.get(key);
    if (value === undefined && (key === LANGUAGE_META || key === KEY_INFO_META)) {
      return this.edgeMeta(namespace, key);
    }
    return value === undefined ? undefined : structuredClone(value);
  }

  /**
   * The namespace's index language and end-to-end encryption key info as the edge keeps them (an export
   * carries both), asked with a `key` request; undefined when it has none (English, not encrypted) or the
   * edge is older than the answer's `language`. A recorded value is kept; none is asked again (one may be
   * recorded later).
   */
  private async edgeMeta(namespace: string, key: string): Promise<Json | undefined> {
    const answer = await this.http.call<SyncResponse>(namespace, 'POST', '/sync', {
      body: { key: { seals: SEALING_VERSION } },
    });
    const own = this.meta.get(namespace) ?? new Map<string, Json>();
    if (answer.language !== undefined) own.set(LANGUAGE_META, answer.language);
    if (answer.key?.info) own.set(KEY_INFO_META, answer.key.info as unknown as Json);
    this.meta.set(namespace, own);
    const value = own.get(key);
    return value === undefined ? undefined : structuredClone(value);
  }

  /** The namespaces a string token grants (read from its `ns` claim) and those this store has used. */
  async namespaces(): Promise<string[]> {
    this.assertOpen();
    const granted = typeof this.options.token === 'string' ? grantedNamespaces(this.options.token) : [];
    return [...new Set([...granted, ...this.used])].sort();
  }
}

/**
 * The `list` filters as the edge's query parameters: `metadata.key=<JSON>` (the edge reads a value as JSON
 * when it parses, so strings go quoted); `tags` repeated, or as one JSON array when a tag holds a comma or
 * starts with `[`, which the edge would otherwise split or misread (docs/api.md); `history` as text.
 */
function filterParams({ metadata, tags, history, ...rest }: CountQuery): Record<string, QueryValue> {
  const whole = tags?.some((tag) => tag.includes(',') || tag.startsWith('['));
  return {
    ...rest,
    tags: whole ? [JSON.stringify(tags)] : tags,
    ...Object.fromEntries(
      Object.entries(metadata ?? {}).map(([key, value]) => [`metadata.${key}`, JSON.stringify(value)]),
    ),
    history: history ? 'true' : undefined,
  };
}
