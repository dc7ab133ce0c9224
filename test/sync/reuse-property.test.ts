import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Engram, InMemoryStore } from '../../src/index.js';
import { propertySeed } from '../setup/property-seed.js';
import { edgeOnClock, settle, snapshot } from './fixtures.js';
import { localStores } from './stores.js';

const NAMESPACE = 'reuse';
const DAY = 86_400_000;
const maintenance = { tombstoneHorizonMs: 5 * DAY };

// Ids from a pool of two, added, edited and deleted by three replicas whose clocks jump by days: deletes
// pass the tombstone horizon (5 days here) and are collected by the edge and by the replicas that run
// maintenance, and ids are added again after. Whatever the order, every replica ends equal to the edge.
type Op =
  | { kind: 'add'; client: number; id: number; content: string }
  | { kind: 'update'; client: number; id: number; content: string }
  | { kind: 'remove'; client: number; id: number }
  | { kind: 'sync'; client: number }
  | { kind: 'maintain'; client: number }
  | { kind: 'wait'; days: number };

const client = fc.integer({ min: 0, max: 2 });
const id = fc.integer({ min: 0, max: 1 });
const word = fc.constantFrom('amber', 'birch', 'cedar', 'dune');
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), client, id, content: word }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('update' as const), client, id, content: word }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), client, id }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('sync' as const), client }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('maintain' as const), client }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('wait' as const), days: fc.integer({ min: 1, max: 8 }) }),
  },
);

async function run(ops: Op[]): Promise<void> {
  const serverStore = new InMemoryStore();
  const { clock, open } = await edgeOnClock(serverStore, NAMESPACE, {
    startMs: Date.parse('2031-01-01T00:00:00.000Z'),
    maintenance,
  });
  const stores = await localStores();
  const clients: Engram[] = [];
  for (const store of stores) clients.push(await open(store));
  // The start-up exchange runs in the background: done before the clock may jump, as a request that
  // spans a jump of days would measure the edge's clock that far off (half its round trip).
  for (const mem of clients) await mem.sync();
  for (const step of ops) {
    if (step.kind === 'wait') {
      clock.t += step.days * DAY;
      continue;
    }
    clock.t += 1000;
    const mem = clients[step.client]!;
    const memoryId = `p${'id' in step ? step.id : 0}`;
    try {
      if (step.kind === 'add') await mem.add({ id: memoryId, content: `${step.content} first` });
      else if (step.kind === 'update') await mem.update(memoryId, { content: `${step.content} edited` });
      else if (step.kind === 'remove') await mem.remove(memoryId);
      else if (step.kind === 'sync') await mem.sync();
      else await mem.maintain();
    } catch (error) {
      // An id held, deleted (tombstone kept) or not pulled yet: CONFLICT or NOT_FOUND, as for a user.
      const code = (error as { code?: string }).code;
      if (code !== 'CONFLICT' && code !== 'NOT_FOUND') throw error;
    }
  }
  clock.t += 1000;
  await settle(clients);
  const server = await snapshot(serverStore, NAMESPACE);
  const shape = (s: typeof server) => s.memories.map((m) => [m.id, m.content, m.createdAt]);
  for (const [i, store] of stores.entries()) {
    expect(shape(await snapshot(store, NAMESPACE)), `replica ${i} (${store.kind}) equals the edge`).toEqual(
      shape(server),
    );
  }
  for (const mem of clients) await mem.close();
}

describe('ids deleted, collected and added again (property)', () => {
  it('every replica ends equal to the edge', async () => {
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 50 }), run), {
      numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? 40),
      interruptAfterTimeLimit: 90_000,
      ...propertySeed('SYNC_PROPERTY_SEED', 20_261_204),
    });
  }, 120_000);
});
