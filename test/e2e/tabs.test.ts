import type { Server } from 'node:http';
import { Hono } from 'hono';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEdgeApp, LocalHub, mintToken } from '../../src/edge/index.js';
import { createMemory, type Engram, InMemoryStore } from '../../src/index.js';
import { CHROMIUM_ARGS, requireChromium } from '../browser/chromium.js';
import type { TabGlobals } from './tabs-page.js';
import { addTabsPage, listen } from './tabs-server.js';

const SECRET = 'tabs-test-secret';
const server = new InMemoryStore();
const hub = new LocalHub();
/** Requests each tab made, by kind, as the edge saw them (pages tag their requests with x-tab). */
const seen: Record<string, { sync: number; events: number }> = {};
/** Tabs whose sync requests the edge holds (a slow round) until `releaseHeld` runs. */
const slowTabs = new Set<string>();
let releaseHeld: () => void = () => {};
const held = new Promise<void>((resolve) => {
  releaseHeld = resolve;
});
let base: string;
let http: Server;
let browser: Browser;

beforeAll(async () => {
  const executablePath = requireChromium();
  const edge = createEdgeApp({ store: server, secret: SECRET, logger: false, live: hub });
  const app = new Hono();
  app.use('/v1/*', async (c, next) => {
    const tab = c.req.header('x-tab') ?? 'untagged';
    seen[tab] ??= { sync: 0, events: 0 };
    if (c.req.path.endsWith('/sync')) seen[tab].sync++;
    if (c.req.path.endsWith('/events')) seen[tab].events++;
    if (slowTabs.has(tab) && c.req.path.endsWith('/sync')) await held;
    await next();
  });
  await addTabsPage(app);
  app.all('*', (c) => edge.fetch(c.req.raw));
  ({ http, base } = await listen(app));
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  releaseHeld();
  await browser?.close();
  await hub.close();
  http?.closeAllConnections();
  await new Promise((done) => http?.close(done));
});

/** Opens a page that starts a synced memory on IndexedDB `db`, tagging its requests with `tab`. */
async function openTab(
  context: BrowserContext,
  tab: string,
  db: string,
  secret: string = SECRET,
): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${tab}]`, error));
  await page.goto(base);
  await page.waitForFunction(() => 'engram' in globalThis);
  const token = await mintToken({ secret, ns: ['n'] });
  await page.evaluate(
    async ({ tab, db, token }) => {
      const { createMemory, IndexedDBStore } = (globalThis as unknown as TabGlobals).engram;
      const tagged: typeof fetch = (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set('x-tab', tab);
        return fetch(input, { ...init, headers });
      };
      const mem = await createMemory({
        store: new IndexedDBStore({ name: db }),
        namespace: 'n',
        sync: { url: location.origin, token, fetch: tagged, intervalMs: 400 },
      });
      (globalThis as unknown as TabGlobals).mem = mem;
    },
    { tab, db, token },
  );
  return page;
}

const liveState = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as TabGlobals).mem.liveState as string);
const snapshot = (tab: string) => ({ ...(seen[tab] ?? { sync: 0, events: 0 }) });

describe('one syncing tab per store and namespace (Web Locks, real Chromium)', () => {
  let context: BrowserContext;
  let a: Page;
  let b: Page;
  let writer: Engram;

  it('elects one leader: only it polls and keeps the event stream', async () => {
    context = await browser.newContext();
    a = await openTab(context, 'A', 'shared');
    b = await openTab(context, 'B', 'shared');
    await expect.poll(() => liveState(a), { timeout: 10_000 }).toBe('live');
    expect(await liveState(b)).toBe('off');
    const [a0, b0] = [snapshot('A'), snapshot('B')];
    await new Promise((r) => setTimeout(r, 2000));
    const [a1, b1] = [snapshot('A'), snapshot('B')];
    // 2 s of polling every 400 ms: the leader polls, the follower sends nothing at all.
    expect(a1.sync - a0.sync).toBeGreaterThanOrEqual(3);
    expect(b1.sync - b0.sync).toBe(0);
    expect(b1.events).toBe(0);
    expect(a1.events).toBe(1);
  });

  it("a follower's write is pushed by the leader, and the follower sees the leader's status", async () => {
    const id = await b.evaluate(
      async () => (await (globalThis as unknown as TabGlobals).mem.add({ content: 'typed in B' })).id,
    );
    await expect.poll(async () => (await server.getMemories('n', [id])).length, { timeout: 5000 }).toBe(1);
    await expect
      .poll(() => b.evaluate(() => (globalThis as unknown as TabGlobals).mem.status), { timeout: 5000 })
      .toMatchObject({ state: 'online', pending: 0 });
    expect(snapshot('B').sync).toBe(0);
  });

  it("a follower's sync() runs in the leader and resolves with its result", async () => {
    const result = await b.evaluate(() => (globalThis as unknown as TabGlobals).mem.sync());
    expect(result).toMatchObject({ pushed: expect.any(Number), pulled: expect.any(Number) });
    expect(snapshot('B').sync).toBe(0);
  });

  it("another client's write shows in both tabs, live", async () => {
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const via = (async (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init)) as typeof fetch;
    writer = await createMemory({ namespace: 'n', sync: { url: base, token, fetch: via, intervalMs: 0 } });
    const m = await writer.add({ content: 'from elsewhere' });
    await writer.sync();
    for (const page of [a, b]) {
      await expect
        .poll(
          () =>
            page.evaluate(
              async (id) => (await (globalThis as unknown as TabGlobals).mem.get(id))?.content,
              m.id,
            ),
          {
            timeout: 2000,
          },
        )
        .toBe('from elsewhere');
    }
  });

  it('when the leader closes, the follower takes over within a few seconds', async () => {
    const before = snapshot('B');
    const closed = Date.now();
    await a.close();
    await expect.poll(() => liveState(b), { timeout: 5000 }).toBe('live');
    expect(Date.now() - closed).toBeLessThan(5000);
    await expect.poll(() => snapshot('B').sync - before.sync, { timeout: 3000 }).toBeGreaterThan(0);
    const m = await writer.add({ content: 'after the handoff' });
    await writer.sync();
    await expect
      .poll(
        () =>
          b.evaluate(async (id) => (await (globalThis as unknown as TabGlobals).mem.get(id))?.content, m.id),
        {
          timeout: 2000,
        },
      )
      .toBe('after the handoff');
    await writer.close();
    await context.close();
  });
});

describe('a follower’s sync() when the leader closes mid-round (real Chromium)', () => {
  it('is answered by the next leader within seconds, not OFFLINE after 60 s', async () => {
    const context = await browser.newContext();
    const a = await openTab(context, 'HA', 'handover');
    await expect.poll(() => liveState(a), { timeout: 10_000 }).toBe('live');
    const b = await openTab(context, 'HB', 'handover');
    const c = await openTab(context, 'HC', 'handover');
    slowTabs.add('HA');
    const before = snapshot('HA').sync;
    await c.evaluate(() => {
      const page = globalThis as unknown as TabGlobals & { answer?: string };
      page.answer = 'pending';
      page.mem.sync().then(
        (result) => {
          page.answer = `pulled ${result.pulled}`;
        },
        (error: { code?: string }) => {
          page.answer = `failed ${error.code}`;
        },
      );
    });
    // Tab A's round for C has reached the edge, which holds it: A closes in the middle of it.
    await expect.poll(() => snapshot('HA').sync - before, { timeout: 5000 }).toBeGreaterThan(0);
    await a.close();
    await expect.poll(() => liveState(b), { timeout: 5000 }).toBe('live');
    expect(await liveState(c)).toBe('off');
    await expect
      .poll(() => c.evaluate(() => (globalThis as unknown as { answer: string }).answer), { timeout: 5000 })
      .toMatch(/^pulled \d+$/);
    await context.close();
  });
});

describe('a leader whose token the edge refuses (real Chromium)', () => {
  it('hands the lock to a tab opened with a token the edge takes, and follows it', async () => {
    const context = await browser.newContext();
    // Signed with another secret: every request of this tab is 401.
    const a = await openTab(context, 'RA', 'refused', 'not-the-edge-secret');
    const statusOf = (page: Page) =>
      page.evaluate(() => (globalThis as unknown as TabGlobals).mem.status as { state: string });
    await expect.poll(() => statusOf(a), { timeout: 10_000 }).toMatchObject({ state: 'error' });
    const id = await a.evaluate(
      async () => (await (globalThis as unknown as TabGlobals).mem.add({ content: 'typed in A' })).id,
    );
    const b = await openTab(context, 'RB', 'refused');
    // A's next refused round (every 400 ms) sees B waiting and hands the lock on.
    await expect.poll(() => liveState(b), { timeout: 10_000 }).toBe('live');
    await expect.poll(async () => (await server.getMemories('n', [id])).length, { timeout: 5000 }).toBe(1);
    await expect.poll(() => statusOf(a), { timeout: 5000 }).toMatchObject({ state: 'online', pending: 0 });
    // A sends nothing more: B syncs for both.
    const before = snapshot('RA').sync;
    await new Promise((r) => setTimeout(r, 1200));
    expect(snapshot('RA').sync).toBe(before);
    expect(await a.evaluate(() => (globalThis as unknown as TabGlobals).mem.sync())).toMatchObject({
      pushed: expect.any(Number),
    });
    await context.close();
  });
});

describe('IndexedDB storage you can keep (real Chromium)', () => {
  it('asks for persistent storage when told to, and reports the answer', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(base);
    await page.waitForFunction(() => 'engram' in globalThis);
    const answer = await page.evaluate(async () => {
      let asked = 0;
      const storage = navigator.storage as { persist: () => Promise<boolean> };
      const real = storage.persist.bind(storage);
      storage.persist = () => {
        asked++;
        return real();
      };
      const { IndexedDBStore } = (globalThis as unknown as TabGlobals).engram;
      const plain = new IndexedDBStore({ name: 'plain' });
      await plain.open();
      const kept = new IndexedDBStore({ name: 'kept', persist: true });
      await kept.open();
      return {
        asked,
        plain: plain.persisted,
        kept: kept.persisted,
        real: await navigator.storage.persisted(),
      };
    });
    expect(answer.asked).toBe(1);
    expect(answer.plain).toBeUndefined();
    expect(typeof answer.kept).toBe('boolean');
    expect(answer.kept).toBe(answer.real);
    await context.close();
  });

  it('tells an evicted database from a first visit', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(base);
    await page.waitForFunction(() => 'engram' in globalThis);
    const result = await page.evaluate(async () => {
      const { IndexedDBStore, clearSentinel, createMemory } = (globalThis as unknown as TabGlobals).engram;
      const open = async () => {
        let told = 0;
        const store = new IndexedDBStore({ name: 'notes', onEvicted: () => told++ });
        await store.open();
        await store.close();
        return { evicted: store.evicted, told };
      };
      const gone = () =>
        new Promise<void>((resolve, reject) => {
          const request = indexedDB.deleteDatabase('notes');
          request.onsuccess = () => resolve();
          request.onerror = () => reject(request.error);
        });
      const first = await open();
      const again = await open();
      await gone(); // what eviction does: the database vanishes, nothing else is told
      const afterEviction = await open();
      const next = await open();
      clearSentinel('notes');
      await gone(); // an app that deletes on purpose clears the sentinel first
      const onPurpose = await open();
      // Deleted while a store holds it open: its next operation finds it empty, and says so.
      const whileOpen = async (purpose: boolean) => {
        let told = 0;
        const store = new IndexedDBStore({ name: 'notes', onEvicted: () => told++ });
        await store.open();
        await (await createMemory({ store, namespace: 'n' })).add({ content: 'kept?' });
        const before = (await store.changes('n', 0, 10)).length;
        if (purpose) clearSentinel('notes');
        await gone();
        const changes = await store.changes('n', 0, 10);
        await new Promise((resolve) => setTimeout(resolve, 0));
        await store.close();
        return { evicted: store.evicted, told, before, after: changes.length };
      };
      const deletedWhileOpen = await whileOpen(false);
      const deletedOnPurposeWhileOpen = await whileOpen(true);
      return { first, again, afterEviction, next, onPurpose, deletedWhileOpen, deletedOnPurposeWhileOpen };
    });
    expect(result).toEqual({
      first: { evicted: false, told: 0 },
      again: { evicted: false, told: 0 },
      afterEviction: { evicted: true, told: 1 },
      next: { evicted: false, told: 0 },
      onPurpose: { evicted: false, told: 0 },
      deletedWhileOpen: { evicted: true, told: 1, before: 1, after: 0 },
      deletedOnPurposeWhileOpen: { evicted: false, told: 0, before: 1, after: 0 },
    });
    await context.close();
  });
});
