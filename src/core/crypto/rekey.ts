import { feedPages, readChangeStates } from '../change-states.js';
import type { HybridLogicalClock } from '../hlc.js';
import type { ChangeEntry, Entity, LinkWrite, MemoryStore, MemoryWrite } from '../store-contract.js';

const PAGE = 500;

/**
 * After a key rotation, writes every sealed field of every record again with a fresh stamp, so the
 * next push re-seals it under the new key and the edge's copies under the old key lose the merge.
 * The values do not change; only their stamps move. Returns how many records were re-stamped. `only`:
 * those records alone (ones pulled under the replaced key after the rest was re-stamped).
 */
export async function restampSealedFields(
  store: MemoryStore,
  namespace: string,
  clock: HybridLogicalClock,
  only?: readonly { entity: Entity; id: string }[],
): Promise<number> {
  // Every entity first: re-stamping moves an entry to the feed's end, where a single pass would meet it again.
  const entries: ChangeEntry[] = only
    ? only.map(({ entity, id }) => ({ seq: 0, entity, id, origin: 'local' }))
    : [];
  if (!only) for await (const page of feedPages(store, namespace, 0, PAGE)) entries.push(...page);
  let count = 0;
  for (let i = 0; i < entries.length; i += PAGE) {
    const states = await readChangeStates(store, namespace, entries.slice(i, i + PAGE));
    const memories: MemoryWrite[] = [];
    const links: LinkWrite[] = [];
    for (const { memory, link, tombstone } of states) {
      if (tombstone) continue;
      const stamp = clock.tick();
      if (memory) {
        const { content, tags, metadata, embedding } = memory.memory;
        const values: MemoryWrite['values'] = { content, tags, metadata };
        if (embedding !== undefined) values.embedding = embedding;
        const clocks = Object.fromEntries(Object.keys(values).map((field) => [field, stamp]));
        memories.push({ id: memory.memory.id, values, clocks });
      } else if (link) {
        links.push({
          id: link.link.id,
          values: { metadata: link.link.metadata },
          clocks: { metadata: stamp },
        });
      }
    }
    await store.apply(namespace, { memories, links, origin: 'local' });
    count += memories.length + links.length;
  }
  return count;
}
