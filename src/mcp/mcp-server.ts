import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Engram } from '../core/engram.js';
import { registerEngramTools } from './engram-tools.js';
import { KnowledgeGraph, type KnowledgeGraphOptions } from './knowledge-graph.js';
import { deletes, done, json, reads, writes } from './tool-common.js';

// The nine tools keep the reference server's names, titles, input and output schemas and results
// (`@modelcontextprotocol/server-memory`), so an agent configured for it switches by changing the command.
const EntitySchema = z.object({
  name: z.string().describe('The name of the entity'),
  entityType: z.string().describe('The type of the entity'),
  observations: z.array(z.string()).describe('An array of observation contents associated with the entity'),
});
const RelationSchema = z.object({
  from: z.string().describe('The name of the entity where the relation starts'),
  to: z.string().describe('The name of the entity where the relation ends'),
  relationType: z.string().describe('The type of the relation'),
});
const GraphShape = { entities: z.array(EntitySchema), relations: z.array(RelationSchema) };
const DoneShape = { success: z.boolean(), message: z.string() };

/**
 * An MCP server over one Engram memory: the reference memory server's nine tools and its graph resource,
 * plus Engram's own tools. `idle` waits for the calls under way; `detach` stops the resource's notices.
 * A write answers once `info.save` has made it durable (see KnowledgeGraphOptions).
 */
export function createMcpServer(
  mem: Engram,
  info: { version: string } & KnowledgeGraphOptions,
): { server: McpServer; idle: () => Promise<void>; detach: () => void } {
  const { version, ...options } = info;
  const graph = new KnowledgeGraph(mem, options);
  const server = new McpServer({ name: 'engram-memory', version });

  server.registerTool(
    'create_entities',
    {
      title: 'Create Entities',
      description: 'Create multiple new entities in the knowledge graph',
      inputSchema: { entities: z.array(EntitySchema) },
      outputSchema: { entities: z.array(EntitySchema) },
      annotations: writes,
    },
    async ({ entities }) => {
      const result = await graph.createEntities(entities);
      return json(result, { entities: result });
    },
  );

  server.registerTool(
    'create_relations',
    {
      title: 'Create Relations',
      description:
        'Create multiple new relations between entities in the knowledge graph. Relations should be in active voice',
      inputSchema: { relations: z.array(RelationSchema) },
      outputSchema: { relations: z.array(RelationSchema) },
      annotations: writes,
    },
    async ({ relations }) => {
      const result = await graph.createRelations(relations);
      return json(result, { relations: result });
    },
  );

  server.registerTool(
    'add_observations',
    {
      title: 'Add Observations',
      description: 'Add new observations to existing entities in the knowledge graph',
      inputSchema: {
        observations: z.array(
          z.object({
            entityName: z.string().describe('The name of the entity to add the observations to'),
            contents: z.array(z.string()).describe('An array of observation contents to add'),
          }),
        ),
      },
      outputSchema: {
        results: z.array(z.object({ entityName: z.string(), addedObservations: z.array(z.string()) })),
      },
      annotations: writes,
    },
    async ({ observations }) => {
      const result = await graph.addObservations(observations);
      return json(result, { results: result });
    },
  );

  server.registerTool(
    'delete_entities',
    {
      title: 'Delete Entities',
      description: 'Delete multiple entities and their associated relations from the knowledge graph',
      inputSchema: { entityNames: z.array(z.string()).describe('An array of entity names to delete') },
      outputSchema: DoneShape,
      annotations: deletes,
    },
    async ({ entityNames }) => {
      await graph.deleteEntities(entityNames);
      return done('Entities deleted successfully');
    },
  );

  server.registerTool(
    'delete_observations',
    {
      title: 'Delete Observations',
      description: 'Delete specific observations from entities in the knowledge graph',
      inputSchema: {
        deletions: z.array(
          z.object({
            entityName: z.string().describe('The name of the entity containing the observations'),
            observations: z.array(z.string()).describe('An array of observations to delete'),
          }),
        ),
      },
      outputSchema: DoneShape,
      annotations: deletes,
    },
    async ({ deletions }) => {
      await graph.deleteObservations(deletions);
      return done('Observations deleted successfully');
    },
  );

  server.registerTool(
    'delete_relations',
    {
      title: 'Delete Relations',
      description: 'Delete multiple relations from the knowledge graph',
      inputSchema: { relations: z.array(RelationSchema).describe('An array of relations to delete') },
      outputSchema: DoneShape,
      annotations: deletes,
    },
    async ({ relations }) => {
      await graph.deleteRelations(relations);
      return done('Relations deleted successfully');
    },
  );

  server.registerTool(
    'read_graph',
    {
      title: 'Read Graph',
      description: 'Read the entire knowledge graph',
      inputSchema: {},
      outputSchema: GraphShape,
      annotations: reads,
    },
    async () => {
      const result = await graph.readGraph();
      return json(result, { ...result });
    },
  );

  server.registerTool(
    'search_nodes',
    {
      title: 'Search Nodes',
      description:
        'Search for nodes in the knowledge graph based on a query (ranked, best first: every entity whose name, type or an observation contains the query, and a few more that ranked search finds)',
      inputSchema: {
        query: z
          .string()
          .describe('The search query to match against entity names, types, and observation content'),
      },
      outputSchema: GraphShape,
      annotations: reads,
    },
    async ({ query }) => {
      const result = await graph.searchNodes(query);
      return json(result, { ...result });
    },
  );

  server.registerTool(
    'open_nodes',
    {
      title: 'Open Nodes',
      description: 'Open specific nodes in the knowledge graph by their names',
      inputSchema: { names: z.array(z.string()).describe('An array of entity names to retrieve') },
      outputSchema: GraphShape,
      annotations: reads,
    },
    async ({ names }) => {
      const result = await graph.openNodes(names);
      return json(result, { ...result });
    },
  );

  registerEngramTools(server, graph, info.hybrid === true);
  const detach = registerGraphResource(server, graph);
  return { server, idle: () => graph.exclusive(async () => {}), detach };
}

/** The reference's resource: the whole graph as JSON, as read_graph answers. */
export const GRAPH_RESOURCE = 'memory://knowledge-graph';

/**
 * The reference server's `memory://knowledge-graph` resource, with subscriptions: a subscribed client
 * is told `notifications/resources/updated` after a change, whoever made it (a tool call, another
 * process on the same store, a sync pull), once per burst of changes. Returns what stops the notices.
 */
function registerGraphResource(server: McpServer, graph: KnowledgeGraph): () => void {
  server.registerResource(
    'knowledge-graph',
    GRAPH_RESOURCE,
    {
      title: 'Knowledge Graph',
      description: 'The full knowledge graph with all entities and relations',
      mimeType: 'application/json',
    },
    async (uri) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'application/json',
          text: JSON.stringify(await graph.readGraph(), null, 2),
        },
      ],
    }),
  );
  const subscribed = new Set<string>();
  server.server.registerCapabilities({ resources: { subscribe: true } });
  server.server.setRequestHandler(SubscribeRequestSchema, async ({ params }) => {
    subscribed.add(params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async ({ params }) => {
    subscribed.delete(params.uri);
    return {};
  });
  let due = false;
  return graph.mem.on('change', () => {
    if (due || !subscribed.has(GRAPH_RESOURCE)) return;
    due = true;
    setTimeout(() => {
      due = false;
      // A client that has gone away meanwhile is no one to tell.
      if (subscribed.has(GRAPH_RESOURCE))
        server.server.sendResourceUpdated({ uri: GRAPH_RESOURCE }).catch(() => {});
    }, 0);
  });
}
