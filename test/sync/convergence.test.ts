import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, type Engram, InMemoryStore, type MemoryStore } from '../../src/index.js';
import { propertySeed } from '../setup/property-seed.js';
import { type Fault, faultyFetch, settle, snapshot } from './fixtures.js';
import { localStores } from './stores.js';

const NAMESPACE = 'prop';
const SECRET = 'convergence-secret';

type Op =
  | { kind: 'add'; client: number; content: string; tag: string }
  | { kind: 'update'; client: number; pick: number; content: string }
  | { kind: 'tag'; client: number; pick: number; tag: string }
  | { kind: 'remove'; client: number; pick: number }
  | { kind: 'link'; client: number; pick: number; other: number }
  | { kind: 'sync'; client: number };

const word = fc.constantFrom('alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf');
const client = fc.integer({ min: 0, max: 2 });
const pick = fc.nat(50);
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('add' as const), client, content: word, tag: word }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('update' as const), client, pick, content: word }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tag' as const), client, pick, tag: word }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), client, pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('link' as const), client, pick, other: pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('sync' as const), client }) },
);
const fault: fc.Arbitrary<Fault> = fc.constantFrom(
  'ok',
  'ok',
  'ok',
  'drop',
  'error5xx',
  'timeout',
  'lostReply',
  'duplicate',
);

async function run(ops: Op[], faults: Fault[]): Promise<void> {
  const serverStore = new InMemoryStore();
  const app = createEdgeApp({ store: serverStore, secret: SECRET, logger: false });
  const token = await mintToken({ secret: SECRET, ns: [NAMESPACE] });
  let faultIndex = 0;
  let healed = false;
  const nextFault = () => (healed ? 'ok' : (faults[faultIndex++ % faults.length] ?? 'ok'));
  const upstream = (request: Request) => Promise.resolve(app.fetch(request));
  const stores: MemoryStore[] = await localStores();
  const clients: Engram[] = [];
  for (const store of stores) {
    const { fetch } = faultyFetch(upstream, nextFault);
    clients.push(
      await createMemory({
        store,
        namespace: NAMESPACE,
        sync: {
          url: 'http://edge.test',
          token,
          fetch,
          intervalMs: 0,
          debounceMs: 5,
          timeoutMs: 25,
          backoff: { baseMs: 1, maxMs: 4 },
        },
      }),
    );
  }
  // Ids are picked from everything any replica added, so replicas edit, link and delete the same
  // records concurrently; an id a replica has not pulled yet is simply NOT_FOUND there.
  const known: string[] = [];
  const added = new Set<string>();
  const removed = new Set<string>();
  const at = (_client: number, n: number) => known[n % Math.max(1, known.length)];

  for (const step of ops) {
    const mem = clients[step.client]!;
    try {
      if (step.kind === 'add') {
        const m = await mem.add({ content: `${step.content} note`, tags: [step.tag] });
        known.push(m.id);
        added.add(m.id);
      } else if (step.kind === 'update' && at(step.client, step.pick)) {
        await mem.update(at(step.client, step.pick)!, { content: `${step.content} edited` });
      } else if (step.kind === 'tag' && at(step.client, step.pick)) {
        await mem.update(at(step.client, step.pick)!, { tags: [step.tag] });
      } else if (step.kind === 'remove' && at(step.client, step.pick)) {
        const id = at(step.client, step.pick)!;
        if (await mem.remove(id)) removed.add(id);
      } else if (step.kind === 'link' && at(step.client, step.pick) && at(step.client, step.other)) {
        const [a, b] = [at(step.client, step.pick)!, at(step.client, step.other)!];
        if (a !== b) await mem.link(a, b, 'rel');
      } else if (step.kind === 'sync') {
        await mem.sync();
      }
    } catch (error) {
      // Faults make syncs fail, and a memory deleted by another replica is NOT_FOUND here: both expected.
      const code = (error as { code?: string }).code;
      if (code !== 'OFFLINE' && code !== 'NOT_FOUND') throw error;
    }
  }

  healed = true;
  await settle(clients);
  const server = await snapshot(serverStore, NAMESPACE);
  for (const [i, store] of stores.entries()) {
    expect(await snapshot(store, NAMESPACE), `replica ${i} (${store.kind}) equals the server`).toEqual(
      server,
    );
    expect(clients[i]!.status).toMatchObject({ state: 'online', pending: 0 });
  }
  const onServer = new Set(server.memories.map((m) => m.id));
  for (const id of added) {
    if (!removed.has(id)) expect(onServer.has(id), `acknowledged add ${id} survived`).toBe(true);
  }
  for (const id of removed) expect(onServer.has(id), `remove of ${id} won`).toBe(false);
  for (const mem of clients) await mem.close();
}

describe('sync convergence under faults (property)', () => {
  it('every replica equals the server and no acknowledged write is lost', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 5, maxLength: 60 }),
        fc.array(fault, { minLength: 1, maxLength: 30 }),
        run,
      ),
      {
        numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? 60),
        interruptAfterTimeLimit: 90_000,
        // The faults land on real timers: runs of one seed are alike, not identical.
        ...propertySeed('SYNC_PROPERTY_SEED', 20_261_206),
      },
    );
  }, 120_000);
});
