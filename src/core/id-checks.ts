import { EngramError } from './errors.js';
import type { MemoryInput } from './model.js';
import type { MemoryStore } from './store-contract.js';

/**
 * Caller-given ids must be unique in the batch (VALIDATION) and unused in the namespace, by a memory, a
 * link or a deleted record (CONFLICT): a deleted id is taken while its tombstone is kept, and free again
 * once maintenance collects it past the horizon (merge.ts, `createsAnew`).
 */
export async function assertIdsFree(
  store: MemoryStore,
  namespace: string,
  inputs: readonly MemoryInput[],
  where: string,
  now = Date.now(),
): Promise<void> {
  const seen = new Set<string>();
  // A batch names the item (`addMany.3.id`); a single write its input (`add.id`, `supersede.input.id`).
  const fieldOf = (i: number) => (where === 'addMany' ? `${where}.${i}.id` : `${where}.id`);
  inputs.forEach((input, i) => {
    if (input.id === undefined) return;
    const field = fieldOf(i);
    if (seen.has(input.id)) {
      throw new EngramError('VALIDATION', `${field}: duplicate id ${JSON.stringify(input.id)} in one batch`, {
        field,
      });
    }
    seen.add(input.id);
  });
  if (seen.size === 0) return;
  const ids = [...seen];
  // Links share the id space: a tombstone names its record by id alone.
  const [existing, links, dead] = await Promise.all([
    store.getMemories(namespace, ids),
    store.getLinks(namespace, ids),
    store.getTombstones(namespace, ids),
  ]);
  const found = existing[0]?.memory;
  // An expired memory is hidden from reads until maintenance purges it, but its id stays taken: say so,
  // or the caller sees get() answer null and add() answer "exists".
  const expired =
    found?.expiresAt !== undefined && Date.parse(found.expiresAt) <= now
      ? ` (it expired at ${found.expiresAt} and is hidden until maintenance purges it)`
      : '';
  const reason = found
    ? `a memory with id ${JSON.stringify(found.id)} already exists${expired}`
    : links[0]
      ? `id ${JSON.stringify(links[0].link.id)} is a link in this namespace (memories and links share ids)`
      : dead[0]
        ? `a memory with id ${JSON.stringify(dead[0].id)} was deleted (the id is free again once its tombstone is collected, past the maintenance horizon)`
        : undefined;
  if (reason === undefined) return;
  const taken = found?.id ?? links[0]?.link.id ?? dead[0]?.id;
  const field = fieldOf(inputs.findIndex((input) => input.id === taken));
  throw new EngramError('CONFLICT', `${field}: ${reason}`, { field });
}
