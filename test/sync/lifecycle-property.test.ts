import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { RemoteStore } from '../../src/backends/remote/index.js';
import { createMemory, type Engram, type MemoryStore } from '../../src/index.js';
import { matchesFilter } from '../../src/store/index.js';
import { edgeStores } from '../edge/helpers.js';
import { propertySeed } from '../setup/property-seed.js';
import { edgeOnClock, settle } from './fixtures.js';
import { localStores } from './stores.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const maintenance = { tombstoneHorizonMs: 5 * DAY };

// The whole life of memories and links on three replicas (one per local store), a RemoteStore client
// (writing straight to the edge, as a server-side agent does) and an edge, on one test
// clock that jumps by hours and days: adds with labels, metadata, expiry and validity, edits of each
// field, deletes, links and unlinks, supersede, clear, dedupe, maintenance passing the tombstone horizon
// and expiries, with replicas' clocks right, behind by minutes or hours, or ahead within the edge's
// allowed skew. Whatever the order, once everyone has synced every replica holds what the edge holds.
type Field = 'content' | 'kind' | 'tags' | 'metadata' | 'importance' | 'expiresAt' | 'validTo';
type Op =
  | { kind: 'add'; client: number; id: number; word: string; expiresIn: number; dedupe: boolean }
  | { kind: 'update'; client: number; id: number; field: Field; word: string; hours: number }
  | { kind: 'remove'; client: number; id: number }
  | { kind: 'link'; client: number; from: number; to: number; word: string }
  | { kind: 'unlink'; client: number; id: number; pick: number }
  | { kind: 'supersede'; client: number; id: number; word: string }
  | { kind: 'clear'; client: number }
  | { kind: 'sync'; client: number }
  | { kind: 'maintain'; client: number }
  | { kind: 'wait'; hours: number };

/** Clients 0–2 are replicas; client 3 a RemoteStore, which has no sync or maintenance of its own. */
const REMOTE = 3;
const client = fc.integer({ min: 0, max: REMOTE });
const id = fc.integer({ min: 0, max: 4 });
const word = fc.constantFrom('amber', 'birch', 'cedar', 'dune');
const field = fc.constantFrom<Field>(
  'content',
  'kind',
  'tags',
  'metadata',
  'importance',
  'expiresAt',
  'validTo',
);
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      client,
      id,
      word,
      // 0: no expiry; otherwise it expires that many hours on (soon, or past any wait of a run).
      expiresIn: fc.constantFrom(0, 0, 0, 0, 2, 400),
      dedupe: fc.boolean(),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('update' as const),
      client,
      id,
      field,
      word,
      hours: fc.integer({ min: -2, max: 40 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), client, id }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('link' as const), client, from: id, to: id, word }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('unlink' as const), client, id, pick: fc.nat(3) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('supersede' as const), client, id, word }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const), client }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('sync' as const), client }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('maintain' as const), client }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('wait' as const), hours: fc.constantFrom(1, 1, 3, 20, 130) }),
  },
);

/** Everything live at the test clock's instant, as a user reads it, in a canonical order, every field compared. */
async function state(store: MemoryStore, namespace: string, nowMs: number) {
  const now = new Date(nowMs).toISOString();
  const memories = [];
  for (let beforeId: string | undefined; ; ) {
    const page = await store.list(namespace, { tagMode: 'any', now, limit: 500, beforeId, history: true });
    memories.push(
      ...page.map((r) => r.memory).filter((m) => matchesFilter(m, { tagMode: 'any', now, history: true })),
    );
    if (page.length < 500) break;
    beforeId = page[page.length - 1]!.memory.id;
  }
  const ids = memories.map((m) => m.id);
  // As `links()` shows them: both ends live (a link to an expired memory stays until its purge reaches it).
  const live = new Set(ids);
  const links =
    ids.length === 0
      ? []
      : (await store.linksOf(namespace, ids, { direction: 'out' }))
          .map((r) => r.link)
          .filter((l) => live.has(l.to));
  links.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { memories, links };
}

async function step(mem: Engram, s: Exclude<Op, { kind: 'wait' }>, nowMs: number): Promise<void> {
  const memoryId = `p${'id' in s ? s.id : 0}`;
  const at = (hours: number) => new Date(nowMs + hours * HOUR).toISOString();
  switch (s.kind) {
    case 'add':
      await mem.add(
        {
          id: memoryId,
          content: `${s.word} first`,
          tags: [s.word],
          metadata: { source: s.word },
          ...(s.expiresIn ? { expiresAt: at(s.expiresIn) } : {}),
        },
        s.dedupe ? { dedupe: true } : undefined,
      );
      return;
    case 'update': {
      const patch = {
        content: { content: `${s.word} edited` },
        kind: { kind: s.word },
        tags: { tags: [s.word, 'edited'] },
        metadata: { metadata: { source: s.word, n: s.hours } },
        importance: { importance: s.hours < 0 ? null : (s.hours % 10) / 10 },
        expiresAt: { expiresAt: s.hours < 0 ? null : at(s.hours % 4 === 0 ? 1 : 400 + s.hours) },
        validTo: { validTo: s.hours < 0 ? null : at(s.hours) },
      }[s.field];
      await mem.update(memoryId, patch);
      return;
    }
    case 'remove':
      await mem.remove(memoryId);
      return;
    case 'link':
      await mem.link(memoryId, `p${s.to}`, s.word);
      return;
    case 'unlink': {
      const links = await mem.links(memoryId, { direction: 'both' });
      const link = links[s.pick % Math.max(1, links.length)];
      if (link) await mem.unlink(link.id);
      return;
    }
    case 'supersede':
      await mem.supersede(memoryId, { content: `${s.word} instead` });
      return;
    case 'clear':
      await mem.clear();
      return;
    case 'sync':
      await mem.sync();
      return;
    case 'maintain':
      await mem.maintain();
  }
}

let runs = 0;

/** How far each replica's clock is off the edge's: right, minutes or hours behind, or ahead within the allowed skew. */
const skews = fc.tuple(...[0, 1, 2].map(() => fc.constantFrom(0, 0, -3 * HOUR, -10 * 60_000, 30_000)));

async function run(serverStore: MemoryStore, ops: Op[], skew: number[]): Promise<void> {
  // A namespace per run: the Postgres edges keep their store from one run to the next.
  const namespace = `life${++runs}`;
  const { clock, open, token, fetch } = await edgeOnClock(serverStore, namespace, {
    startMs: Date.parse('2031-01-01T00:00:00.000Z'),
    maintenance,
  });
  const stores = await localStores();
  const clients: Engram[] = [];
  for (const [i, store] of stores.entries()) clients.push(await open(store, skew[i]));
  const replicas = [...clients];
  const remote = new RemoteStore({ url: 'http://edge.test', token, fetch });
  clients.push(
    await createMemory({ store: remote, namespace, now: () => clock.t, maintenance: { intervalMs: 0 } }),
  );
  for (const mem of replicas) await mem.sync();
  for (const s of ops) {
    if (s.kind === 'wait') {
      clock.t += s.hours * HOUR;
      continue;
    }
    clock.t += 1000;
    if (s.client === REMOTE && (s.kind === 'sync' || s.kind === 'maintain')) continue;
    try {
      await step(clients[s.client]!, s, clock.t + (skew[s.client] ?? 0));
    } catch (error) {
      // What a user meets too: an id held or deleted (CONFLICT), not here yet or expired (NOT_FOUND), a
      // link to itself or a validity period that ends before it starts (VALIDATION).
      const code = (error as { code?: string }).code;
      if (code !== 'CONFLICT' && code !== 'NOT_FOUND' && code !== 'VALIDATION') throw error;
    }
  }
  clock.t += 1000;
  await settle(replicas);
  const server = await state(serverStore, namespace, clock.t);
  for (const [i, store] of stores.entries()) {
    expect(await state(store, namespace, clock.t), `replica ${i} (${store.kind}) equals the edge`).toEqual(
      server,
    );
  }
  for (const mem of clients) await mem.close();
}

const { stores: servers, close } = await edgeStores('lifecycle_property');
afterAll(close);

describe('the lifecycle of memories and links across replicas (property)', () => {
  it.each(servers)(
    'every replica ends equal to an edge on %s',
    async (name, makeStore) => {
      const serverStore = makeStore();
      const inMemory = name === 'InMemoryStore';
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 80 }), skews, (ops, skew) =>
          run(serverStore, ops, skew),
        ),
        {
          numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? (inMemory ? 30 : 10)),
          interruptAfterTimeLimit: 90_000,
          ...propertySeed('SYNC_PROPERTY_SEED', 20_261_205),
        },
      );
    },
    120_000,
  );
});
