import type { Json } from '../../core/model.js';
import type { ChangeEntry, LinkRecord, MemoryRecord, Tombstone } from '../../core/store-contract.js';
import type { VectorSpace } from '../../core/vector/vector-space.js';
import { InvertedIndex } from './inverted-index.js';
import { SortedIds } from './sorted-ids.js';

/** One namespace of the store: its records, graph, text index, change feed and meta, in plain Maps. */
export class NamespaceData {
  readonly memories = new Map<string, MemoryRecord>();
  readonly ids = new SortedIds();
  readonly links = new Map<string, LinkRecord>();
  readonly linkIdsByMemory = new Map<string, Set<string>>();
  readonly tombstones = new Map<string, Tombstone>();
  readonly index = new InvertedIndex();
  /** Keyed `entity:id`; Map insertion order is sequence order because an entry is re-inserted on change. */
  readonly changes = new Map<string, ChangeEntry>();
  readonly meta = new Map<string, Json>();
  seq = 0;

  constructor(readonly vectors: VectorSpace) {}

  attachLink(memoryId: string, linkId: string): void {
    const set = this.linkIdsByMemory.get(memoryId);
    if (set) set.add(linkId);
    else this.linkIdsByMemory.set(memoryId, new Set([linkId]));
  }

  detachLink(memoryId: string, linkId: string): void {
    const set = this.linkIdsByMemory.get(memoryId);
    set?.delete(linkId);
    if (set?.size === 0) this.linkIdsByMemory.delete(memoryId);
  }
}
