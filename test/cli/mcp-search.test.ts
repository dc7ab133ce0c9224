import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCli, type Connected, call, connectEngram, connectReference } from './mcp-helpers.js';

// search_nodes returns every entity the reference's substring rule finds, and of the entities only
// ranked search finds, the best few: a question in plain words must not bring back the whole graph.
const dir = mkdtempSync(join(tmpdir(), 'engram-mcp-search-'));
let n = 0;
const fresh = (ext: string) => join(dir, `${++n}.${ext}`);

beforeAll(buildCli, 60_000);
vi.setConfig({ testTimeout: 120_000 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COLORS = ['blue', 'red', 'yellow', 'purple', 'orange', 'black'];
/** 300 people, each with a favorite color; only Alice's is green, and only she is named Alice. */
const PEOPLE = [
  { name: 'Alice', entityType: 'person', observations: ['favorite color is green', 'lives in Lyon'] },
  ...Array.from({ length: 299 }, (_, i) => ({
    name: `Person_${i}`,
    entityType: 'person',
    observations: [`favorite color is ${COLORS[i % COLORS.length]}`, `lives in city number ${i}`],
  })),
];

type Found = { entities: { name: string }[]; relations: unknown[] };
const names = (r: { structured: unknown }) => (r.structured as Found).entities.map((e) => e.name);

async function seeded(c: Connected): Promise<void> {
  await call(c, { name: 'create_entities', arguments: { entities: PEOPLE } });
  await call(c, {
    name: 'create_relations',
    arguments: { relations: [{ from: 'Alice', to: 'Person_1', relationType: 'knows' }] },
  });
}

describe('search_nodes: every literal match, and a bounded number of ranked others', () => {
  let ours: Connected;
  let ref: Connected;
  beforeAll(async () => {
    [ours, ref] = await Promise.all([
      connectEngram(['--store', `sqlite:${fresh('db')}`]),
      connectReference(fresh('jsonl')),
    ]);
    await Promise.all([seeded(ours), seeded(ref)]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([ours.close(), ref.close()]);
  });

  const search = (c: Connected, query: string) => call(c, { name: 'search_nodes', arguments: { query } });

  it('a question in plain words gives the best 10 ranked entities, not the whole graph', async () => {
    const [a, b] = await Promise.all([
      search(ours, 'Alice favorite color'),
      search(ref, 'Alice favorite color'),
    ]);
    expect(names(b)).toEqual([]);
    expect(names(a)).toHaveLength(10);
    expect(names(a)[0]).toBe('Alice');
    expect(a.text.length).toBeLessThan(8_000);
    // Relations come with the entities returned, as in the reference.
    expect((a.structured as Found).relations).toEqual([
      { from: 'Alice', to: 'Person_1', relationType: 'knows' },
    ]);
  });

  it('never returns fewer than the reference: every substring match, however many, ranked ones first', async () => {
    for (const query of ['favorite color', 'ice', 'LYON', 'person_1', 'green', 'number 2', '']) {
      const [a, b] = await Promise.all([search(ours, query), search(ref, query)]);
      const literal = names(b);
      const found = names(a);
      expect(found, query).toEqual(expect.arrayContaining(literal));
      // Beyond the literal matches, at most ten more.
      expect(found.length - literal.length, query).toBeLessThanOrEqual(10);
      expect(new Set(found).size, query).toBe(found.length);
    }
    const all = await search(ours, 'favorite color');
    expect(names(all)).toHaveLength(300);
    // "ice" is in no word ranked search knows (it is inside "Alice"): found as the reference finds it.
    expect(names(await search(ours, 'ice'))).toEqual(['Alice']);
  });

  it('--search-extra changes the bound; 0 gives exactly the reference rule', async () => {
    const [three, none] = await Promise.all([
      connectEngram(['--store', `sqlite:${fresh('db')}`, '--search-extra', '3']),
      connectEngram(['--store', `sqlite:${fresh('db')}`, '--search-extra', '0']),
    ]);
    try {
      await Promise.all([seeded(three), seeded(none)]);
      const top = names(await search(three, 'Alice favorite color'));
      expect(top).toHaveLength(3);
      expect(top[0]).toBe('Alice');
      expect(names(await search(none, 'Alice favorite color'))).toEqual([]);
      expect(names(await search(none, 'green'))).toEqual(['Alice']);
      expect(names(await search(none, 'lyon'))).toEqual(['Alice']);
    } finally {
      await Promise.all([three.close(), none.close()]);
    }
  });
});
