import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, type Engram, InMemoryStore } from '../../src/index.js';
import { propertySeed } from '../setup/property-seed.js';
import { snapshot } from './fixtures.js';

const NAMESPACE = 'skewed';
const SECRET = 'skew-property-secret-0123456789abcdef';
const DAY = 86_400_000;
const STEP_MS = 1000;

type Op =
  | { kind: 'add'; client: number }
  | { kind: 'edit'; client: number; pick: number }
  | { kind: 'link'; client: number; pick: number }
  | { kind: 'sync'; client: number }
  | { kind: 'reopen'; client: number; skew: number }
  | { kind: 'hostile'; pick: number; stamp: number };

const client = fc.integer({ min: 0, max: 2 });
// Days off (refused, then restamped) and seconds off, within the edge's 60 s bound (accepted as they are
// until the first answer moves them).
const skew = fc.oneof(fc.integer({ min: -2 * DAY, max: 2 * DAY }), fc.integer({ min: -59_000, max: 59_000 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), client }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('edit' as const), client, pick: fc.nat(30) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('link' as const), client, pick: fc.nat(30) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('sync' as const), client }) },
  // The device closes, its clock is set to another time (or drifts), and it opens again on the same store.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const), client, skew }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('hostile' as const), pick: fc.nat(30), stamp: fc.nat(3) }),
  },
);

interface Edit {
  /** A memory's id, or a link's `from>to`. */
  id: string;
  /** The memory's content, or the link's weight as text. */
  content: string;
  /** True (virtual) time of the edit. */
  at: number;
  /** Made after its replica's first successful round. */
  counted: boolean;
}

async function run(skews: number[], ops: Op[]): Promise<void> {
  // One virtual clock for the world; each replica's device clock is off by its skew.
  let trueNow = Date.now();
  const serverStore = new InMemoryStore();
  const app = createEdgeApp({ store: serverStore, secret: SECRET, logger: false, now: () => trueNow });
  const token = await mintToken({ secret: SECRET, ns: [NAMESPACE] });
  const fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
    Promise.resolve(app.request(String(input), init))) as typeof globalThis.fetch;
  const clients: Engram[] = [];
  const online: boolean[] = [];
  // Each device's clock is off by its skew, which a reopening changes; its store outlives its sessions.
  const offBy = [...skews];
  const stores = skews.map(() => {
    const store = new InMemoryStore();
    store.close = async () => {};
    return store;
  });
  const open = async (i: number) => {
    const mem = await createMemory({
      store: stores[i],
      namespace: NAMESPACE,
      now: () => trueNow + offBy[i]!,
      sync: { url: 'http://edge.test', token, fetch, intervalMs: 0, debounceMs: 3_600_000 },
    });
    // An edit counts once its session has heard the edge's time (see `allowed` below).
    online[i] = false;
    mem.on('status', (s) => {
      if (s.state === 'online') online[i] = true;
    });
    clients[i] = mem;
  };
  for (const i of skews.keys()) await open(i);
  const known: string[] = [];
  const edits: Edit[] = [];
  let serial = 0;
  // A link's weight set by `link` (which creates the link between the pair or updates the one it has).
  const linkEdit = async (i: number, from: string, to: string) => {
    const weight = serial++;
    const counted = online[i]!;
    try {
      await clients[i]!.link(from, to, 'related_to', { weight });
      edits.push({ id: `${from}>${to}`, content: String(weight), at: trueNow, counted });
    } catch (error) {
      if ((error as { code?: string }).code !== 'NOT_FOUND') throw error;
    }
  };
  const edit = async (i: number, id: string) => {
    const content = `edit ${serial++} by ${i}`;
    const counted = online[i]!;
    try {
      await clients[i]!.update(id, { content });
      edits.push({ id, content, at: trueNow, counted });
    } catch (error) {
      if ((error as { code?: string }).code !== 'NOT_FOUND') throw error;
    }
  };

  for (const step of ops) {
    trueNow += STEP_MS;
    if (step.kind === 'add') {
      const m = await clients[step.client]!.add({ content: `added ${serial++}` });
      known.push(m.id);
      edits.push({ id: m.id, content: m.content, at: trueNow, counted: online[step.client]! });
    } else if (step.kind === 'edit' && known.length > 0) {
      await edit(step.client, known[step.pick % known.length]!);
    } else if (step.kind === 'link') {
      // Among the newest three memories, so that replicas edit the same links often.
      const recent = known.slice(-3);
      if (recent.length > 1) {
        const from = recent[step.pick % recent.length]!;
        await linkEdit(step.client, from, recent[(step.pick + 1) % recent.length]!);
      }
    } else if (step.kind === 'sync') {
      await clients[step.client]!.sync();
    } else if (step.kind === 'reopen') {
      await clients[step.client]!.close();
      offBy[step.client] = step.skew;
      await open(step.client);
    } else if (step.kind === 'hostile' && known.length > 0) {
      const id = known[step.pick % known.length]!;
      const forged = [
        'ffffffffffff-ffff-zzzzzzzz',
        '03bb2cc3d800-0000-attacker',
        `${(trueNow + 2 * DAY).toString(16).padStart(12, '0')}-ffff-attacker`,
        `${(trueNow + 61_000).toString(16).padStart(12, '0')}-0000-attacker`,
      ][step.stamp]!;
      const res = await app.request(`/v1/ns/${NAMESPACE}/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          push: { memories: [{ id, values: { content: 'FORGED' }, clocks: { content: forged } }] },
        }),
      });
      expect(res.status).toBe(400);
    }
  }

  // Everyone syncs; then every replica edits every memory once more: no field may be frozen.
  const settle = async () => {
    for (let round = 0; round < 2; round++) {
      for (const mem of clients) {
        trueNow += STEP_MS;
        await mem.sync();
      }
    }
  };
  await settle();
  for (const [i] of clients.entries()) {
    for (const id of known) {
      trueNow += STEP_MS;
      await edit(i, id);
    }
    for (const pair of new Set(edits.filter((e) => e.id.includes('>')).map((e) => e.id))) {
      trueNow += STEP_MS;
      const [from, to] = pair.split('>');
      await linkEdit(i, from!, to!);
    }
  }
  await settle();

  const server = await snapshot(serverStore, NAMESPACE);
  for (const [i, mem] of clients.entries()) {
    expect(
      await snapshot(mem.store, NAMESPACE),
      `replica ${i} (skew ${offBy[i]} ms) equals the server`,
    ).toEqual(server);
    expect(mem.status).toMatchObject({ state: 'online', pending: 0 });
  }
  const records = [
    ...server.memories.map((m) => ({ id: m.id, content: m.content })),
    ...server.links.map((l) => ({ id: `${l.from}>${l.to}`, content: String(l.weight) })),
  ];
  expect(new Set(server.links.map((l) => `${l.from}>${l.to}`)).size, 'one link a pair').toBe(
    server.links.length,
  );
  for (const memory of records) {
    expect(memory.content).not.toBe('FORGED');
    const mine = edits.filter((e) => e.id === memory.id);
    const lastCounted = mine.filter((e) => e.counted).at(-1)!;
    // Among edits made after their replica's first successful round, the last by true time wins; an
    // edit made before its replica ever synced may only win if it was made later still.
    const allowed = mine.filter((e) => e === lastCounted || (!e.counted && e.at > lastCounted.at));
    expect(
      allowed.map((e) => e.content),
      `${memory.id}: the last edit by true time wins`,
    ).toContain(memory.content);
  }
  for (const record of [...server.memories, ...server.links]) {
    expect(Date.parse(record.createdAt)).toBeLessThanOrEqual(trueNow + 60_000);
  }
  for (const mem of clients) await mem.close();
}

describe('sync with skewed clocks and a hostile client (property)', () => {
  it('honest replicas converge, no field freezes, and the last edit by true time wins', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(skew, { minLength: 3, maxLength: 3 }), fc.array(op, { maxLength: 30 }), run),
      {
        numRuns: Number(process.env.SKEW_RUNS ?? 60),
        ...propertySeed('SYNC_PROPERTY_SEED', 20_261_205),
      },
    );
  }, 60_000);
});
