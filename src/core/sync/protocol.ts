import type { KeyInfo } from '../crypto/cipher.js';
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
import type { PushEcho } from './echo.js';

/**
 * The newest key info version this release seals for (stamps bound, rotation proof). Sent with every
 * request of an encrypted replica as `key.seals`, so that the edge turns away a release that predates it
 * from a namespace keyed with it, instead of letting it write values newer devices cannot open; a replica
 * without encryption sends it too when it asks for the namespace's key info (transport.ts).
 */
export const SEALING_VERSION = 2;

/** The records a push carries (what a replica's outbox sends). */
export interface PushedRecords {
  memories?: MemoryWrite[];
  links?: LinkWrite[];
  tombstones?: Tombstone[];
}

/**
 * The replication wire format of `POST /v1/ns/:ns/sync` (see docs/sync.md). One request may push,
 * pull, and read records by id; each part is optional.
 */
export interface SyncRequest {
  /** The sender's replica id (its HLC node), for logs and metrics. */
  clientId?: string;
  /**
   * The replica's stored pull cursor, sent with pushes and with the first pull of a round. When it is behind
   * the namespace's collected seq (tombstones it never pulled were collected), nothing of the request is
   * applied and the answer is `resync`.
   */
  cursor?: number;
  push?: PushedRecords & {
    /** Ids the push creates that must be free (`WriteBatch.newIds`): a RemoteStore's adds with ids and links. */
    newIds?: string[];
    /** Stamps the push was decided on (`WriteBatch.unchanged`): a RemoteStore's supersedes. */
    unchanged?: { id: string; field: string; clock: string | null; entity?: 'memory' | 'link' }[];
    /** A RemoteStore's deduping add (`WriteBatch.dedupe`): no copy written after feed position `since`. */
    dedupe?: { content: string; since: number; now: string };
  };
  /**
   * Changes after the server cursor `after` (0 for everything), at most `limit`. `states: false`
   * returns the feed entries alone, without each entity's record or tombstone.
   */
  pull?: {
    after: number;
    limit?: number;
    states?: boolean;
    /**
     * Echoes of this replica's pushes (`PushEcho`, echo.ts), at most SKIP_MAX: their entries are left out
     * of the pull when the feed still holds them as the push left them. Sent only what an edge answered.
     */
    skip?: PushEcho[];
  };
  /** Current records and tombstones by id: what a client needs to merge or to read through. */
  get?: { memories?: string[]; links?: string[] };
  /**
   * End-to-end encryption (docs/security.md). `info` proposes the namespace's key info (kept if it has
   * none; the answer carries the one kept); `id` names the key the pushed values are sealed with, which
   * must be the namespace's; `rotate` moves the namespace from key `from` to `to`, and carries the
   * current key's rotation `proof` when its key info keeps a rotation hash (version 2).
   */
  key?: {
    info?: KeyInfo;
    id?: string;
    rotate?: { from: string; to: KeyInfo; proof?: string };
    /** The newest key info version the sender seals for; absent from releases before version 2. */
    seals?: number;
  };
  /**
   * The sender's index language for the namespace (LANGUAGES; English when absent). The server records
   * it if the namespace has none and is empty, and refuses the request (VALIDATION naming both) if the
   * namespace is indexed in another; pushed memories are indexed in the namespace's language.
   */
  language?: string;
  /**
   * The sender reads lone stamps (lone-stamps.ts): the answer's records whose fields all carry one stamp
   * have it as their `clocks`, one string. Sent only to an edge that said it takes them (`loneStamps` in
   * an answer): an older edge refuses the field.
   */
  loneStamps?: boolean;
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
  /**
   * The replica's `cursor` is behind `collectedSeq`: deletions it has not
   * pulled were forgotten by the server. It must re-sync in full (docs/sync.md); the request was not applied.
   */
  resync?: { collectedSeq: number };
  /**
   * The merged records (left out with `?answer=ids`), and with `?answer=ids` the push's `echo` when every
   * record of it merged into exactly what was sent (echo.ts): a replica's next pulls may skip those entries.
   */
  push?: ApplyResult & { echo?: PushEcho };
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
  /** The namespace's key info (null: not encrypted), when the request had `key`. */
  key?: { info: KeyInfo | null };
  /** The namespace's index language, when the request had `key` and one is recorded (none: English). */
  language?: string;
  /**
   * The edge takes lone stamps (lone-stamps.ts): a pushed write's `clocks` may be one string, that stamp
   * on every field of its entity. In every answer of an edge that does.
   */
  loneStamps?: true;
  /**
   * Set by the client, never sent: records of the answer an encrypted replica could not open (left out
   * of `pull`/`get`), for its rejected list.
   */
  unreadable?: Array<{ entity: 'memory' | 'link'; id: string; reason: string }>;
}

/** Every refusal for clock skew says this, so a replica tells it from other VALIDATION errors. */
export const CLOCK_SKEW_REFUSAL = 'ahead of the server clock';

export const MAX_CLOCK_SKEW_MS_DEFAULT = 60_000;

export const PULL_LIMIT_DEFAULT = 500;
export const PULL_LIMIT_MAX = 1000;
