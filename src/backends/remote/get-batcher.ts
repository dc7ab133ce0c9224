import { EngramError } from '../../core/errors.js';
import type { LinkRecord, MemoryRecord, Tombstone } from '../../core/store-contract.js';
import { LIMITS } from '../../core/validate.js';

interface Fetched {
  memories: MemoryRecord[];
  links: LinkRecord[];
  tombstones: Tombstone[];
}

type FetchBatch = (namespace: string, memoryIds: string[], linkIds: string[]) => Promise<Fetched>;

interface Pending {
  memoryIds: Set<string>;
  linkIds: Set<string>;
  result: Promise<Fetched>;
}

/**
 * Merges the record reads issued in one tick into one request per namespace. The façade asks for a
 * memory and its tombstone, or both ends of a link, side by side (`Promise.all`); this makes each such
 * pair one round trip. Each caller then picks its own ids from the shared answer.
 */
export class GetBatcher {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly fetchBatch: FetchBatch) {}

  load(namespace: string, memoryIds: readonly string[], linkIds: readonly string[]): Promise<Fetched> {
    let batch = this.pending.get(namespace);
    if (!batch) {
      const memorySet = new Set<string>();
      const linkSet = new Set<string>();
      const result = new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => {
        this.pending.delete(namespace);
        return this.fetchAll(namespace, [...memorySet], [...linkSet]);
      });
      batch = { memoryIds: memorySet, linkIds: linkSet, result };
      this.pending.set(namespace, batch);
    }
    for (const id of memoryIds) batch.memoryIds.add(id);
    for (const id of linkIds) batch.linkIds.add(id);
    return batch.result;
  }

  /** The sync route takes at most LIMITS.batch ids of each kind per request; larger reads go in parallel chunks. */
  private async fetchAll(namespace: string, memoryIds: string[], linkIds: string[]): Promise<Fetched> {
    const size = LIMITS.batch;
    const chunks = Math.max(Math.ceil(memoryIds.length / size), Math.ceil(linkIds.length / size), 1);
    const parts = await Promise.all(
      Array.from({ length: chunks }, (_, i) =>
        this.fetchWithin(
          namespace,
          memoryIds.slice(i * size, (i + 1) * size),
          linkIds.slice(i * size, (i + 1) * size),
        ),
      ),
    );
    return merged(parts);
  }

  /** One request; when its answer would be too large for the edge (sync/server.ts GET_BYTES), two of half the ids. */
  private async fetchWithin(namespace: string, memoryIds: string[], linkIds: string[]): Promise<Fetched> {
    try {
      return await this.fetchBatch(namespace, memoryIds, linkIds);
    } catch (error) {
      const ids = memoryIds.length + linkIds.length;
      const tooLarge =
        error instanceof EngramError && error.code === 'PAYLOAD_TOO_LARGE' && error.field === 'sync.get';
      if (!tooLarge || ids < 2) throw error;
      const m = Math.ceil(memoryIds.length / 2);
      const l = Math.ceil(linkIds.length / 2);
      return merged(
        await Promise.all([
          this.fetchWithin(namespace, memoryIds.slice(0, m), linkIds.slice(0, l)),
          this.fetchWithin(namespace, memoryIds.slice(m), linkIds.slice(l)),
        ]),
      );
    }
  }
}

function merged(parts: Fetched[]): Fetched {
  return {
    memories: parts.flatMap((p) => p.memories),
    links: parts.flatMap((p) => p.links),
    tombstones: parts.flatMap((p) => p.tombstones),
  };
}

/** The items whose id is in `ids`, once each, in the order of `ids`. */
export function pick<T>(items: readonly T[], ids: readonly string[], idOf: (item: T) => string): T[] {
  const byId = new Map(items.map((item) => [idOf(item), item] as const));
  return [...new Set(ids)].flatMap((id) => {
    const item = byId.get(id);
    return item === undefined ? [] : [item];
  });
}
