import type { FieldClocks, LinkField, MemoryField } from './field-clocks.js';
import type { MemoryFilter } from './filter.js';
import type {
  Direction,
  Explanation,
  Json,
  Link,
  Memory,
  MetadataFilter,
  NeighborsOptions,
  PathOptions,
  SearchMode,
  SearchOptions,
  TagMode,
} from './model.js';

// Replication envelope: what stores persist beside each value so that replicas can merge.
export {
  type FieldClocks,
  LINK_FIELDS,
  type LinkField,
  loneLinkStamp,
  loneStamp,
  MEMORY_FIELDS,
  type MemoryField,
  stampEveryField,
  stampEveryLinkField,
} from './field-clocks.js';

export interface MemoryRecord {
  memory: Memory;
  clocks: FieldClocks;
}

export interface LinkRecord {
  link: Link;
  clocks: FieldClocks;
}

export type Entity = 'memory' | 'link';

/** A delete that replicates: once an id is tombstoned it stays deleted on every replica. */
export interface Tombstone {
  entity: Entity;
  id: string;
  namespace: string;
  /** HLC stamp of the delete. */
  clock: string;
}

/**
 * A write sent to a store. A full record creates; a partial one (only some fields, each with a stamp)
 * updates an existing record. Either way the store merges it field by field with what it holds.
 */
export interface MemoryWrite {
  id: string;
  /** Present when the write may create the record: the immutable part. */
  create?: { namespace: string; createdAt: string };
  values: Partial<Pick<Memory, MemoryField>>;
  clocks: FieldClocks;
}

export interface LinkWrite {
  id: string;
  create?: { namespace: string; from: string; to: string; createdAt: string };
  values: Partial<Pick<Link, LinkField>>;
  clocks: FieldClocks;
}

/** `local` changes wait in the outbox for the server; `remote` ones came from it. */
export type ChangeOrigin = 'local' | 'remote';

export interface WriteBatch {
  memories?: MemoryWrite[];
  links?: LinkWrite[];
  tombstones?: Tombstone[];
  origin?: ChangeOrigin;
  /** Namespace-scoped bookkeeping written in the same transaction (sync cursors, client id). */
  meta?: Record<string, Json>;
  /**
   * Stored field stamps greater than this came from a clock that ran ahead (see docs/sync.md): the
   * batch's writes override them instead of losing to them.
   */
  clockCeiling?: string;
  /**
   * Ids the batch creates that must be free: when a memory, a link or a tombstone holds one of them, the
   * batch is refused whole (`CONFLICT`, field `newIds`) before anything is written. Checked inside the
   * store's transaction (mergeBatch does it), so of two writers racing for one id — two processes on
   * one Postgres — one wins and the other is told, rather than both merging into one record.
   */
  newIds?: string[];
  /**
   * Memories (or, with `entity: 'link'`, links) the batch was decided on, each with the stamp its writer
   * read on one field (`null`: the field was never set): when one is gone or that field was written since,
   * the batch is refused whole (`CONFLICT`, field `unchanged`) before anything is written. Checked inside
   * the store's transaction, like `newIds`: `supersede` names the old fact's `validTo`, so that of two
   * processes closing one fact one succeeds and the other, checking again, is told it was superseded.
   */
  unchanged?: { id: string; field: string; clock: string | null; entity?: 'memory' | 'link' }[];
  /**
   * Namespace meta entries the batch was decided on, each with the value its writer read (`null`: not
   * set): when one holds another value now (compared as JSON, whatever the key order), the batch is
   * refused whole (`CONFLICT`, the entry's `field`) before anything is written. Checked inside the store's
   * transaction, after whatever serialises the namespace's writers: the sync server guards the key info
   * it checked a push against, so a push checked just before a key rotation cannot land after it.
   * A store whose transaction cannot read meta (`StoreTransaction.readMeta`) does not check it.
   */
  unchangedMeta?: { key: string; value: Json | null; field: string }[];
  /**
   * A deduping add's guard: when a memory written after change-feed position `since` is valid at `now`
   * and has the same normalized content, the batch is refused whole (`CONFLICT`, field `dedupe`) before
   * anything is written; the add then finds that memory and merges into it. Checked by stores whose
   * transaction can list the memories changed since a position (`readMemoryIdsChangedSince`: the SQL
   * stores, which several processes may share, IndexedDB, which tabs share, and the in-memory store, to
   * which an edge writes RemoteStore clients' pushes outside any façade's checked-write queue).
   */
  dedupe?: { content: string; since: number; now: string };
  /**
   * Records dropped for good, with no tombstone and no change-feed entry (docs/lifecycle.md, "Purge and
   * collection"): `memories` with their links, and `links`. With `expiredAt`, a memory is dropped only
   * if it is still expired at that instant (a write that extended it meanwhile keeps it). Nothing syncs:
   * every replica drops what it holds by the same rule.
   */
  forget?: { memories?: string[]; links?: string[]; expiredAt?: string };
  /**
   * A pushed link new here whose `from`, `to` and `type` a live link of another id already has (two
   * devices linked the same pair apart, offline) is folded into that link: its fields merge into it by
   * their stamps and its own id is tombstoned, so that every replica ends with one link, as `link()`
   * promises. The edge applies pushes with it; replicas need not, as they pull the fold.
   */
  foldTwinLinks?: boolean;
  /**
   * Set on batches pulled from the edge. A pulled write that a tombstone held here refuses records that
   * tombstone as a local change, so the replica pushes it back: the edge sent the record live, so it no
   * longer holds the delete (it collected the tombstone a horizon after storing it, and then took a push
   * of the record from a replica that had made it before the delete), while this replica, whose
   * maintenance had not yet collected its own copy, refused the record. Without it the edge and the
   * replicas that took the record kept it and this one never did; with it every replica ends with the
   * delete, which stamps after the record's say should win (merge rule 2).
   */
  pushBackTombstones?: boolean;
  /**
   * Asks the store to say where in its change feed the batch's entries went (`ApplyResult.feed`): the
   * sync server offers a replica to leave out of its next pull the entries of its own push that hold
   * exactly what it sent (docs/sync.md, "Echoes"). A store that cannot say leaves `feed` out.
   */
  reportFeed?: boolean;
}

/**
 * Where a batch's change-feed entries went: every entry numbered after `after` and up to `last` is one of
 * this batch's (writers of a namespace take their numbers one after another), `entries` of them.
 */
export interface FeedRange {
  after: number;
  last: number;
  entries: number;
}

export interface ApplyResult {
  /** The merged state of every memory the batch touched that still exists. */
  memories: MemoryRecord[];
  links: LinkRecord[];
  /** Ids (memories and links) the batch removed or found already removed. */
  deleted: string[];
  /** Writes refused because the id is tombstoned. */
  rejected: string[];
  /** With `WriteBatch.reportFeed`, from stores that can say: where the batch's feed entries went. */
  feed?: FeedRange;
}

/** One entry per entity in the change feed: a newer write of the same entity replaces its entry. */
export interface ChangeEntry {
  seq: number;
  entity: Entity;
  id: string;
  origin: ChangeOrigin;
}

export interface ListQuery {
  kind?: string;
  tags?: string[];
  tagMode: TagMode;
  since?: string;
  until?: string;
  /** Only ids strictly below this one (the cursor). */
  beforeId?: string;
  /** Memories whose `expiresAt` is at or before this instant are excluded. */
  now: string;
  limit: number;
  /** Equality on top-level metadata keys (core's `matchesMetadata`). */
  metadata?: MetadataFilter;
  /** Validity: only memories valid at `asOf` (default `now`), unless `history` (see filter.ts `validAt`). */
  asOf?: string;
  history?: boolean;
}

export type CountQuery = Omit<ListQuery, 'limit' | 'beforeId'>;

/**
 * The part of a search's filter a store can check before decoding a record (`docMemories`): not expired
 * at `now`, and valid at `validAt`, as core's `isExpired` and `isValidAt` judge.
 */
export interface LiveFilter {
  now: string;
  validAt: string;
}

export interface StoreUsage {
  memories: number;
  bytes: number;
}

export interface StoreCounts {
  memories: number;
  links: number;
  tombstones: number;
}

export interface TextPosting {
  term: string;
  id: string;
  tf: number;
  length: number;
}

/**
 * One term's postings by document number (see `MemoryStore.docPostings`): parallel arrays, one entry
 * per document holding the term, with the term's count in it and the document's length in tokens.
 */
export interface DocPostingList {
  term: string;
  docs: ArrayLike<number>;
  tfs: ArrayLike<number>;
  lengths: ArrayLike<number>;
}

export interface TextStats {
  docs: number;
  tokens: number;
}

export interface VectorEntry {
  id: string;
  embedding: number[];
  /** The memory's `embeddingModel`, when it has one. */
  model?: string;
}

export interface StoreCapabilities {
  /** Data outlives the process (IndexedDB, a file, Postgres). */
  persistent: boolean;
  /** Other processes or tabs may write the same data; `subscribe` tells of their changes. */
  shared: boolean;
}

export interface SearchRequest extends SearchOptions {
  query: string;
  /** The query vector as validation leaves it: plain numbers, whatever typed array the caller passed. */
  vector?: number[];
  limit: number;
  mode: SearchMode;
  tagMode: TagMode;
  now: string;
  /**
   * The namespace's index language (LANGUAGES). Core reads the namespace's `language` meta when it is
   * absent; a store answering `search` itself may ignore it, as it knows its namespaces' languages.
   */
  language?: string;
}

/** What a search tells besides its hits. */
export interface SearchReport {
  /** Stored embeddings skipped because another model made them (see `SearchOptions.model`). */
  otherModels: number;
}

export interface NativeSearchHit {
  record: MemoryRecord;
  score: number;
  explain?: Explanation;
}

/**
 * The one contract every backend implements. Methods take the namespace first and never see another
 * namespace's data. Stores are deliberately dumb: validation, clocks, ranking and graph walks live in
 * core; a store keeps records, an inverted index, a change feed and meta, and merges writes with
 * `mergeBatch` (core) inside one transaction.
 */
export interface MemoryStore {
  readonly kind: string;
  readonly capabilities: StoreCapabilities;
  /** Opens connections and creates or upgrades the schema; idempotent. Other methods call it lazily. */
  open(): Promise<void>;
  close(): Promise<void>;

  /** Merges the batch atomically: all of it is applied or none. */
  apply(namespace: string, batch: WriteBatch): Promise<ApplyResult>;
  getMemories(namespace: string, ids: readonly string[]): Promise<MemoryRecord[]>;
  getLinks(namespace: string, ids: readonly string[]): Promise<LinkRecord[]>;
  getTombstones(namespace: string, ids: readonly string[]): Promise<Tombstone[]>;
  /** Links touching any of `memoryIds` in the given direction; one call per graph level. */
  linksOf(
    namespace: string,
    memoryIds: readonly string[],
    options: { direction: Direction; type?: string },
  ): Promise<LinkRecord[]>;
  /**
   * Optional: the links from `from` to `to`, of every type, read without the other links of either (so
   * linking a memory that has thousands of links costs one lookup); core filters `linksOf` otherwise.
   */
  linksBetween?(namespace: string, from: string, to: string): Promise<LinkRecord[]>;
  /** Matching memories ordered by id descending, at most `limit`. */
  list(namespace: string, query: ListQuery): Promise<MemoryRecord[]>;

  /**
   * The text index: inverted-index reads for core's BM25 (postings of exact terms and of every term with a
   * prefix) and embeddings for exact vector search. Required unless the store answers `search` itself
   * (see {@link TextIndex}); `createMemory` refuses a store with neither.
   */
  textStats?(namespace: string): Promise<TextStats>;
  postings?(namespace: string, terms: readonly string[], prefixes: readonly string[]): Promise<TextPosting[]>;
  /**
   * Optional, with `docIds`: the same postings as `postings`, keyed by the store's document numbers
   * instead of ids, as lists (a term may come in several). A document number names one memory for good:
   * never reused for another, even after a delete. Core then ranks on numbers and asks `docIds` only for
   * the candidates it returns (the top ones, and every one tied with the last), so a search costs no
   * lookup per matched document.
   */
  docPostings?(
    namespace: string,
    terms: readonly string[],
    prefixes: readonly string[],
  ): Promise<DocPostingList[]>;
  /**
   * Optional, with `docPostings`: the namespace's `textStats` and the `docPostings` of `terms` and
   * `prefixes`, read together (one snapshot; one round trip for a store on a server). Core prefers it for
   * a search's first read of postings; without it, it asks `textStats` and `docPostings` side by side.
   */
  docPostingsWithStats?(
    namespace: string,
    terms: readonly string[],
    prefixes: readonly string[],
  ): Promise<{ stats: TextStats; lists: DocPostingList[] }>;
  /**
   * Optional, with `docPostings`: the id of each document number. Numbers whose memory is gone may be
   * left out or still named (core then finds no record for the id and skips it).
   */
  docIds?(namespace: string, docs: readonly number[]): Promise<Map<number, string>>;
  /**
   * Optional, with `docPostings` and `docIds`: the records of document numbers, those gone left out. Core
   * reads a search's best candidates with it, one step instead of naming them and then reading them.
   * With `live`, a store may also leave out the memories failing it, sparing their decoding: core then
   * counts every number left out as examined and rejected, and still filters the records it gets, so a
   * store may ignore `live` or apply it only in part.
   */
  docMemories?(
    namespace: string,
    docs: readonly number[],
    live?: LiveFilter,
  ): Promise<Map<number, MemoryRecord>>;
  /**
   * Optional: the `limit` nearest memories by cosine among embeddings of `model` that pass `filter`,
   * best first, equal scores by id descending, scored in float64 exactly like core's scan (the index
   * only chooses candidates). `otherModels` counts embeddings of other models it skipped, and those of
   * another length than the query's. Without `model` (a query vector the app passed, no embedder named)
   * every embedding is compared whatever its model; core asks that only of a store that sets
   * `nearestAnyModel`, and scans `vectors()` itself otherwise.
   */
  nearestVectors?(
    namespace: string,
    query: { vector: readonly number[]; model?: string; limit: number; filter: MemoryFilter },
  ): Promise<{ hits: NativeSearchHit[]; otherModels: number }>;
  /** `nearestVectors` also answers a query without `model`. */
  readonly nearestAnyModel?: boolean;
  /** Embeddings in id order after `afterId`, `limit` at a time. */
  vectors?(namespace: string, afterId: string | null, limit: number): Promise<VectorEntry[]>;

  changes(namespace: string, afterSeq: number, limit: number): Promise<ChangeEntry[]>;
  getMeta(namespace: string, key: string): Promise<Json | undefined>;
  namespaces(): Promise<string[]>;

  /** `report`, when given, is filled with what the search skipped (embeddings of other models). */
  search?(namespace: string, request: SearchRequest, report?: SearchReport): Promise<NativeSearchHit[]>;
  neighbors?(
    namespace: string,
    id: string,
    options: Required<Pick<NeighborsOptions, 'direction' | 'depth'>> & { type?: string; now: string },
  ): Promise<MemoryRecord[]>;
  path?(
    namespace: string,
    from: string,
    to: string,
    options: Required<Pick<PathOptions, 'direction' | 'maxDepth'>> & { type?: string; now: string },
  ): Promise<MemoryRecord[] | null>;
  /** Stored records and tombstones of the namespace; core counts them from the change feed otherwise. */
  stats?(namespace: string): Promise<StoreCounts>;
  /**
   * Optional: what the namespace's memories take — how many, and the UTF-8 bytes of their content and
   * metadata JSON. The edge's per-namespace quota needs it.
   */
  usage?(namespace: string): Promise<StoreUsage>;
  /** How many memories `list` would return without a limit; core pages through `list` otherwise. */
  count?(namespace: string, query: CountQuery): Promise<number>;
  /**
   * Optional maintenance (docs/lifecycle.md): ids of memories whose `expiresAt` is at or before `now`,
   * at most `limit`, in any order. Core purges them with a `forget` batch.
   */
  expiredIds?(namespace: string, options: { now: string; limit: number }): Promise<string[]>;
  /**
   * Optional maintenance: removes up to `limit` tombstones whose clock sorts below `before`, with their
   * change-feed entries, except those whose entry is `local` with a sequence number above
   * `keepLocalAfter` (not yet pushed) and, when `seqAtMost` is given, those whose entry's sequence number
   * is above it (the edge: stored too recently, see edge/maintenance.ts). In the same transaction it raises
   * the namespace meta {@link COLLECTED_SEQ_META} to the greatest sequence number it removed, so that a
   * replica whose pull cursor is below it can be told to re-sync in full. Returns how many it removed.
   */
  collectTombstones?(namespace: string, options: TombstoneCollection): Promise<number>;
  /**
   * Optional maintenance: rewrites at most `limit` parts of the namespace's text index into a smaller
   * form that answers every search the same; returns how many it rewrote. SQLite stores pair the posting
   * groups written before schema v21 (docs/stores.md).
   */
  compactText?(namespace: string, options: { limit: number }): Promise<number>;
  /** Changes made by other processes/tabs; returns an unsubscribe function. */
  subscribe?(listener: (namespace: string, ids: string[]) => void): () => void;
}

/** What `MemoryStore.collectTombstones` removes. */
export interface TombstoneCollection {
  before: string;
  limit: number;
  keepLocalAfter?: number;
  seqAtMost?: number;
}

/** Namespace meta: the greatest feed sequence number of a collected tombstone (0 or absent: none). */
export const COLLECTED_SEQ_META = 'gc.collectedSeq';

/** A store whose ranking runs in core: the text-index group, all three present. */
export type TextIndex = Required<Pick<MemoryStore, 'textStats' | 'postings' | 'vectors'>>;
