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

export interface MemoryInput {
  content: string;
  kind?: string;
  tags?: string[];
  metadata?: { [k: string]: Json };
  embedding?: number[];
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
  embedding?: number[] | null;
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
  vector?: number[];
  mode?: SearchMode;
  /** Only memories valid at this instant (default: valid now). */
  asOf?: string;
  /** Every memory whatever its validity period. */
  history?: boolean;
  /** Opt-in ranking boosts (recency, importance); off by default. See docs/lifecycle.md. */
  boost?: SearchBoost;
}

export interface SearchHit {
  memory: Memory;
  score: number;
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
