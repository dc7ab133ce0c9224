import type { Json } from '../core/model.js';
import { fitsUtf8, hasLoneSurrogate, LIMITS } from '../core/validate.js';
import {
  type Entity,
  type Extras,
  entityPatch,
  extrasMetadata,
  type Relation,
  withExtras,
} from './graph-records.js';

/** Stands for an order stamp not yet drawn when a size is checked: no stamp is longer. */
const LONGEST_STAMP = Number.MAX_SAFE_INTEGER;

/**
 * Text Engram cannot keep: U+0000 (Postgres text and jsonb refuse it) and a lone surrogate (half of a
 * UTF-16 pair, which UTF-8 cannot encode). The reference writes any string to its JSON file; here the
 * call fails before it writes anything, naming the text.
 */
export function assertStorable(text: string, what: string): void {
  const problem = text.includes('\u0000')
    ? 'a NUL character (U+0000)'
    : hasLoneSurrogate(text)
      ? 'a lone surrogate (half of a UTF-16 pair, not valid Unicode)'
      : undefined;
  if (problem) throw new Error(`${what} contains ${problem}, which Engram cannot store; nothing was written`);
}

export function assertEntityStorable(e: Entity): void {
  assertStorable(e.name, `The name of entity ${JSON.stringify(e.name)}`);
  assertStorable(e.entityType, `The type of entity ${JSON.stringify(e.name)}`);
  for (const o of e.observations) assertStorable(o, `An observation of entity ${JSON.stringify(e.name)}`);
}

export function assertRelationStorable(r: Relation): void {
  const where = `relation ${JSON.stringify(r.from)} -> ${JSON.stringify(r.to)}`;
  assertStorable(r.from, `The source of ${where}`);
  assertStorable(r.to, `The target of ${where}`);
  assertStorable(r.relationType, `The type of ${where}`);
}

/** An entity is one memory: its text and its metadata must each fit Engram's 64 KiB. */
export function assertFits(entity: Entity, extras: Extras): void {
  const { content, metadata } = entityPatch(entity, { ...extras, order: extras.order ?? LONGEST_STAMP });
  if (fitsUtf8(content, LIMITS.contentBytes) && fitsUtf8(JSON.stringify(metadata), LIMITS.metadataBytes))
    return;
  throw new Error(
    `Entity ${JSON.stringify(entity.name)} would hold more than 64 KiB of text (name, type and observations), the most one Engram memory keeps; nothing was written. Delete observations or split the entity.`,
  );
}

/**
 * Everything writing `relations` will write, checked against Engram's 64 KiB limits before any of it is:
 * a bare name's memory (its name is its text), a link's metadata (the exact relation type), and an
 * entity's metadata grown by its relations to itself. `node(name)` is the metadata and extras of the
 * node of that name, undefined when there is none (the relation will make a bare name).
 */
export function assertRelationsFit(
  relations: Relation[],
  node: (name: string) => { metadata: { [k: string]: Json }; extras: Extras } | undefined,
): void {
  const selfTypes = new Map<string, string[]>();
  for (const r of relations) {
    const where = `Relation ${JSON.stringify(r.from.slice(0, 80))} -> ${JSON.stringify(r.to.slice(0, 80))}`;
    for (const name of [r.from, r.to]) {
      if (node(name)) continue;
      if (!fitsUtf8(name, LIMITS.contentBytes) || !fitsUtf8(JSON.stringify({ name }), LIMITS.metadataBytes)) {
        throw new Error(
          `${where} names an entity of more than 64 KiB, the most one Engram memory keeps; nothing was written`,
        );
      }
    }
    if (r.from !== r.to) {
      const metadata = { relationType: r.relationType, order: LONGEST_STAMP };
      if (!fitsUtf8(JSON.stringify(metadata), LIMITS.metadataBytes)) {
        throw new Error(
          `${where} has a relation type of more than 64 KiB, the most Engram keeps with a link; nothing was written`,
        );
      }
      continue;
    }
    const types = selfTypes.get(r.from) ?? [];
    if (!types.includes(r.relationType)) types.push(r.relationType);
    selfTypes.set(r.from, types);
  }
  for (const [name, types] of selfTypes) {
    const found = node(name);
    const extras = found?.extras ?? { selfRelations: [], selfRelationsOrder: [] };
    const added = types.filter((t) => !extras.selfRelations.includes(t));
    const grown = {
      ...extras,
      selfRelations: [...extras.selfRelations, ...added],
      selfRelationsOrder: [...extras.selfRelationsOrder, ...added.map(() => LONGEST_STAMP)],
    };
    const metadata = found ? withExtras(found.metadata, grown) : { name, ...extrasMetadata(grown) };
    if (!fitsUtf8(JSON.stringify(metadata), LIMITS.metadataBytes)) {
      throw new Error(
        `Entity ${JSON.stringify(name.slice(0, 80))} would hold more than 64 KiB with its relations to itself, the most one Engram memory keeps; nothing was written`,
      );
    }
  }
}
