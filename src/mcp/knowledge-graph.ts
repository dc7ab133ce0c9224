import type { Engram } from '../core/engram.js';
import type { Json, Link, Memory } from '../core/model.js';
import { createSerialQueue } from '../core/serial.js';
import { fitsUtf8, hasLoneSurrogate, LIMITS } from '../core/validate.js';

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
 * Every operation runs alone, in call order, like the reference's read-modify-write of its file, and
 * checks everything it will write before writing any of it: a call that fails writes nothing. Lists
 * come in the reference's order, that of creation: an entity's is when it became one (`metadata.since`
 * for a bare name that did), a relation to itself's when it was made (`metadata.selfRelationsAt`).
 */
export class KnowledgeGraph {
  private readonly serial = createSerialQueue();

  /** `hybrid`: the memory has an embedder, so search_nodes ranks by text and meaning together. */
  constructor(
    readonly mem: Engram,
    private readonly options: { hybrid?: boolean } = {},
  ) {}

  /** When the last entity or relation this graph made was stamped (ISO, milliseconds). */
  private lastMadeAt = '';

  /**
   * Entities and relations are listed by the instant they were made, to the millisecond: a link and a
   * relation to itself (or an entity and a bare name made one) made in one millisecond would tie, and
   * their order would then follow their ids instead of the order they were made in (the reference
   * lists in that order). So each write waits, a millisecond at a time and a few at most, until the
   * clock has passed the last one's instant; `instant` reads the instant the write was stamped with.
   */
  private async inOrder<T>(write: () => Promise<T>, instant: (made: T) => string): Promise<T> {
    for (let i = 0; i < 5 && new Date().toISOString() <= this.lastMadeAt; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const made = await write();
    this.lastMadeAt = instant(made);
    return made;
  }

  /** Runs `task` alone, after every operation called before it: for other writers to the same memory. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.serial(task);
  }

  createEntities(entities: Entity[]): Promise<Entity[]> {
    return this.serial(async () => {
      for (const e of entities) {
        assertStorable(e.name, `The name of entity ${JSON.stringify(e.name)}`);
        assertStorable(e.entityType, `The type of entity ${JSON.stringify(e.name)}`);
        for (const o of e.observations)
          assertStorable(o, `An observation of entity ${JSON.stringify(e.name)}`);
      }
      const nodes = await this.nodes();
      const planned = new Map<string, { entity: Entity; node: Node | undefined }>();
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
      for (const { entity, node } of planned.values()) {
        let memory: Memory;
        if (node) {
          // A bare name becomes the entity: it takes its place in the list now, as the reference appends it.
          const extras = extrasOf(node.memory);
          const promoted = await this.inOrder(
            () => this.mem.update(node.memory.id, entityPatch(entity, extras)),
            (m) => m.updatedAt,
          );
          memory = await this.mem.update(
            node.memory.id,
            entityPatch(entity, { ...extras, since: promoted.updatedAt }),
          );
        } else {
          memory = await this.inOrder(
            () => this.mem.add(entityPatch(entity, NO_EXTRAS)),
            (m) => m.createdAt,
          );
        }
        nodes.set(entity.name, { memory, entity });
      }
      return entities.filter((e, i) => planned.has(e.name) && firstOf(entities, e, i));
    });
  }

  createRelations(relations: Relation[]): Promise<Relation[]> {
    return this.serial(async () => {
      for (const r of relations) {
        const where = `relation ${JSON.stringify(r.from)} -> ${JSON.stringify(r.to)}`;
        assertStorable(r.from, `The source of ${where}`);
        assertStorable(r.to, `The target of ${where}`);
        assertStorable(r.relationType, `The type of ${where}`);
      }
      const nodes = await this.nodes();
      assertRelationsFit(relations, nodes);
      const created: Relation[] = [];
      for (const relation of relations) {
        const from = await this.nodeFor(nodes, relation.from);
        if (relation.from === relation.to) {
          const extras = extrasOf(from.memory);
          if (extras.selfRelations.includes(relation.relationType)) continue;
          const added = { ...extras, selfRelations: [...extras.selfRelations, relation.relationType] };
          let memory = await this.inOrder(
            () => this.mem.update(from.memory.id, { metadata: withExtras(from.memory, added) }),
            (m) => m.updatedAt,
          );
          // When it was made, by the clock that stamps links, so it sorts among them.
          const at = [...extras.selfRelationsAt, memory.updatedAt];
          memory = await this.mem.update(from.memory.id, {
            metadata: withExtras(memory, { ...added, selfRelationsAt: at }),
          });
          nodes.set(relation.from, { ...from, memory });
        } else {
          const to = await this.nodeFor(nodes, relation.to);
          const existing = await this.mem.links(from.memory.id, { direction: 'out' });
          if (existing.some((l) => l.to === to.memory.id && relationTypeOf(l) === relation.relationType))
            continue;
          const type = await linkType(relation.relationType);
          const metadata = { relationType: relation.relationType };
          await this.inOrder(
            () => this.mem.link(from.memory.id, to.memory.id, type, { metadata }),
            (l) => l.createdAt,
          );
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
      for (const a of additions) {
        if (!nodes.get(a.entityName)?.entity) throw new Error(`Entity with name ${a.entityName} not found`);
        for (const c of a.contents)
          assertStorable(c, `An observation of entity ${JSON.stringify(a.entityName)}`);
      }
      // Each entity's observations after the whole call, checked before anything is written.
      const next = new Map<string, Entity>();
      const results = additions.map((a) => {
        const entity = next.get(a.entityName) ?? nodes.get(a.entityName)!.entity!;
        const added = a.contents.filter((c) => !entity.observations.includes(c));
        if (added.length > 0)
          next.set(a.entityName, { ...entity, observations: [...entity.observations, ...added] });
        return { entityName: a.entityName, addedObservations: added };
      });
      for (const [name, entity] of next) assertFits(entity, extrasOf(nodes.get(name)!.memory));
      for (const [name, entity] of next) {
        const node = nodes.get(name)!;
        const memory = await this.mem.update(node.memory.id, entityPatch(entity, extrasOf(node.memory)));
        nodes.set(name, { memory, entity });
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
        const memory = await this.mem.update(node.memory.id, entityPatch(next, extrasOf(node.memory)));
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
          const extras = extrasOf(from.memory);
          const at = extras.selfRelations.indexOf(relation.relationType);
          if (at < 0) continue;
          const memory = await this.mem.update(from.memory.id, {
            metadata: withExtras(from.memory, {
              ...extras,
              selfRelations: extras.selfRelations.filter((_, i) => i !== at),
              selfRelationsAt: extras.selfRelationsAt.filter((_, i) => i !== at),
            }),
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
      // Entities matched only as text (what the reference does alone) follow, in the reference's order:
      // that of creation.
      const listed = [...nodes.values()].sort((a, b) => compareListed(a.memory, b.memory));
      for (const node of listed) {
        const e = node.entity;
        if (!e || order.has(e.name)) continue;
        if (
          e.name.toLowerCase().includes(needle) ||
          e.entityType.toLowerCase().includes(needle) ||
          e.observations.some((o) => o.toLowerCase().includes(needle))
        )
          order.set(e.name, order.size);
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
    const ordered = [...nodes.values()].sort((a, b) => compareListed(a.memory, b.memory));
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
      const { selfRelations, selfRelationsAt } = extrasOf(node.memory);
      selfRelations.forEach((type, i) => {
        relations.push({
          relation: { from: name, to: name, relationType: type },
          // Made before their times were kept (or by an older version): when the entity last changed.
          at: selfRelationsAt[i] ?? node.memory.updatedAt,
          id: node.memory.id,
        });
      });
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

/** What an entity's memory keeps in `metadata` beside the entity itself. */
interface Extras {
  selfRelations: string[];
  /** When each relation to itself was made (its memory's `updatedAt` then); shorter in older data. */
  selfRelationsAt: string[];
  /** When a bare name became this entity: where the entity stands in lists. */
  since?: string;
}

const NO_EXTRAS: Extras = { selfRelations: [], selfRelationsAt: [] };

function extrasOf(memory: Memory): Extras {
  const { selfRelations, selfRelationsAt, since } = memory.metadata;
  const strings = (list: Json | undefined) =>
    Array.isArray(list) ? list.filter((t): t is string => typeof t === 'string') : [];
  const extras: Extras = { selfRelations: strings(selfRelations), selfRelationsAt: strings(selfRelationsAt) };
  if (typeof since === 'string') extras.since = since;
  return extras;
}

/** `memory`'s metadata with `extras` in place of the ones it has. */
function withExtras(memory: Memory, extras: Extras): { [k: string]: Json } {
  const { selfRelations: _s, selfRelationsAt: _a, since: _since, ...rest } = memory.metadata;
  return { ...rest, ...extrasMetadata(extras) };
}

function extrasMetadata({ selfRelations, selfRelationsAt, since }: Extras): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  if (selfRelations.length > 0) out.selfRelations = selfRelations;
  if (selfRelationsAt.length > 0) out.selfRelationsAt = selfRelationsAt;
  if (since !== undefined) out.since = since;
  return out;
}

function entityPatch(entity: Entity, extras: Extras) {
  const text = [entity.name, entity.entityType, ...entity.observations].join('\n');
  const metadata: { [k: string]: Json } = {
    name: entity.name,
    entityType: entity.entityType,
    observations: entity.observations,
    ...extrasMetadata(extras),
  };
  return { kind: ENTITY_KIND, content: text.trim() ? text : '(unnamed)', metadata };
}

/**
 * Text Engram cannot keep: U+0000 (Postgres text and jsonb refuse it) and a lone surrogate (half of a
 * UTF-16 pair, which UTF-8 cannot encode). The reference writes any string to its JSON file; here the
 * call fails before it writes anything, naming the text.
 */
function assertStorable(text: string, what: string): void {
  const problem = text.includes('\u0000')
    ? 'a NUL character (U+0000)'
    : hasLoneSurrogate(text)
      ? 'a lone surrogate (half of a UTF-16 pair, not valid Unicode)'
      : undefined;
  if (problem) throw new Error(`${what} contains ${problem}, which Engram cannot store; nothing was written`);
}

/** An entity is one memory: its text and its metadata must each fit Engram's 64 KiB. */
function assertFits(entity: Entity, extras: Extras): void {
  const { content, metadata } = entityPatch(entity, extras);
  if (fitsUtf8(content, LIMITS.contentBytes) && fitsUtf8(JSON.stringify(metadata), LIMITS.metadataBytes))
    return;
  throw new Error(
    `Entity ${JSON.stringify(entity.name)} would hold more than 64 KiB of text (name, type and observations), the most one Engram memory keeps; nothing was written. Delete observations or split the entity.`,
  );
}

/**
 * Everything a createRelations call will write, checked against Engram's 64 KiB limits before any of it
 * is: a bare name's memory (its name is its text), a link's metadata (the exact relation type), and an
 * entity's metadata grown by its relations to itself. A call that fails writes nothing.
 */
function assertRelationsFit(relations: Relation[], nodes: ReadonlyMap<string, Node>): void {
  const selfTypes = new Map<string, string[]>();
  for (const r of relations) {
    const where = `Relation ${JSON.stringify(r.from.slice(0, 80))} -> ${JSON.stringify(r.to.slice(0, 80))}`;
    for (const name of [r.from, r.to]) {
      if (nodes.has(name)) continue;
      if (!fitsUtf8(name, LIMITS.contentBytes) || !fitsUtf8(JSON.stringify({ name }), LIMITS.metadataBytes)) {
        throw new Error(
          `${where} names an entity of more than 64 KiB, the most one Engram memory keeps; nothing was written`,
        );
      }
    }
    if (r.from !== r.to) {
      if (!fitsUtf8(JSON.stringify({ relationType: r.relationType }), LIMITS.metadataBytes)) {
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
    const memory = nodes.get(name)?.memory;
    const extras = memory ? extrasOf(memory) : NO_EXTRAS;
    const added = types.filter((t) => !extras.selfRelations.includes(t));
    // A made-up instant stands for each one the write will stamp: all have the same length.
    const stamp = new Date(0).toISOString();
    const grown = {
      ...extras,
      selfRelations: [...extras.selfRelations, ...added],
      selfRelationsAt: [...extras.selfRelationsAt, ...added.map(() => stamp)],
    };
    const metadata = memory ? withExtras(memory, grown) : { name, ...extrasMetadata(grown) };
    if (!fitsUtf8(JSON.stringify(metadata), LIMITS.metadataBytes)) {
      throw new Error(
        `Entity ${JSON.stringify(name.slice(0, 80))} would hold more than 64 KiB with its relations to itself, the most one Engram memory keeps; nothing was written`,
      );
    }
  }
}

/** True for the first entity of its name in `entities` (the reference keeps later ones too; see docs/agents.md). */
function firstOf(entities: Entity[], entity: Entity, index: number): boolean {
  return entities.findIndex((e) => e.name === entity.name) === index;
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

function relationTypeOf(link: Link): string {
  const type = link.metadata.relationType;
  return typeof type === 'string' ? type : link.type;
}

/** The relation type itself when it is a valid Engram label, else a type of its own made from its hash. */
async function linkType(relationType: string): Promise<string> {
  if (relationType.length >= 1 && relationType.length <= LIMITS.labelLength) return relationType;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(relationType));
  const hex = [...new Uint8Array(digest, 0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${HASHED_LINK_TYPE}${hex}`;
}

function compareCreation(a: Memory, b: Memory): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** List order: when each became an entity. */
function compareListed(a: Memory, b: Memory): number {
  const at = (m: Memory) => (typeof m.metadata.since === 'string' ? m.metadata.since : m.createdAt);
  if (at(a) !== at(b)) return at(a) < at(b) ? -1 : 1;
  return compareCreation(a, b);
}
