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

/** Renders a hook's raw state: what is loaded, whether it loads, and the error's message. */
function ListState({ mem, options }: { mem: Engram; options: ListOptions }) {
  const { data, loading, error } = useMemories(mem, options);
  const shown = data ? data.items.map((m) => m.content).join(',') : '-';
  return h(
    'output',
    { 'data-testid': 'state' },
    `${shown}|${loading}|${error ? (error as Error).message : ''}`,
  );
}

/** Renders useSearch's raw state for `text` alone: the contents found, whether it loads, and the error. */
function SearchState({ mem, text }: { mem: Engram; text: string }) {
  const { data, loading, error } = useSearch(mem, text);
  const shown = data ? data.map((hit) => hit.memory.content).join(',') : '-';
  return h('output', { 'data-testid': 'search' }, `${shown}|${loading}|${error ? 'error' : ''}`);
}

function VectorSearch({ mem, vector }: { mem: Engram; vector: number[] }) {
  const { data, loading } = useSearch(mem, '', { vector, limit: 5 });
  return h(
    'output',
    { 'data-testid': 'vector' },
    `${data?.map((hit) => hit.memory.content).join(',')}|${loading}`,
  );
}

/** Records every status object useSyncStatus returns; `n` only makes a re-render. */
function StatusProbe({ mem, seen, n }: { mem: Engram; seen: unknown[]; n: number }) {
  seen.push(useSyncStatus(mem));
  return h('output', null, String(n));
}

function Status({ mem }: { mem: Engram | null }) {
  const { state, pending } = useSyncStatus(mem);
  return h('output', { 'data-testid': 'status' }, `${state} ${pending}`);
}

const renders = { list: 0 };
const items = (testId: string) =>
  Array.from(screen.getByTestId(testId).querySelectorAll('li'), (li) => li.textContent);

/** A memory with a fact and a note, and ListState showing the facts (its state: data|loading|error). */
async function factsShown() {
  const mem = await createMemory();
  await mem.addMany([
    { content: 'a fact', kind: 'fact' },
    { content: 'a note', kind: 'note' },
  ]);
  const view = render(h(ListState, { mem, options: { kind: 'fact' } }));
  const state = () => screen.getByTestId('state').textContent;
  await waitFor(() => expect(state()).toBe('a fact|false|'));
  return { mem, view, state };
}

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
    // Blank once trimmed: no search at all, so not the VALIDATION error a watch of it would raise.
    expect(screen.queryByTestId('error')).toBeNull();
    // Typed on the way to `-oat milk`: exclusions alone find nothing, and are no error.
    type('-oat');
    await waitFor(() => expect(items('hits')).toEqual([]));
    expect(screen.queryByTestId('error')).toBeNull();
    type('-oat milk');
    await waitFor(() => expect(items('hits')).toEqual(['milk, more milk']));
    expect(screen.queryByTestId('error')).toBeNull();
  });

  it('useSearch with a vector and no text searches by the vector alone', async () => {
    const mem = await createMemory();
    await mem.add({ content: 'near', embedding: [1, 0, 0] });
    await mem.add({ content: 'far', embedding: [0, 0, 1] });
    render(h(VectorSearch, { mem, vector: [1, 0, 0] }));
    await waitFor(() => expect(screen.getByTestId('vector').textContent).toBe('near,far|false'));
  });

  it('a blank search has nothing to wait for: it is not loading, not even at the first render', async () => {
    const mem = await createMemory();
    await mem.add({ content: 'never shown' });
    render(h(SearchState, { mem, text: '  ' }));
    expect(screen.getByTestId('search').textContent).toBe('|false|');
  });

  it("keeps the previous query's results on screen while a changed query loads", async () => {
    const { mem, view, state } = await factsShown();
    view.rerender(h(ListState, { mem, options: { kind: 'note' } }));
    expect(state()).toBe('a fact|true|');
    await waitFor(() => expect(state()).toBe('a note|false|'));
  });

  it('a failed run keeps the last results beside the error, and the next results clear the error', async () => {
    const store = new InMemoryStore();
    const list = store.list.bind(store);
    let failing = false;
    store.list = (...args) => (failing ? Promise.reject(new Error('disk gone')) : list(...args));
    const mem = await createMemory({ store });
    await mem.add({ content: 'kept' });
    render(h(ListState, { mem, options: {} }));
    const state = () => screen.getByTestId('state').textContent;
    await waitFor(() => expect(state()).toBe('kept|false|'));
    failing = true;
    await act(() => mem.add({ content: 'unseen' }));
    await waitFor(() => expect(state()).toBe('kept|false|disk gone'));
    failing = false;
    await act(() => mem.add({ content: 'seen' }));
    await waitFor(() => expect(state()).toBe('seen,unseen,kept|false|'));
  });

  it('a first run that fails is done loading: the error, and no results', async () => {
    const store = new InMemoryStore();
    store.list = () => Promise.reject(new Error('disk gone'));
    const mem = await createMemory({ store });
    render(h(ListState, { mem, options: {} }));
    await waitFor(() => expect(screen.getByTestId('state').textContent).toBe('-|false|disk gone'));
  });

  it('a refused query is done loading and shows no results, not the previous query’s', async () => {
    const mem = await createMemory();
    await mem.add({ content: 'listed' });
    const view = render(h(ListState, { mem, options: {} }));
    const state = () => screen.getByTestId('state').textContent;
    await waitFor(() => expect(state()).toBe('listed|false|'));
    view.rerender(h(ListState, { mem, options: { limt: 3 } as ListOptions }));
    await waitFor(() => expect(state()).toMatch(/^-\|false\|.*watch\.list\.limt/));
  });

  it('after a refused query, the next one loads with the last results shown, not an empty view', async () => {
    const { mem, view, state } = await factsShown();
    view.rerender(h(ListState, { mem, options: { limt: 3 } as ListOptions }));
    await waitFor(() => expect(state()).toMatch(/^-\|false\|.*watch\.list\.limt/));
    view.rerender(h(ListState, { mem, options: { kind: 'note' } }));
    expect(state()).toBe('a fact|true|');
    await waitFor(() => expect(state()).toBe('a note|false|'));
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

  it('useSyncStatus returns the same object across renders while the status stays the same', async () => {
    const mem = await createMemory();
    const seen: unknown[] = [];
    const view = render(h(StatusProbe, { mem, seen, n: 1 }));
    view.rerender(h(StatusProbe, { mem, seen, n: 2 }));
    expect(seen.length).toBeGreaterThanOrEqual(2);
    // A status used as an effect's dependency must not re-run the effect on every render.
    expect(new Set(seen).size).toBe(1);
    expect(seen[0]).toMatchObject({ state: 'local', pending: 0 });
  });

  it('useSyncStatus reads a memory still being created as local with nothing pending', () => {
    render(h(Status, { mem: null }));
    expect(screen.getByTestId('status').textContent).toBe('local 0');
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
