import type { Server } from 'node:http';
import { Hono } from 'hono';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, requireChromium } from '../browser/chromium.js';
import type { TabGlobals } from './tabs-page.js';
import { addTabsPage, listen } from './tabs-server.js';

// Two tabs of one origin writing to one IndexedDB database at the same moment, in real Chromium. The
// checks that make these writes safe (a given id is new, the superseded fact is unchanged since it was
// read, no copy was written since a deduping add searched) run inside IndexedDB's write transaction,
// which tabs take in turn; a tab whose check fails reads again and is told. No sync: the race is local.

const ROUNDS = 8;
let http: Server;
let browser: Browser;
let context: BrowserContext;
let tabs: [Page, Page];

beforeAll(async () => {
  const app = new Hono();
  await addTabsPage(app);
  const served = await listen(app);
  http = served.http;
  browser = await chromium.launch({ executablePath: requireChromium(), args: CHROMIUM_ARGS });
  context = await browser.newContext();
  const open = async (tab: string) => {
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`[${tab}]`, error));
    await page.goto(served.base);
    await page.waitForFunction(() => 'engram' in globalThis);
    await page.evaluate(async () => {
      const { createMemory, IndexedDBStore } = (globalThis as unknown as TabGlobals).engram;
      (globalThis as unknown as TabGlobals).mem = await createMemory({
        store: new IndexedDBStore({ name: 'race' }),
        namespace: 'n',
      });
    });
    return page;
  };
  tabs = [await open('A'), await open('B')];
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  http?.closeAllConnections();
  await new Promise((done) => http?.close(done));
});

type Call =
  | { op: 'add'; id: string; content: string }
  | { op: 'supersede'; oldId: string; content: string }
  | { op: 'dedupe'; content: string; tag: string };

/** What one tab's call ended with: the memory's id, or the error's code and field. */
type Outcome = { ok: string } | { code: string; field: string | undefined };

/**
 * Runs one call in each tab, both starting at the same instant (each page waits, spinning, for a wall
 * time set here a little ahead, so neither starts while the other's evaluate is still being delivered).
 */
async function race(a: Call, b: Call): Promise<[Outcome, Outcome]> {
  const at = Date.now() + 150;
  const run = (page: Page, call: Call) =>
    page.evaluate(
      async ({ call, at }) => {
        const { mem } = globalThis as unknown as TabGlobals;
        while (Date.now() < at) {
          // spin: a timer's lateness would differ between the tabs
        }
        try {
          const memory =
            call.op === 'add'
              ? await mem.add({ id: call.id, content: call.content })
              : call.op === 'supersede'
                ? await mem.supersede(call.oldId, { content: call.content })
                : await mem.add({ content: call.content, tags: [call.tag] }, { dedupe: true });
          return { ok: memory.id };
        } catch (error) {
          const e = error as { code?: string; field?: string; message?: string };
          return { code: e.code ?? `not an EngramError: ${e.message}`, field: e.field };
        }
      },
      { call, at },
    );
  return (await Promise.all([run(tabs[0], a), run(tabs[1], b)])) as [Outcome, Outcome];
}

/** Runs `fn` in a tab with its memory (`fn` is sent as source: it may use only its arguments). */
const inTab = <T>(page: Page, fn: (mem: TabGlobals['mem'], arg: string) => Promise<T>, arg: string) =>
  page.evaluate(
    // biome-ignore lint/security/noGlobalEval: the test's own function, rebuilt in the page from its source
    ({ source, arg }) => eval(`(${source})`)((globalThis as unknown as TabGlobals).mem, arg),
    { source: fn.toString(), arg },
  ) as Promise<T>;

describe('two tabs writing to one IndexedDB database at once (real Chromium)', () => {
  it('the same given id: one add wins, the other is CONFLICT add.id, and the winner is kept whole', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = `given-${round}`;
      const outcomes = await race(
        { op: 'add', id, content: `from A ${round}` },
        { op: 'add', id, content: `from B ${round}` },
      );
      const won = outcomes.filter((o) => 'ok' in o);
      expect(won, JSON.stringify(outcomes)).toHaveLength(1);
      expect(outcomes.find((o) => !('ok' in o))).toEqual({ code: 'CONFLICT', field: 'add.id' });
      const winner = outcomes[0] === won[0] ? 'A' : 'B';
      // Both tabs read the winner's memory, not a field-by-field mix of the two.
      for (const page of tabs) {
        expect(await inTab(page, async (mem, id) => (await mem.get(id))?.content, id)).toBe(
          `from ${winner} ${round}`,
        );
      }
    }
  });

  it('the same fact superseded: one successor, the other tab told CONFLICT supersede.oldId', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const oldId = await inTab(
        tabs[0],
        async (mem, content) => (await mem.add({ content })).id,
        `Lives in Lyon ${round}`,
      );
      const outcomes = await race(
        { op: 'supersede', oldId, content: `Lives in Paris ${round}` },
        { op: 'supersede', oldId, content: `Lives in Nice ${round}` },
      );
      const won = outcomes.filter((o) => 'ok' in o);
      expect(won, JSON.stringify(outcomes)).toHaveLength(1);
      expect(outcomes.find((o) => !('ok' in o))).toEqual({ code: 'CONFLICT', field: 'supersede.oldId' });
      const successors = await inTab(
        tabs[1],
        async (mem, oldId) => {
          const links = await mem.links(oldId, { direction: 'in', type: 'supersedes' });
          return links.map((link) => link.from);
        },
        oldId,
      );
      expect(successors).toEqual([(won[0] as { ok: string }).ok]);
      const valid = await inTab(
        tabs[1],
        async (mem, round) =>
          (await mem.list({ limit: 100 })).items.filter((m) =>
            new RegExp(`^Lives in \\w+ ${round}$`).test(m.content),
          ).length,
        String(round),
      );
      expect(valid).toBe(1);
    }
  });

  it('the same content added with dedupe: one memory, holding both tabs’ tags', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const content = `Prefers green tea in the morning ${round}`;
      const outcomes = await race({ op: 'dedupe', content, tag: 'a' }, { op: 'dedupe', content, tag: 'b' });
      expect(
        outcomes.every((o) => 'ok' in o),
        JSON.stringify(outcomes),
      ).toBe(true);
      expect((outcomes[0] as { ok: string }).ok).toBe((outcomes[1] as { ok: string }).ok);
      const copies = await inTab(
        tabs[0],
        async (mem, content) =>
          (await mem.list({ limit: 1000 })).items
            .filter((m) => m.content === content)
            .map((m) => m.tags.sort()),
        content,
      );
      expect(copies).toEqual([['a', 'b']]);
    }
  });
});
