// The data model: what users store and the options they pass.
import type { SearchBoost } from './boost.js';

export type { SearchBoost } from './boost.js';
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface Memory {
  id: string;
  namespace: string;
  content: string;
  kind: string;
  tags: string[];
  metadata: { [k: string]: Json };
  embedding?: number[];
  /** The `id` of the embedder (model) that produced `embedding`; vector search compares only equal models. */
  embeddingModel?: string;
  importance?: number;
  createdAt: string;
  updatedAt: string;
  expiresAt?: string;
  /** Start of the period the memory holds true (ISO 8601, inclusive); open when absent. */
  validFrom?: string;
  /** End of that period (exclusive); set by `supersede`. Open when absent. */
  validTo?: string;
}

export interface Link {
  id: string;
  namespace: string;
  from: string;
  to: string;
  type: string;
  weight?: number;
  metadata: { [k: string]: Json };
  createdAt: string;
  updatedAt: string;
}

/**
 * A vector as an app or an embedder hands it: a typed array is read as the numbers it holds, so a memory's
 * `embedding` (and a search's `vector`) comes back as a plain `number[]`.
 */
export type VectorInput = number[] | Float32Array | Float64Array;

export interface MemoryInput {
  content: string;
  kind?: string;
  tags?: string[];
  metadata?: { [k: string]: Json };
  embedding?: VectorInput;
  embeddingModel?: string;
  importance?: number;
  expiresAt?: string;
  validFrom?: string;
  validTo?: string;
  id?: string;
}

/** `null` clears an optional field. */
export interface MemoryPatch {
  content?: string;
  kind?: string;
  tags?: string[];
  metadata?: { [k: string]: Json };
  embedding?: VectorInput | null;
  embeddingModel?: string | null;
  importance?: number | null;
  expiresAt?: string | null;
  validFrom?: string | null;
  validTo?: string | null;
}

export type Direction = 'out' | 'in' | 'both';
export type TagMode = 'any' | 'all';
export type SearchMode = 'text' | 'vector' | 'hybrid';

export interface ListOptions {
  kind?: string;
  tags?: string[];
  tagMode?: TagMode;
  /** Inclusive lower bound on `createdAt`. */
  since?: string;
  /** Exclusive upper bound on `createdAt`. */
  until?: string;
  limit?: number;
  cursor?: string | null;
  /** Equality on top-level metadata keys; every one must hold. */
  metadata?: MetadataFilter;
  /** Only memories valid at this instant (default: valid now). */
  asOf?: string;
  /** Every memory whatever its validity period. */
  history?: boolean;
}

export interface ListResult {
  items: Memory[];
  cursor: string | null;
}

export interface SearchOptions {
  limit?: number;
  kind?: string;
  tags?: string[];
  tagMode?: TagMode;
  vector?: VectorInput;
  /**
   * The model of `vector`: only embeddings of this model are compared. Defaults to the embedder's id
   * when the query is embedded for you; with neither, every embedding is compared.
   */
  model?: string;
  mode?: SearchMode;
  /** `any` (default): a memory needs one query term; `all`: every term not excluded. */
  match?: TextMatch;
  /** Equality on top-level metadata keys; every one must hold. */
  metadata?: MetadataFilter;
  /** Only memories created at or after this instant (as `list`'s `since`). */
  since?: string;
  /** Only memories created before this instant (as `list`'s `until`). */
  until?: string;
  /** Adds `explain` to each hit: what its score is made of. */
  explain?: boolean;
  /** Only memories valid at this instant (default: valid now). */
  asOf?: string;
  /** Every memory whatever its validity period. */
  history?: boolean;
  /** Opt-in ranking boosts (recency, importance); off by default. See docs/lifecycle.md. */
  boost?: SearchBoost;
}

export type TextMatch = 'any' | 'all';
export type MetadataFilter = { [key: string]: Json };

/** What a score is made of: every part present adds up to `score` (see docs/search.md). */
export interface Explanation {
  /** BM25 share of each query term (`term`, `prefix*` or `"a phrase"`). */
  text?: { [term: string]: number };
  vector?: number;
  fused?: number;
  boosts?: { [name: string]: number };
}

export interface SearchHit {
  memory: Memory;
  score: number;
  explain?: Explanation;
}

export interface LinkOptions {
  weight?: number;
  metadata?: { [k: string]: Json };
}

export interface LinksOptions {
  direction?: Direction;
  type?: string;
}

export interface NeighborsOptions extends LinksOptions {
  depth?: number;
}

export interface PathOptions extends LinksOptions {
  maxDepth?: number;
}

export interface AddOptions {
  /** Return the existing valid memory with the same normalized content (merging tags) instead of a copy. */
  dedupe?: boolean;
}

/** `count(filter)`: the `list` filters without paging. */
export type CountOptions = Omit<ListOptions, 'limit' | 'cursor'>;

export interface MemoryStats {
  memories: number;
  links: number;
  tombstones: number;
  pendingSync: number;
  pendingEmbeddings: number;
}

export interface ContextOptions extends Omit<SearchOptions, 'limit'> {
  /** Longest string returned (default 4000 characters). */
  maxChars?: number;
  /** Most memories included (default 20). */
  limit?: number;
}
