import { describe, expect, it } from 'vitest';
import { collectTombstones } from '../../src/core/maintenance.js';
import { PULL_BYTES, serveSync } from '../../src/core/sync/server.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { COLLECTED_SEQ_META, createMemory, InMemoryStore } from '../../src/index.js';

const SECRET = 'pull-pages-secret-0123456789';
const DIMS = 4096;

/** An edge whose namespace holds `count` memories of about 140 KB of JSON each (embedding and metadata). */
async function fatEdge(count: number) {
  const server = new InMemoryStore();
  const writer = await createMemory({ store: server, namespace: 'fat' });
  await writer.addMany(
    Array.from({ length: count }, (_, i) => ({
      content: `memory ${i}`,
      embedding: Array.from({ length: DIMS }, (_, d) => Math.sin(i * DIMS + d) / 3),
      metadata: { notes: 'n'.repeat(50_000) },
    })),
  );
  const app = createEdgeApp({ store: server, secret: SECRET, logger: false, live: false });
  const token = await mintToken({ secret: SECRET, ns: ['fat'] });
  return { app, token };
}

describe('pull pages', () => {
  it('are cut after about PULL_BYTES of records, and paging on gets every change once', async () => {
    const { app, token } = await fatEdge(60);
    const seen: string[] = [];
    for (let after = 0, pages = 0; ; pages++) {
      const res = await app.request('/v1/ns/fat/sync', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ pull: { after, limit: 500 } }),
      });
      const text = await res.text();
      expect(text.length).toBeLessThan(PULL_BYTES + 200_000);
      const { pull } = JSON.parse(text);
      seen.push(...pull.changes.map((c: { id: string }) => c.id));
      expect(pull.cursor).toBe(pull.changes.at(-1).seq);
      after = pull.cursor;
      if (!pull.hasMore) {
        expect(pages).toBeGreaterThan(0);
        break;
      }
    }
    expect(new Set(seen).size).toBe(60);
    expect(seen).toHaveLength(60);
  });

  it('a replica on a slow link catches up instead of timing out on the same page for ever', async () => {
    const { app, token } = await fatEdge(120);
    // About 4 MB/s: a page of the whole feed (17 MB) takes over 4 s, one of PULL_BYTES about 1 s, and
    // the timeout (2.5 s) leaves the edge room to build each page on a loaded machine.
    const bytesPerMs = 4_000;
    const slowFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const res = await app.fetch(new Request(input, { ...init, signal: undefined }));
      const text = await res.text();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, text.length / bytesPerMs);
        init?.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new DOMException('aborted', 'AbortError'));
        });
      });
      return new Response(text, { status: res.status, headers: res.headers });
    }) as typeof fetch;
    const replica = await createMemory({
      namespace: 'fat',
      sync: { url: 'http://edge.test', token, fetch: slowFetch, intervalMs: 0, live: false, timeoutMs: 2500 },
    });
    await replica.sync();
    expect((await replica.stats()).memories).toBe(120);
    await replica.close();
  });

  it('a pull cut off after its first page counts only local changes as pending', async () => {
    const server = new InMemoryStore();
    const writer = await createMemory({ store: server, namespace: 'fat' });
    for (const from of [0, 1000]) {
      await writer.addMany(
        Array.from({ length: from ? 100 : 1000 }, (_, i) => ({ content: `memory ${from + i}` })),
      );
    }
    const app = createEdgeApp({ store: server, secret: SECRET, logger: false, live: false });
    const token = await mintToken({ secret: SECRET, ns: ['fat'] });
    let pulls = 0;
    let cut = true;
    const mem = await createMemory({
      namespace: 'fat',
      sync: {
        url: 'http://edge.test',
        token,
        intervalMs: 0,
        live: false,
        backoff: { baseMs: 600_000 },
        fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
          // Every pull after the first page fails: that page (1000 of 1100) is applied and kept.
          if (String(init?.body).includes('"pull"') && ++pulls >= 2 && cut)
            throw new TypeError('fetch failed: reset');
          return app.fetch(new Request(input, init));
        }) as typeof fetch,
      },
    });
    await expect(mem.sync()).rejects.toMatchObject({ code: 'OFFLINE' });
    expect(await mem.count()).toBe(1000);
    expect(mem.status).toMatchObject({ state: 'offline', pending: 0 });
    cut = false;
    await mem.add({ content: 'written here' });
    await mem.sync();
    expect(await mem.count()).toBe(1101);
    expect(mem.status).toMatchObject({ state: 'online', pending: 0 });
    await mem.close();
  });

  it('a replica that only pulls moves its outbox cursor past what it pulled: the next push reads none of it', async () => {
    const server = new InMemoryStore();
    const writer = await createMemory({ store: server, namespace: 'fat' });
    await writer.addMany(Array.from({ length: 30 }, (_, i) => ({ content: `memory ${i}` })));
    const app = createEdgeApp({ store: server, secret: SECRET, logger: false, live: false });
    const token = await mintToken({ secret: SECRET, ns: ['fat'] });
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) =>
      app.fetch(new Request(input, init))) as typeof globalThis.fetch;
    const mem = await createMemory({
      namespace: 'fat',
      sync: { url: 'http://edge.test', token, fetch, intervalMs: 0, live: false },
    });
    await mem.sync();
    const feed = await mem.store.changes('fat', 0, 100);
    expect(feed).toHaveLength(30);
    expect(await mem.store.getMeta('fat', 'sync.pushedSeq')).toBe(feed.at(-1)!.seq);
    await mem.close();
  });

  it('a first pull of several pages, of an edge that collected deletions since, takes each page once: no re-sync', async () => {
    const server = new InMemoryStore();
    const writer = await createMemory({ store: server, namespace: 'fat' });
    const added = await writer.addMany(Array.from({ length: 1000 }, (_, i) => ({ content: `memory ${i}` })));
    await writer.addMany(Array.from({ length: 100 }, (_, i) => ({ content: `memory ${1000 + i}` })));
    // A delete past the horizon: the edge collected it, at a position beyond the first page.
    await writer.remove(added[0]!.id);
    const DAY = 86_400_000;
    expect(await collectTombstones(server, 'fat', { nowMs: Date.now() + 2 * DAY, horizonMs: DAY })).toBe(1);
    const app = createEdgeApp({ store: server, secret: SECRET, logger: false, live: false });
    const token = await mintToken({ secret: SECRET, ns: ['fat'] });
    let pulls = 0;
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (String(init?.body).includes('"pull"')) pulls++;
      return app.fetch(new Request(input, init));
    }) as typeof globalThis.fetch;
    const mem = await createMemory({
      namespace: 'fat',
      sync: { url: 'http://edge.test', token, fetch, intervalMs: 0, live: false },
    });
    expect(await mem.sync()).toEqual({ pushed: 0, pulled: 1099 });
    expect(pulls).toBe(2);
    await mem.close();
  });
});

describe('pull pages of the server half (serveSync)', () => {
  const created = (id: string, content: string) => {
    const s = '01900000000a-0000-writer';
    return {
      id,
      create: { namespace: 'ns', createdAt: '2024-06-01T00:00:00.000Z' },
      values: { content, kind: 'note', tags: [], metadata: {} },
      clocks: { content: s, kind: s, tags: s, metadata: s },
    };
  };

  it('a record larger than PULL_BYTES on its own makes a page of one, and paging goes on past it', async () => {
    // A store written directly holds what no push could carry: the edge still serves it, one a page.
    const store = new InMemoryStore();
    await store.apply('ns', {
      memories: [created('a', 'small'), created('b', 'x'.repeat(PULL_BYTES + 1)), created('c', 'small')],
    });
    const pages: string[][] = [];
    for (let after = 0; ; ) {
      const { pull } = await serveSync(store, 'ns', { pull: { after, limit: 500 } });
      pages.push(pull!.changes.map((c) => c.id));
      after = pull!.cursor;
      if (!pull!.hasMore) break;
    }
    expect(pages).toEqual([['a'], ['b'], ['c']]);
    await store.close();
  });

  it('a cursor of 0 (a replica that pulled nothing) is never behind the horizon', async () => {
    const store = new InMemoryStore();
    await store.apply('ns', { memories: [created('m', 'kept')], meta: { [COLLECTED_SEQ_META]: 5 } });
    const answer = await serveSync(store, 'ns', { cursor: 0, pull: { after: 0 } });
    expect(answer.resync).toBeUndefined();
    expect(answer.pull!.changes.map((c) => c.id)).toEqual(['m']);
    await store.close();
  });
});
