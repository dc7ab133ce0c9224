import type { Json, Link, Memory } from '../core/model.js';
import { LIMITS } from '../core/validate.js';

/** The shapes of `@modelcontextprotocol/server-memory`, so an agent can switch servers unchanged. */
export interface Entity {
  name: string;
  entityType: string;
  observations: string[];
}

export interface Relation {
  from: string;
  to: string;
  relationType: string;
}

export interface Graph {
  entities: Entity[];
  relations: Relation[];
}

/** Memory kinds of the graph: an entity, and a bare name that only relations point at. */
export const ENTITY_KIND = 'entity';
export const NAME_KIND = 'entity-ref';
/**
 * Link types of relation types that are no valid Engram label (empty or longer than 64 characters) start
 * with this, then a hash of the relation type: one type of their own each, since a link is replaced by
 * another with the same ends and type.
 */
const HASHED_LINK_TYPE = 'relation~';

/**
 * What an entity's memory keeps in `metadata` beside the entity itself. An order stamp says where an
 * entity or a relation stands in lists (KnowledgeGraph.stamp): a number that grows with each one made.
 */
export interface Extras {
  selfRelations: string[];
  /** The order stamp of each relation to itself. */
  selfRelationsOrder: number[];
  /** The entity's order stamp: when it became an entity. Undefined for a bare name. */
  order?: number;
}

export const NO_EXTRAS: Extras = { selfRelations: [], selfRelationsOrder: [] };

/**
 * The extras of a memory. Data written before order stamps were kept has instants instead (`since` for a
 * bare name that became an entity, `selfRelationsAt`, else the memory's own): they are read as stamps,
 * which are milliseconds, so older and newer data sort together.
 */
export function extrasOf(memory: Memory): Extras {
  const { selfRelations, selfRelationsOrder, selfRelationsAt, order, since } = memory.metadata;
  const types = strings(selfRelations);
  const stamps = Array.isArray(selfRelationsOrder) ? selfRelationsOrder : [];
  const instants = strings(selfRelationsAt);
  const extras: Extras = {
    selfRelations: types,
    selfRelationsOrder: types.map((_, i) => {
      const stamp = stamps[i];
      return typeof stamp === 'number' ? stamp : Date.parse(instants[i] ?? memory.updatedAt);
    }),
  };
  if (memory.kind === ENTITY_KIND) {
    extras.order =
      typeof order === 'number' ? order : Date.parse(typeof since === 'string' ? since : memory.createdAt);
  }
  return extras;
}

function strings(list: Json | undefined): string[] {
  return Array.isArray(list) ? list.filter((t): t is string => typeof t === 'string') : [];
}

/** `metadata` with `extras` in place of the ones it has (older instants included). */
export function withExtras(metadata: { [k: string]: Json }, extras: Extras): { [k: string]: Json } {
  const {
    selfRelations: _s,
    selfRelationsOrder: _so,
    selfRelationsAt: _sa,
    order: _o,
    since: _since,
    ...rest
  } = metadata;
  return { ...rest, ...extrasMetadata(extras) };
}

export function extrasMetadata({ selfRelations, selfRelationsOrder, order }: Extras): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  if (selfRelations.length > 0) {
    out.selfRelations = selfRelations;
    out.selfRelationsOrder = selfRelationsOrder;
  }
  if (order !== undefined) out.order = order;
  return out;
}

/** The memory of an entity: its text is what ranked search reads, its metadata keeps it exactly. */
export function entityPatch(entity: Entity, extras: Extras) {
  const text = [entity.name, entity.entityType, ...entity.observations].join('\n');
  const metadata: { [k: string]: Json } = {
    name: entity.name,
    entityType: entity.entityType,
    observations: entity.observations,
    ...extrasMetadata(extras),
  };
  return { kind: ENTITY_KIND, content: text.trim() ? text : '(unnamed)', metadata };
}

/** The memory of a name that only relations use. */
export function bareNameInput(name: string) {
  return { kind: NAME_KIND, content: name.trim() ? name : '(unnamed)', metadata: { name } };
}

/** A link's metadata: the exact relation type, and its order stamp. */
export function relationMetadata(relationType: string, order: number): { [k: string]: Json } {
  return { relationType, order };
}

export function nameOf(memory: Memory): string | undefined {
  const name = memory.metadata.name;
  return typeof name === 'string' ? name : undefined;
}

export function entityOf(memory: Memory): Entity | undefined {
  const { name, entityType, observations } = memory.metadata;
  if (typeof name !== 'string' || typeof entityType !== 'string' || !Array.isArray(observations))
    return undefined;
  return { name, entityType, observations: observations.filter((o): o is string => typeof o === 'string') };
}

export function relationTypeOf(link: Link): string {
  const type = link.metadata.relationType;
  return typeof type === 'string' ? type : link.type;
}

/** A relation's order stamp; for one made before stamps were kept, when its link was made. */
export function linkOrder(link: Link): number {
  const order = link.metadata.order;
  return typeof order === 'number' ? order : Date.parse(link.createdAt);
}

/** The relation type itself when it is a valid Engram label, else a type of its own made from its hash. */
export async function linkType(relationType: string): Promise<string> {
  if (relationType.length >= 1 && relationType.length <= LIMITS.labelLength) return relationType;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(relationType));
  const hex = [...new Uint8Array(digest, 0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${HASHED_LINK_TYPE}${hex}`;
}

export function compareCreation(a: Memory, b: Memory): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return byId(a.id, b.id);
}

/** By order stamp; equal stamps (made by two processes at once) by id, the same on every replica. */
export function compareOrdered(a: { order: number; id: string }, b: { order: number; id: string }): number {
  return a.order - b.order || byId(a.id, b.id);
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
