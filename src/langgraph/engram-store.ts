import {
  BaseStore,
  type IndexConfig,
  type Item,
  type ListNamespacesOperation,
  type MatchCondition,
  type Operation,
  type OperationResults,
  type PutOperation,
  type SearchItem,
  type SearchOperation,
} from '@langchain/langgraph-checkpoint';
import * as v from 'valibot';
import type { Engram } from '../core/engram.js';
import type { SyncOptions } from '../core/engram-options.js';
import { EngramError } from '../core/errors.js';
import { createSerialQueue } from '../core/serial.js';
import type { MemoryStore } from '../core/store-contract.js';
import { namespaceSchema, parse, positiveInt } from '../core/validate.js';
import { createMemory } from '../create-memory.js';
import { type PendingPut, planBatch } from './batch-plan.js';
import { cosine, decodeVector, encodeVector, type FieldVectors } from './field-vectors.js';
import { matchesItemFilter } from './item-filter.js';
import { findItem, findItemCopies, itemKey, itemsUnder, type StoredItem } from './item-records.js';
import { textsAt } from './item-text.js';
import { type ItemWrite, prepareWrite, writeItems } from './item-writes.js';
import { KnownNamespaces } from './known-namespaces.js';

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
const fn = v.function('expected a function');
/**
 * Checked when the store is made: a misspelt option (`namespce`, `index.field`) would otherwise put every
 * item in the default namespace or embed the whole value. `sync` is checked by createMemory, on first use.
 */
const OPTIONS = v.strictObject(
  {
    store: v.optional(
      v.looseObject({ apply: fn, getMemories: fn }, 'expected a MemoryStore (new SqlJsStore(), …)'),
    ),
    namespace: v.optional(namespaceSchema),
    index: v.optional(
      v.strictObject(
        {
          dims: positiveInt,
          embeddings: v.looseObject(
            { embedQuery: fn, embedDocuments: fn },
            'expected a LangChain Embeddings (embedQuery, embedDocuments)',
          ),
          fields: v.optional(
            v.array(v.pipe(v.string(), v.minLength(1, 'expected a path')), 'expected an array of paths'),
          ),
        },
        'expected { dims, embeddings, fields? }',
      ),
    ),
    sync: v.optional(v.unknown()),
  },
  'expected options { store?, namespace?, index?, sync? }',
);

export class EngramStore extends BaseStore {
  private readonly options: EngramStoreOptions;
  private memory: Promise<Engram> | undefined;
  private closed = false;
  private readonly serial = createSerialQueue();
  private readonly fields: string[];
  private readonly namespaces = new KnownNamespaces();

  constructor(options: EngramStoreOptions = {}) {
    super();
    parse(OPTIONS, options, 'EngramStore');
    this.options = options;
    this.fields = options.index?.fields ?? ['$'];
  }

  /** The index configuration, exactly as given. */
  get indexConfig(): IndexConfig | undefined {
    return this.options.index;
  }

  /** The memory, opened on first use; one that failed to open (a refused token, say) is tried again. */
  private mem(): Promise<Engram> {
    if (this.closed) {
      return Promise.reject(
        new EngramError('STORAGE', 'EngramStore: closed by close(); make a new EngramStore to use it again'),
      );
    }
    if (!this.memory) {
      const { store, namespace = 'langgraph', sync } = this.options;
      const opening = createMemory({ store, namespace, sync });
      opening.catch(() => {
        if (this.memory === opening) this.memory = undefined;
      });
      this.memory = opening;
    }
    return this.memory;
  }

  /** Opens the memory now (it opens on first use anyway). */
  override async start(): Promise<void> {
    await this.serial(() => this.mem());
  }

  /**
   * Finishes the operations under way and saves what the store has not saved yet (SqlJsStore's `flush`),
   * leaving everything open, as BaseStore's `stop` is for its hosts: `start()` or any operation goes on.
   */
  override async stop(): Promise<void> {
    await this.serial(async () => {
      const mem = await this.memory?.catch(() => undefined);
      await (mem?.store as { flush?: () => Promise<void> } | undefined)?.flush?.();
    });
  }

  /** Closes the underlying memory and its store, for good: the store cannot be used afterwards. */
  async close(): Promise<void> {
    await this.serial(async () => {
      if (this.closed) return;
      this.closed = true;
      await (await this.memory?.catch(() => undefined))?.close();
    });
  }

  /**
   * Runs the operations as LangGraph's stores do: every read sees the state before the batch's writes;
   * several puts of one key keep the last; the results come back in the operations' order, `null` for a
   * put or delete. Every put is checked before any is written: a batch holding a put Engram cannot keep
   * throws and writes nothing (its reads are not answered either).
   */
  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    const plan = planBatch(operations);
    return this.serial(async () => {
      const mem = await this.mem();
      // Only listing and search need every namespace; a get, put or delete reads none it does not use.
      const everyNamespace = plan.lists.length + plan.searches.length > 0;
      const namespaces = everyNamespace ? await this.namespaces.all(mem) : [];
      const results: unknown[] = operations.map(() => null);
      for (const [i, op] of plan.lists) results[i] = listNamespaces(namespaces, op);
      for (const [i, op] of plan.gets) {
        const found = await findItem(mem, op.namespace, op.key);
        results[i] = found ? toItem(found) : null;
      }
      const queries = await this.embedQueries(plan.searches.map(([, op]) => op));
      for (const [i, op] of plan.searches) {
        results[i] = await this.searchResult(mem, namespaces, op, queries.get(op.query ?? ''));
      }
      if (plan.puts.size > 0) {
        const puts = [...plan.puts.values()];
        const stored = await this.namespaces.stored(
          mem,
          puts.map(({ op }) => op.namespace),
        );
        const writes = await this.preparePuts(mem, stored, puts);
        const updated = await writeItems(mem, writes);
        this.namespaces.add(puts.map(({ op }) => op.namespace));
        // LangGraph's InMemoryStore hands out its live item, which the batch's put then changes: a get
        // of a key that existed and is updated in the same batch shows the new value. So does ours.
        for (const [i, op] of plan.gets) {
          const item = updated.get(itemKey(op.namespace, op.key));
          if (item && results[i] !== null) results[i] = toItem(item);
        }
      }
      return results as OperationResults<Op>;
    });
  }

  /** Each distinct query text of the batch embedded once, by text (none without `index`). */
  private async embedQueries(searches: SearchOperation[]): Promise<Map<string, number[]>> {
    const embeddings = this.options.index?.embeddings;
    const texts = [...new Set(searches.map((op) => op.query).filter((q): q is string => !!q))];
    if (!embeddings || texts.length === 0) return new Map();
    const vectors = await Promise.all(texts.map((text) => embeddings.embedQuery(text)));
    return new Map(texts.map((text, i) => [text, vectors[i]!]));
  }

  /** Every put embedded, read and checked; throws before anything is written. */
  private async preparePuts(mem: Engram, stored: Set<string>, puts: PendingPut[]): Promise<ItemWrite[]> {
    const embedded = await this.embedPuts(puts.map(({ op }) => op));
    const writes: ItemWrite[] = [];
    for (const put of puts) {
      const { namespace, key } = put.op;
      const [existing, ...twins] = await findItemCopies(mem, namespace, key);
      const write = prepareWrite(put, existing, embedded.get(itemKey(namespace, key)), stored);
      writes.push({ ...write, twins: twins.map((twin) => twin.memory.id) });
    }
    return writes;
  }

  private async searchResult(
    mem: Engram,
    namespaces: string[][],
    op: SearchOperation,
    query: number[] | undefined,
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
    if (!op.query || !query) {
      return candidates.slice(offset, offset + limit).map((item) => ({ ...toItem(item), score: undefined }));
    }
    // Every field vector is a candidate; an item scores by its best field, ties keep creation order.
    const scored: [number, StoredItem][] = [];
    const scoreless: StoredItem[] = [];
    for (const item of candidates) {
      const vectors = Object.values(item.vectors);
      if (vectors.length === 0) scoreless.push(item);
      for (const v of vectors) scored.push([cosine(query, decodeVector(v)), item]);
    }
    scored.sort((a, b) => b[0] - a[0]);
    // The page is cut from one ranking: scored items best first, then those without embeddings, unscored,
    // in creation order; `offset` counts both (as LangGraph's InMemoryStore does on its main branch).
    const seen = new Set<string>();
    const ranking: [number | undefined, StoredItem][] = [];
    for (const [score, item] of scored) {
      if (ranking.length >= offset + limit) break;
      const key = itemKey(item.namespace, item.key);
      if (seen.has(key)) continue;
      seen.add(key);
      ranking.push([score, item]);
    }
    for (const item of scoreless) {
      if (ranking.length >= offset + limit) break;
      ranking.push([undefined, item]);
    }
    const kept = ranking.slice(offset);
    return kept.map(([score, item]) => ({ ...toItem(item), score }));
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
      if (!vector) throw missingVector(text, vectors.length, texts.length);
      for (const [key, field] of wanted.get(text)!) {
        const fields = out.get(key) ?? {};
        fields[field] = encodeVector(vector);
        out.set(key, fields);
      }
    });
    return out;
  }
}

/** In InMemoryStore's words ("No embedding found for text: …"), which apps and LangGraph's own tests match. */
function missingVector(text: string, got: number, wanted: number): Error {
  const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  return new Error(
    `EngramStore: No embedding found for text: ${shown} (embedDocuments returned ${count(got, 'vector')} for ${count(wanted, 'text')})`,
  );
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
