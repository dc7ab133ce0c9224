import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pageHtml from '../../src/demo/index.html?raw';
import { NotebookView } from '../../src/demo/notebook-view.js';
import type { Memory, SyncStatus } from '../../src/index.js';

// The demo page's view on its own HTML in real Chromium: what the end-to-end tests
// (test/e2e/demo*.test.ts) cannot pin down without waiting on the clock.
const byTestId = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`)!;
const status = (state: SyncStatus['state'], pending = 0): SyncStatus => ({
  state,
  pending,
  lastSyncAt: null,
});

function memory(id: string, content: string): Memory {
  const at = new Date().toISOString();
  return {
    id,
    namespace: 'demo',
    content,
    kind: 'note',
    tags: ['idea'],
    metadata: {},
    createdAt: at,
    updatedAt: at,
  };
}

beforeEach(() => {
  document.body.innerHTML = new DOMParser().parseFromString(pageHtml, 'text/html').body.innerHTML;
});
afterEach(() => {
  vi.useRealTimers();
});

describe("the demo notebook's view", () => {
  it('shows a syncing state only once it has lasted, and never after sync ended', () => {
    vi.useFakeTimers();
    const view = new NotebookView();
    view.showStatus(status('online'));
    view.showStatus(status('syncing'));
    expect(byTestId('status').textContent).toBe('online · synced');
    vi.advanceTimersByTime(300);
    expect(byTestId('status').textContent).toBe('syncing');

    view.showStatus(status('online', 1));
    view.showStatus(status('syncing', 1));
    view.showStatus(status('online'));
    vi.advanceTimersByTime(10_000);
    expect(byTestId('status').textContent).toBe('online · synced');
    expect(byTestId('status').dataset.state).toBe('online');
  });

  it("shows a search hit's score, and hides the link form when there is nothing to link to", () => {
    const view = new NotebookView();
    const only = memory('m1', 'Oat milk');
    view.render({
      items: [{ memory: only, score: 1.23456 }],
      caption: '1 match',
      selected: only,
      links: [],
      candidates: [],
      now: Date.now(),
    });
    expect(byTestId('memory-list').querySelector('.meta')!.textContent).toBe('#idea · just now · score 1.23');
    expect(byTestId('details').hidden).toBe(false);
    expect(byTestId('link-form').hidden).toBe(true);

    const other = memory('m2', 'Cold brew');
    view.render({
      items: [{ memory: only }, { memory: other }],
      caption: '2 memories',
      selected: only,
      links: [],
      candidates: [other],
      now: Date.now(),
    });
    expect(byTestId('memory-list').querySelector('.meta')!.textContent).toBe('#idea · just now');
    expect(byTestId('link-form').hidden).toBe(false);
  });
});
