import type {
  ApplyResult,
  ChangeOrigin,
  Entity,
  LinkRecord,
  LinkWrite,
  MemoryRecord,
  MemoryWrite,
  Tombstone,
} from '../store-contract.js';

/**
 * The replication wire format of `POST /v1/ns/:ns/sync` (see docs/sync.md). One request may push,
 * pull, and read records by id; each part is optional.
 */
export interface SyncRequest {
  /** The sender's replica id (its HLC node), for logs and metrics. */
  clientId?: string;
  push?: {
    memories?: MemoryWrite[];
    links?: LinkWrite[];
    tombstones?: Tombstone[];
  };
  /**
   * Changes after the server cursor `after` (0 for everything), at most `limit`. `states: false`
   * returns the feed entries alone, without each entity's record or tombstone.
   */
  pull?: { after: number; limit?: number; states?: boolean };
  /** Current records and tombstones by id: what a client needs to merge or to read through. */
  get?: { memories?: string[]; links?: string[] };
}

export interface PulledChange {
  seq: number;
  entity: Entity;
  id: string;
  /** Whether the server's feed entry came from a replica (`remote`) or was written on the server. */
  origin: ChangeOrigin;
  memory?: MemoryRecord;
  link?: LinkRecord;
  tombstone?: Tombstone;
}

export interface SyncResponse {
  push?: ApplyResult;
  pull?: {
    changes: PulledChange[];
    /** Pass back as `pull.after` next time. */
    cursor: number;
    hasMore: boolean;
  };
  get?: { memories: MemoryRecord[]; links: LinkRecord[]; tombstones: Tombstone[] };
  /** The server's wall clock (ms since the epoch) when it answered: replicas correct their own by it. */
  serverTime?: number;
  /** How far ahead of `serverTime` a pushed stamp may be; a stamp further ahead is refused (VALIDATION). */
  maxClockSkewMs?: number;
}

/** Every refusal for clock skew says this, so a replica tells it from other VALIDATION errors. */
export const CLOCK_SKEW_REFUSAL = 'ahead of the server clock';

export const MAX_CLOCK_SKEW_MS_DEFAULT = 60_000;

export const PULL_LIMIT_DEFAULT = 500;
export const PULL_LIMIT_MAX = 1000;
