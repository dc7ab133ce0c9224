import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Engram } from '../../src/index.js';
import type { KnowledgeGraphOptions } from '../../src/mcp/knowledge-graph.js';
import { createMcpServer } from '../../src/mcp/mcp-server.js';

/** The SDK's own Client on createMcpServer over `mem`, in this process (the CLI tests spawn `engram mcp`). */
export async function connectInProcess(
  mem: Engram,
  options: KnowledgeGraphOptions = {},
): Promise<{ client: Client; close: () => Promise<void> }> {
  const { server, detach } = createMcpServer(mem, { version: '0.0.0-test', ...options });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'engram-test', version: '1.0.0' });
  await client.connect(clientSide);
  return {
    client,
    close: async () => {
      detach();
      await client.close();
    },
  };
}
