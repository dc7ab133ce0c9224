import { HybridLogicalClock } from './hlc.js';
import { randomHex } from './ids.js';
import { liveIds } from './lifecycle.js';
import {
  LINK_FIELDS,
  type LinkRecord,
  type LinkWrite,
  MEMORY_FIELDS,
  type MemoryRecord,
  type MemoryStore,
  type MemoryWrite,
  type Tombstone,
  type WriteBatch,
} from './store-contract.js';
import { linkRecordToWrite, memoryRecordToWrite } from './sync/records.js';
import { parseSyncRequest } from './sync/validate.js';
import { LIMITS } from './validate.js';

/** What a dump holds for one namespace: its live records and the ids it had deleted. */
export interface NamespaceDump {
  memories: Map<string, MemoryRecord>;
  links: Map<string, LinkRecord>;
  tombstones: Tombstone[];
}

export interface RestoreResult {
  /** Records written back and records removed to match the dump. */
  restored: number;
  removed: number;
  /**
   * Ids of records the target had deleted since the dump, with the id each came back under: a tombstone
   * is forever on every replica, so a deleted id cannot live again (see docs/lifecycle.md).
   */
  renamed: Record<string, string>;
}

const ID_MAX = 128;

/** `<id>.r<n>`, cut to the id length limit: the first such id the target has not deleted is used. */
function revivedId(id: string, n: number): string {
  const suffix = `.r${n}`;
  return id.length + suffix.length <= ID_MAX
    ? `${id}${suffix}`
    : `${id.slice(0, ID_MAX - suffix.length)}${suffix}`;
}

/** Maps each id to itself, or, when the target tombstoned it, to the first derived id it has not. */
async function mapIds(
  store: MemoryStore,
  namespace: string,
  wanted: readonly string[],
  renamed: Record<string, string>,
  observe: (stamp: string) => void,
): Promise<Map<string, string>> {
  const mapping = new Map(wanted.map((id) => [id, id]));
  let pending = [...wanted];
  for (let n = 1; pending.length > 0; n++) {
    const candidates = pending.map((id) => (n === 1 ? id : revivedId(id, n - 1)));
    const dead = new Set<string>();
    for (let i = 0; i < candidates.length; i += LIMITS.batch) {
      for (const t of await store.getTombstones(namespace, candidates.slice(i, i + LIMITS.batch))) {
        observe(t.clock);
        dead.add(t.id);
      }
    }
    const next: string[] = [];
    pending.forEach((id, i) => {
      const candidate = candidates[i]!;
      if (dead.has(candidate)) next.push(id);
      else {
        mapping.set(id, candidate);
        if (candidate !== id) renamed[id] = candidate;
      }
    });
    pending = next;
  }
  return mapping;
}

const stampEvery = (fields: readonly string[], stamp: string) =>
  Object.fromEntries(fields.map((f) => [f, stamp]));

/**
 * Makes one namespace of the target equal to the dump. Every restored field is written with a fresh
 * stamp, so it wins over edits made after the dump on any replica, and syncs like an edit; records the
 * dump lacks get tombstones; records deleted since the dump come back under a derived id.
 */
export async function restoreNamespace(
  store: MemoryStore,
  namespace: string,
  dump: NamespaceDump,
): Promise<RestoreResult> {
  const clock = new HybridLogicalClock(`restore-${randomHex(6)}`);
  const observe = (stamp: string) => clock.observe(stamp);
  const live = await liveIds(store, namespace);
  for (const stamp of live.clocks) observe(stamp);
  const renamed: Record<string, string> = {};
  const memoryIds = await mapIds(store, namespace, [...dump.memories.keys()], renamed, observe);
  const linkIds = await mapIds(store, namespace, [...dump.links.keys()], renamed, observe);
  const stamp = clock.tick();

  const memories: MemoryWrite[] = [...dump.memories.values()].map((record) => ({
    ...memoryRecordToWrite(record),
    id: memoryIds.get(record.memory.id)!,
    clocks: stampEvery(MEMORY_FIELDS, stamp),
  }));
  const links: LinkWrite[] = [...dump.links.values()].flatMap((record) => {
    const write = linkRecordToWrite(record);
    const from = memoryIds.get(record.link.from);
    const to = memoryIds.get(record.link.to);
    if (!from || !to || !write.create) return [];
    return [
      {
        ...write,
        id: linkIds.get(record.link.id)!,
        create: { ...write.create, from, to },
        clocks: stampEvery(LINK_FIELDS, stamp),
      },
    ];
  });
  const keptMemories = new Set(memoryIds.values());
  const keptLinks = new Set(linkIds.values());
  const tombstones: Tombstone[] = [
    ...live.memories
      .filter((id) => !keptMemories.has(id))
      .map((id) => ({ entity: 'memory' as const, id, namespace, clock: stamp })),
    ...live.links
      .filter((id) => !keptLinks.has(id))
      .map((id) => ({ entity: 'link' as const, id, namespace, clock: stamp })),
  ];
  // The dump's own tombstones too, so ids it had deleted are deleted here even if never seen.
  const known = new Set([...live.memories, ...live.links, ...keptMemories, ...keptLinks]);
  for (const t of dump.tombstones) if (!known.has(t.id)) tombstones.push({ ...t, namespace });

  // Stamps more than a day ahead came from a clock that ran fast: not observed above, so the restore's
  // stamp is below them, and the ceiling lets its writes override them as any local write does.
  const clockCeiling = clock.ceiling();
  const batches: WriteBatch[] = [
    ...chunk(tombstones).map((part) => ({ tombstones: part })),
    ...chunk(memories).map((part) => ({ memories: part })),
    ...chunk(links).map((part) => ({ links: part })),
  ];
  for (const batch of batches) {
    // Applied as parsed: the protocol's checks also put every instant in UTC's form.
    const parsed = parseSyncRequest({ push: batch }, namespace).push as WriteBatch;
    await store.apply(namespace, { ...parsed, clockCeiling });
  }
  const removed = tombstones.filter((t) => known.has(t.id)).length;
  return { restored: memories.length + links.length, removed, renamed };
}

function chunk<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += LIMITS.batch) out.push(items.slice(i, i + LIMITS.batch));
  return out;
}
