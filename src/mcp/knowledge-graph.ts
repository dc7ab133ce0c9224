import { type Engram, MODIFY } from '../core/engram.js';
import { EngramError, errorMessage } from '../core/errors.js';
import type { Memory, MemoryPatch } from '../core/model.js';
import { createSerialQueue } from '../core/serial.js';
import {
  assertEntityStorable,
  assertFits,
  assertRelationStorable,
  assertRelationsFit,
} from './graph-checks.js';
import { graphOf, idsOf, listed, type Node, nodeOf, PAGE, readNodes } from './graph-nodes.js';
import { firstOf, groupIndices, type Planned, planEntities } from './graph-plans.js';
import {
  bareNameInput,
  ENTITY_KIND,
  type Entity,
  type Extras,
  entityOf,
  entityPatch,
  extrasOf,
  type Graph,
  linkType,
  NO_EXTRAS,
  nameOf,
  type Relation,
  relationMetadata,
  relationTypeOf,
  withExtras,
} from './graph-records.js';
import { OrderStamps } from './order-stamps.js';

export type { Entity, Graph, Relation } from './graph-records.js';
export { ENTITY_KIND, NAME_KIND } from './graph-records.js';

/** search_nodes' default bound on entities found by ranked search alone (`engram mcp --search-extra`). */
export const SEARCH_EXTRA = 10;

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
 * come in the reference's order, that of creation, kept as order stamps (see OrderStamps).
 */
export class KnowledgeGraph {
  private readonly serial = createSerialQueue();
  private readonly stamps: OrderStamps;

  constructor(
    readonly mem: Engram,
    private readonly options: KnowledgeGraphOptions = {},
  ) {
    this.stamps = new OrderStamps(mem);
  }

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
      try {
        await this.options.save?.();
      } catch (error) {
        throw unsaved(error);
      }
      return result;
    });
  }

  createEntities(entities: Entity[]): Promise<Entity[]> {
    return this.exclusiveWrite(async () => {
      for (const e of entities) assertEntityStorable(e);
      const nodes = await readNodes(this.mem);
      const planned = planEntities(entities, nodes);
      await this.writeEntities(planned, nodes);
      return entities.filter((e, i) => planned.has(e.name) && firstOf(entities, e, i));
    });
  }

  createRelations(relations: Relation[]): Promise<Relation[]> {
    return this.exclusiveWrite(async () => {
      for (const r of relations) assertRelationStorable(r);
      const nodes = await readNodes(this.mem);
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
      const nodes = await readNodes(this.mem);
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
    await this.stamps.learn(nodes);
    for (const { entity, node } of planned.values()) {
      // A bare name becomes the entity: it takes its place in the list now, as the reference appends it.
      const extras = { ...(node ? extrasOf(node.memory) : NO_EXTRAS), order: this.stamps.next() };
      const patch = entityPatch(entity, extras);
      const memory = node ? await this.mem.update(node.memory.id, patch) : await this.mem.add(patch);
      nodes.set(entity.name, nodeOf(memory, node?.twins));
    }
  }

  private async writeRelations(relations: Relation[], nodes: Map<string, Node>): Promise<Relation[]> {
    if (relations.length > 0) await this.stamps.learn(nodes);
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
              selfRelationsOrder: [...extras.selfRelationsOrder, this.stamps.next()],
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
        const metadata = relationMetadata(relation.relationType, this.stamps.next());
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
      const nodes = await readNodes(this.mem);
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
      const nodes = await readNodes(this.mem);
      for (const name of new Set(names)) {
        const node = nodes.get(name);
        // Its twins too: otherwise the copy another writer created would stand for the name again.
        for (const id of node ? idsOf(node) : []) await this.mem.remove(id);
      }
    });
  }

  deleteObservations(deletions: { entityName: string; observations: string[] }[]): Promise<void> {
    return this.exclusiveWrite(async () => {
      const nodes = await readNodes(this.mem);
      for (const d of deletions) {
        const node = nodes.get(d.entityName);
        if (!node?.entity) continue;
        // As addObservations: removes what it names from what the store holds when it writes, and from
        // every copy of the name, so a twin's does not show again.
        const changed = await this.changeCopies(node, (current) => {
          const entity = entityOf(current);
          if (!entity) return null;
          const kept = entity.observations.filter((o) => !d.observations.includes(o));
          if (kept.length === entity.observations.length) return null;
          return entityPatch({ ...entity, observations: kept }, extrasOf(current));
        });
        nodes.set(d.entityName, changed);
      }
    });
  }

  /**
   * `change` applied to every copy of a name (its twins too), each over what the store holds when it
   * writes (Engram's MODIFY); a copy whose read already needs no change is not written. The node after.
   */
  private async changeCopies(node: Node, change: (memory: Memory) => MemoryPatch | null): Promise<Node> {
    const written: Memory[] = [];
    for (const copy of [node.memory, ...(node.twins ?? [])]) {
      written.push(change(copy) === null ? copy : await this.mem[MODIFY](copy.id, change, 'metadata'));
    }
    return nodeOf(written[0]!, written.slice(1));
  }

  deleteRelations(relations: Relation[]): Promise<void> {
    return this.exclusiveWrite(async () => {
      const nodes = await readNodes(this.mem);
      for (const relation of relations) {
        const from = nodes.get(relation.from);
        if (!from) continue;
        if (relation.from === relation.to) {
          const changed = await this.changeCopies(from, (current) => {
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
          });
          nodes.set(relation.from, changed);
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
    return this.serial(async () => graphOf(this.mem, await readNodes(this.mem), 'all'));
  }

  /**
   * Every entity whose name, type or an observation contains the query (case-insensitive), as the
   * reference matches, so none it would return is missing; and of those only ranked search finds
   * (stems, prefixes, other words of the query), the best `searchExtra`. Ranked ones come first, best
   * first, then the rest in creation order. Relations touching any result come with them.
   */
  searchNodes(query: string): Promise<Graph> {
    return this.serial(async () => {
      const nodes = await readNodes(this.mem);
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
      const graph = await graphOf(this.mem, nodes, (name) => order.has(name));
      graph.entities.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
      return graph;
    });
  }

  openNodes(names: string[]): Promise<Graph> {
    return this.serial(async () => {
      const wanted = new Set(names);
      return graphOf(this.mem, await readNodes(this.mem), (name) => wanted.has(name));
    });
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

/**
 * A write that was made but not saved: the memory holds it, and the next save (another write's, or the
 * server's at shutdown) writes it with the rest. Said in the error, so that an agent does not make the
 * change again (a `remember` would add a second memory; the reference, which keeps nothing, needs the retry).
 */
function unsaved(error: unknown): EngramError {
  const reason = errorMessage(error);
  const code = error instanceof EngramError ? error.code : 'STORAGE';
  return new EngramError(
    code,
    `${reason}. The change was made and is kept in memory, and is saved with the next save (the next write, or shutdown): it need not be made again`,
    { cause: error },
  );
}
