import { EngramError, NotFoundError } from './errors.js';
import { isExpired } from './filter.js';
import { hlcToIso, observeStamps } from './hlc.js';
import { assertIdsFree } from './id-checks.js';
import { uuidv7 } from './ids.js';
import { alreadySuperseded, assertPeriod } from './lifecycle.js';
import { requireLive } from './live-records.js';
import type { WritesHost } from './memory-writes.js';
import type { Memory, MemoryInput } from './model.js';
import { createLinkWrite, createMemoryWrite, patchMemoryWrite } from './writes.js';

/**
 * One round of `Engram.supersede` (MemoryWrites.supersede retries it when another process's write made
 * its check stale): closes the old fact at the successor's `validFrom`, adds the successor and links it
 * with `supersedes`, in one batch guarded by the old fact's `validTo` stamp.
 */
export async function replaceFact(host: WritesHost, oldId: string, parsed: MemoryInput): Promise<Memory> {
  const { store, namespace, clock, now } = host;
  const old = await requireLive(host, oldId, 'supersede.oldId');
  const at = host.nowIso();
  const conflict = alreadySuperseded(oldId, old.memory, at) ?? (await successorFrom(host, oldId, old.memory));
  if (conflict) throw conflict;
  const from = parsed.validFrom ?? at;
  assertPeriod(from, parsed.validTo, 'supersede.input');
  if (old.memory.validFrom !== undefined && Date.parse(from) < Date.parse(old.memory.validFrom)) {
    throw new EngramError(
      'VALIDATION',
      `supersede.input.validFrom: expected an instant at or after the old memory's validFrom (${old.memory.validFrom}), got ${JSON.stringify(from)}`,
      { field: 'supersede.input.validFrom' },
    );
  }
  await assertIdsFree(store, namespace, [parsed], 'supersede.input', now());
  observeStamps(clock, old);
  const id = parsed.id ?? uuidv7(now());
  const stamp = clock.tick();
  const created = createMemoryWrite(namespace, id, { ...parsed, validFrom: from }, stamp, hlcToIso(stamp));
  const closed = patchMemoryWrite(oldId, { validTo: from }, stamp);
  const link = createLinkWrite(
    { id: uuidv7(now()), namespace, from: id, to: oldId, type: 'supersedes', createdAt: hlcToIso(stamp) },
    stamp,
  );
  const result = await host.write(
    {
      memories: [created, closed],
      links: [link],
      unchanged: [{ id: oldId, field: 'validTo', clock: old.clocks.validTo ?? null }],
      ...(parsed.id === undefined ? {} : { newIds: [parsed.id] }),
    },
    'supersede',
    [id, oldId, link.id],
  );
  if (parsed.embedding === undefined) host.embeddings()?.enqueue([id]);
  const memory = result.memories.find((r) => r.memory.id === id);
  if (!memory || result.links.length === 0)
    throw new NotFoundError(`supersede.oldId: memory ${JSON.stringify(oldId)} was deleted meanwhile`, {
      field: 'supersede.oldId',
    });
  return memory.memory;
}

/**
 * CONFLICT when a fact still valid now already has a successor taking over later (a supersede with a
 * future `validFrom`): superseding it again would leave two successors whose periods overlap. A `validTo`
 * in the future with no successor (set by an update) is ended now, as any current fact.
 */
async function successorFrom(host: WritesHost, oldId: string, old: Memory): Promise<EngramError | undefined> {
  if (old.validTo === undefined) return undefined;
  const { store, namespace } = host;
  const links = await store.linksOf(namespace, [oldId], { direction: 'in', type: 'supersedes' });
  const froms = links.filter((r) => r.link.to === oldId).map((r) => r.link.from);
  if (froms.length === 0) return undefined;
  const now = host.nowIso();
  const [successor] = (await store.getMemories(namespace, froms)).filter((r) => !isExpired(r.memory, now));
  if (!successor) return undefined;
  return new EngramError(
    'CONFLICT',
    `supersede.oldId: memory ${JSON.stringify(oldId)} is already superseded by ${JSON.stringify(successor.memory.id)} from ${old.validTo}; supersede its successor instead`,
    { field: 'supersede.oldId' },
  );
}
