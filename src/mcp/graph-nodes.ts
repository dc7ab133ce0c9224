import type { Engram } from '../core/engram.js';
import type { Memory } from '../core/model.js';
import {
  compareCreation,
  compareOrdered,
  ENTITY_KIND,
  type Entity,
  entityOf,
  extrasOf,
  type Graph,
  linkOrder,
  NAME_KIND,
  nameOf,
  type Relation,
  relationTypeOf,
} from './graph-records.js';

// Reading the graph out of Engram: a node per name (its twins folded in), and entities and relations in list order.

export const PAGE = 1000;

export interface Node {
  memory: Memory;
  /** The entity as read: with the observations of its twins after its own (see nodeOf). */
  entity: Entity | undefined;
  /** The other memories of this name that two writers created at once (see readNodes). */
  twins?: Memory[];
}

/**
 * A name's node: its first memory, and the entity shown for it, which keeps the observations of the
 * name's other copies (two replicas that created it offline) after its own, each once.
 */
export function nodeOf(memory: Memory, twins: Memory[] = []): Node {
  const entity = entityOf(memory);
  if (!entity || twins.length === 0) return { memory, entity, twins };
  const observations = [...entity.observations];
  const shown = new Set(observations);
  for (const twin of [...twins].sort(compareCreation)) {
    for (const observation of entityOf(twin)?.observations ?? []) {
      if (shown.has(observation)) continue;
      shown.add(observation);
      observations.push(observation);
    }
  }
  return { memory, entity: { ...entity, observations }, twins };
}

/** The ids of a node's memories: its own and its twins'. */
export function idsOf(node: Node): string[] {
  return [node.memory.id, ...(node.twins ?? []).map((twin) => twin.id)];
}

/** Every node of the graph by name. */
export async function readNodes(mem: Engram): Promise<Map<string, Node>> {
  const firsts = new Map<string, { memory: Memory; entity: boolean; twins: Memory[] }>();
  for (const kind of [NAME_KIND, ENTITY_KIND]) {
    let cursor: string | undefined;
    do {
      const page = await mem.list({ kind, limit: PAGE, cursor });
      for (const memory of page.items) {
        const name = nameOf(memory);
        if (name === undefined) continue;
        const entity = kind === ENTITY_KIND && entityOf(memory) !== undefined;
        // Two replicas may create the same name offline: the first created wins, deterministically;
        // the others are its twins.
        const seen = firsts.get(name);
        const kept =
          seen &&
          ((seen.entity && !entity) || (seen.entity === entity && compareCreation(seen.memory, memory) <= 0));
        if (kept) seen.twins.push(memory);
        else firsts.set(name, { memory, entity, twins: seen ? [...seen.twins, seen.memory] : [] });
      }
      cursor = page.cursor ?? undefined;
    } while (cursor);
  }
  const nodes = new Map<string, Node>();
  for (const [name, { memory, twins }] of firsts) nodes.set(name, nodeOf(memory, twins));
  return nodes;
}

/**
 * Entities passing `pick`, and every relation with an end among them, in creation order; or, with
 * `'all'`, every entity and every relation, those between bare names included (as the reference does).
 */
export async function graphOf(
  mem: Engram,
  nodes: Map<string, Node>,
  pick: ((name: string) => boolean) | 'all',
): Promise<Graph> {
  const byId = new Map([...nodes.values()].flatMap((n) => idsOf(n).map((id) => [id, n] as const)));
  const ordered = listed(nodes).map(({ node }) => node);
  const entities = ordered
    .filter((n) => n.entity && (pick === 'all' || pick(n.entity.name)))
    .map((n) => n.entity!);
  const names = new Set(entities.map((e) => e.name));
  const relations: { relation: Relation; order: number; id: string }[] = [];
  // Every node's outgoing links for the whole graph; else only the chosen entities' links, both ways.
  const sources = pick === 'all' ? ordered : ordered.filter((n) => n.entity && names.has(n.entity.name));
  const direction = pick === 'all' ? 'out' : 'both';
  const seen = new Set<string>();
  // A name's copies (twins) speak for it too: their relations are the name's.
  for (const copy of sources.flatMap((node) => [node.memory, ...(node.twins ?? [])])) {
    const name = nameOf(copy)!;
    const { selfRelations, selfRelationsOrder } = extrasOf(copy);
    selfRelations.forEach((type, i) => {
      relations.push({
        relation: { from: name, to: name, relationType: type },
        order: selfRelationsOrder[i]!,
        id: copy.id,
      });
    });
    for (const link of await mem.links(copy.id, { direction })) {
      if (seen.has(link.id)) continue;
      seen.add(link.id);
      const from = byId.get(link.from);
      const to = byId.get(link.to);
      if (!from || !to) continue;
      relations.push({
        relation: {
          from: nameOf(from.memory)!,
          to: nameOf(to.memory)!,
          relationType: relationTypeOf(link),
        },
        order: linkOrder(link),
        id: link.id,
      });
    }
  }
  relations.sort(compareOrdered);
  // Two copies holding one relation show it once, where it was made first.
  const shown = new Set<string>();
  const unique = relations.filter(({ relation: { from, to, relationType } }) => {
    const key = JSON.stringify([from, to, relationType]);
    if (shown.has(key)) return false;
    shown.add(key);
    return true;
  });
  return { entities, relations: unique.map((r) => r.relation) };
}

/** Nodes in list order: when each became an entity (bare names, which are not listed, by when made). */
export function listed(nodes: Map<string, Node>): { node: Node; order: number; id: string }[] {
  return [...nodes.values()]
    .map((node) => ({
      node,
      order: extrasOf(node.memory).order ?? Date.parse(node.memory.createdAt),
      id: node.memory.id,
    }))
    .sort(compareOrdered);
}
