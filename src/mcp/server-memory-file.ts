import { errorMessage } from '../core/errors.js';
import { assertEntityStorable, assertFits, assertRelationStorable } from './graph-checks.js';
import { type Entity, type Graph, NO_EXTRAS, type Relation } from './graph-records.js';

/**
 * The reference server's `memory.jsonl` (`MEMORY_FILE_PATH`): one JSON object a line,
 * `{"type":"entity","name","entityType","observations":[...]}` or `{"type":"relation","from","to","relationType"}`.
 */
export type ServerMemoryEntry = ({ type: 'entity' } & Entity) | ({ type: 'relation' } & Relation);

const SHAPE =
  'a line of @modelcontextprotocol/server-memory\'s memory.jsonl, {"type":"entity","name","entityType","observations":[...]} or {"type":"relation","from","to","relationType"}';

/** True when `line` is an entry of that file, by its `type`: how `engram import` tells it from an export. */
export function isServerMemoryLine(line: string): boolean {
  try {
    const type = (JSON.parse(line) as { type?: unknown } | null)?.type;
    return type === 'entity' || type === 'relation';
  } catch {
    return false;
  }
}

/**
 * The graph of a memory.jsonl, every line checked before any is kept: a line that is no entry of that
 * file, or holds what Engram cannot store (KnowledgeGraph's own checks), fails naming its number. Blank
 * lines are skipped. Entities and relations keep the file's order, the order the reference made them in.
 */
export async function readServerMemory(lines: AsyncIterable<string>): Promise<Graph> {
  const graph: Graph = { entities: [], relations: [] };
  let number = 0;
  for await (const line of lines) {
    number++;
    if (line.trim() === '') continue;
    try {
      const entry = parseEntry(line);
      if (entry.type === 'entity') {
        const entity = { name: entry.name, entityType: entry.entityType, observations: entry.observations };
        assertEntityStorable(entity);
        assertFits(entity, NO_EXTRAS);
        graph.entities.push(entity);
      } else {
        const relation = { from: entry.from, to: entry.to, relationType: entry.relationType };
        assertRelationStorable(relation);
        graph.relations.push(relation);
      }
    } catch (error) {
      throw new Error(`line ${number}: ${errorMessage(error)}`);
    }
  }
  return graph;
}

function parseEntry(line: string): ServerMemoryEntry {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new Error(`expected JSON (${errorMessage(error)}); nothing was written`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`expected ${SHAPE}, got ${describe(value)}; nothing was written`);
  const entry = value as Record<string, unknown>;
  const field = (key: string) => {
    if (typeof entry[key] !== 'string')
      throw new Error(`"${key}" must be a string, got ${describe(entry[key])}; nothing was written`);
    return entry[key] as string;
  };
  if (entry.type === 'entity') {
    const { observations } = entry;
    const name = field('name');
    const entityType = field('entityType');
    if (!Array.isArray(observations) || !observations.every((o) => typeof o === 'string'))
      throw new Error(
        `"observations" must be an array of strings, got ${describe(observations)}; nothing was written`,
      );
    return { type: 'entity', name, entityType, observations };
  }
  if (entry.type === 'relation')
    return { type: 'relation', from: field('from'), to: field('to'), relationType: field('relationType') };
  throw new Error(
    `"type" must be "entity" or "relation" (${SHAPE}), got ${describe(entry.type)}; nothing was written`,
  );
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
