import { describe, expect, it } from 'vitest';
import type { ChangeEntry, LinkWrite, MemoryWrite, Tombstone } from '../../src/core/store-contract.js';
import type { SyncRequest } from '../../src/core/sync/protocol.js';
import { chunkPush, feedSeqs, PushProgress } from '../../src/core/sync/push-chunks.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, type Engram, InMemoryStore } from '../../src/index.js';
import { SECRET } from '../edge/helpers.js';

/**
 * A large outbox over a flaky link (docs/sync.md, "The change feed and the outbox"): every request the
 * edge acknowledged counts, so each round sends only what was not acknowledged and `pending` goes down
 * as requests land, even when no round gets through whole.
 */

/** What the network does to the `call`-th request: deliver it, lose it on the way, or lose its answer. */
type Fate = 'deliver' | 'drop' | 'lose-answer';

async function flakyEdge(ns: string) {
  const store = new InMemoryStore();
  const app = createEdgeApp({ store, secret: SECRET, logger: false, live: false });
  const token = await mintToken({ secret: SECRET, ns: [ns] });
  const net = {
    fate: (_call: number): Fate => 'deliver',
    calls: 0,
    /** Pushed records the edge applied, counted once per request that reached it. */
    received: 0,
    /** Pushed records in requests the edge applied but whose answer was lost. */
    unanswered: 0,
    pushedIds: [] as string[][],
  };
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const fate = net.fate(net.calls++);
    if (fate === 'drop') throw new TypeError('fetch failed: connection reset');
    const body = JSON.parse(String(init?.body)) as SyncRequest;
    const response = await app.request(String(input), { ...init, signal: undefined });
    const ids = [...(body.push?.memories ?? []), ...(body.push?.links ?? [])].map((w) => w.id);
    if (response.ok && body.push) {
      net.received += ids.length;
      net.pushedIds.push(ids);
    }
    if (fate === 'lose-answer') {
      if (body.push) net.unanswered += ids.length;
      throw new TypeError('fetch failed: socket hang up');
    }
    return response;
  }) as typeof globalThis.fetch;
  return { store, token, fetch, net };
}

async function replica(ns: string, edge: Awaited<ReturnType<typeof flakyEdge>>): Promise<Engram> {
  const mem = await createMemory({
    store: new InMemoryStore(),
    namespace: ns,
    maintenance: { intervalMs: 0 },
    sync: {
      url: 'http://edge.test',
      token: edge.token,
      fetch: edge.fetch,
      live: false,
      intervalMs: 0,
      debounceMs: 3_600_000,
      backoff: { baseMs: 3_600_000, maxMs: 3_600_000 },
    },
  });
  return mem;
}

const WORDS = 'river stone lantern meadow copper violet harbor thistle ember quartz orchard willow'.split(
  ' ',
);
/** About 2 KB of text, different for every `i`. */
const contentOf = (i: number) => {
  const words: string[] = [`note ${i}`];
  for (let k = 0; words.join(' ').length < 2000; k++) words.push(WORDS[(i * 7 + k * 5) % WORDS.length]!);
  return words.join(' ');
};

/** `addMany` takes up to 1000 at a time. */
async function addAll(mem: Engram, inputs: Array<{ id: string; content: string }>): Promise<void> {
  for (let i = 0; i < inputs.length; i += 1000) await mem.addMany(inputs.slice(i, i + 1000));
}

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** A replica of `ns` whose edge drops every request (until the test sets `edge.net.fate` again): offline. */
async function offlineReplica(ns: string, edge: Awaited<ReturnType<typeof flakyEdge>>): Promise<Engram> {
  edge.net.fate = () => 'drop';
  const mem = await replica(ns, edge);
  await until(() => mem.status.state === 'offline');
  return mem;
}

/** `count` small memories, ids m-0, m-1, … */
const smallInputs = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ id: `m-${i}`, content: `small ${i}` }));

describe('pushing a large outbox over a flaky link', () => {
  it('4,000 memories of 2 KB, 2 of every 7 requests lost: every round makes progress, and all arrive once', async () => {
    const ns = 'flaky-push';
    const edge = await flakyEdge(ns);
    const mem = await offlineReplica(ns, edge);
    const N = 4000;
    await addAll(
      mem,
      Array.from({ length: N }, (_, i) => ({ id: `m-${i}`, content: contentOf(i) })),
    );
    expect(mem.status.pending).toBe(N);

    // Of every 7 requests, the 4th never reaches the edge and its automatic retry reaches it but its
    // answer is lost: no round gets through 14 push requests and a pull of 8 pages.
    edge.net.calls = 0;
    edge.net.fate = (call) => (call % 7 === 3 ? 'drop' : call % 7 === 4 ? 'lose-answer' : 'deliver');
    const pending: number[] = [];
    let failed = 0;
    for (let round = 0; ; round++) {
      expect(round).toBeLessThan(12);
      try {
        await mem.sync();
        break;
      } catch (error) {
        expect(error).toMatchObject({ code: 'OFFLINE' });
        failed++;
        pending.push(mem.status.pending);
      }
    }
    expect(failed).toBeGreaterThanOrEqual(3);
    // Down every round that pushed something, never back up.
    const pushing = pending.filter((p) => p > 0);
    for (let i = 1; i < pushing.length; i++) expect(pushing[i]).toBeLessThan(pushing[i - 1]!);
    expect(pushing[0]).toBeLessThan(N);
    expect(mem.status).toMatchObject({ state: 'online', pending: 0 });

    // Nothing lost, nothing pushed twice that the edge had acknowledged: only records whose answer was
    // lost went again.
    const ids = Array.from({ length: N }, (_, i) => `m-${i}`);
    const onEdge = await edge.store.getMemories(ns, ids);
    expect(onEdge.length).toBe(N);
    for (const { memory } of onEdge) expect(memory.content).toBe(contentOf(Number(memory.id.slice(2))));
    expect(edge.net.unanswered).toBeGreaterThan(0);
    expect(edge.net.received).toBe(N + edge.net.unanswered);
    await mem.close();
  }, 120_000); // 5 s idle, 13 s with both cores busy elsewhere

  it('a refused record in the middle of a page is recorded in the same write that moves the cursor past it', async () => {
    const ns = 'refused-mid-page';
    const edge = await flakyEdge(ns);
    // A link on the edge holds the id this replica will use for a memory: the edge refuses that one record.
    const stamp = `${Date.now().toString(16).padStart(12, '0')}-0000-other`;
    await edge.store.apply(ns, {
      links: [
        {
          id: 'taken',
          create: { namespace: ns, from: 'a', to: 'b', createdAt: new Date().toISOString() },
          values: { type: 'related_to', metadata: {} },
          clocks: { type: stamp, metadata: stamp },
        },
      ],
      origin: 'remote',
    });
    const mem = await offlineReplica(ns, edge);
    // Small records: requests of 1000 (the count bound), the refused one in the second request.
    const N = 2500;
    await addAll(
      mem,
      Array.from({ length: N }, (_, i) => ({ id: i === 1500 ? 'taken' : `m-${i}`, content: `small ${i}` })),
    );
    // The time request and the first two pushes (the second twice: refused, then without the record).
    edge.net.calls = 0;
    edge.net.fate = (call) => (call < 4 ? 'deliver' : 'drop');
    await expect(mem.sync()).rejects.toMatchObject({ code: 'OFFLINE' });
    expect(edge.net.pushedIds.map((p) => p.length)).toEqual([1000, 999]);

    const pushedSeq = (await mem.store.getMeta(ns, 'sync.pushedSeq')) as number;
    const rejected = (await mem.store.getMeta(ns, 'sync.rejected')) as Array<{ id: string }>;
    expect(rejected.map((r) => r.id)).toEqual(['taken']);
    const feed = await mem.store.changes(ns, 0, 10_000);
    const passed = feed.filter((e) => e.origin === 'local' && e.seq <= pushedSeq).map((e) => e.id);
    const left = feed.filter((e) => e.origin === 'local' && e.seq > pushedSeq).map((e) => e.id);
    // Exactly the two requests the edge took are behind the cursor, the refused record among them.
    expect(passed.length).toBe(2000);
    expect(passed).toContain('taken');
    expect(left).toEqual(Array.from({ length: 500 }, (_, i) => `m-${2000 + i}`));
    expect((await edge.store.getMemories(ns, passed)).length).toBe(1999);
    expect(mem.status.pending).toBe(500);
    // The push did not complete: a re-sync must not take the records left for ones the edge had.
    expect(await mem.store.getMeta(ns, 'sync.pushedAt')).toBeUndefined();

    // The next round sends the rest only.
    edge.net.fate = () => 'deliver';
    edge.net.pushedIds = [];
    await mem.sync();
    expect(edge.net.pushedIds).toEqual([left]);
    expect(await mem.store.getMeta(ns, 'sync.pushedAt')).toEqual(expect.any(String));
    expect(mem.status).toMatchObject({ state: 'online', pending: 0, rejected: 1 });
    expect((await mem.rejected()).map((r) => r.id)).toEqual(['taken']);
    await mem.close();
  });

  it('an outbox of exactly one full page records that its push completed, though the pull after it fails', async () => {
    const ns = 'one-full-page';
    const edge = await flakyEdge(ns);
    const mem = await offlineReplica(ns, edge);
    // 4,000 entries fill the outbox's first page: only the empty page after it shows it was the last.
    await addAll(mem, smallInputs(4000));
    expect(await mem.store.getMeta(ns, 'sync.pushedAt')).toBeUndefined();
    // The time request and the page's four pushes land; the pull after them (and its retry) is lost.
    edge.net.calls = 0;
    edge.net.fate = (call) => (call < 5 ? 'deliver' : 'drop');
    await expect(mem.sync()).rejects.toMatchObject({ code: 'OFFLINE' });
    expect(edge.net.pushedIds.flat()).toHaveLength(4000);
    // The push completed: a re-sync takes what was created before this stamp for records the edge had.
    expect(await mem.store.getMeta(ns, 'sync.pushedAt')).toEqual(expect.any(String));
    await mem.close();
  });

  it('pending goes down as each request of a round lands, not only when the round ends', async () => {
    const ns = 'pending-per-request';
    const edge = await flakyEdge(ns);
    const mem = await offlineReplica(ns, edge);
    // Small records: two requests, of 1000 and 200.
    await addAll(mem, smallInputs(1200));
    edge.net.fate = () => 'deliver';
    const pending: number[] = [];
    mem.on('status', (status) => pending.push(status.pending));
    expect((await mem.sync()).pushed).toBe(1200);
    expect(pending).toContain(200);
    expect(pending.at(-1)).toBe(0);
    await mem.close();
  });
});

describe('the outbox cursor rule', () => {
  const memory = (id: string) => ({ id, values: { content: id }, clocks: {} }) as unknown as MemoryWrite;
  const link = (id: string) => ({ id, values: {}, clocks: {} }) as unknown as LinkWrite;
  const entry = (seq: number, entity: 'memory' | 'link', id: string, origin = 'local'): ChangeEntry =>
    ({ seq, entity, id, origin }) as ChangeEntry;

  it('moves to just below the lowest record not settled, whatever order requests settle in', () => {
    // Feed 11..20: a remote change at 12 and 17 (not ours to push), a restamped record at 15 (its new
    // entry lies past the page), a link at 13 between memories, a tombstone at 19.
    const entries = [
      entry(11, 'memory', 'a'),
      entry(13, 'link', 'l'),
      entry(14, 'memory', 'b'),
      entry(16, 'memory', 'c'),
      entry(18, 'memory', 'd'),
      entry(19, 'memory', 'gone'),
    ];
    const tombstone: Tombstone = { entity: 'memory', id: 'gone', namespace: 'n', clock: 'c' };
    const writes = {
      memories: [memory('a'), memory('b'), memory('c'), memory('d')],
      links: [link('l')],
      tombstones: [tombstone],
    };
    const seqOf = feedSeqs(entries);
    // Feed order across kinds, so acknowledged requests cover the oldest part of the page.
    const [only] = [...chunkPush(writes, seqOf)];
    expect(only!.push!.links!.map((w) => w.id)).toEqual(['l']);
    const progress = new PushProgress(writes, seqOf, 20);
    // `b` and `c` settled (say `c` was refused and set aside): `a` at 11 still holds the cursor.
    expect(progress.settle({ memories: [memory('b'), memory('c')] })).toBe(10);
    expect(progress.settle({ memories: [memory('a')] })).toBe(12);
    expect(progress.settle({ links: [link('l')] })).toBe(17);
    expect(progress.settle({ memories: [memory('d')] })).toBe(18);
    // The last record settled: the page's end, past the remote entry at 20 too.
    expect(progress.settle({ tombstones: [tombstone] })).toBe(20);
  });

  it('a link’s tombstone holds the cursor as a memory’s does', () => {
    // A link deleted at 1, then two memories: the delete is the oldest entry of the page.
    const entries = [entry(1, 'link', 'l'), entry(2, 'memory', 'a'), entry(3, 'memory', 'b')];
    const gone: Tombstone = { entity: 'link', id: 'l', namespace: 'n', clock: 'c' };
    const writes = { memories: [memory('a'), memory('b')], links: [], tombstones: [gone] };
    const seqOf = feedSeqs(entries);
    const progress = new PushProgress(writes, seqOf, 3);
    // The memories settled, the link's delete not yet (its request was lost): the cursor stays before it.
    expect(progress.settle({ memories: [memory('a'), memory('b')] })).toBe(0);
    expect(progress.settle({ tombstones: [gone] })).toBe(3);
  });

  it('sends a page in feed order, cut where the requests end', () => {
    const entries = Array.from({ length: 2500 }, (_, i) =>
      entry(i + 1, i % 10 === 0 ? 'link' : 'memory', `r${i}`),
    );
    const writes = {
      memories: entries.filter((e) => e.entity === 'memory').map((e) => memory(e.id)),
      links: entries.filter((e) => e.entity === 'link').map((e) => link(e.id)),
      tombstones: [],
    };
    const seqOf = feedSeqs(entries);
    const progress = new PushProgress(writes, seqOf, 2500);
    const cursors = [...chunkPush(writes, seqOf)].map((r) => progress.settle(r.push!));
    expect(cursors).toEqual([1000, 2000, 2500]);
  });
});
