import { type Engram, MODIFY } from '../core/engram.js';
import type { Memory } from '../core/model.js';
import { createSerialQueue } from '../core/serial.js';
import {
  assertEntityStorable,
  assertFits,
  assertRelationStorable,
  assertRelationsFit,
} from './graph-checks.js';
import {
  bareNameInput,
  compareCreation,
  compareOrdered,
  ENTITY_KIND,
  type Entity,
  type Extras,
  entityOf,
  entityPatch,
  extrasOf,
  type Graph,
  linkOrder,
  linkType,
  NAME_KIND,
  NO_EXTRAS,
  nameOf,
  type Relation,
  relationMetadata,
  relationTypeOf,
  withExtras,
} from './graph-records.js';

export type { Entity, Graph, Relation } from './graph-records.js';
export { ENTITY_KIND, NAME_KIND } from './graph-records.js';

const PAGE = 1000;
/** search_nodes' default bound on entities found by ranked search alone (`engram mcp --search-extra`). */
export const SEARCH_EXTRA = 10;

interface Node {
  memory: Memory;
  /** The entity as read: with the observations of its twins after its own (see nodeOf). */
  entity: Entity | undefined;
  /** The other memories of this name that two writers created at once (see nodes()). */
  twins?: Memory[];
}

/**
 * A name's node: its first memory, and the entity shown for it, which keeps the observations of the
 * name's other copies (two replicas that created it offline) after its own, each once.
 */
function nodeOf(memory: Memory, twins: Memory[] = []): Node {
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
function idsOf(node: Node): string[] {
  return [node.memory.id, ...(node.twins ?? []).map((twin) => twin.id)];
}

export interface KnowledgeGraphOptions {
  /** The memory has an embedder, so search_nodes ranks by text and meaning together. */
  hybrid?: boolean;
  /**
   * Makes what the store holds durable (SqlJsStore's `flush`): run after every write, before the call
   * answers, as the reference writes its file before it answers. Stores that commit to disk need none.
   */
  save?: () => Promise<void>;
  /** At most this many entities that only ranked search finds, beside every substring match (default 10). */
  searchExtra?: number;
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
 * Every operation runs alone, in call order, like the reference's read-modify-write of its file, and
 * checks everything it will write before writing any of it: a call that fails writes nothing. Lists
 * come in the reference's order, that of creation, kept as order stamps (see `stamp`).
 */
export class KnowledgeGraph {
  private readonly serial = createSerialQueue();
  /** The greatest order stamp this graph is known to hold or to have drawn. */
  private lastStamp = Number.NEGATIVE_INFINITY;
  /** Whether the links' stamps have been read (once per process; entities' are read at every write). */
  private linkStampsKnown = false;

  constructor(
    readonly mem: Engram,
    private readonly options: KnowledgeGraphOptions = {},
  ) {}

  /** Runs `task` alone, after every operation called before it: for other readers of the same memory. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.serial(task);
  }

  /** Runs the write `task` alone, then saves (options.save) before it settles: see KnowledgeGraphOptions. */
  exclusiveWrite<T>(task: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      let result: T;
      try {
        result = await task();
      } catch (error) {
        // A failed call writes nothing, but one the store failed midway may have: keep what it did write.
        await this.options.save?.().catch(() => {});
        throw error;
      }
      await this.options.save?.();
      return result;
    });
  }

  /**
   * The next order stamp: the clock in milliseconds, but always past every stamp the graph holds, so what
   * is made later lists later even when the clock was set back (a restart an hour behind, a corrected
   * clock). Concurrent writers on one store (two servers on one edge) order roughly by their clocks.
   */
  private stamp(): number {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return this.lastStamp;
  }

  /** Before a write draws stamps: learns the greatest stamp the graph holds. */
  private async learnStamps(nodes: Map<string, Node>): Promise<void> {
    const raise = (stamp: number) => {
      if (stamp > this.lastStamp) this.lastStamp = stamp;
    };
    for (const { memory } of nodes.values()) {
      const { order, selfRelationsOrder } = extrasOf(memory);
      if (order !== undefined) raise(order);
      for (const stamp of selfRelationsOrder) raise(stamp);
    }
    if (this.linkStampsKnown) return;
    for (const { memory } of nodes.values()) {
      for (const link of await this.mem.links(memory.id, { direction: 'out' })) raise(linkOrder(link));
    }
    this.linkStampsKnown = true;
  }

  createEntities(entities: Entity[]): Promise<Entity[]> {
    return this.exclusiveWrite(async () => {
      for (const e of entities) assertEntityStorable(e);
      const nodes = await this.nodes();
      const planned = planEntities(entities, nodes);
      await this.writeEntities(planned, nodes);
      return entities.filter((e, i) => planned.has(e.name) && firstOf(entities, e, i));
    });
  }

  createRelations(relations: Relation[]): Promise<Relation[]> {
    return this.exclusiveWrite(async () => {
      for (const r of relations) assertRelationStorable(r);
      const nodes = await this.nodes();
      assertRelationsFit(relations, (name) => {
        const memory = nodes.get(name)?.memory;
        return memory && { metadata: memory.metadata, extras: extrasOf(memory) };
      });
      return this.writeRelations(relations, nodes);
    });
  }

  /**
   * A whole graph, as `createEntities` of its entities then `createRelations` of its relations would
   * store it (`engram import` of a reference memory.jsonl), but checked whole first: nothing is written
   * unless all of it can be. Returns what was created; the rest was there already or given twice.
   */
  createGraph(graph: Graph): Promise<Graph> {
    return this.exclusiveWrite(async () => {
      for (const e of graph.entities) assertEntityStorable(e);
      for (const r of graph.relations) assertRelationStorable(r);
      const nodes = await this.nodes();
      const planned = planEntities(graph.entities, nodes);
      assertRelationsFit(graph.relations, (name) => {
        const plan = planned.get(name);
        const memory = nodes.get(name)?.memory;
        if (plan) {
          const extras = memory ? extrasOf(memory) : NO_EXTRAS;
          return { metadata: entityPatch(plan.entity, extras).metadata, extras };
        }
        return memory && { metadata: memory.metadata, extras: extrasOf(memory) };
      });
      await this.writeEntities(planned, nodes);
      const entities = graph.entities.filter((e, i) => planned.has(e.name) && firstOf(graph.entities, e, i));
      return { entities, relations: await this.writeRelations(graph.relations, nodes) };
    });
  }

  private async writeEntities(planned: Map<string, Planned>, nodes: Map<string, Node>): Promise<void> {
    if (planned.size === 0) return;
    await this.learnStamps(nodes);
    for (const { entity, node } of planned.values()) {
      // A bare name becomes the entity: it takes its place in the list now, as the reference appends it.
      const extras = { ...(node ? extrasOf(node.memory) : NO_EXTRAS), order: this.stamp() };
      const patch = entityPatch(entity, extras);
      const memory = node ? await this.mem.update(node.memory.id, patch) : await this.mem.add(patch);
      nodes.set(entity.name, nodeOf(memory, node?.twins));
    }
  }

  private async writeRelations(relations: Relation[], nodes: Map<string, Node>): Promise<Relation[]> {
    if (relations.length > 0) await this.learnStamps(nodes);
    const created: Relation[] = [];
    for (const relation of relations) {
      const from = await this.nodeFor(nodes, relation.from);
      if (relation.from === relation.to) {
        // Written over what the store holds then, as observations are (Engram's MODIFY).
        let added = false;
        if ((from.twins ?? []).some((twin) => extrasOf(twin).selfRelations.includes(relation.relationType)))
          continue;
        const memory = await this.mem[MODIFY](
          from.memory.id,
          (current) => {
            const extras = extrasOf(current);
            added = !extras.selfRelations.includes(relation.relationType);
            if (!added) return null;
            const grown: Extras = {
              ...extras,
              selfRelations: [...extras.selfRelations, relation.relationType],
              selfRelationsOrder: [...extras.selfRelationsOrder, this.stamp()],
            };
            return { metadata: withExtras(current.metadata, grown) };
          },
          'metadata',
        );
        nodes.set(relation.from, nodeOf(memory, from.twins));
        if (!added) continue;
      } else {
        const to = await this.nodeFor(nodes, relation.to);
        // Held already if any copy of the one name links to any copy of the other.
        const targets = new Set(idsOf(to));
        let held = false;
        for (const id of idsOf(from)) {
          const existing = await this.mem.links(id, { direction: 'out' });
          held ||= existing.some((l) => targets.has(l.to) && relationTypeOf(l) === relation.relationType);
        }
        if (held) continue;
        const type = await linkType(relation.relationType);
        const metadata = relationMetadata(relation.relationType, this.stamp());
        await this.mem.link(from.memory.id, to.memory.id, type, { metadata });
      }
      created.push(relation);
    }
    return created;
  }

  /** Fails on the first missing entity, like the reference, and then writes nothing. */
  addObservations(
    additions: { entityName: string; contents: string[] }[],
  ): Promise<{ entityName: string; addedObservations: string[] }[]> {
    return this.exclusiveWrite(async () => {
      const nodes = await this.nodes();
      for (const a of additions) {
        const entity = nodes.get(a.entityName)?.entity;
        if (!entity) throw new Error(`Entity with name ${a.entityName} not found`);
        assertEntityStorable({ ...entity, observations: a.contents });
      }
      // Each entity's observations after the whole call, checked before anything is written.
      // New to the entity as shown (a twin's observations count as its own) and to what the store holds.
      const added = (entity: Entity, indices: number[], shown: readonly string[] = []) => {
        let observations = entity.observations;
        const lists = indices.map((i) => {
          const fresh = additions[i]!.contents.filter((c) => !observations.includes(c) && !shown.includes(c));
          observations = [...observations, ...fresh];
          return fresh;
        });
        return { next: { ...entity, observations }, lists };
      };
      const byName = groupIndices(additions.map((a) => a.entityName));
      for (const [name, indices] of byName) {
        const node = nodes.get(name)!;
        assertFits(added(node.entity!, indices).next, extrasOf(node.memory));
      }
      const results = additions.map((a) => ({ entityName: a.entityName, addedObservations: [] as string[] }));
      for (const [name, indices] of byName) {
        const node = nodes.get(name)!;
        // Computed again from what the store holds when it writes: another server's observations added
        // since this call read the graph are kept, not overwritten (Engram's MODIFY).
        const memory = await this.mem[MODIFY](
          node.memory.id,
          (current) => {
            const { next, lists } = added(
              entityOf(current) ?? node.entity!,
              indices,
              node.entity!.observations,
            );
            lists.forEach((list, j) => {
              results[indices[j]!]!.addedObservations = list;
            });
            if (lists.every((list) => list.length === 0)) return null;
            assertFits(next, extrasOf(current));
            return entityPatch(next, extrasOf(current));
          },
          'metadata',
        );
        nodes.set(name, nodeOf(memory, node.twins));
      }
      return results;
    });
  }

  /** Removes the entities and every relation touching them (Engram removes a memory's links with it). */
  deleteEntities(names: string[]): Promise<void> {
    return this.exclusiveWrite(async () => {
      const nodes = await this.nodes();
      for (const name of new Set(names)) {
        const node = nodes.get(name);
        // Its twins too: otherwise the copy another writer created would stand for the name again.
        for (const id of node ? idsOf(node) : []) await this.mem.remove(id);
      }
    });
  }

  deleteObservations(deletions: { entityName: string; observations: string[] }[]): Promise<void> {
    return this.exclusiveWrite(async () => {
      const nodes = await this.nodes();
      for (const d of deletions) {
        const node = nodes.get(d.entityName);
        if (!node?.entity) continue;
        // As addObservations: removes what it names from what the store holds when it writes, and from
        // every copy of the name, so a twin's does not show again.
        const written: Memory[] = [];
        for (const id of idsOf(node)) {
          const copy = id === node.memory.id ? node.memory : node.twins!.find((twin) => twin.id === id)!;
          if (!entityOf(copy)) {
            written.push(copy);
            continue;
          }
          const memory = await this.mem[MODIFY](
            id,
            (current) => {
              const entity = entityOf(current);
              if (!entity) return null;
              const kept = entity.observations.filter((o) => !d.observations.includes(o));
              if (kept.length === entity.observations.length) return null;
              return entityPatch({ ...entity, observations: kept }, extrasOf(current));
            },
            'metadata',
          );
          written.push(memory);
        }
        nodes.set(d.entityName, nodeOf(written[0]!, written.slice(1)));
      }
    });
  }

  deleteRelations(relations: Relation[]): Promise<void> {
    return this.exclusiveWrite(async () => {
      const nodes = await this.nodes();
      for (const relation of relations) {
        const from = nodes.get(relation.from);
        if (!from) continue;
        if (relation.from === relation.to) {
          // From every copy of the name (twins), each over what the store holds when it writes.
          const copies = [from.memory, ...(from.twins ?? [])];
          const written: Memory[] = [];
          for (const copy of copies) {
            if (!extrasOf(copy).selfRelations.includes(relation.relationType)) {
              written.push(copy);
              continue;
            }
            const memory = await this.mem[MODIFY](
              copy.id,
              (current) => {
                const extras = extrasOf(current);
                const at = extras.selfRelations.indexOf(relation.relationType);
                if (at < 0) return null;
                return {
                  metadata: withExtras(current.metadata, {
                    ...extras,
                    selfRelations: extras.selfRelations.filter((_, i) => i !== at),
                    selfRelationsOrder: extras.selfRelationsOrder.filter((_, i) => i !== at),
                  }),
                };
              },
              'metadata',
            );
            written.push(memory);
          }
          nodes.set(relation.from, nodeOf(written[0]!, written.slice(1)));
          continue;
        }
        const to = nodes.get(relation.to);
        if (!to) continue;
        const targets = new Set(idsOf(to));
        for (const id of idsOf(from)) {
          for (const link of await this.mem.links(id, { direction: 'out' })) {
            if (targets.has(link.to) && relationTypeOf(link) === relation.relationType)
              await this.mem.unlink(link.id);
          }
        }
      }
    });
  }

  readGraph(): Promise<Graph> {
    return this.serial(async () => this.graphOf(await this.nodes(), 'all'));
  }

  /**
   * Every entity whose name, type or an observation contains the query (case-insensitive), as the
   * reference matches, so none it would return is missing; and of those only ranked search finds
   * (stems, prefixes, other words of the query), the best `searchExtra`. Ranked ones come first, best
   * first, then the rest in creation order. Relations touching any result come with them.
   */
  searchNodes(query: string): Promise<Graph> {
    return this.serial(async () => {
      const nodes = await this.nodes();
      const needle = query.toLowerCase();
      const literal = (e: Entity) =>
        e.name.toLowerCase().includes(needle) ||
        e.entityType.toLowerCase().includes(needle) ||
        e.observations.some((o) => o.toLowerCase().includes(needle));
      const ranked = query.trim()
        ? await this.mem
            .search(query, { kind: ENTITY_KIND, limit: PAGE, mode: this.options.hybrid ? 'hybrid' : 'text' })
            .catch(() => [])
        : [];
      const order = new Map<string, number>();
      let extras = this.options.searchExtra ?? SEARCH_EXTRA;
      for (const hit of ranked) {
        const name = nameOf(hit.memory);
        const entity = name === undefined ? undefined : nodes.get(name)?.entity;
        if (!entity || order.has(entity.name)) continue;
        if (!literal(entity)) {
          if (extras === 0) continue;
          extras--;
        }
        order.set(entity.name, order.size);
      }
      for (const { node } of listed(nodes)) {
        if (node.entity && !order.has(node.entity.name) && literal(node.entity))
          order.set(node.entity.name, order.size);
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
      for (const link of await this.mem.links(copy.id, { direction })) {
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

  /** Every node of the graph by name. */
  private async nodes(): Promise<Map<string, Node>> {
    const firsts = new Map<string, { memory: Memory; entity: boolean; twins: Memory[] }>();
    for (const kind of [NAME_KIND, ENTITY_KIND]) {
      let cursor: string | undefined;
      do {
        const page = await this.mem.list({ kind, limit: PAGE, cursor });
        for (const memory of page.items) {
          const name = nameOf(memory);
          if (name === undefined) continue;
          const entity = kind === ENTITY_KIND && entityOf(memory) !== undefined;
          // Two replicas may create the same name offline: the first created wins, deterministically;
          // the others are its twins.
          const seen = firsts.get(name);
          const kept =
            seen &&
            ((seen.entity && !entity) ||
              (seen.entity === entity && compareCreation(seen.memory, memory) <= 0));
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

  private async nodeFor(nodes: Map<string, Node>, name: string): Promise<Node> {
    const found = nodes.get(name);
    if (found) return found;
    const memory = await this.mem.add(bareNameInput(name));
    const node = { memory, entity: undefined };
    nodes.set(name, node);
    return node;
  }
}

interface Planned {
  entity: Entity;
  /** The bare name that becomes this entity, if there is one. */
  node: Node | undefined;
}

/** The entities a create will make, each checked to fit: the first of each name not yet an entity. */
function planEntities(entities: Entity[], nodes: Map<string, Node>): Map<string, Planned> {
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

/** Nodes in list order: when each became an entity (bare names, which are not listed, by when made). */
function listed(nodes: Map<string, Node>): { node: Node; order: number; id: string }[] {
  return [...nodes.values()]
    .map((node) => ({
      node,
      order: extrasOf(node.memory).order ?? Date.parse(node.memory.createdAt),
      id: node.memory.id,
    }))
    .sort(compareOrdered);
}

/** True for the first entity of its name in `entities` (the reference keeps later ones too; see docs/agents.md). */
function firstOf(entities: Entity[], entity: Entity, index: number): boolean {
  return entities.findIndex((e) => e.name === entity.name) === index;
}

/** Positions of each distinct name, in first-seen order. */
function groupIndices(names: readonly string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  names.forEach((name, i) => {
    const group = groups.get(name);
    if (group) group.push(i);
    else groups.set(name, [i]);
  });
  return groups;
}
