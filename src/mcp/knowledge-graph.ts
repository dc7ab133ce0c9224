import type { Engram } from '../core/engram.js';
import type { Json, Link, Memory } from '../core/model.js';
import { createSerialQueue } from '../core/serial.js';

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
/** Link type when a relation type is no valid Engram label (empty or longer than 64 characters). */
const FALLBACK_LINK_TYPE = 'relation';
const PAGE = 1000;

interface Node {
  memory: Memory;
  entity: Entity | undefined;
}

/**
 * The knowledge graph of the reference MCP memory server, kept in Engram:
 * - an entity is one memory of kind `entity`: its content is the name, the type and every observation
 *   on a line of its own (so ranked search sees them all), and `metadata` keeps them exactly;
 * - a relation is an Engram link from one entity's memory to the other's, its type the relation type
 *   (`metadata.relationType` keeps it exactly); a relation to itself lives in the entity's metadata,
 *   because Engram links join two different memories;
 * - the reference accepts relations between names that are no entities (yet): such a name is a memory
 *   of kind `entity-ref`, which becomes the entity when one with its name is created.
 * Every operation runs alone, in call order, like the reference's read-modify-write of its file.
 */
export class KnowledgeGraph {
  private readonly serial = createSerialQueue();

  /** `hybrid`: the memory has an embedder, so search_nodes ranks by text and meaning together. */
  constructor(
    readonly mem: Engram,
    private readonly options: { hybrid?: boolean } = {},
  ) {}

  /** Runs `task` alone, after every operation called before it: for other writers to the same memory. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.serial(task);
  }

  createEntities(entities: Entity[]): Promise<Entity[]> {
    return this.serial(async () => {
      const nodes = await this.nodes();
      const created: Entity[] = [];
      for (const entity of entities) {
        const node = nodes.get(entity.name);
        if (node?.entity) continue;
        const fresh = {
          name: entity.name,
          entityType: entity.entityType,
          observations: [...entity.observations],
        };
        const self = node ? selfRelations(node.memory) : [];
        const memory = node
          ? await this.mem.update(node.memory.id, entityPatch(fresh, self))
          : await this.mem.add(entityPatch(fresh, self));
        nodes.set(entity.name, { memory, entity: fresh });
        created.push(entity);
      }
      return created;
    });
  }

  createRelations(relations: Relation[]): Promise<Relation[]> {
    return this.serial(async () => {
      const nodes = await this.nodes();
      const created: Relation[] = [];
      for (const relation of relations) {
        const from = await this.nodeFor(nodes, relation.from);
        if (relation.from === relation.to) {
          const self = selfRelations(from.memory);
          if (self.includes(relation.relationType)) continue;
          const memory = await this.mem.update(from.memory.id, {
            metadata: { ...from.memory.metadata, selfRelations: [...self, relation.relationType] },
          });
          nodes.set(relation.from, { ...from, memory });
        } else {
          const to = await this.nodeFor(nodes, relation.to);
          const existing = await this.mem.links(from.memory.id, { direction: 'out' });
          if (existing.some((l) => l.to === to.memory.id && relationTypeOf(l) === relation.relationType))
            continue;
          await this.mem.link(from.memory.id, to.memory.id, linkType(relation.relationType), {
            metadata: { relationType: relation.relationType },
          });
        }
        created.push(relation);
      }
      return created;
    });
  }

  /** Fails on the first missing entity, like the reference, and then writes nothing. */
  addObservations(
    additions: { entityName: string; contents: string[] }[],
  ): Promise<{ entityName: string; addedObservations: string[] }[]> {
    return this.serial(async () => {
      const nodes = await this.nodes();
      const planned = additions.map((a) => {
        const node = nodes.get(a.entityName);
        if (!node?.entity) throw new Error(`Entity with name ${a.entityName} not found`);
        return { node, a };
      });
      const results: { entityName: string; addedObservations: string[] }[] = [];
      for (const { node, a } of planned) {
        const entity = nodes.get(a.entityName)?.entity ?? node.entity!;
        const added = a.contents.filter((c) => !entity.observations.includes(c));
        if (added.length > 0) {
          const next = { ...entity, observations: [...entity.observations, ...added] };
          const memory = await this.mem.update(node.memory.id, entityPatch(next, selfRelations(node.memory)));
          nodes.set(a.entityName, { memory, entity: next });
        }
        results.push({ entityName: a.entityName, addedObservations: added });
      }
      return results;
    });
  }

  /** Removes the entities and every relation touching them (Engram removes a memory's links with it). */
  deleteEntities(names: string[]): Promise<void> {
    return this.serial(async () => {
      const nodes = await this.nodes();
      for (const name of new Set(names)) {
        const node = nodes.get(name);
        if (node) await this.mem.remove(node.memory.id);
      }
    });
  }

  deleteObservations(deletions: { entityName: string; observations: string[] }[]): Promise<void> {
    return this.serial(async () => {
      const nodes = await this.nodes();
      for (const d of deletions) {
        const node = nodes.get(d.entityName);
        if (!node?.entity) continue;
        const kept = node.entity.observations.filter((o) => !d.observations.includes(o));
        if (kept.length === node.entity.observations.length) continue;
        const next = { ...node.entity, observations: kept };
        const memory = await this.mem.update(node.memory.id, entityPatch(next, selfRelations(node.memory)));
        nodes.set(d.entityName, { memory, entity: next });
      }
    });
  }

  deleteRelations(relations: Relation[]): Promise<void> {
    return this.serial(async () => {
      const nodes = await this.nodes();
      for (const relation of relations) {
        const from = nodes.get(relation.from);
        if (!from) continue;
        if (relation.from === relation.to) {
          const self = selfRelations(from.memory);
          if (!self.includes(relation.relationType)) continue;
          const memory = await this.mem.update(from.memory.id, {
            metadata: {
              ...from.memory.metadata,
              selfRelations: self.filter((t) => t !== relation.relationType),
            },
          });
          nodes.set(relation.from, { ...from, memory });
          continue;
        }
        const to = nodes.get(relation.to);
        if (!to) continue;
        for (const link of await this.mem.links(from.memory.id, { direction: 'out' })) {
          if (link.to === to.memory.id && relationTypeOf(link) === relation.relationType)
            await this.mem.unlink(link.id);
        }
      }
    });
  }

  readGraph(): Promise<Graph> {
    return this.serial(async () => this.graphOf(await this.nodes(), 'all'));
  }

  /**
   * Ranked: entities that BM25 search finds come first, best first; then every other entity whose
   * name, type or an observation contains the query (case-insensitive), as the reference matches, so
   * no entity the reference would return is missing. Relations touching any result come with them.
   */
  searchNodes(query: string): Promise<Graph> {
    return this.serial(async () => {
      const nodes = await this.nodes();
      const needle = query.toLowerCase();
      const ranked = query.trim()
        ? await this.mem
            .search(query, { kind: ENTITY_KIND, limit: PAGE, mode: this.options.hybrid ? 'hybrid' : 'text' })
            .catch(() => [])
        : [];
      const order = new Map<string, number>();
      for (const hit of ranked) {
        const name = nameOf(hit.memory);
        if (name !== undefined && !order.has(name)) order.set(name, order.size);
      }
      for (const [name, node] of nodes) {
        const e = node.entity;
        if (!e || order.has(name)) continue;
        if (
          e.name.toLowerCase().includes(needle) ||
          e.entityType.toLowerCase().includes(needle) ||
          e.observations.some((o) => o.toLowerCase().includes(needle))
        )
          order.set(name, order.size);
      }
      const graph = await this.graphOf(nodes, (name) => order.has(name));
      graph.entities.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
      return graph;
    });
  }

  openNodes(names: string[]): Promise<Graph> {
    return this.serial(async () => {
      const wanted = new Set(names);
      return this.graphOf(await this.nodes(), (name) => wanted.has(name));
    });
  }

  /**
   * Entities passing `pick`, and every relation with an end among them, in creation order; or, with
   * `'all'`, every entity and every relation, those between bare names included (as the reference does).
   */
  private async graphOf(nodes: Map<string, Node>, pick: ((name: string) => boolean) | 'all'): Promise<Graph> {
    const byId = new Map([...nodes.values()].map((n) => [n.memory.id, n]));
    const ordered = [...nodes.values()].sort((a, b) => compareCreation(a.memory, b.memory));
    const entities = ordered
      .filter((n) => n.entity && (pick === 'all' || pick(n.entity.name)))
      .map((n) => n.entity!);
    const names = new Set(entities.map((e) => e.name));
    const relations: { relation: Relation; at: string; id: string }[] = [];
    // Every node's outgoing links for the whole graph; else only the chosen entities' links, both ways.
    const sources = pick === 'all' ? ordered : ordered.filter((n) => n.entity && names.has(n.entity.name));
    const direction = pick === 'all' ? 'out' : 'both';
    const seen = new Set<string>();
    for (const node of sources) {
      const name = nameOf(node.memory)!;
      for (const type of selfRelations(node.memory)) {
        relations.push({
          relation: { from: name, to: name, relationType: type },
          at: node.memory.updatedAt,
          id: node.memory.id,
        });
      }
      for (const link of await this.mem.links(node.memory.id, { direction })) {
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
          at: link.createdAt,
          id: link.id,
        });
      }
    }
    relations.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { entities, relations: relations.map((r) => r.relation) };
  }

  /** Every node of the graph by name. */
  private async nodes(): Promise<Map<string, Node>> {
    const nodes = new Map<string, Node>();
    for (const kind of [NAME_KIND, ENTITY_KIND]) {
      let cursor: string | undefined;
      do {
        const page = await this.mem.list({ kind, limit: PAGE, cursor });
        for (const memory of page.items) {
          const name = nameOf(memory);
          if (name === undefined) continue;
          const entity = kind === ENTITY_KIND ? entityOf(memory) : undefined;
          // Two replicas may create the same name offline: the first created wins, deterministically.
          const seen = nodes.get(name);
          if (seen?.entity && !entity) continue;
          if (seen && !!seen.entity === !!entity && compareCreation(seen.memory, memory) <= 0) continue;
          nodes.set(name, { memory, entity });
        }
        cursor = page.cursor ?? undefined;
      } while (cursor);
    }
    return nodes;
  }

  private async nodeFor(nodes: Map<string, Node>, name: string): Promise<Node> {
    const found = nodes.get(name);
    if (found) return found;
    const memory = await this.mem.add({
      kind: NAME_KIND,
      content: name.trim() ? name : '(unnamed)',
      metadata: { name },
    });
    const node = { memory, entity: undefined };
    nodes.set(name, node);
    return node;
  }
}

function entityPatch(entity: Entity, self: string[]) {
  const text = [entity.name, entity.entityType, ...entity.observations].join('\n');
  const metadata: { [k: string]: Json } = {
    name: entity.name,
    entityType: entity.entityType,
    observations: entity.observations,
  };
  if (self.length > 0) metadata.selfRelations = self;
  return { kind: ENTITY_KIND, content: text.trim() ? text : '(unnamed)', metadata };
}

function nameOf(memory: Memory): string | undefined {
  const name = memory.metadata.name;
  return typeof name === 'string' ? name : undefined;
}

function entityOf(memory: Memory): Entity | undefined {
  const { name, entityType, observations } = memory.metadata;
  if (typeof name !== 'string' || typeof entityType !== 'string' || !Array.isArray(observations))
    return undefined;
  return { name, entityType, observations: observations.filter((o): o is string => typeof o === 'string') };
}

function selfRelations(memory: Memory): string[] {
  const list = memory.metadata.selfRelations;
  return Array.isArray(list) ? list.filter((t): t is string => typeof t === 'string') : [];
}

function relationTypeOf(link: Link): string {
  const type = link.metadata.relationType;
  return typeof type === 'string' ? type : link.type;
}

function linkType(relationType: string): string {
  return relationType.length >= 1 && relationType.length <= 64 && !relationType.includes('\u0000')
    ? relationType
    : FALLBACK_LINK_TYPE;
}

function compareCreation(a: Memory, b: Memory): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
