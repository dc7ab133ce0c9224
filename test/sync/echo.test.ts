import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ECHOES_STORED, feedDigest, readEchoes, storedEchoes } from '../../src/core/sync/echo.js';
import type { SyncRequest, SyncResponse } from '../../src/core/sync/protocol.js';
import { serveSync } from '../../src/core/sync/server.js';
import { createMemory, type Engram, InMemoryStore, type MemoryStore } from '../../src/index.js';
import { fullWrite } from '../conformance/changes.case.js';
import { edgeStores, replicaThrough, testApp } from '../edge/helpers.js';

/*
 * Echoes (docs/sync.md): the pull after a push used to bring the replica's own records back whole. The
 * edge now answers a push whose records merged into exactly what was sent with where their feed entries
 * went, and leaves those out of that replica's pulls, after checking its feed still holds them so.
 */

const { stores: servers, close } = await edgeStores('echo');
afterAll(close);

const opened: Engram[] = [];
afterEach(async () => {
  for (const mem of opened.splice(0)) await mem.close();
});

let counter = 0;

/** An edge on `makeServer()` and replicas of one namespace through it; every sync exchange is recorded. */
async function edgeWithReplicas(makeServer: () => MemoryStore) {
  const namespace = `echo${++counter}`;
  const edge = await testApp({ store: makeServer(), ns: [namespace] });
  const exchanges: Array<{ replica: string; request: SyncRequest; response: SyncResponse }> = [];
  /** Runs before a request of `replica` reaches the edge, when set. */
  let before: ((request: SyncRequest) => Promise<void>) | undefined;
  const replica = async (name: string, store: MemoryStore = new InMemoryStore()) => {
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = JSON.parse(String(init?.body)) as SyncRequest;
      await before?.(request);
      const answer = await edge.app.request(String(input), init);
      exchanges.push({ replica: name, request, response: (await answer.clone().json()) as SyncResponse });
      return answer;
    }) as typeof globalThis.fetch;
    const mem = await replicaThrough(edge.token, fetch, namespace, store);
    opened.push(mem);
    return mem;
  };
  const pulledBy = (name: string) =>
    exchanges
      .filter((e) => e.replica === name)
      .flatMap((e) => e.response.pull?.changes ?? [])
      .map((c) => c.id);
  const setBefore = (hook: typeof before) => {
    before = hook;
  };
  return { namespace, edge, replica, exchanges, pulledBy, setBefore };
}

describe.each(servers)('echoes of a push, on an edge over %s', (_name, makeServer) => {
  it('the pull after a push leaves its own records out, and other writes still come', async () => {
    const { replica, exchanges, pulledBy } = await edgeWithReplicas(makeServer);
    const a = await replica('a');
    const made = await a.addMany(Array.from({ length: 30 }, (_, i) => ({ content: `echoed note ${i}` })));
    await a.link(made[0]!.id, made[1]!.id, 'related_to');
    expect(await a.sync()).toEqual({ pushed: 31, pulled: 0 });
    expect(pulledBy('a')).toEqual([]);
    const echoes = exchanges.flatMap((e) => (e.response.push?.echo ? [e.response.push.echo] : []));
    expect(echoes).toHaveLength(1);
    expect(echoes[0]!.count).toBe(31);
    const skipped = exchanges.find((e) => e.request.pull?.skip);
    expect(skipped?.request.pull?.skip).toEqual(echoes);

    // A replica that pushed nothing pulls everything; its edit comes to `a`, and only it.
    const b = await replica('b');
    expect(await b.sync()).toEqual({ pushed: 0, pulled: 31 });
    await b.update(made[3]!.id, { content: 'edited on b' });
    expect(await b.sync()).toEqual({ pushed: 1, pulled: 0 });
    expect(await a.sync()).toEqual({ pushed: 0, pulled: 1 });
    expect(pulledBy('a')).toEqual([made[3]!.id]);
    expect((await a.get(made[3]!.id))?.content).toBe('edited on b');
  });

  it('a record the edge merged into something else than was sent comes back', async () => {
    const { replica, pulledBy } = await edgeWithReplicas(makeServer);
    const a = await replica('a');
    const b = await replica('b');
    const [shared] = await a.addMany([{ content: 'shared note', tags: ['one'] }]);
    await a.sync();
    await b.sync();
    // b edits the content and syncs; a, which has not pulled it, edits the tags and pushes its whole
    // record, with the content it still holds (stamped before b's).
    await b.update(shared!.id, { content: 'content from b' });
    await b.sync();
    await a.update(shared!.id, { tags: ['two'] });
    const own = await a.addMany([{ content: 'a fresh note' }]);
    const round = await a.sync();
    expect(round.pushed).toBe(2);
    // The edge kept b's content: the merged record is not a's, so the push has no echo and a pulls both.
    expect(pulledBy('a').slice(-2).sort()).toEqual([shared!.id, own[0]!.id].sort());
    const held = await a.get(shared!.id);
    expect([held?.content, held?.tags]).toEqual(['content from b', ['two']]);
  });

  it('an entry that a write between the push and the pull moved is pulled, with the rest of its push', async () => {
    const { namespace, edge, replica, pulledBy, setBefore } = await edgeWithReplicas(makeServer);
    const a = await replica('a');
    const made = await a.addMany(Array.from({ length: 5 }, (_, i) => ({ content: `raced note ${i}` })));
    setBefore(async (request) => {
      if (!request.pull?.skip) return;
      setBefore(undefined);
      // Another writer changes one of the pushed records on the edge before the pull.
      const later = Date.now() + 5;
      const write = fullWrite(namespace, made[2]!.id, 'changed on the edge meanwhile', later, 'other');
      await edge.store.apply(namespace, { memories: [write], origin: 'remote' });
    });
    const round = await a.sync();
    expect(round.pushed).toBe(5);
    // The echo no longer holds (one entry moved past it): its range is pulled, and the change too.
    expect(pulledBy('a').sort()).toEqual(made.map((m) => m.id).sort());
    expect((await a.get(made[2]!.id))?.content).toBe('changed on the edge meanwhile');
  });
});

describe.each(servers)('stored echoes, on an edge over %s', (_name, makeServer) => {
  it('a replica reloaded between its push and its pull still leaves its push out', async () => {
    const { namespace, replica, exchanges, pulledBy, setBefore } = await edgeWithReplicas(makeServer);
    const b = await replica('b');
    await b.add({ content: 'written elsewhere first' });
    await b.sync();
    const store = new InMemoryStore();
    // Holds the store open across the reload: the last Engram on a store closes it.
    opened.push(await createMemory({ store, namespace: 'keeper' }));
    const first = await replica('a1', store);
    expect(await first.sync()).toEqual({ pushed: 0, pulled: 1 });
    await first.addMany(Array.from({ length: 12 }, (_, i) => ({ content: `reloaded note ${i}` })));
    // The push goes through; the pull after it does not (the tab closed, the network went).
    setBefore(async (request) => {
      if (request.pull) throw new TypeError('fetch failed');
    });
    await expect(first.sync()).rejects.toMatchObject({ code: 'OFFLINE' });
    setBefore(undefined);
    const stored = await store.getMeta(namespace, 'sync.echoes');
    expect(stored).toEqual([expect.objectContaining({ count: 12 })]);
    await first.close();

    const second = await replica('a2', store);
    expect(await second.sync()).toEqual({ pushed: 0, pulled: 0 });
    expect(pulledBy('a2')).toEqual([]);
    const named = exchanges.find((e) => e.replica === 'a2' && e.request.pull?.skip);
    expect(named?.request.pull?.skip).toEqual(stored);
    // Passed by the cursor: the stored echo goes.
    expect(await store.getMeta(namespace, 'sync.echoes')).toBeNull();
    // Another replica's write still comes.
    await b.add({ content: 'written elsewhere later' });
    await b.sync();
    expect(await second.sync()).toEqual({ pushed: 0, pulled: 1 });
  });
});

describe('stored echoes', () => {
  it('keep the first 256 (those the pulls name first), in order, and read back as they were', () => {
    const echoes = Array.from({ length: 300 }, (_, i) => ({
      after: i * 10,
      last: i * 10 + 5,
      count: 5,
      digest: feedDigest([`memory:m${i}`]),
    }));
    const stored = storedEchoes(echoes);
    expect(stored).toHaveLength(ECHOES_STORED);
    expect(readEchoes(stored)).toEqual(echoes.slice(0, ECHOES_STORED));
    expect(storedEchoes([])).toBeNull();
    expect(readEchoes(null)).toEqual([]);
  });
});

describe('stored echoes of an unsound shape', () => {
  it('are left out of the pulls, which bring everything', async () => {
    const { namespace, replica, exchanges, pulledBy } = await edgeWithReplicas(() => new InMemoryStore());
    const b = await replica('b');
    const made = await b.addMany([{ content: 'first' }, { content: 'second' }]);
    await b.sync();
    const store = new InMemoryStore();
    await store.open();
    const damaged = [
      { after: 'x', last: 2, count: 2, digest: '0123456789abcdef' },
      5,
      null,
      { after: 0, last: 2, count: 3, digest: '0123456789abcdef' },
      { after: 2, last: 2, count: 1, digest: '0123456789abcdef' },
      { after: 0, last: 2, count: 2, digest: 'not hex' },
      { after: 0, last: 5000, count: 2000, digest: '0123456789abcdef' },
    ];
    await store.apply(namespace, { meta: { 'sync.echoes': damaged } });
    const a = await replica('a', store);
    expect(await a.sync()).toEqual({ pushed: 0, pulled: 2 });
    expect(pulledBy('a').sort()).toEqual(made.map((m) => m.id).sort());
    expect(exchanges.some((e) => e.replica === 'a' && e.request.pull?.skip)).toBe(false);
  });
});

describe('a replica behind an edge of an older release', () => {
  it('drops its echoes when an edge refuses pull.skip, and pulls the page again without them', async () => {
    const { edge, replica, exchanges } = await edgeWithReplicas(() => new InMemoryStore());
    const refused: unknown[] = [];
    const original = edge.app.request.bind(edge.app);
    // As an edge before echoes answers a request naming the field (valibot's strict object).
    edge.app.request = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const body = JSON.parse(String(init?.body)) as SyncRequest;
      if (body.pull?.skip) {
        refused.push(body.pull.skip);
        const error = { code: 'VALIDATION', message: 'sync.pull.skip: Invalid key', field: 'sync.pull.skip' };
        return new Response(JSON.stringify({ error }), {
          status: 400,
          headers: { 'content-type': 'application/json' },
        });
      }
      return original(input, init);
    }) as typeof edge.app.request;
    const a = await replica('a');
    await a.addMany([{ content: 'one' }, { content: 'two' }]);
    expect(await a.sync()).toEqual({ pushed: 2, pulled: 2 });
    expect(refused).toHaveLength(1);
    expect(a.status.state).toBe('online');
    // Each round's own echo is tried once, then the page is pulled whole.
    await a.add({ content: 'three' });
    expect(await a.sync()).toEqual({ pushed: 1, pulled: 1 });
    expect(refused).toHaveLength(2);
    expect(exchanges.filter((e) => e.request.pull?.skip).map((e) => e.response)).toHaveLength(2);
  });
});

describe('the edge checks an echo before it leaves anything out', () => {
  async function pushed(count: number) {
    const store = new InMemoryStore();
    await store.open();
    const at = Date.now() - 1000;
    const memories = Array.from({ length: count }, (_, i) => fullWrite('ns', `m${i}`, `note ${i}`, at));
    const answer = await serveSync(store, 'ns', { push: { memories } }, { echo: true });
    return { store, answer };
  }

  it('a push answered with its echo is left out; one whose digest or count does not match the feed is pulled', async () => {
    const { store, answer } = await pushed(4);
    const echo = answer.push!.echo!;
    expect(echo).toMatchObject({ after: 0, count: 4 });
    expect(echo.digest).toBe(feedDigest(['memory:m0', 'memory:m1', 'memory:m2', 'memory:m3']));
    // Order does not matter to the digest; a different set does.
    expect(feedDigest(['memory:m3', 'memory:m1', 'memory:m0', 'memory:m2'])).toBe(echo.digest);
    expect(feedDigest(['memory:m0', 'memory:m1', 'memory:m2', 'memory:m4'])).not.toBe(echo.digest);
    const pull = async (skip: (typeof echo)[]) =>
      (await serveSync(store, 'ns', { pull: { after: 0, skip } })).pull!;
    const left = await pull([echo]);
    expect([left.changes, left.cursor, left.hasMore]).toEqual([[], echo.last, false]);
    for (const wrong of [
      { ...echo, digest: feedDigest(['memory:m0', 'memory:m1', 'memory:m2', 'memory:x']) },
      { ...echo, count: 3 },
    ]) {
      const full = await pull([wrong]);
      expect(full.changes.map((c) => c.id).sort()).toEqual(['m0', 'm1', 'm2', 'm3']);
    }
    // Without `echo` (a RemoteStore's push), no echo and no feed in the answer.
    const plain = await serveSync(store, 'ns', {
      push: { memories: [fullWrite('ns', 'p', 'plain', Date.now())] },
    });
    expect(plain.push).not.toHaveProperty('echo');
    expect(plain.push).not.toHaveProperty('feed');
    await store.close();
  });

  it('leaves out an echo further on in the feed, and pulls what comes before it', async () => {
    const { store, answer } = await pushed(3);
    const echo = answer.push!.echo!;
    // Written after the push by someone else, then the echo's entries, in the pull from 0 of a later echo.
    const other = fullWrite('ns', 'other', 'someone else', Date.now() - 500);
    await store.apply('ns', { memories: [other], origin: 'remote' });
    const second = await serveSync(
      store,
      'ns',
      { push: { memories: [fullWrite('ns', 'late', 'late note', Date.now() - 400)] } },
      { echo: true },
    );
    const page = (await serveSync(store, 'ns', { pull: { after: 0, skip: [echo, second.push!.echo!] } }))
      .pull!;
    expect(page.changes.map((c) => c.id)).toEqual(['other']);
    expect(page.hasMore).toBe(false);
    expect(page.cursor).toBe(second.push!.echo!.last);
    await store.close();
  });

  it('refuses a malformed skip, naming the field', async () => {
    const { call } = await testApp();
    const good = { after: 1, last: 5, count: 2, digest: '0123456789abcdef' };
    const cases: Array<[unknown, string]> = [
      [[{ ...good, last: 1 }], 'sync.pull.skip.0.last'],
      [[{ ...good, count: 5 }], 'sync.pull.skip.0.count'],
      [[{ ...good, count: 0 }], 'sync.pull.skip.0.count'],
      [[{ ...good, digest: 'XYZ' }], 'sync.pull.skip.0.digest'],
      [[{ ...good, after: -1 }], 'sync.pull.skip.0.after'],
      [[{ ...good, extra: true }], 'sync.pull.skip.0.extra'],
      [Array.from({ length: 65 }, () => good), 'sync.pull.skip'],
      ['all', 'sync.pull.skip'],
    ];
    for (const [skip, field] of cases) {
      const res = await call('POST', '/v1/ns/demo/sync', { pull: { after: 0, skip } });
      expect([res.status, res.json?.error?.code, res.json?.error?.field], JSON.stringify(skip)).toEqual([
        400,
        'VALIDATION',
        field,
      ]);
    }
  });
});
