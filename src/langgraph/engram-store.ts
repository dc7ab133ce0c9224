import {
  BaseStore,
  type GetOperation,
  type IndexConfig,
  InvalidNamespaceError,
  type Item,
  type ListNamespacesOperation,
  type MatchCondition,
  type Operation,
  type OperationResults,
  type PutOperation,
  type SearchItem,
  type SearchOperation,
  validateNamespace,
} from '@langchain/langgraph-checkpoint';
import type { Engram } from '../core/engram.js';
import type { SyncOptions } from '../core/engram-options.js';
import type { Json } from '../core/model.js';
import { createSerialQueue } from '../core/serial.js';
import type { MemoryStore } from '../core/store-contract.js';
import { createMemory } from '../create-memory.js';
import { cosine, decodeVector, encodeVector, type FieldVectors } from './field-vectors.js';
import { matchesItemFilter } from './item-filter.js';
import { metadataFields, searchText } from './item-json.js';
import {
  findItem,
  ITEM_KIND,
  itemKey,
  itemsUnder,
  itemTags,
  loadNamespaces,
  NAMESPACE_KIND,
  type StoredItem,
} from './item-records.js';
import { textsAt } from './item-text.js';

export interface EngramStoreOptions {
  /** Any Engram store (default: a new in-memory store). */
  store?: MemoryStore;
  /** The Engram namespace that holds every LangGraph namespace of this store (default "langgraph"). */
  namespace?: string;
  /** Embeddings for `search(prefix, { query })`: each indexed field (default the whole value) is embedded on its own. */
  index?: IndexConfig;
  /** Keep the store in sync with an Engram edge, offline included. */
  sync?: SyncOptions;
}

/**
 * A LangGraph.js `BaseStore` on Engram: long-term memory for a LangGraph agent on any Engram store
 * (IndexedDB, SQLite, Postgres, an edge), which syncs. Each item is a memory (kind `langgraph-item`,
 * `metadata` keeps its namespace, key, value and per-field embeddings); each LangGraph namespace ever
 * written is a memory too (kind `langgraph-namespace`), so listing and ordering match LangGraph's
 * `InMemoryStore`: search returns namespaces in the order they were first written and items in the
 * order they were created; without a query (or without `index`) scores are undefined.
 *
 * @example
 * import { EngramStore } from 'engram/langgraph';
 * const store = new EngramStore({ namespace: 'agent-memory' });
 * await store.put(['users', 'u1'], 'prefs', { theme: 'dark' });
 * const item = await store.get(['users', 'u1'], 'prefs');
 */
export class EngramStore extends BaseStore {
  private readonly options: EngramStoreOptions;
  private memory: Promise<Engram> | undefined;
  private readonly serial = createSerialQueue();
  private readonly fields: string[];

  constructor(options: EngramStoreOptions = {}) {
    super();
    this.options = options;
    this.fields = options.index?.fields ?? ['$'];
  }

  /** The index configuration, exactly as given. */
  get indexConfig(): IndexConfig | undefined {
    return this.options.index;
  }

  private mem(): Promise<Engram> {
    this.memory ??= createMemory({
      store: this.options.store,
      namespace: this.options.namespace ?? 'langgraph',
      sync: this.options.sync,
    });
    return this.memory;
  }

  /** Closes the underlying memory (and its store); the store cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.memory) await (await this.memory).close();
  }

  override async stop(): Promise<void> {
    await this.close();
  }

  /**
   * Runs the operations as LangGraph's stores do: every read sees the state before the batch's writes;
   * several puts of one key keep the last; the results come back in the operations' order.
   */
  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    for (const op of operations) if ('namespace' in op) checkNamespace(op.namespace);
    for (const op of operations)
      if ('namespacePrefix' in op && op.namespacePrefix.length > 0) checkNamespace(op.namespacePrefix);
    return this.serial(async () => {
      const mem = await this.mem();
      const namespaces = await loadNamespaces(mem);
      const results: unknown[] = [];
      const puts = new Map<string, PutOperation>();
      const searches: [number, SearchOperation][] = [];
      const gets: [number, GetOperation][] = [];
      operations.forEach((op, i) => {
        if ('key' in op && 'namespace' in op && !('value' in op)) {
          gets.push([i, op as GetOperation]);
          results.push(null);
        } else if ('namespacePrefix' in op) {
          searches.push([i, op as SearchOperation]);
          results.push(null);
        } else if ('value' in op) {
          puts.set(itemKey(op.namespace, op.key), op as PutOperation);
          results.push(undefined);
        } else if ('matchConditions' in op || 'limit' in op) {
          results.push(listNamespaces(namespaces.list, op as ListNamespacesOperation));
        } else {
          results.push(undefined);
        }
      });
      for (const [i, op] of gets) {
        const found = await findItem(mem, op.namespace, op.key);
        results[i] = found ? toItem(found) : null;
      }
      for (const [i, op] of searches) results[i] = await this.searchResult(mem, namespaces.list, op);
      if (puts.size > 0) {
        const updated = await this.applyPuts(mem, namespaces.seen, [...puts.values()]);
        // LangGraph's InMemoryStore hands out its live item, which the batch's put then changes: a get
        // of a key that existed and is updated in the same batch shows the new value. So does ours.
        for (const [i, op] of gets) {
          const item = updated.get(itemKey(op.namespace, op.key));
          if (item && results[i] !== null) results[i] = toItem(item);
        }
      }
      return results as OperationResults<Op>;
    });
  }

  private async searchResult(
    mem: Engram,
    namespaces: string[][],
    op: SearchOperation,
  ): Promise<SearchItem[]> {
    const offset = op.offset ?? 0;
    const limit = op.limit ?? 10;
    // Namespaces in the order first written, items of each in creation order (InMemoryStore's order).
    const order = new Map(namespaces.map((ns, i) => [ns.join(':'), i]));
    const rank = (item: StoredItem) => order.get(item.namespace.join(':')) ?? Number.MAX_SAFE_INTEGER;
    const candidates = (await itemsUnder(mem, op.namespacePrefix))
      .map((item, i) => ({ item, i }))
      .sort((a, b) => rank(a.item) - rank(b.item) || a.i - b.i)
      .map(({ item }) => item)
      .filter((item) => !op.filter || matchesItemFilter(item.value, op.filter));
    const embeddings = this.options.index?.embeddings;
    if (!op.query || !embeddings) {
      return candidates.slice(offset, offset + limit).map((item) => ({ ...toItem(item), score: undefined }));
    }
    const query = await embeddings.embedQuery(op.query);
    // Every field vector is a candidate; an item scores by its best field, ties keep creation order.
    const scored: [number, StoredItem][] = [];
    const scoreless: StoredItem[] = [];
    for (const item of candidates) {
      const vectors = Object.values(item.vectors);
      if (vectors.length === 0) scoreless.push(item);
      for (const v of vectors) scored.push([cosine(query, decodeVector(v)), item]);
    }
    scored.sort((a, b) => b[0] - a[0]);
    const seen = new Set<string>();
    const kept: [number | undefined, StoredItem][] = [];
    for (const [score, item] of scored) {
      const key = itemKey(item.namespace, item.key);
      if (seen.has(key)) continue;
      if (seen.size >= offset + limit) break;
      const skip = seen.size < offset;
      seen.add(key);
      if (!skip) kept.push([score, item]);
    }
    // Items without embeddings come last, unscored, filling what the page has left (LangGraph's rule).
    if (kept.length < limit) {
      for (const item of scoreless.slice(0, limit - kept.length)) {
        const key = itemKey(item.namespace, item.key);
        if (seen.has(key)) continue;
        seen.add(key);
        kept.push([undefined, item]);
      }
    }
    return kept.map(([score, item]) => ({ ...toItem(item), score }));
  }

  /** Writes the puts; returns the items that existed and were updated, by key. */
  private async applyPuts(
    mem: Engram,
    seen: Set<string>,
    puts: PutOperation[],
  ): Promise<Map<string, StoredItem>> {
    const updated = new Map<string, StoredItem>();
    const embedded = await this.embedPuts(puts);
    for (const op of puts) {
      const joined = op.namespace.join(':');
      if (!seen.has(joined)) {
        const metadata = metadataFields({ path: op.namespace }, 'encoded');
        await mem.add({ kind: NAMESPACE_KIND, content: searchText(joined), metadata });
        seen.add(joined);
      }
      const key = itemKey(op.namespace, op.key);
      const existing = await findItem(mem, op.namespace, op.key);
      if (op.value === null) {
        if (existing) await mem.remove(existing.memory.id);
        continue;
      }
      // New embeddings replace those of the same field; others stay, as in LangGraph's InMemoryStore.
      const vectors = { ...existing?.vectors, ...embedded.get(key) };
      // Stored as JSON, as LangGraph's persistent stores keep values: Dates become strings, undefined
      // properties vanish, and objects of any prototype become plain.
      const value = JSON.parse(JSON.stringify(op.value)) as Json;
      const metadata: { [k: string]: Json } = {
        ...metadataFields({ namespace: op.namespace, key: op.key, value }, 'encoded'),
        vectors,
      };
      const content = contentOf(op.namespace, op.key, op.value);
      if (existing) {
        const memory = await mem.update(existing.memory.id, {
          content,
          metadata,
          tags: itemTags(op.namespace, op.key),
        });
        updated.set(key, { ...existing, memory, value: value as Record<string, unknown>, vectors });
      } else {
        await mem.add({ kind: ITEM_KIND, content, metadata, tags: itemTags(op.namespace, op.key) });
      }
    }
    return updated;
  }

  /** Embeds each indexed field of each put on its own; one text shared by several fields is embedded once. */
  private async embedPuts(puts: PutOperation[]): Promise<Map<string, FieldVectors>> {
    const out = new Map<string, FieldVectors>();
    const embeddings = this.options.index?.embeddings;
    if (!embeddings) return out;
    const wanted = new Map<string, [string, string][]>();
    for (const op of puts) {
      if (op.value === null || op.index === false) continue;
      const paths = op.index ?? this.fields;
      for (const path of paths) {
        const texts = textsAt(op.value, path);
        texts.forEach((text, i) => {
          const field = texts.length > 1 ? `${path}.${i}` : path;
          const users = wanted.get(text) ?? [];
          users.push([itemKey(op.namespace, op.key), field]);
          wanted.set(text, users);
        });
      }
    }
    if (wanted.size === 0) return out;
    const texts = [...wanted.keys()];
    const vectors = await embeddings.embedDocuments(texts);
    texts.forEach((text, i) => {
      const vector = vectors[i];
      if (!vector) throw new Error(`EngramStore: the embeddings returned no vector for text ${i}`);
      for (const [key, field] of wanted.get(text)!) {
        const fields = out.get(key) ?? {};
        fields[field] = encodeVector(vector);
        out.set(key, fields);
      }
    });
    return out;
  }
}

function checkNamespace(namespace: string[]): void {
  validateNamespace(namespace, { allowReservedRoot: true });
  // Older versions of the peer allow these; LangGraph's own stores reject them, so do we.
  for (const label of namespace) {
    if (label.includes(':'))
      throw new InvalidNamespaceError(
        `Invalid namespace label '${label}': labels cannot contain colons (':').`,
      );
    if (label.includes('\u0000'))
      throw new InvalidNamespaceError('Namespace labels cannot contain NUL bytes.');
  }
}

function toItem(item: StoredItem): Item {
  return {
    value: item.value,
    key: item.key,
    namespace: item.namespace,
    createdAt: new Date(item.memory.createdAt),
    updatedAt: new Date(item.memory.updatedAt),
  };
}

/**
 * The memory's text, so Engram's own search and tools see what the item says: well-formed and cut to fit
 * content's 64 KiB (searchText); the value itself is kept whole in metadata.
 */
function contentOf(namespace: string[], key: string, value: Record<string, unknown>): string {
  return searchText(`${namespace.join('/')}/${key}\n${JSON.stringify(value)}`);
}

function listNamespaces(all: string[][], op: ListNamespacesOperation): string[][] {
  let namespaces = all.filter((ns) => (op.matchConditions ?? []).every((c) => matchesCondition(c, ns)));
  if (op.maxDepth !== undefined) {
    const depth = op.maxDepth;
    namespaces = [...new Set(namespaces.map((ns) => ns.slice(0, depth).join(':')))].map((ns) =>
      ns.split(':'),
    );
  }
  namespaces.sort((a, b) => a.join(':').localeCompare(b.join(':')));
  const offset = op.offset ?? 0;
  return namespaces.slice(offset, offset + (op.limit ?? namespaces.length));
}

function matchesCondition({ matchType, path }: MatchCondition, ns: string[]): boolean {
  if (path.length > ns.length) return false;
  const start = matchType === 'prefix' ? 0 : ns.length - path.length;
  return path.every((part, i) => part === '*' || ns[start + i] === part);
}
