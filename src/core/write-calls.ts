import { noOptions, withoutUndefined } from './call-arguments.js';
import { validationError } from './errors.js';
import type { MemoryWrites } from './memory-writes.js';
import type { AddOptions, Link, LinkOptions, Memory, MemoryInput, MemoryPatch } from './model.js';
import * as schema from './validate.js';

// Engram's write calls as it is given them: each checks its arguments, errors naming the call's fields,
// then hands them to MemoryWrites (the caller has checked the memory is open).

/** See Engram.add. */
export async function add(writes: MemoryWrites, input: MemoryInput, options: AddOptions): Promise<Memory> {
  const parsed = schema.parse(schema.memoryInputSchema, input, 'add');
  const { dedupe } = schema.parse(schema.addOptionsSchema, options, 'add.options');
  if (dedupe) return writes.addDeduped(parsed);
  const [memory] = await writes.insert([parsed], 'add');
  return memory!;
}

/** See Engram.supersede. */
export function supersede(
  writes: MemoryWrites,
  oldId: string,
  input: MemoryInput,
  rest: unknown[],
): Promise<Memory> {
  noOptions(rest, 'supersede.options', 'no options (supersede takes none)');
  schema.parse(schema.idSchema, oldId, 'supersede.oldId');
  const parsed = schema.parse(schema.memoryInputSchema, input, 'supersede.input');
  return writes.supersede(oldId, parsed);
}

/** See Engram.clear. */
export function clear(writes: MemoryWrites, rest: unknown[]): Promise<number> {
  // clear() takes no filter: one passed by mistake (`clear({ kind })`) must not wipe the namespace.
  noOptions(rest, 'clear', 'no arguments (clear removes the whole namespace; remove() takes one id)');
  return writes.clear();
}

/** See Engram.addMany. */
export function addMany(writes: MemoryWrites, inputs: MemoryInput[], rest: unknown[]): Promise<Memory[]> {
  // Options such as `{ dedupe: true }` are add()'s only: silently adding duplicates would mislead.
  noOptions(rest, 'addMany.options', "no options (dedupe is add()'s, one memory at a time)");
  if (!Array.isArray(inputs)) {
    throw validationError('addMany', 'an array of memories');
  }
  if (inputs.length > schema.LIMITS.batch) {
    throw validationError('addMany', `at most ${schema.LIMITS.batch} memories`, inputs.length);
  }
  const parsed = inputs.map((input, i) => schema.parse(schema.memoryInputSchema, input, `addMany.${i}`));
  return writes.insert(parsed, 'addMany');
}

/** See Engram.update. */
export function update(
  writes: MemoryWrites,
  id: string,
  patch: MemoryPatch,
  rest: unknown[],
): Promise<Memory> {
  noOptions(rest, 'update.options', 'no options (update takes none)');
  schema.parse(schema.idSchema, id, 'update.id');
  // A key set to undefined (`{ tags: maybeTags }`) is a field not given, as it is in JSON: `null` clears.
  const parsed = schema.parse(schema.memoryPatchSchema, withoutUndefined(patch), 'update.patch');
  return writes.update(id, parsed);
}

/** See Engram[MODIFY]: the patch `change` returns is checked as update()'s is. */
export function modify(
  writes: MemoryWrites,
  id: string,
  change: (memory: Memory) => MemoryPatch | null,
  guard: 'metadata',
): Promise<Memory> {
  schema.parse(schema.idSchema, id, 'update.id');
  return writes.modify(
    id,
    (memory) => {
      const patch = change(memory);
      return patch && schema.parse(schema.memoryPatchSchema, withoutUndefined(patch), 'update.patch');
    },
    guard,
  );
}

/** See Engram.remove. */
export function remove(writes: MemoryWrites, id: string, rest: unknown[]): Promise<boolean> {
  noOptions(rest, 'remove.options', 'no options (remove takes none)');
  schema.parse(schema.idSchema, id, 'remove.id');
  return writes.remove(id);
}

/** See Engram.link. */
export function link(
  writes: MemoryWrites,
  fromId: string,
  toId: string,
  type: string,
  options: LinkOptions,
): Promise<Link> {
  schema.parse(schema.idSchema, fromId, 'link.from');
  schema.parse(schema.idSchema, toId, 'link.to');
  schema.parse(schema.labelSchema('type'), type, 'link.type');
  const parsed = schema.parse(schema.linkOptionsSchema, options, 'link.options');
  if (fromId === toId) {
    throw validationError('link.to', 'a memory other than link.from');
  }
  return writes.link(fromId, toId, type, parsed);
}

/** See Engram.unlink. */
export function unlink(writes: MemoryWrites, linkId: string): Promise<boolean> {
  schema.parse(schema.idSchema, linkId, 'unlink.id');
  return writes.unlink(linkId);
}
