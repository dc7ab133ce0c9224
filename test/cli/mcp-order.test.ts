import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { KnowledgeGraph } from '../../src/mcp/knowledge-graph.js';
import { buildCli, type Call, type Connected, call, connectEngram, connectReference } from './mcp-helpers.js';

// read_graph lists in the order of creation, as the reference does, whatever the machine's clock says:
// a server restarted with its clock an hour behind still lists what it creates after what it made before.
const dir = mkdtempSync(join(tmpdir(), 'engram-mcp-order-'));
let n = 0;
const fresh = (ext: string) => join(dir, `${++n}.${ext}`);
const HOUR = 3_600_000;

/** A module that moves this process's clock (`Date.now()` and `new Date()`) by `shiftMs`, for `node --import`. */
function clockShift(shiftMs: number): string[] {
  const file = join(dir, `clock${shiftMs}.mjs`);
  writeFileSync(
    file,
    `const Real = Date;
class Shifted extends Real {
  constructor(...args) { if (args.length === 0) super(Real.now() + ${shiftMs}); else super(...args); }
  static now() { return Real.now() + ${shiftMs}; }
}
globalThis.Date = Shifted;
`,
  );
  return ['--import', pathToFileURL(file).href];
}

beforeAll(buildCli, 60_000);
vi.setConfig({ testTimeout: 120_000 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entity = (name: string) => ({ name, entityType: 'thing', observations: [`about ${name}`] });
const relation = (from: string, to: string, relationType: string) => ({ from, to, relationType });

/** One server run: `calls` on ours (with its clock moved by `shiftMs`) and on the reference. */
async function session(file: string, ref: Connected, shiftMs: number, calls: Call[]): Promise<void> {
  const ours = await connectEngram(['--store', `sqlite:${file}`], shiftMs === 0 ? [] : clockShift(shiftMs));
  try {
    // The clock is really moved: what this run stamps says so.
    const probe = await call(ours, { name: 'remember', arguments: { content: 'clock probe' } });
    const stamped = Date.parse((probe.structured as { memory: { createdAt: string } }).memory.createdAt);
    expect(Math.abs(stamped - (Date.now() + shiftMs))).toBeLessThan(HOUR / 4);
    for (const c of calls) {
      const [a, b] = await Promise.all([call(ours, c), call(ref, c)]);
      expect(a.structured, JSON.stringify(c)).toEqual(b.structured);
    }
  } finally {
    await ours.close();
  }
}

describe('engram mcp lists in creation order whatever the clock', () => {
  it('a restart with the clock an hour behind (then back) keeps read_graph in the reference order', async () => {
    const file = fresh('db');
    const ref = await connectReference(fresh('jsonl'));
    try {
      await session(file, ref, 0, [
        { name: 'create_entities', arguments: { entities: [entity('A'), entity('B')] } },
        {
          name: 'create_relations',
          arguments: { relations: [relation('A', 'B', 'r1'), relation('A', 'X', 'r1x')] },
        },
      ]);
      await session(file, ref, -HOUR, [
        { name: 'create_entities', arguments: { entities: [entity('C')] } },
        {
          name: 'create_relations',
          arguments: { relations: [relation('B', 'C', 'r2'), relation('C', 'C', 'r2self')] },
        },
        // X, a name only a relation used, becomes an entity now: it is listed last, as the reference appends it.
        { name: 'create_entities', arguments: { entities: [entity('X')] } },
        {
          name: 'add_observations',
          arguments: { observations: [{ entityName: 'A', contents: ['edited'] }] },
        },
      ]);
      // Two hours behind the first run: later still than both.
      await session(file, ref, -2 * HOUR, [
        { name: 'create_entities', arguments: { entities: [entity('D')] } },
        {
          name: 'create_relations',
          arguments: { relations: [relation('D', 'A', 'r3'), relation('A', 'A', 'r3self')] },
        },
      ]);
      await session(file, ref, 0, [
        { name: 'create_entities', arguments: { entities: [entity('E')] } },
        { name: 'create_relations', arguments: { relations: [relation('E', 'D', 'r4')] } },
      ]);
      const ours = await connectEngram(['--store', `sqlite:${file}`]);
      try {
        const [graph, expected] = await Promise.all([
          call(ours, { name: 'read_graph', arguments: {} }),
          call(ref, { name: 'read_graph', arguments: {} }),
        ]);
        const g = graph.structured as {
          entities: { name: string }[];
          relations: { relationType: string }[];
        };
        expect(g.entities.map((e) => e.name)).toEqual(['A', 'B', 'C', 'X', 'D', 'E']);
        expect(g.relations.map((r) => r.relationType)).toEqual([
          'r1',
          'r1x',
          'r2',
          'r2self',
          'r3',
          'r3self',
          'r4',
        ]);
        expect(graph.structured).toEqual(expected.structured);
        // search_nodes and open_nodes list in the same order.
        const opened = await call(ours, { name: 'open_nodes', arguments: { names: ['E', 'C', 'A'] } });
        expect((opened.structured as { entities: { name: string }[] }).entities.map((e) => e.name)).toEqual([
          'A',
          'C',
          'E',
        ]);
      } finally {
        await ours.close();
      }
    } finally {
      await ref.close();
    }
  });
});

describe('a graph written before order stamps were kept', () => {
  it('lists by the instants it kept, and what is made now comes after it', async () => {
    const store = new InMemoryStore();
    // As an older engram mcp left it: no order stamps; a bare name made an entity later (`since`), and
    // a relation to itself with when it was made (`selfRelationsAt`). The clock then was ahead.
    let clock = Date.now() + 2 * HOUR;
    const old = await createMemory({ store, now: () => clock });
    const a = await old.add({
      kind: 'entity',
      content: 'A\nthing',
      metadata: {
        name: 'A',
        entityType: 'thing',
        observations: [],
        selfRelations: ['a-self'],
        selfRelationsAt: [new Date(clock + 2000).toISOString()],
      },
    });
    clock += 1000;
    const b = await old.add({
      kind: 'entity',
      content: 'B\nthing',
      metadata: {
        name: 'B',
        entityType: 'thing',
        observations: [],
        since: new Date(clock + 5000).toISOString(),
      },
    });
    clock += 1000;
    const c = await old.add({
      kind: 'entity',
      content: 'C\nthing',
      metadata: { name: 'C', entityType: 'thing', observations: [] },
    });
    clock += 2000;
    await old.link(c.id, a.id, 'c-a', { metadata: { relationType: 'c-a' } });
    await old.link(a.id, b.id, 'a-b', { metadata: { relationType: 'a-b' } });

    // Now, with the clock two hours behind what stamped those.
    const graph = new KnowledgeGraph(await createMemory({ store }));
    expect((await graph.readGraph()).entities.map((e) => e.name)).toEqual(['A', 'C', 'B']);
    expect((await graph.readGraph()).relations.map((r) => r.relationType)).toEqual(['a-self', 'c-a', 'a-b']);
    await graph.createEntities([{ name: 'D', entityType: 'thing', observations: [] }]);
    await graph.createRelations([
      { from: 'D', to: 'A', relationType: 'd-a' },
      { from: 'B', to: 'B', relationType: 'b-self' },
    ]);
    // An edit rewrites an older entity's metadata with stamps: its place stays.
    await graph.addObservations([{ entityName: 'B', contents: ['edited'] }]);
    await graph.addObservations([{ entityName: 'A', contents: ['edited'] }]);
    const after = await graph.readGraph();
    expect(after.entities.map((e) => e.name)).toEqual(['A', 'C', 'B', 'D']);
    expect(after.relations.map((r) => r.relationType)).toEqual(['a-self', 'c-a', 'a-b', 'd-a', 'b-self']);
    expect((await old.get(b.id))?.metadata).toEqual({
      name: 'B',
      entityType: 'thing',
      observations: ['edited'],
      order: Date.parse(b.metadata.since as string),
      selfRelations: ['b-self'],
      selfRelationsOrder: [expect.any(Number)],
    });
  });
});
