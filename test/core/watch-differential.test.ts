import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/vector/k-means.js';
import {
  createMemory,
  type Engram,
  type Json,
  type ListOptions,
  type ListResult,
  type MemoryInput,
  type MemoryPatch,
  type SearchOptions,
} from '../../src/index.js';
import { inProcessSync } from '../edge/helpers.js';
import { propertySeed } from '../setup/property-seed.js';

// A watch skips a change it can tell leaves its results alone (watch-query.ts `mayEnter`); this checks
// that test against a fresh query after every step, over what test/core/watch.test.ts's random trials
// leave out: importance, embeddings (vector and hybrid searches), validity periods and expiry passing
// with no write, supersede, boosts, `asOf`, and changes made on another replica and pulled.
// `WATCH_DIFF_SEED=random` (or a number) explores other seeds; WATCH_DIFF_TRIALS sets how many.
const SEED = propertySeed('WATCH_DIFF_SEED', 2).seed ?? Math.floor(Math.random() * 2 ** 31);
const TRIALS = Number(process.env.WATCH_DIFF_TRIALS ?? 24);
const STEPS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function randomOf(seed: number) {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  return { random, pick };
}

const VOCABULARY = ['coffee', 'morning', 'run', 'running', 'tea', 'the', 'what', 'paris', 'cats'];

function writes({ random, pick }: ReturnType<typeof randomOf>) {
  const text = () => Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(VOCABULARY)).join(' ');
  const iso = (deltaMs: number) => new Date(Date.now() + deltaMs).toISOString();
  const vector = () => [random(), random(), random()];
  const input = (): MemoryInput => {
    const made: MemoryInput = {
      content: text(),
      kind: pick(['note', 'fact']),
      tags: pick([[], ['a'], ['b'], ['a', 'b']]),
      metadata: pick<Record<string, Json>>([{ p: 1 }, { p: 2 }, {}, { p: 1, q: 'x' }]),
    };
    if (random() < 0.3) made.importance = pick([0, 0.5, 1]);
    if (random() < 0.3) made.embedding = vector();
    // Some become valid, stop being valid or expire a moment later, with no write.
    if (random() < 0.15) made.validFrom = iso(pick([-5000, 80, 200]));
    if (random() < 0.15) made.validTo = iso(pick([5000, 120, 250]));
    if (random() < 0.1) made.expiresAt = iso(pick([150, 60_000]));
    return made;
  };
  const patch = () =>
    pick<() => MemoryPatch>([
      () => ({ content: text() }),
      () => ({ kind: pick(['note', 'fact']) }),
      () => ({ tags: pick([[], ['a'], ['b'], ['a', 'b']]) }),
      () => ({ metadata: pick<Record<string, Json>>([{ p: 1 }, { p: 2 }, {}]) }),
      () => ({ importance: pick([null, 0, 1]) }),
      () => ({ embedding: pick([null, vector()]) }),
      () => ({ validFrom: pick([null, iso(-1000), iso(100)]) }),
      () => ({ validTo: pick([null, iso(100), iso(10_000)]) }),
      () => ({ expiresAt: pick([null, iso(120), iso(60_000)]) }),
    ])();
  return { input, patch, iso };
}

/** What a user meets when a step picks a memory another step removed, superseded or made invalid. */
function tolerated(error: unknown): void {
  if (!['CONFLICT', 'NOT_FOUND', 'VALIDATION'].includes((error as { code?: string }).code ?? '')) throw error;
}

describe('watches against fresh queries (seeded random differential)', () => {
  it('list and search watches end every step on what a fresh query gives', async () => {
    const rng = randomOf(SEED);
    const { random, pick } = rng;
    const { input, patch, iso } = writes(rng);
    for (let trial = 0; trial < TRIALS; trial++) {
      const namespace = `watch-${trial}`;
      const sync = await inProcessSync(namespace);
      const elsewhere = random() < 0.5;
      const open = () => createMemory({ namespace, ...(elsewhere ? { sync } : {}) });
      const mem = await open();
      const other: Engram | undefined = elsewhere ? await open() : undefined;
      const ids: string[] = [];
      const add = (on: Engram) => on.add(input()).then((m) => ids.push(m.id), tolerated);
      for (let i = 0; i < 5; i++) await add(mem);
      await sleep(2);
      const mark = new Date().toISOString();
      await sleep(2);
      const listOptions = pick<ListOptions>([
        {},
        { kind: 'fact' },
        { tags: ['a'] },
        { tags: ['a', 'b'], tagMode: 'all' },
        { limit: 2 },
        { kind: 'note', limit: 3 },
        { metadata: { p: 1 }, limit: 2 },
        { history: true, limit: 3 },
        { since: mark },
        { until: mark, limit: 2 },
        { asOf: iso(150) },
      ]);
      const query = Array.from({ length: 1 + Math.floor(random() * 2) }, () =>
        pick([pick(VOCABULARY), `${pick(VOCABULARY).slice(0, 3)}*`, `-${pick(VOCABULARY)}`]),
      ).join(' ');
      const filters = pick<SearchOptions>([
        {},
        { limit: 1 },
        { limit: 2 },
        { limit: 3, match: 'all' },
        { kind: 'fact', limit: 2 },
        { tags: ['a'] },
        { metadata: { p: 2 } },
        { boost: { importance: true }, limit: 2 },
        { boost: { recency: { halfLifeDays: 1 } }, limit: 3 },
        { history: true, limit: 2 },
        { asOf: iso(150) },
        { since: mark, limit: 2 },
      ]);
      // Text searches, and vector and hybrid ones (which rank every embedded memory) a third of the time each.
      const searchOptions: SearchOptions = pick<SearchOptions>([
        filters,
        { ...filters, mode: 'vector', vector: [random(), random(), random()] },
        { ...filters, mode: 'hybrid', vector: [random(), random(), random()] },
      ]);
      const isSearch = random() < 0.5;
      // Searches compare ids: scores may lag behind statistics other writes move (docs/reactive.md).
      const ofList = (page: ListResult) =>
        JSON.stringify([page.items.map((m) => [m.id, m.updatedAt]), page.cursor]);
      const ofHits = (hits: { memory: { id: string } }[] | undefined) =>
        JSON.stringify(hits?.map((h) => h.memory.id).sort());
      const fresh = async () =>
        isSearch
          ? ofHits(await mem.search(query, searchOptions).catch(() => undefined))
          : ofList(await mem.list(listOptions));
      let seen: string | undefined;
      const stop = isSearch
        ? mem.watch({ search: query, ...searchOptions }, (hits) => {
            seen = ofHits(hits);
          })
        : mem.watch({ list: listOptions }, (page) => {
            seen = ofList(page);
          });
      const label = isSearch
        ? `search ${JSON.stringify(query)} ${JSON.stringify(searchOptions)}`
        : `list ${JSON.stringify(listOptions)}`;
      const steps: string[] = [];
      for (let step = 0; step < STEPS; step++) {
        const roll = random();
        const id = ids.length > 0 ? pick(ids) : 'none';
        if (roll < 0.25) {
          steps.push('add');
          await add(mem);
        } else if (roll < 0.5) {
          const change = patch();
          steps.push(`update ${id} ${JSON.stringify(change)}`);
          await mem.update(id, change).catch(tolerated);
        } else if (roll < 0.6) {
          steps.push(`remove ${id}`);
          await mem.remove(id).catch(tolerated);
        } else if (roll < 0.7) {
          steps.push(`supersede ${id}`);
          await mem.supersede(id, input()).then((m) => ids.push(m.id), tolerated);
        } else if (roll < 0.85 && other) {
          // Made on another replica, and pulled.
          await other.sync();
          const change = patch();
          const what = pick(['add', 'update', 'remove']);
          steps.push(`elsewhere: ${what} ${id}${what === 'update' ? ` ${JSON.stringify(change)}` : ''}`);
          if (what === 'add') await add(other);
          else if (what === 'update') await other.update(id, change).catch(tolerated);
          else await other.remove(id).catch(tolerated);
          await other.sync();
          await mem.sync();
        } else {
          // Time passes: validity periods begin and end, memories expire.
          const ms = pick([50, 130, 260]);
          steps.push(`wait ${ms} ms`);
          await sleep(ms);
        }
        // The watch answers within a moment; a fresh query is taken again meanwhile, as time moves it too.
        const deadline = Date.now() + 1500;
        let expected = await fresh();
        while (seen !== expected && Date.now() < deadline) {
          await sleep(5);
          expected = await fresh();
        }
        expect(seen, `seed ${SEED}, trial ${trial}: ${label}\n${steps.join('\n')}`).toBe(expected);
      }
      stop();
      await mem.close();
      await other?.close();
    }
  }, 120_000);
});
