import { describe, expect, it } from 'vitest';
import { findPath, walkNeighbors } from '../../src/core/graph.js';
import type { LinkRecord, MemoryRecord, MemoryStore } from '../../src/core/store-contract.js';

const memory = (id: string): MemoryRecord => ({
  memory: {
    id,
    namespace: 'ns',
    content: id,
    kind: 'note',
    tags: [],
    metadata: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  },
  clocks: {},
});

/**
 * A hub linked to `fanOut` memories, each linked on to one more: the second level's frontier is the whole
 * fan-out. Counts how often the walk reads a link's ends, the work it does per link.
 */
function hubStore(fanOut: number) {
  const links: Array<LinkRecord & { ends: [string, string] }> = [];
  const reads = { ends: 0 };
  const counted = (value: string) => ({
    get: () => {
      reads.ends++;
      return value;
    },
    enumerable: true,
  });
  const link = (from: string, to: string) => {
    const record = {
      id: `${from}>${to}`,
      namespace: 'ns',
      type: 'r',
      metadata: {},
      createdAt: '',
      updatedAt: '',
    };
    return {
      link: Object.defineProperties(record, {
        from: counted(from),
        to: counted(to),
      }) as LinkRecord['link'],
      clocks: {},
      ends: [from, to] as [string, string],
    };
  };
  for (let i = 0; i < fanOut; i++) links.push(link('hub', `c${i}`), link(`c${i}`, `g${i}`));
  const store = {
    linksOf: async (_ns: string, ids: readonly string[]) => {
      const wanted = new Set(ids);
      return links
        .filter(({ ends }) => wanted.has(ends[0]) || wanted.has(ends[1]))
        .map(({ link, clocks }) => ({ link, clocks }));
    },
    getMemories: async (_ns: string, ids: readonly string[]) => ids.map(memory),
  } as unknown as MemoryStore;
  return { store, reads };
}

describe('graph walks read each link a bounded number of times, whatever the frontier', () => {
  const walk = { direction: 'both', now: '2026-06-01T00:00:00.000Z' } as const;

  it('neighbors two levels out of a hub of 2000', async () => {
    const { store, reads } = hubStore(2000);
    const found = await walkNeighbors(store, 'ns', 'hub', 2, walk);
    expect(found).toHaveLength(4000);
    reads.ends = 0;
    await walkNeighbors(store, 'ns', 'hub', 2, walk);
    // A few reads per link returned (8000 over both levels), not one per link and frontier memory.
    expect(reads.ends).toBeLessThan(100_000);
  });

  it('a path through a hub of 2000', async () => {
    const { store, reads } = hubStore(2000);
    const path = await findPath(store, 'ns', memory('hub'), 'g1999', 3, walk);
    expect(path?.map((r) => r.memory.id)).toEqual(['hub', 'c1999', 'g1999']);
    expect(reads.ends).toBeLessThan(100_000);
  });
});
