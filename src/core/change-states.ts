import type { ChangeEntry, LinkRecord, MemoryRecord, MemoryStore, Tombstone } from './store-contract.js';

/** A change-feed entry with its entity as it is now: a live record, or the tombstone that ended it. */
export interface ChangeState {
  entry: ChangeEntry;
  memory?: MemoryRecord;
  link?: LinkRecord;
  tombstone?: Tombstone;
}

/**
 * Reads the current state of every entity in a page of the change feed in three batched calls, for
 * pulls, exports and the outbox alike. An entry whose entity has neither a record nor a tombstone
 * comes back bare; callers decide whether that is an error.
 */
export async function readChangeStates(
  store: MemoryStore,
  namespace: string,
  entries: readonly ChangeEntry[],
): Promise<ChangeState[]> {
  const memoryIds = entries.filter((e) => e.entity === 'memory').map((e) => e.id);
  const linkIds = entries.filter((e) => e.entity === 'link').map((e) => e.id);
  const [memories, links, tombstones] = await Promise.all([
    store.getMemories(namespace, memoryIds),
    store.getLinks(namespace, linkIds),
    store.getTombstones(namespace, [...memoryIds, ...linkIds]),
  ]);
  const memoryById = new Map(memories.map((r) => [r.memory.id, r]));
  const linkById = new Map(links.map((r) => [r.link.id, r]));
  const deadById = new Map(tombstones.map((t) => [`${t.entity}:${t.id}`, t]));
  return entries.map((entry) => {
    const tombstone = deadById.get(`${entry.entity}:${entry.id}`);
    if (tombstone) return { entry, tombstone };
    const memory = entry.entity === 'memory' ? memoryById.get(entry.id) : undefined;
    const link = entry.entity === 'link' ? linkById.get(entry.id) : undefined;
    return memory ? { entry, memory } : link ? { entry, link } : { entry };
  });
}

/**
 * The namespace's change feed after `after`, `size` entries a page, until a page comes back short. Each
 * page is read once the caller is done with the last, so entries it writes meanwhile come in later pages.
 */
export async function* feedPages(
  store: MemoryStore,
  namespace: string,
  after: number,
  size: number,
): AsyncGenerator<ChangeEntry[]> {
  for (;;) {
    const page = await store.changes(namespace, after, size);
    if (page.length > 0) yield page;
    if (page.length < size) return;
    after = page[page.length - 1]!.seq;
  }
}
