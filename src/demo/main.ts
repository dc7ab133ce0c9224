import { IndexedDBStore } from '../backends/indexeddb/index.js';
import { errorMessage } from '../core/errors.js';
import { createMemory, type Engram, type Memory, type SearchHit } from '../index.js';
import { DemoSession } from './demo-session.js';
import { asYouTypeQuery, parseEntry } from './format.js';
import { type NotebookState, NotebookView } from './notebook-view.js';

/** Short, so that a second window sees new memories within a couple of seconds. */
const SYNC_INTERVAL_MS = 1500;
const LIST_LIMIT = 100;
const SEARCH_LIMIT = 20;
/** Re-render now and then so ages ("2 min ago") move on. */
const AGE_REFRESH_MS = 30_000;

/**
 * The memory notebook: local first in IndexedDB, synced to the server that served the page. The list
 * and the search results are `mem.watch` queries, so writes from this tab, other tabs and sync all show
 * up without any refresh code; only the selected memory's links are read on demand.
 */
class Notebook {
  private selectedId: string | null = null;
  private recent: Memory[] = [];
  private hits: SearchHit[] | null = null;
  private stopSearch: (() => void) | undefined;
  private details: Pick<NotebookState, 'selected' | 'links'> = { selected: null, links: [] };
  private detailsRead = 0;

  constructor(
    private readonly mem: Engram,
    private readonly view: NotebookView,
  ) {}

  start(): void {
    const { view, mem } = this;
    view.showStatus(mem.status);
    mem.on('status', (status) => view.showStatus(status));
    mem.watch(
      { list: { limit: LIST_LIMIT } },
      (page) => {
        this.recent = page.items;
        this.render();
      },
      { onError: this.showReadError },
    );
    // Links are not part of a list or search: the open memory's links are re-read after any change.
    mem.on('change', () => this.readDetails());
    view.addForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.act(() => this.add());
    });
    view.search.addEventListener('input', () => this.followSearch());
    view.list.addEventListener('click', (event) => this.select(event));
    view.details.addEventListener('click', (event) => this.select(event));
    view.linkForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const target = view.linkTarget.value;
      if (this.selectedId && target) this.act(() => mem.link(this.selectedId!, target, 'related_to'));
    });
    view.remove.addEventListener('click', () => {
      const id = this.selectedId;
      this.select(null);
      if (id) this.act(() => mem.remove(id));
    });
    setInterval(() => this.render(), AGE_REFRESH_MS);
  }

  /** Swaps the search watch for one on what is typed now. */
  private followSearch(): void {
    this.stopSearch?.();
    this.stopSearch = undefined;
    const query = asYouTypeQuery(this.view.search.value);
    // The previous query's hits stay on screen until the new ones arrive.
    if (query === '') this.hits = null;
    else {
      this.stopSearch = this.mem.watch(
        { search: query, limit: SEARCH_LIMIT },
        (hits) => {
          this.hits = hits;
          this.render();
        },
        { onError: this.showReadError },
      );
    }
    this.render();
  }

  private async add(): Promise<void> {
    const { input } = this.view;
    const typed = input.value;
    const { content, tags } = parseEntry(typed);
    if (content === '') return;
    // Emptied before the write, so a second submit meanwhile (a double click) finds nothing to add.
    input.value = '';
    try {
      await this.mem.add({ content, tags });
    } catch (error) {
      // A refused entry goes back in the box to be corrected, unless something new was typed since.
      if (input.value === '') input.value = typed;
      throw error;
    }
  }

  private select(event: Event | null): void {
    const item = (event?.target as Element | undefined)?.closest<HTMLElement>('li[data-id]');
    if (event && !item) return;
    const id = item?.dataset.id ?? null;
    this.selectedId = id === this.selectedId ? null : id;
    this.readDetails();
  }

  /** Runs a user action; a failure is shown on the page rather than thrown into the void. */
  private act(action: () => Promise<unknown>): void {
    action().catch((error: unknown) => this.view.showMessage(errorMessage(error)));
  }

  /** Reads the selected memory and its links, unless a newer read started meanwhile. */
  private readDetails(): void {
    const read = ++this.detailsRead;
    const id = this.selectedId;
    if (!id && !this.details.selected) return;
    const details = id ? this.readSelected(id) : Promise.resolve({ selected: null, links: [] });
    details.then((next) => {
      if (read !== this.detailsRead) return;
      if (!next.selected) this.selectedId = null;
      this.details = next;
      this.render();
    }, this.showReadError);
  }

  private readonly showReadError = (error: unknown): void => {
    this.view.showMessage(`Could not read the notebook: ${String(error)}`);
  };

  private async readSelected(id: string): Promise<Pick<NotebookState, 'selected' | 'links'>> {
    const selected = await this.mem.get(id);
    if (!selected) return { selected: null, links: [] };
    const links = await this.mem.links(selected.id);
    const ends = await Promise.all(
      links.map((link) => this.mem.get(link.from === selected.id ? link.to : link.from)),
    );
    return { selected, links: links.flatMap((link, i) => (ends[i] ? [{ link, other: ends[i] }] : [])) };
  }

  private render(): void {
    const { recent, hits, details } = this;
    const count = recent.length === 1 ? '1 memory' : `${recent.length} memories`;
    const matches = hits?.length === 1 ? '1 match' : `${hits?.length} matches`;
    const linked = new Set([details.selected?.id, ...details.links.map(({ other }) => other.id)]);
    this.view.render({
      items: hits ?? recent.map((memory) => ({ memory })),
      caption: hits ? `${matches}, best first` : count,
      ...details,
      candidates: recent.filter((memory) => !linked.has(memory.id)),
      now: Date.now(),
    });
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
    view.showMessage(`The notebook could not start: ${errorMessage(error)}`);
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
