import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { EngramError } from '../core/errors.js';
import type { KnowledgeGraph } from './knowledge-graph.js';
import { deletes, json, reads, writes } from './tool-common.js';

/**
 * Runs the façade call behind one of Engram's own tools, its errors naming the tool's argument
 * (`remember.content`, `recall.query`, `forget.id`) rather than the façade method's (`add.content`).
 */
async function asTool<T>(tool: string, method: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof EngramError) || error.field === undefined) throw error;
    const { field } = error;
    const renamed =
      field === method || field.startsWith(`${method}.`)
        ? `${tool}${field.slice(method.length)}`
        : field === 'query'
          ? `${tool}.query`
          : undefined;
    if (renamed === undefined) throw error;
    const message = error.message.startsWith(`${field}:`)
      ? `${renamed}${error.message.slice(field.length)}`
      : error.message;
    throw new EngramError(error.code, message, { field: renamed, cause: error });
  }
}

const MemorySchema = z.object({
  id: z.string(),
  content: z.string(),
  kind: z.string(),
  tags: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

function memoryView(m: {
  id: string;
  content: string;
  kind: string;
  tags: string[];
  createdAt: string;
  updatedAt: string;
}) {
  return {
    id: m.id,
    content: m.content,
    kind: m.kind,
    tags: m.tags,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}

/** Engram's own tools: plain memories beside the graph, ranked recall, forgetting and linking by id. */
export function registerEngramTools(server: McpServer, graph: KnowledgeGraph, hybrid: boolean): void {
  const { mem } = graph;
  server.registerTool(
    'remember',
    {
      title: 'Remember',
      description: 'Store a memory (a fact, preference or event) in Engram; returns it with its id',
      inputSchema: {
        content: z.string().describe('What to remember, as text'),
        kind: z.string().optional().describe('A label such as fact, preference or event (default note)'),
        tags: z.array(z.string()).optional().describe('Tags to filter by later'),
      },
      outputSchema: { memory: MemorySchema },
      annotations: writes,
    },
    async ({ content, kind, tags }) => {
      const memory = memoryView(
        await graph.exclusiveWrite(() => asTool('remember', 'add', () => mem.add({ content, kind, tags }))),
      );
      return json(memory, { memory });
    },
  );

  server.registerTool(
    'recall',
    {
      title: 'Recall',
      description:
        'Ranked search over stored memories (BM25 with stemming, prefixes and phrases); best first',
      inputSchema: {
        query: z.string().describe('What to look for'),
        limit: z
          .number()
          .int()
          .min(1)
          .max(100)
          .optional()
          .describe('At most this many memories (default 10)'),
        kind: z.string().optional().describe('Only memories of this kind'),
      },
      outputSchema: { memories: z.array(MemorySchema.extend({ score: z.number() })) },
      annotations: reads,
    },
    async ({ query, limit, kind }) => {
      const mode = hybrid ? 'hybrid' : 'text';
      const hits = await graph.exclusive(() =>
        asTool('recall', 'search', () => mem.search(query, { limit: limit ?? 10, kind, mode })),
      );
      const memories = hits.map((h) => ({ ...memoryView(h.memory), score: h.score }));
      return json(memories, { memories });
    },
  );

  server.registerTool(
    'forget',
    {
      title: 'Forget',
      description: 'Delete a memory by id, with its links',
      inputSchema: { id: z.string().describe('The id of the memory to delete') },
      outputSchema: { deleted: z.boolean() },
      annotations: deletes,
    },
    async ({ id }) => {
      const deleted = await graph.exclusiveWrite(() => asTool('forget', 'remove', () => mem.remove(id)));
      return json({ deleted }, { deleted });
    },
  );

  server.registerTool(
    'link',
    {
      title: 'Link',
      description: 'Link two memories by id with a typed edge, e.g. related_to or part_of',
      inputSchema: {
        from: z.string().describe('Id of the memory the link starts at'),
        to: z.string().describe('Id of the memory the link ends at'),
        type: z.string().describe('The link type'),
      },
      outputSchema: {
        link: z.object({ id: z.string(), from: z.string(), to: z.string(), type: z.string() }),
      },
      annotations: writes,
    },
    async ({ from, to, type }) => {
      const l = await graph.exclusiveWrite(() => mem.link(from, to, type));
      const link = { id: l.id, from: l.from, to: l.to, type: l.type };
      return json(link, { link });
    },
  );
}
