import 'fake-indexeddb/auto';
import { beforeAll, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import {
  createMemory,
  type Engram,
  InMemoryStore,
  type Link,
  type ListOptions,
  type SearchOptions,
} from '../../src/index.js';

/**
 * The IndexedDB store against the reference store on one random history: every list page (through
 * each index and the cursor seeks), every search and every walk must come back identical.
 */
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'running', 'runner', 'author', 'authentic', 'zeta', 'kiwi'];
const KINDS = ['note', 'fact', 'event'];
const TAGS = ['a', 'b', 'c', 'd'];

function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const some = <T>(items: readonly T[]) => items.filter(() => next() < 0.35);
  return { next, pick, some };
}

/** 1400 memories in batches of mixed sizes (so text groups fill and close), then random edits. */
async function replay(mem: Engram, clock: { now: number }): Promise<void> {
  const rnd = random(42);
  const ids = Array.from({ length: 1400 }, (_, i) => `m${String(i).padStart(4, '0')}`).sort(
    () => rnd.next() - 0.5,
  );
  const sentence = () =>
    Array.from({ length: 1 + Math.floor(rnd.next() * 8) }, () => rnd.pick(WORDS)).join(' ');
  const input = (id: string) => {
    clock.now += 1000;
    // Some expire while the history is still being written, so reads must skip them.
    const expiresAt =
      rnd.next() < 0.05 ? new Date(clock.now + rnd.next() * 300_000).toISOString() : undefined;
    return {
      id,
      content: sentence(),
      kind: rnd.pick(KINDS),
      tags: rnd.some(TAGS),
      ...(rnd.next() < 0.5 ? { embedding: [rnd.next(), rnd.next(), rnd.next()] } : {}),
      ...(expiresAt ? { expiresAt } : {}),
    };
  };
  const sizes = [1, 3, 600, 7, 1, 450, 40];
  for (let at = 0, turn = 0; at < ids.length; turn++) {
    const size = sizes[turn % sizes.length]!;
    await mem.addMany(ids.slice(at, at + size).map(input));
    at += size;
  }
  for (let i = 0; i < 300; i++) {
    clock.now += 1000;
    const id = rnd.pick(ids);
    if ((await mem.get(id)) === null) continue;
    const roll = rnd.next();
    if (roll < 0.25) await mem.remove(id);
    else if (roll < 0.5) await mem.update(id, { content: sentence(), embedding: null });
    else if (roll < 0.75) await mem.update(id, { tags: rnd.some(TAGS), kind: rnd.pick(KINDS) });
    else {
      const other = rnd.pick(ids);
      if (other !== id && (await mem.get(other)) !== null)
        await mem.link(id, other, rnd.pick(['rel', 'next']));
    }
  }
}

/** Link ids are generated per store, so links compare by what they connect. */
const edges = (links: Link[]) => links.map((l) => `${l.from}>${l.to}:${l.type}`).sort();

async function allPages(mem: Engram, options: ListOptions): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page = await mem.list({ ...options, cursor });
    pages.push(page.items.map((m) => m.id));
    cursor = page.cursor;
  } while (cursor && pages.length < 200);
  return pages;
}

// Groups of 300 fill and close during the history; with groups of 20 a common term hits more slot-table
// rows than a search fetches one by one.
describe.each([300, 20])(
  'IndexedDBStore (text groups of %i) equals InMemoryStore on a random history',
  (groupSize) => {
    let ours: Engram;
    let reference: Engram;
    const clock = { now: Date.parse('2030-01-01T00:00:00.000Z') };

    beforeAll(async () => {
      ours = await createMemory({
        store: new IndexedDBStore({
          name: `engram-diff-${groupSize}-${Date.now()}`,
          textGroupSize: groupSize,
        }),
        now: () => clock.now,
      });
      reference = await createMemory({ store: new InMemoryStore(), now: () => clock.now });
      const start = clock.now;
      await replay(ours, clock);
      clock.now = start;
      await replay(reference, clock);
    });

    it('has a history worth comparing', async () => {
      const live = [
        ...(await reference.list({ limit: 1000 })).items,
        ...(await reference.list({ limit: 1000, cursor: (await reference.list({ limit: 1000 })).cursor }))
          .items,
      ];
      expect(live.length).toBeGreaterThan(1200);
      expect(live.length).toBeLessThan(1400);
      expect(live.some((m) => m.embedding)).toBe(true);
      expect((await ours.store.textStats!(ours.namespace)).docs).toBeGreaterThan(1200);
    });

    const filters: ListOptions[] = [
      {},
      { kind: 'fact' },
      { tags: ['a'] },
      { tags: ['a', 'c'] },
      { tags: ['b', 'd'], tagMode: 'all' },
      { kind: 'note', tags: ['c'] },
      { tags: ['a', 'b', 'c'], tagMode: 'any', kind: 'event' },
    ];
    for (const filter of filters) {
      for (const limit of [3, 50, 500]) {
        it(`list ${JSON.stringify(filter)} in pages of ${limit}`, async () => {
          expect(await allPages(ours, { ...filter, limit })).toEqual(
            await allPages(reference, { ...filter, limit }),
          );
        });
      }
    }

    const searches: Array<[string, SearchOptions]> = [
      ['alpha', {}],
      ['run', { limit: 50 }],
      ['auth*', { limit: 50 }],
      ['"alpha beta"', {}],
      ['gamma -delta', { limit: 30 }],
      ['kiwi zeta', { kind: 'fact', tags: ['a'] }],
      ['beta', { mode: 'vector', vector: [0.2, 0.9, 0.1], limit: 20 }],
      ['delta', { mode: 'hybrid', vector: [1, 0, 0.5], limit: 20 }],
    ];
    for (const [query, options] of searches) {
      it(`search ${JSON.stringify(query)} ${JSON.stringify(options)}`, async () => {
        const hits = (await ours.search(query, options)).map((h) => [h.memory, h.score]);
        expect(hits.length).toBeGreaterThan(0);
        expect(hits).toEqual((await reference.search(query, options)).map((h) => [h.memory, h.score]));
      });
    }

    it('walks the graph the same way', async () => {
      const ids = (await reference.list({ limit: 300 })).items.map((m) => m.id);
      for (const id of ids) {
        expect(edges(await ours.links(id))).toEqual(edges(await reference.links(id)));
        expect(await ours.neighbors(id, { depth: 2 })).toEqual(await reference.neighbors(id, { depth: 2 }));
      }
      expect(await ours.path(ids[0]!, ids[ids.length - 1]!, { direction: 'both' })).toEqual(
        await reference.path(ids[0]!, ids[ids.length - 1]!, { direction: 'both' }),
      );
    });
  },
);
