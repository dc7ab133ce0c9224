import { IndexedDBStore } from '../backends/indexeddb/index.js';
import { createMemory, type Engram, isEngramError, type Memory } from '../index.js';
import { DemoSession } from './demo-session.js';
import { asYouTypeQuery, parseEntry } from './format.js';
import { type NotebookState, NotebookView } from './notebook-view.js';

/** Short, so that a second window sees new memories within a couple of seconds. */
const SYNC_INTERVAL_MS = 1500;
const LIST_LIMIT = 100;
const SEARCH_LIMIT = 20;
/** Re-render now and then so ages ("2 min ago") move on. */
const AGE_REFRESH_MS = 30_000;

/** The memory notebook: local first in IndexedDB, synced to the server that served the page. */
class Notebook {
  private selectedId: string | null = null;
  private renders = 0;

  constructor(
    private readonly mem: Engram,
    private readonly view: NotebookView,
  ) {}

  start(): void {
    const { view, mem } = this;
    view.showStatus(mem.status);
    mem.on('status', (status) => view.showStatus(status));
    mem.on('change', () => this.refresh());
    view.addForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.act(() => this.add());
    });
    view.search.addEventListener('input', () => this.refresh());
    view.list.addEventListener('click', (event) => this.select(event));
    view.details.addEventListener('click', (event) => this.select(event));
    view.linkForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const target = view.linkTarget.value;
      if (this.selectedId && target) this.act(() => mem.link(this.selectedId!, target, 'related_to'));
    });
    view.remove.addEventListener('click', () => {
      const id = this.selectedId;
      this.selectedId = null;
      if (id) this.act(() => mem.remove(id));
    });
    setInterval(() => this.refresh(), AGE_REFRESH_MS);
    this.refresh();
  }

  private async add(): Promise<void> {
    const { content, tags } = parseEntry(this.view.input.value);
    if (content === '') return;
    await this.mem.add({ content, tags });
    this.view.input.value = '';
  }

  private select(event: Event): void {
    const item = (event.target as Element).closest<HTMLElement>('li[data-id]');
    if (!item) return;
    this.selectedId = item.dataset.id === this.selectedId ? null : item.dataset.id!;
    this.refresh();
  }

  /** Runs a user action; a failure is shown on the page rather than thrown into the void. */
  private act(action: () => Promise<unknown>): void {
    action().then(
      () => this.refresh(),
      (error: unknown) => this.view.showMessage(error instanceof Error ? error.message : String(error)),
    );
  }

  /** Reads what to show and renders it, unless a newer refresh started meanwhile. */
  private refresh(): void {
    const render = ++this.renders;
    this.read().then(
      (state) => {
        if (render === this.renders) this.view.render(state);
      },
      (error: unknown) => this.view.showMessage(`Could not read the notebook: ${String(error)}`),
    );
  }

  private async read(): Promise<NotebookState> {
    const { mem } = this;
    const query = asYouTypeQuery(this.view.search.value);
    const recent = (await mem.list({ limit: LIST_LIMIT })).items;
    let items: NotebookState['items'] = recent.map((memory) => ({ memory }));
    let caption = recent.length === 1 ? '1 memory' : `${recent.length} memories`;
    if (query !== '') {
      try {
        items = await mem.search(query, { limit: SEARCH_LIMIT });
        caption = `${items.length === 1 ? '1 match' : `${items.length} matches`}, best first`;
      } catch (error) {
        if (!isEngramError(error, 'VALIDATION')) throw error;
        items = [];
        caption = 'Type a word to search for (a query of only -exclusions finds nothing).';
      }
    }
    const selected = this.selectedId ? await mem.get(this.selectedId) : null;
    if (!selected) this.selectedId = null;
    const links = selected ? await this.linksOf(selected) : [];
    const linked = new Set([selected?.id, ...links.map(({ other }) => other.id)]);
    const candidates = recent.filter((memory) => !linked.has(memory.id));
    return { items, caption, selected, links, candidates, now: Date.now() };
  }

  private async linksOf(memory: Memory): Promise<NotebookState['links']> {
    const links = await this.mem.links(memory.id);
    const ends = await Promise.all(
      links.map((link) => this.mem.get(link.from === memory.id ? link.to : link.from)),
    );
    return links.flatMap((link, i) => (ends[i] ? [{ link, other: ends[i] }] : []));
  }
}

async function main(): Promise<void> {
  const view = new NotebookView();
  try {
    const session = await DemoSession.start();
    const mem = await createMemory({
      store: new IndexedDBStore({ name: `engram-notebook-${session.namespace}` }),
      namespace: session.namespace,
      sync: {
        url: location.origin,
        token: session.token,
        fetch: session.fetch,
        intervalMs: SYNC_INTERVAL_MS,
        backoff: { baseMs: 1000, maxMs: 10_000 },
      },
    });
    view.namespace.textContent = session.namespace;
    new Notebook(mem, view).start();
  } catch (error) {
    view.showMessage(`The notebook could not start: ${error instanceof Error ? error.message : error}`);
  }
}

/** Lets the page open with no network; a browser without service workers simply needs one. */
function keepShellOffline(): void {
  navigator.serviceWorker?.register('/demo/sw.js', { scope: '/' }).catch((error: unknown) => {
    console.warn('engram demo: offline page cache unavailable', error);
  });
}

keepShellOffline();
void main();
