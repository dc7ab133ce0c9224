import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Memory } from '../../src/index.js';
import { startDemoInChromium } from './serve.js';

const ROOT = join(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'test-artifacts');
/** How long the page may take to show a change; sync runs every 1.5 s. */
const WAIT_MS = 10_000;

const demo = startDemoInChromium();
const pageErrors: string[] = [];

async function openNotebook(context: BrowserContext): Promise<Page> {
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${error.name}: ${error.message}`));
  await page.goto(demo.server().base);
  return page;
}

const byTestId = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);

/** Waits until the element's text matches. */
async function shows(page: Page, id: string, text: RegExp | string): Promise<void> {
  await byTestId(page, id).filter({ hasText: text }).waitFor();
}

function memoryItem(page: Page, text: string) {
  return byTestId(page, 'memory-list').locator('[data-testid="memory"]', { hasText: text });
}

async function addMemory(page: Page, text: string): Promise<void> {
  await byTestId(page, 'memory-input').fill(text);
  await byTestId(page, 'add').click();
  await expect.poll(() => byTestId(page, 'memory-input').inputValue()).toBe('');
}

function listedTexts(page: Page): Promise<string[]> {
  return byTestId(page, 'memory-list').locator('[data-testid="memory"] .content').allTextContents();
}

/** Waits until the list shows exactly these memories, in this order. */
async function lists(page: Page, texts: string[]): Promise<void> {
  await expect.poll(() => listedTexts(page), { timeout: WAIT_MS }).toEqual(texts);
}

/** What the server holds, read through its HTTP API with the page's own kind of token. */
async function serverContents(): Promise<string[]> {
  const { token } = (await (await fetch(`${demo.server().base}/demo/config`)).json()) as { token: string };
  const response = await fetch(`${demo.server().base}/v1/ns/demo/memories`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const { items } = (await response.json()) as { items: Memory[] };
  return items.map((m) => m.content);
}

describe('demo notebook in Chromium', () => {
  let first: BrowserContext;
  let a: Page;

  it('starts online and synced, on a token for the demo namespace only', async () => {
    first = await demo.browser().newContext({ viewport: { width: 1000, height: 540 } });
    a = await openNotebook(first);
    await shows(a, 'status', 'online · synced');
    expect(await byTestId(a, 'namespace').textContent()).toBe('demo');
    await lists(a, []);
  });

  it('adds memories offline, counting them as pending', async () => {
    await first.setOffline(true);
    await shows(a, 'status', /^offline/);
    await addMemory(a, 'Oat milk for the cold brew #shopping #Idea');
    await addMemory(a, 'Ask Ana about the Lisbon trip #todo');
    await shows(a, 'status', 'offline · 2 pending');
    await lists(a, ['Ask Ana about the Lisbon trip', 'Oat milk for the cold brew']);
    expect(await memoryItem(a, 'Oat milk').locator('.meta').textContent()).toBe('#shopping #idea · just now');
    expect(await serverContents()).toEqual([]);
  });

  it('syncs by itself once back online', async () => {
    await first.setOffline(false);
    await shows(a, 'status', 'online · synced');
    expect(await serverContents()).toEqual(['Ask Ana about the Lisbon trip', 'Oat milk for the cold brew']);
  });

  let second: BrowserContext;
  let b: Page;

  it('shows them in a second browser, where search finds them as you type', async () => {
    second = await demo.browser().newContext({ viewport: { width: 1000, height: 640 } });
    b = await openNotebook(second);
    await lists(b, ['Ask Ana about the Lisbon trip', 'Oat milk for the cold brew']);

    await byTestId(b, 'search').pressSequentially('lisb');
    await lists(b, ['Ask Ana about the Lisbon trip']);
    await shows(b, 'caption', '1 match, best first');
    await byTestId(b, 'search').fill('brewing');
    await lists(b, ['Oat milk for the cold brew']);
    await byTestId(b, 'search').fill('trip milk -ana');
    await lists(b, ['Oat milk for the cold brew']);
    await byTestId(b, 'search').fill('');
    await lists(b, ['Ask Ana about the Lisbon trip', 'Oat milk for the cold brew']);
    await shows(b, 'caption', '2 memories');
  });

  it("carries the second browser's memory and links back to the first", async () => {
    await addMemory(b, 'Lisbon flights are cheapest in March #travel');
    await memoryItem(a, 'Lisbon flights').waitFor();

    await memoryItem(a, 'Ask Ana').click();
    await shows(a, 'links', 'No links yet.');
    // Offered: every other memory not linked yet, never the open one itself.
    const offered = () => byTestId(a, 'link-target').locator('option').allTextContents();
    await expect
      .poll(offered)
      .toEqual(['Lisbon flights are cheapest in March', 'Oat milk for the cold brew']);
    await byTestId(a, 'link-target').selectOption({ label: 'Lisbon flights are cheapest in March' });
    await byTestId(a, 'link').click();
    await shows(a, 'links', '→ related to: Lisbon flights are cheapest in March');
    await expect.poll(offered).toEqual(['Oat milk for the cold brew']);

    await memoryItem(b, 'Lisbon flights').click();
    await shows(b, 'links', '← related to: Ask Ana about the Lisbon trip');
    // A second click on the open memory closes it.
    await memoryItem(b, 'Lisbon flights').click();
    await byTestId(b, 'details').waitFor({ state: 'hidden' });
  });

  it('keeps everything across a reload', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await a.screenshot({ path: join(ARTIFACTS, 'demo.png') });
    await a.reload();
    await lists(a, [
      'Lisbon flights are cheapest in March',
      'Ask Ana about the Lisbon trip',
      'Oat milk for the cold brew',
    ]);
    await shows(a, 'status', 'online · synced');
  });

  it('reopens with no network at all: the page comes from its service worker, the notes from IndexedDB', async () => {
    await a.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await first.setOffline(true);
    await a.reload();
    await lists(a, [
      'Lisbon flights are cheapest in March',
      'Ask Ana about the Lisbon trip',
      'Oat milk for the cold brew',
    ]);
    await shows(a, 'status', /^offline/);
    await addMemory(a, 'Written after an offline reload');
    await shows(a, 'status', 'offline · 1 pending');
    await first.setOffline(false);
    await shows(a, 'status', 'online · synced');
    expect(await serverContents()).toContain('Written after an offline reload');
  });

  it('raised no uncaught error in any page', async () => {
    await first.close();
    await second.close();
    expect(pageErrors).toEqual([]);
  });
});
