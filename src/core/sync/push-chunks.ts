import type { LinkWrite, MemoryWrite, Tombstone } from '../store-contract.js';
import type { SyncRequest } from './protocol.js';

/** Records per push request, at most (the edge takes up to 1000 per part). */
const PAGE = 500;
/** Pushes are cut into requests of about this many bytes, well under the edge's body limit. */
const PUSH_BYTES = 256 * 1024;

/** Splits a push into requests of bounded size; each is an idempotent merge on the server. */
export function* chunkPush(writes: {
  memories: MemoryWrite[];
  links: LinkWrite[];
  tombstones: Tombstone[];
}): Generator<SyncRequest> {
  let push: Required<NonNullable<SyncRequest['push']>> = { memories: [], links: [], tombstones: [] };
  let bytes = 0;
  let count = 0;
  const add = (kind: 'memories' | 'links' | 'tombstones', item: MemoryWrite | LinkWrite | Tombstone) => {
    (push[kind] as unknown[]).push(item);
    bytes += JSON.stringify(item).length;
    count++;
  };
  // Memories before links, so a link's endpoints reach the server first; tombstones last.
  const items = [
    ...writes.memories.map((w) => ['memories', w] as const),
    ...writes.links.map((w) => ['links', w] as const),
    ...writes.tombstones.map((t) => ['tombstones', t] as const),
  ];
  for (const [kind, item] of items) {
    add(kind, item);
    if (bytes >= PUSH_BYTES || count >= PAGE) {
      yield { push };
      push = { memories: [], links: [], tombstones: [] };
      bytes = 0;
      count = 0;
    }
  }
  if (count > 0) yield { push };
}
