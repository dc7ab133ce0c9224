import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEdge } from './fixtures.js';
import {
  buildCli,
  type Call,
  type Connected,
  call,
  connectEngram,
  connectReference,
  graphSets,
} from './mcp-helpers.js';

// `engram mcp` against the reference `@modelcontextprotocol/server-memory`, both real processes
// spoken to by the SDK's own Client over stdio, on the same calls.
const dir = mkdtempSync(join(tmpdir(), 'engram-mcp-'));
let n = 0;
const fresh = (ext: string) => join(dir, `${++n}.${ext}`);

beforeAll(buildCli, 60_000);
// Each test spawns real server processes; on a loaded machine that takes seconds apiece.
vi.setConfig({ testTimeout: 90_000 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NINE = [
  'add_observations',
  'create_entities',
  'create_relations',
  'delete_entities',
  'delete_observations',
  'delete_relations',
  'open_nodes',
  'read_graph',
  'search_nodes',
];

async function pair(): Promise<{ ours: Connected; ref: Connected; close: () => Promise<void> }> {
  const [ours, ref] = await Promise.all([
    connectEngram(['--store', `sqlite:${fresh('db')}`]),
    connectReference(fresh('jsonl')),
  ]);
  return { ours, ref, close: async () => void (await Promise.all([ours.close(), ref.close()])) };
}

const READS = new Set(['read_graph', 'search_nodes', 'open_nodes']);

/** Runs each call on both servers; results must agree (as sets where order is the server's business). */
async function runBoth(ours: Connected, ref: Connected, calls: Call[]): Promise<void> {
  for (const c of calls) {
    const [a, b] = await Promise.all([call(ours, c), call(ref, c)]);
    const where = JSON.stringify(c);
    expect(a.isError, where).toBe(b.isError);
    if (b.isError) {
      expect(a.text, where).toBe(b.text);
      continue;
    }
    expect(a.text.length, where).toBeGreaterThan(0);
    if (READS.has(c.name)) {
      if (c.name === 'search_nodes') {
        // Ours is ranked and may find more (stems, prefixes); never fewer than the reference.
        const ourSets = graphSets(a.structured);
        for (const e of graphSets(b.structured).entities) expect(ourSets.entities, where).toContain(e);
      } else if (c.name === 'read_graph') {
        // The reference lists in creation order; so does ours.
        expect(a.structured, where).toEqual(b.structured);
      } else {
        expect(graphSets(a.structured), where).toEqual(graphSets(b.structured));
      }
      expect(graphSets(JSON.parse(a.text)), where).toEqual(graphSets(a.structured));
    } else {
      expect(a.structured, where).toEqual(b.structured);
      expect(a.text, where).toBe(b.text);
    }
    const [ga, gb] = await Promise.all([
      call(ours, { name: 'read_graph', arguments: {} }),
      call(ref, { name: 'read_graph', arguments: {} }),
    ]);
    expect(ga.structured, `graph after ${where}`).toEqual(gb.structured);
  }
}

describe('engram mcp, a drop-in for @modelcontextprotocol/server-memory', () => {
  it('lists the nine tools with the reference names, input and output schemas, plus its own', async () => {
    const { ours, ref, close } = await pair();
    try {
      const [a, b] = await Promise.all([ours.client.listTools(), ref.client.listTools()]);
      const names = a.tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining([...NINE, 'remember', 'recall', 'forget', 'link']));
      for (const name of NINE) {
        const mine = a.tools.find((t) => t.name === name)!;
        const theirs = b.tools.find((t) => t.name === name)!;
        expect(mine.inputSchema, name).toEqual(theirs.inputSchema);
        expect(mine.outputSchema, name).toEqual(theirs.outputSchema);
        expect(mine.annotations, name).toEqual(theirs.annotations);
        expect(mine.title, name).toBe(theirs.title);
      }
    } finally {
      await close();
    }
  });

  it('answers a scripted session like the reference: duplicates ignored, errors as isError results', async () => {
    const { ours, ref, close } = await pair();
    try {
      await runBoth(ours, ref, [
        {
          name: 'create_entities',
          arguments: {
            entities: [
              { name: 'John_Smith', entityType: 'person', observations: ['Speaks fluent Spanish'] },
              { name: 'Anthropic', entityType: 'organization', observations: ['Builds AI'] },
            ],
          },
        },
        {
          name: 'create_entities',
          arguments: {
            entities: [
              { name: 'John_Smith', entityType: 'robot', observations: ['ignored'] },
              { name: 'Coffee', entityType: 'drink', observations: [] },
            ],
          },
        },
        {
          name: 'create_relations',
          arguments: {
            relations: [
              { from: 'John_Smith', to: 'Anthropic', relationType: 'works_at' },
              { from: 'John_Smith', to: 'Coffee', relationType: 'likes' },
              { from: 'John_Smith', to: 'John_Smith', relationType: 'knows' },
              { from: 'Ghost', to: 'Coffee', relationType: 'haunts' },
            ],
          },
        },
        {
          name: 'create_relations',
          arguments: {
            relations: [
              { from: 'John_Smith', to: 'Anthropic', relationType: 'works_at' },
              { from: 'Coffee', to: 'Anthropic', relationType: 'works_at' },
            ],
          },
        },
        {
          name: 'add_observations',
          arguments: {
            observations: [
              { entityName: 'John_Smith', contents: ['Speaks fluent Spanish', 'Runs marathons'] },
            ],
          },
        },
        {
          name: 'add_observations',
          arguments: { observations: [{ entityName: 'Nobody', contents: ['x'] }] },
        },
        { name: 'create_entities', arguments: { entities: [{ name: 'broken' }] } },
        { name: 'search_nodes', arguments: { query: 'john' } },
        { name: 'search_nodes', arguments: { query: 'SPAN' } },
        { name: 'search_nodes', arguments: { query: 'drink' } },
        { name: 'open_nodes', arguments: { names: ['Coffee', 'Missing'] } },
        {
          name: 'create_entities',
          arguments: { entities: [{ name: 'Ghost', entityType: 'spirit', observations: [] }] },
        },
        { name: 'open_nodes', arguments: { names: ['Ghost'] } },
        {
          name: 'delete_observations',
          arguments: {
            deletions: [
              { entityName: 'John_Smith', observations: ['Runs marathons', 'never there'] },
              { entityName: 'Missing', observations: ['x'] },
            ],
          },
        },
        {
          name: 'delete_relations',
          arguments: {
            relations: [
              { from: 'John_Smith', to: 'Coffee', relationType: 'likes' },
              { from: 'John_Smith', to: 'John_Smith', relationType: 'knows' },
              { from: 'A', to: 'B', relationType: 'none' },
            ],
          },
        },
        { name: 'delete_entities', arguments: { entityNames: ['Anthropic', 'Nobody'] } },
        { name: 'read_graph', arguments: {} },
      ]);
    } finally {
      await close();
    }
  }, 60_000);

  it('agrees with the reference on random call sequences', async () => {
    const names = fc.constantFrom('Alice', 'bob', 'Carol_Jones', 'dave', 'Eve');
    const words = fc.constantFrom('likes tea', 'Runs fast', 'alice friend', 'works remotely', 'Bob builder');
    const relation = fc.record({
      from: names,
      to: names,
      relationType: fc.constantFrom('knows', 'likes', 'x'),
    });
    const callArb: fc.Arbitrary<Call> = fc.oneof(
      fc
        .uniqueArray(names, { minLength: 1, maxLength: 3 })
        .chain((ns) =>
          fc.tuple(
            fc.constant(ns),
            fc.array(fc.constantFrom('person', 'pet'), { minLength: ns.length, maxLength: ns.length }),
            fc.array(fc.uniqueArray(words, { maxLength: 2 }), { minLength: ns.length, maxLength: ns.length }),
          ),
        )
        .map(([ns, types, obs]) => ({
          name: 'create_entities',
          arguments: {
            entities: ns.map((name, i) => ({ name, entityType: types[i], observations: obs[i] })),
          },
        })),
      fc
        .uniqueArray(relation, { minLength: 1, maxLength: 3, selector: (r) => JSON.stringify(r) })
        .map((relations) => ({
          name: 'create_relations',
          arguments: { relations },
        })),
      fc.array(relation, { minLength: 1, maxLength: 2 }).map((relations) => ({
        name: 'delete_relations',
        arguments: { relations },
      })),
      fc
        .tuple(names, fc.uniqueArray(words, { minLength: 1, maxLength: 2 }))
        .map(([entityName, contents]) => ({
          name: 'add_observations',
          arguments: { observations: [{ entityName, contents }] },
        })),
      fc
        .tuple(names, fc.uniqueArray(words, { minLength: 1, maxLength: 2 }))
        .map(([entityName, observations]) => ({
          name: 'delete_observations',
          arguments: { deletions: [{ entityName, observations }] },
        })),
      fc.uniqueArray(names, { minLength: 1, maxLength: 2 }).map((entityNames) => ({
        name: 'delete_entities',
        arguments: { entityNames },
      })),
      fc.constantFrom('alice', 'BOB', 'tea', 'person', 'o', 'run').map((query) => ({
        name: 'search_nodes',
        arguments: { query },
      })),
      fc.uniqueArray(names, { minLength: 1, maxLength: 3 }).map((ns) => ({
        name: 'open_nodes',
        arguments: { names: ns },
      })),
    );
    for (const calls of fc.sample(fc.array(callArb, { minLength: 15, maxLength: 25 }), {
      numRuns: 2,
      seed: 14,
    })) {
      const { ours, ref, close } = await pair();
      try {
        await runBoth(ours, ref, calls);
      } finally {
        await close();
      }
    }
  }, 180_000);

  it('ranks search_nodes: the best match first, and substring matches the reference makes included', async () => {
    const ours = await connectEngram(['--store', `sqlite:${fresh('db')}`]);
    try {
      await call(ours, {
        name: 'create_entities',
        arguments: {
          entities: [
            { name: 'Mentions', entityType: 'note', observations: ['once talked about espresso'] },
            {
              name: 'Espresso',
              entityType: 'drink',
              observations: ['espresso is strong', 'espresso every morning'],
            },
            { name: 'John_Smith', entityType: 'person', observations: ['drinks tea'] },
          ],
        },
      });
      const ranked = await call(ours, { name: 'search_nodes', arguments: { query: 'espresso' } });
      const entities = (ranked.structured as { entities: { name: string }[] }).entities.map((e) => e.name);
      expect(entities).toEqual(['Espresso', 'Mentions']);
      const john = await call(ours, { name: 'search_nodes', arguments: { query: 'john' } });
      expect((john.structured as { entities: { name: string }[] }).entities.map((e) => e.name)).toEqual([
        'John_Smith',
      ]);
      // Stemming finds what the reference's substring match cannot: "drinking" in no observation.
      const stemmed = await call(ours, { name: 'search_nodes', arguments: { query: 'drinking' } });
      expect((stemmed.structured as { entities: { name: string }[] }).entities.map((e) => e.name)).toContain(
        'John_Smith',
      );
    } finally {
      await ours.close();
    }
  });

  it('keeps the graph when the client shuts the server down (stdin closed, then SIGTERM) and reopens it', async () => {
    const file = fresh('db');
    const first = await connectEngram(['--store', `sqlite:${file}`, '--ns', 'agent-1']);
    await call(first, {
      name: 'create_entities',
      arguments: { entities: [{ name: 'Kept', entityType: 'thing', observations: ['survives restarts'] }] },
    });
    await call(first, {
      name: 'create_relations',
      arguments: { relations: [{ from: 'Kept', to: 'Other', relationType: 'near' }] },
    });
    await first.close();
    const second = await connectEngram(['--store', `sqlite:${file}`, '--ns', 'agent-1']);
    try {
      const graph = await call(second, { name: 'read_graph', arguments: {} });
      expect(graph.structured).toEqual({
        entities: [{ name: 'Kept', entityType: 'thing', observations: ['survives restarts'] }],
        relations: [{ from: 'Kept', to: 'Other', relationType: 'near' }],
      });
      const other = await connectEngram(['--store', `sqlite:${fresh('db')}`, '--ns', 'agent-2']);
      const empty = await call(other, { name: 'read_graph', arguments: {} });
      expect(empty.structured).toEqual({ entities: [], relations: [] });
      await other.close();
    } finally {
      await second.close();
    }
  });

  it('saves on SIGTERM alone, stdin still open', async () => {
    const file = fresh('db');
    const first = await connectEngram(['--store', `sqlite:${file}`]);
    await call(first, {
      name: 'create_entities',
      arguments: { entities: [{ name: 'Signalled', entityType: 'thing', observations: ['o'] }] },
    });
    const exited = new Promise<void>((resolve) => (first.client.transport!.onclose = resolve));
    process.kill(first.pid, 'SIGTERM');
    await exited;
    await first.close();
    const second = await connectEngram(['--store', `sqlite:${file}`]);
    try {
      const graph = await call(second, { name: 'read_graph', arguments: {} });
      expect(graph.structured).toEqual({
        entities: [{ name: 'Signalled', entityType: 'thing', observations: ['o'] }],
        relations: [],
      });
    } finally {
      await second.close();
    }
  });

  it('--sync-url keeps one memory on two machines through an edge', async () => {
    const edge = await startEdge();
    try {
      const token = await edge.token(['agent']);
      const sync = ['--ns', 'agent', '--sync-url', edge.url, '--token', token];
      const laptop = await connectEngram(['--store', `sqlite:${fresh('db')}`, ...sync]);
      await call(laptop, {
        name: 'create_entities',
        arguments: { entities: [{ name: 'Travels', entityType: 'fact', observations: ['synced'] }] },
      });
      await call(laptop, {
        name: 'create_relations',
        arguments: { relations: [{ from: 'Travels', to: 'Laptop', relationType: 'written_on' }] },
      });
      await laptop.close();
      const desktop = await connectEngram(['--store', `sqlite:${fresh('db')}`, ...sync]);
      try {
        let graph: unknown;
        for (let i = 0; i < 50; i++) {
          graph = (await call(desktop, { name: 'read_graph', arguments: {} })).structured;
          if ((graph as { relations: unknown[] }).relations.length > 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(graph).toEqual({
          entities: [{ name: 'Travels', entityType: 'fact', observations: ['synced'] }],
          relations: [{ from: 'Travels', to: 'Laptop', relationType: 'written_on' }],
        });
      } finally {
        await desktop.close();
      }
    } finally {
      await edge.close();
    }
  });

  it("offers Engram's own tools: remember, recall, forget, link", async () => {
    const ours = await connectEngram(['--store', `sqlite:${fresh('db')}`]);
    try {
      const a = await call(ours, {
        name: 'remember',
        arguments: { content: 'The user prefers dark roast coffee', kind: 'preference' },
      });
      const b = await call(ours, { name: 'remember', arguments: { content: 'The user runs every morning' } });
      const idA = (a.structured as { memory: { id: string } }).memory.id;
      const idB = (b.structured as { memory: { id: string } }).memory.id;
      const recalled = await call(ours, { name: 'recall', arguments: { query: 'coffee' } });
      const memories = (recalled.structured as { memories: { id: string; score: number }[] }).memories;
      expect(memories.map((m) => m.id)).toEqual([idA]);
      expect(memories[0]!.score).toBeGreaterThan(0);
      const linked = await call(ours, {
        name: 'link',
        arguments: { from: idA, to: idB, type: 'related_to' },
      });
      expect(linked.structured).toMatchObject({ link: { from: idA, to: idB, type: 'related_to' } });
      const bad = await call(ours, { name: 'link', arguments: { from: idA, to: 'no-such-id', type: 'x' } });
      expect(bad.isError).toBe(true);
      expect(bad.text).toMatch(/no memory with id "no-such-id"/);
      expect((await call(ours, { name: 'forget', arguments: { id: idA } })).structured).toEqual({
        deleted: true,
      });
      expect((await call(ours, { name: 'forget', arguments: { id: idA } })).structured).toEqual({
        deleted: false,
      });
      const after = await call(ours, { name: 'recall', arguments: { query: 'coffee' } });
      expect(after.structured).toEqual({ memories: [] });
      // At most 10 when no limit is given, as recall's schema says.
      for (let i = 0; i < 12; i++)
        await call(ours, { name: 'remember', arguments: { content: `tea note ${i}` } });
      const teas = await call(ours, { name: 'recall', arguments: { query: 'tea' } });
      expect((teas.structured as { memories: unknown[] }).memories).toHaveLength(10);
      // Errors name the tool's own arguments.
      for (const [name, args, field] of [
        ['remember', { content: '' }, 'remember.content'],
        ['remember', { content: 'x', tags: [''] }, 'remember.tags.0'],
        ['recall', { query: 'x', kind: '' }, 'recall.kind'],
        // Search names a blank query by its own field, `query`: the tool's is named instead.
        ['recall', { query: ' ' }, 'recall.query'],
        ['forget', { id: 'bad id!' }, 'forget.id'],
      ] as const) {
        const refused = await call(ours, { name, arguments: args });
        expect(refused.isError, name).toBe(true);
        expect(refused.text).toContain(`${field}:`);
      }
    } finally {
      await ours.close();
    }
  });
  it('keeps relations whose types are no Engram label apart, and lists in creation order', async () => {
    const { ours, ref, close } = await pair();
    try {
      const long = (c: string) => c.repeat(75);
      await runBoth(ours, ref, [
        {
          name: 'create_entities',
          arguments: { entities: [{ name: 'A', entityType: 't', observations: [] }] },
        },
        {
          name: 'create_relations',
          arguments: {
            relations: ['relation', '', long('x'), long('y')].map((relationType) => ({
              from: 'A',
              to: 'B',
              relationType,
            })),
          },
        },
        // B, so far a bare name, becomes an entity after C: the reference lists it after C.
        {
          name: 'create_entities',
          arguments: { entities: [{ name: 'C', entityType: 't', observations: [] }] },
        },
        {
          name: 'create_entities',
          arguments: { entities: [{ name: 'B', entityType: 't', observations: [] }] },
        },
        {
          name: 'create_relations',
          arguments: { relations: [{ from: 'C', to: 'C', relationType: 'self' }] },
        },
        {
          name: 'create_relations',
          arguments: { relations: [{ from: 'C', to: 'A', relationType: 'later' }] },
        },
        {
          name: 'add_observations',
          arguments: { observations: [{ entityName: 'C', contents: ['changed'] }] },
        },
        { name: 'read_graph', arguments: {} },
        { name: 'delete_relations', arguments: { relations: [{ from: 'A', to: 'B', relationType: '' }] } },
        { name: 'read_graph', arguments: {} },
      ]);
    } finally {
      await close();
    }
  });

  it('refuses text Engram cannot store, and a call that fails writes nothing', async () => {
    const ours = await connectEngram(['--store', `sqlite:${fresh('db')}`]);
    try {
      const graph = async () => (await call(ours, { name: 'read_graph', arguments: {} })).structured;
      const empty = { entities: [], relations: [] };
      for (const bad of ['x\u0000y', 'x\ud800y']) {
        const created = await call(ours, {
          name: 'create_entities',
          arguments: {
            entities: [
              { name: 'ok1', entityType: 't', observations: [] },
              { name: 'ok2', entityType: 't', observations: ['fine', bad] },
            ],
          },
        });
        expect(created.isError).toBe(true);
        expect(created.text).toMatch(
          /An observation of entity "ok2" contains a (NUL character|lone surrogate).*nothing was written/,
        );
        expect(await graph()).toEqual(empty);
        const related = await call(ours, {
          name: 'create_relations',
          arguments: {
            relations: [
              { from: 'p', to: 'q', relationType: 'r' },
              { from: 'p', to: 'q', relationType: bad },
            ],
          },
        });
        expect(related.isError).toBe(true);
        expect(related.text).toMatch(/The type of relation "p" -> "q" contains/);
        expect(await graph()).toEqual(empty);
      }
      // An entity is one memory of at most 64 KiB: the call that would pass it fails whole, clearly.
      await call(ours, {
        name: 'create_entities',
        arguments: { entities: ['E', 'F'].map((name) => ({ name, entityType: 't', observations: [] })) },
      });
      const big = await call(ours, {
        name: 'add_observations',
        arguments: {
          observations: [
            { entityName: 'E', contents: ['small'] },
            { entityName: 'F', contents: Array.from({ length: 70 }, (_, i) => `${i} ${'o'.repeat(1000)}`) },
          ],
        },
      });
      expect(big.isError).toBe(true);
      expect(big.text).toMatch(/Entity "F" would hold more than 64 KiB .*nothing was written/);
      expect(await graph()).toEqual({
        entities: [
          { name: 'E', entityType: 't', observations: [] },
          { name: 'F', entityType: 't', observations: [] },
        ],
        relations: [],
      });
    } finally {
      await ours.close();
    }
  });

  it('serves the reference resource memory://knowledge-graph and tells subscribers of changes', async () => {
    const { ours, ref, close } = await pair();
    try {
      const entities = [{ name: 'A', entityType: 't', observations: ['o'] }];
      for (const c of [ours, ref]) await call(c, { name: 'create_entities', arguments: { entities } });
      const [mine, theirs] = await Promise.all([ours.client.listResources(), ref.client.listResources()]);
      expect(mine.resources).toEqual(theirs.resources);
      const [a, b] = await Promise.all(
        [ours, ref].map((c) => c.client.readResource({ uri: 'memory://knowledge-graph' })),
      );
      expect(a).toEqual(b);
      expect(ours.client.getServerCapabilities()?.resources).toMatchObject({ subscribe: true });
      const notices: string[] = [];
      let noticed = () => {};
      ours.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
        notices.push(n.params.uri);
        noticed();
      });
      const observe = (contents: string[]) =>
        call(ours, {
          name: 'add_observations',
          arguments: { observations: [{ entityName: 'A', contents }] },
        });
      // Told only while subscribed: not before, not after unsubscribing.
      await observe(['before']);
      await ours.client.subscribeResource({ uri: 'memory://knowledge-graph' });
      const updated = new Promise<void>((resolve) => {
        noticed = resolve;
      });
      await observe(['p']);
      await updated;
      await ours.client.unsubscribeResource({ uri: 'memory://knowledge-graph' });
      await observe(['after']);
      // A notice due for either change would have come by the time a later call is answered.
      await new Promise((r) => setTimeout(r, 100));
      await call(ours, { name: 'read_graph', arguments: {} });
      expect(notices).toEqual(['memory://knowledge-graph']);
    } finally {
      await close();
    }
  });
});
