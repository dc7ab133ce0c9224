import { EngramError } from './errors.js';
import type { MemoryInput } from './model.js';
import type { MemoryStore } from './store-contract.js';

/**
 * Caller-given ids must be unique in the batch (VALIDATION) and unused in the namespace, including by
 * a deleted memory (CONFLICT): tombstones are forever, so an id is never reused.
 */
export async function assertIdsFree(
  store: MemoryStore,
  namespace: string,
  inputs: readonly MemoryInput[],
  where: string,
): Promise<void> {
  const seen = new Set<string>();
  inputs.forEach((input, i) => {
    if (input.id === undefined) return;
    const field = where === 'add' ? 'add.id' : `${where}.${i}.id`;
    if (seen.has(input.id)) {
      throw new EngramError('VALIDATION', `${field}: duplicate id ${JSON.stringify(input.id)} in one batch`, {
        field,
      });
    }
    seen.add(input.id);
  });
  if (seen.size === 0) return;
  const ids = [...seen];
  const [existing, dead] = await Promise.all([
    store.getMemories(namespace, ids),
    store.getTombstones(namespace, ids),
  ]);
  const taken = existing[0]?.memory.id ?? dead[0]?.id;
  if (taken === undefined) return;
  const reason = existing.length > 0 ? 'already exists' : 'was deleted and ids are never reused';
  throw new EngramError('CONFLICT', `${where}: a memory with id ${JSON.stringify(taken)} ${reason}`, {
    field: `${where}.id`,
  });
}
