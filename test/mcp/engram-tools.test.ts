import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { connectInProcess } from './in-process-client.js';

describe('engram mcp: remember', () => {
  it('keeps the kind and tags given, and shows a memory with when it was made and last changed', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const { client, close } = await connectInProcess(mem);
    const remembered = await client.callTool({
      name: 'remember',
      arguments: { content: 'prefers dark roast coffee', kind: 'preference', tags: ['coffee'] },
    });
    const { memory } = remembered.structuredContent as {
      memory: { id: string; kind: string; tags: string[] };
    };
    expect(memory).toMatchObject({ kind: 'preference', tags: ['coffee'] });
    expect(await mem.get(memory.id)).toMatchObject({ kind: 'preference', tags: ['coffee'] });
    // A later millisecond, so that the update's instant differs from the creation's.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const updated = await mem.update(memory.id, { content: 'prefers light roast coffee' });
    const recalled = await client.callTool({
      name: 'recall',
      arguments: { query: 'coffee', kind: 'preference' },
    });
    expect((recalled.structuredContent as { memories: unknown[] }).memories).toEqual([
      expect.objectContaining({ id: memory.id, createdAt: updated.createdAt, updatedAt: updated.updatedAt }),
    ]);
    expect(updated.updatedAt).not.toBe(updated.createdAt);
    await close();
    await mem.close();
  });
});

describe('engram mcp: recall', () => {
  it('takes a limit from 1 to 100, as its schema says, and refuses one past either bound', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    for (let i = 0; i < 101; i++) await mem.add({ content: `tea note ${i}` });
    const { client, close } = await connectInProcess(mem);
    const { tools } = await client.listTools();
    const recall = tools.find((t) => t.name === 'recall')!;
    expect(recall.inputSchema.properties?.limit).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    for (const limit of [0, 101]) {
      const refused = await client.callTool({ name: 'recall', arguments: { query: 'tea', limit } });
      expect(refused.isError, `limit ${limit}`).toBe(true);
      expect(JSON.stringify(refused.content), `limit ${limit}`).toMatch(/limit/);
    }
    const hundred = await client.callTool({ name: 'recall', arguments: { query: 'tea', limit: 100 } });
    expect((hundred.structuredContent as { memories: unknown[] }).memories).toHaveLength(100);
    await close();
    await mem.close();
  });
});

describe('engram mcp: the memory://knowledge-graph resource', () => {
  it('tells a subscriber of every change, not only the first', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const { client, close } = await connectInProcess(mem);
    let noticed = () => {};
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => noticed());
    const nextNotice = () => new Promise<void>((resolve) => (noticed = resolve));
    await client.subscribeResource({ uri: 'memory://knowledge-graph' });
    const entities = [{ name: 'A', entityType: 't', observations: [] }];
    let notice = nextNotice();
    await client.callTool({ name: 'create_entities', arguments: { entities } });
    await notice;
    notice = nextNotice();
    await client.callTool({
      name: 'add_observations',
      arguments: { observations: [{ entityName: 'A', contents: ['later'] }] },
    });
    await notice;
    await close();
    await mem.close();
  });
});

describe('engram mcp: the resource tells of changes only', () => {
  it('sends no notice for calls of writing tools that change nothing (the reference sends one each)', async () => {
    const mem = await createMemory({ store: new InMemoryStore() });
    const { client, close } = await connectInProcess(mem);
    const entities = [{ name: 'A', entityType: 't', observations: ['o'] }];
    await client.callTool({ name: 'create_entities', arguments: { entities } });
    await client.callTool({
      name: 'create_relations',
      arguments: { relations: [{ from: 'A', to: 'A', relationType: 'is' }] },
    });
    const notices: string[] = [];
    let noticed = () => {};
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      notices.push(n.params.uri);
      noticed();
    });
    await client.subscribeResource({ uri: 'memory://knowledge-graph' });
    const unchanging: [string, Record<string, unknown>][] = [
      ['create_entities', { entities }],
      ['create_entities', { entities: [] }],
      ['create_relations', { relations: [{ from: 'A', to: 'A', relationType: 'is' }] }],
      ['add_observations', { observations: [{ entityName: 'A', contents: ['o'] }] }],
      ['delete_entities', { entityNames: ['nobody'] }],
      ['delete_observations', { deletions: [{ entityName: 'A', observations: ['never said'] }] }],
      ['delete_relations', { relations: [{ from: 'A', to: 'A', relationType: 'was' }] }],
    ];
    for (const [name, args] of unchanging) await client.callTool({ name, arguments: args });
    // A notice due for any of them would have come by the time a later call is answered.
    await new Promise((r) => setTimeout(r, 100));
    await client.callTool({ name: 'read_graph', arguments: {} });
    expect(notices).toEqual([]);
    const updated = new Promise<void>((resolve) => {
      noticed = resolve;
    });
    await client.callTool({
      name: 'add_observations',
      arguments: { observations: [{ entityName: 'A', contents: ['new'] }] },
    });
    await updated;
    expect(notices).toEqual(['memory://knowledge-graph']);
    await close();
    await mem.close();
  });
});
