// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { createElement as h, StrictMode, useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, type Engram, InMemoryStore, type ListOptions } from '../../src/index.js';
import { useMemories, useSearch, useSyncStatus } from '../../src/react/index.js';

afterEach(cleanup);

/** Counts the watches a memory has open: started minus stopped. */
function countWatches(mem: Engram) {
  const counts = { started: 0, stopped: 0 };
  const watch = mem.watch.bind(mem);
  mem.watch = ((query, listener, options) => {
    const stop = watch(query, listener, options);
    counts.started++;
    let stopped = false;
    return () => {
      if (!stopped) counts.stopped++;
      stopped = true;
      stop();
    };
  }) as Engram['watch'];
  return { counts, open: () => counts.started - counts.stopped };
}

function MemoryList({ mem, options }: { mem: Engram | null; options?: ListOptions }) {
  const { data, loading, error } = useMemories(mem, options);
  renders.list++;
  if (error) return h('p', { 'data-testid': 'error' }, String((error as Error).message));
  if (loading && !data) return h('p', { 'data-testid': 'loading' }, 'loading');
  return h(
    'ul',
    { 'data-testid': 'list' },
    data!.items.map((m) => h('li', { key: m.id }, m.content)),
  );
}

function SearchBox({ mem, initial }: { mem: Engram; initial: string }) {
  const [text, setText] = useState(initial);
  const { data = [], error } = useSearch(mem, text, { limit: 5 });
  return h(
    'div',
    null,
    h('input', {
      'data-testid': 'q',
      value: text,
      onChange: (e: { target: { value: string } }) => setText(e.target.value),
    }),
    error ? h('p', { 'data-testid': 'error' }, (error as Error).message) : null,
    h(
      'ol',
      { 'data-testid': 'hits' },
      data.map((hit) => h('li', { key: hit.memory.id }, hit.memory.content)),
    ),
  );
}

function Status({ mem }: { mem: Engram }) {
  const { state, pending } = useSyncStatus(mem);
  return h('output', { 'data-testid': 'status' }, `${state} ${pending}`);
}

const renders = { list: 0 };
const items = (testId: string) =>
  Array.from(screen.getByTestId(testId).querySelectorAll('li'), (li) => li.textContent);

describe('engram/react', () => {
  it('useMemories shows loading, then the list, then every change', async () => {
    const mem = await createMemory();
    await mem.add({ content: 'first' });
    render(h(MemoryList, { mem }));
    expect(screen.getByTestId('loading')).toBeTruthy();
    await waitFor(() => expect(items('list')).toEqual(['first']));
    await act(() => mem.add({ content: 'second' }));
    await waitFor(() => expect(items('list')).toEqual(['second', 'first']));
  });

  it('a memory still being created reads as loading, and the list appears once it exists', async () => {
    const mem = await createMemory();
    await mem.add({ content: 'ready' });
    const { rerender } = render(h(MemoryList, { mem: null }));
    expect(screen.getByTestId('loading')).toBeTruthy();
    rerender(h(MemoryList, { mem }));
    await waitFor(() => expect(items('list')).toEqual(['ready']));
  });

  it('useSearch follows writes and the typed query; a blank query is no search; exclusions alone find nothing', async () => {
    const mem = await createMemory();
    await mem.addMany([{ content: 'oat milk' }, { content: 'Lisbon trip' }]);
    render(h(SearchBox, { mem, initial: 'milk' }));
    await waitFor(() => expect(items('hits')).toEqual(['oat milk']));
    await act(() => mem.add({ content: 'milk, more milk' }));
    await waitFor(() => expect(items('hits')).toEqual(['milk, more milk', 'oat milk']));
    const input = screen.getByTestId('q') as HTMLInputElement;
    const type = (value: string) => fireEvent.change(input, { target: { value } });
    type('lisb*');
    await waitFor(() => expect(items('hits')).toEqual(['Lisbon trip']));
    type('   ');
    await waitFor(() => expect(items('hits')).toEqual([]));
    // Typed on the way to `-oat milk`: exclusions alone find nothing, and are no error.
    type('-oat');
    await waitFor(() => expect(items('hits')).toEqual([]));
    expect(screen.queryByTestId('error')).toBeNull();
    type('-oat milk');
    await waitFor(() => expect(items('hits')).toEqual(['milk, more milk']));
    expect(screen.queryByTestId('error')).toBeNull();
  });

  it('refuses an unknown option with a VALIDATION error in `error`', async () => {
    const mem = await createMemory();
    render(h(MemoryList, { mem, options: { limt: 3 } as ListOptions }));
    await waitFor(() => expect(screen.getByTestId('error').textContent).toContain('watch.list.limt'));
  });

  it('under StrictMode keeps exactly one watch open and renders the right data', async () => {
    const mem = await createMemory();
    const { open, counts } = countWatches(mem);
    await mem.add({ content: 'strict' });
    render(h(StrictMode, null, h(MemoryList, { mem })));
    await waitFor(() => expect(items('list')).toEqual(['strict']));
    expect(counts.started).toBeGreaterThanOrEqual(2);
    expect(open()).toBe(1);
    await act(() => mem.add({ content: 'stricter' }));
    await waitFor(() => expect(items('list')).toEqual(['stricter', 'strict']));
    expect(open()).toBe(1);
  });

  it('stops watching at unmount and never renders again', async () => {
    const mem = await createMemory();
    const { open } = countWatches(mem);
    const view = render(h(MemoryList, { mem }));
    await waitFor(() => expect(items('list')).toEqual([]));
    view.unmount();
    expect(open()).toBe(0);
    const before = renders.list;
    await act(async () => {
      await mem.add({ content: 'after unmount' });
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    expect(renders.list).toBe(before);
  });

  it('re-subscribes when the options change (by content, not by object identity)', async () => {
    const mem = await createMemory();
    const { counts } = countWatches(mem);
    await mem.addMany([
      { content: 'a fact', kind: 'fact' },
      { content: 'a note', kind: 'note' },
    ]);
    const view = render(h(MemoryList, { mem, options: { kind: 'fact' } }));
    await waitFor(() => expect(items('list')).toEqual(['a fact']));
    view.rerender(h(MemoryList, { mem, options: { kind: 'fact' } }));
    expect(counts.started).toBe(1);
    view.rerender(h(MemoryList, { mem, options: { kind: 'note' } }));
    await waitFor(() => expect(items('list')).toEqual(['a note']));
    expect(counts.started).toBe(2);
    expect(counts.stopped).toBe(1);
  });

  it("never shows one memory's results while another memory's load", async () => {
    const [a, b] = [await createMemory({ namespace: 'a' }), await createMemory({ namespace: 'b' })];
    await a.add({ content: 'from a' });
    await b.add({ content: 'from b' });
    const view = render(h(MemoryList, { mem: a }));
    await waitFor(() => expect(items('list')).toEqual(['from a']));
    view.rerender(h(MemoryList, { mem: b }));
    expect(screen.queryByText('from a')).toBeNull();
    await waitFor(() => expect(items('list')).toEqual(['from b']));
  });

  it('useSyncStatus follows the sync state and pending count', async () => {
    const secret = 'react-status-secret-0123456789abcdef';
    const app = createEdgeApp({ store: new InMemoryStore(), secret, logger: false });
    let offline = false;
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (offline) throw new TypeError('fetch failed');
      return app.request(input, init);
    }) as typeof globalThis.fetch;
    const token = await mintToken({ secret, ns: ['status'] });
    const mem = await createMemory({
      namespace: 'status',
      sync: { url: 'http://edge.test', token, fetch, intervalMs: 0, backoff: { baseMs: 60_000 } },
    });
    render(h(Status, { mem }));
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('online 0'));
    offline = true;
    await act(async () => {
      await mem.add({ content: 'kept while offline' });
      await mem.sync().catch(() => undefined);
    });
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('offline 1'));
    offline = false;
    await act(() => mem.sync());
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('online 0'));
    await mem.close();
  });
});
