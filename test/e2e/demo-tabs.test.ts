import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startDemoInChromium } from './serve.js';

const WAIT_MS = 10_000;

const demo = startDemoInChromium();
const pageErrors: string[] = [];

const byTestId = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);

function listedTexts(page: Page): Promise<string[]> {
  return byTestId(page, 'memory-list').locator('[data-testid="memory"] .content').allTextContents();
}

async function lists(page: Page, texts: string[]): Promise<void> {
  await expect.poll(() => listedTexts(page), { timeout: WAIT_MS }).toEqual(texts);
}

async function addMemory(page: Page, text: string): Promise<void> {
  await byTestId(page, 'memory-input').fill(text);
  await byTestId(page, 'add').click();
  await expect.poll(() => byTestId(page, 'memory-input').inputValue()).toBe('');
}

/** Counts list re-renders in the page, to show a write re-renders the other tab once, not in a loop. */
function countListRenders(page: Page): Promise<void> {
  return page.evaluate(() => {
    const list = document.querySelector('[data-testid="memory-list"]')!;
    const host = window as unknown as { listRenders: number };
    host.listRenders = 0;
    new MutationObserver(() => host.listRenders++).observe(list, { childList: true });
  });
}

const listRenders = (page: Page) =>
  page.evaluate(() => (window as unknown as { listRenders: number }).listRenders);

describe('demo notebook in two tabs of one browser (mem.watch over BroadcastChannel)', () => {
  let context: BrowserContext;
  let a: Page;
  let b: Page;

  it('a write in one tab re-renders the other, with the network off', async () => {
    context = await demo.browser().newContext();
    context.setDefaultTimeout(WAIT_MS);
    [a, b] = [await context.newPage(), await context.newPage()];
    for (const page of [a, b]) {
      page.on('pageerror', (error) => pageErrors.push(`${error.name}: ${error.message}`));
      await page.goto(demo.server().base);
      await byTestId(page, 'status').filter({ hasText: 'online · synced' }).waitFor();
    }
    // Offline, sync cannot carry anything: only the tabs' own channel can.
    await context.setOffline(true);
    await byTestId(b, 'status')
      .filter({ hasText: /^offline/ })
      .waitFor();
    await countListRenders(b);
    await addMemory(a, 'Descale the kettle #home');
    await lists(b, ['Descale the kettle']);
    await addMemory(a, 'Buy oat milk');
    await lists(b, ['Buy oat milk', 'Descale the kettle']);
    expect(await listRenders(b)).toBe(2);
  });

  it("the other tab's search follows writes too: hits enter and leave", async () => {
    await byTestId(b, 'search').fill('kettle');
    await lists(b, ['Descale the kettle']);
    await addMemory(a, 'The kettle whistles');
    await lists(b, ['The kettle whistles', 'Descale the kettle']);
    await byTestId(a, 'memory-list').locator('[data-testid="memory"]', { hasText: 'Descale' }).click();
    await byTestId(a, 'remove').click();
    await lists(b, ['The kettle whistles']);
    await lists(a, ['The kettle whistles', 'Buy oat milk']);
  });

  it('a double-clicked Add adds the memory once; a refused entry stays in the box', async () => {
    await byTestId(a, 'memory-input').fill('Water the plants');
    await byTestId(a, 'add').dblclick();
    await lists(a, ['Water the plants', 'The kettle whistles', 'Buy oat milk']);
    await byTestId(a, 'memory-input').fill(`#${'x'.repeat(70)} too long a tag`);
    await byTestId(a, 'add').click();
    await byTestId(a, 'caption').filter({ hasText: 'add.tags.0' }).waitFor();
    expect(await byTestId(a, 'memory-input').inputValue()).toBe(`#${'x'.repeat(70)} too long a tag`);
  });

  it('raised no uncaught error in either tab', async () => {
    await context.setOffline(false);
    await context.close();
    expect(pageErrors).toEqual([]);
  });
});
