import { assertFits } from './graph-checks.js';
import type { Node } from './graph-nodes.js';
import { type Entity, extrasOf, NO_EXTRAS } from './graph-records.js';

// What a write will do, worked out and checked before the write begins (a call that fails writes nothing).

export interface Planned {
  entity: Entity;
  /** The bare name that becomes this entity, if there is one. */
  node: Node | undefined;
}

/** The entities a create will make, each checked to fit: the first of each name not yet an entity. */
export function planEntities(entities: Entity[], nodes: Map<string, Node>): Map<string, Planned> {
  const planned = new Map<string, Planned>();
  for (const entity of entities) {
    const node = nodes.get(entity.name);
    if (node?.entity || planned.has(entity.name)) continue;
    const fresh = {
      name: entity.name,
      entityType: entity.entityType,
      observations: [...entity.observations],
    };
    assertFits(fresh, node ? extrasOf(node.memory) : NO_EXTRAS);
    planned.set(entity.name, { entity: fresh, node });
  }
  return planned;
}

/** True for the first entity of its name in `entities` (the reference keeps later ones too; see docs/agents.md). */
export function firstOf(entities: Entity[], entity: Entity, index: number): boolean {
  return entities.findIndex((e) => e.name === entity.name) === index;
}

/** Positions of each distinct name, in first-seen order. */
export function groupIndices(names: readonly string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  names.forEach((name, i) => {
    const group = groups.get(name);
    if (group) group.push(i);
    else groups.set(name, [i]);
  });
  return groups;
}
