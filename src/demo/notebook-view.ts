import type { Link, Memory, SyncStatus } from '../index.js';
import { statusText, timeAgo } from './format.js';

/** What the page shows at one moment. */
export interface NotebookState {
  items: Array<{ memory: Memory; score?: number }>;
  caption: string;
  selected: Memory | null;
  /** The selected memory's links, each with the memory at its other end. */
  links: Array<{ link: Link; other: Memory }>;
  /** Memories the selected one could be linked to. */
  candidates: Memory[];
  now: number;
}

/** A brief `syncing` (every background pull) would only make the status line flicker. */
const SYNCING_SHOWN_AFTER_MS = 300;

function byTestId<T extends HTMLElement>(id: string): T {
  const element = document.querySelector<T>(`[data-testid="${id}"]`);
  if (!element) throw new Error(`demo page: no element with data-testid="${id}"`);
  return element;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  node.append(...children);
  return node;
}

/** "#idea #food · 2 min ago" */
function memoryMeta(memory: Memory, now: number, score?: number): string {
  const parts = memory.tags.map((tag) => `#${tag}`).join(' ');
  const age = timeAgo(memory.createdAt, now);
  const rank = score === undefined ? '' : ` · score ${score.toFixed(2)}`;
  return `${parts ? `${parts} · ` : ''}${age}${rank}`;
}

/** The page's elements; everything user-written goes in as text, never as HTML. */
export class NotebookView {
  readonly input = byTestId<HTMLInputElement>('memory-input');
  readonly addForm = byTestId<HTMLFormElement>('add-form');
  readonly search = byTestId<HTMLInputElement>('search');
  readonly list = byTestId<HTMLOListElement>('memory-list');
  readonly linkForm = byTestId<HTMLFormElement>('link-form');
  readonly linkTarget = byTestId<HTMLSelectElement>('link-target');
  readonly remove = byTestId<HTMLButtonElement>('remove');
  readonly details = byTestId<HTMLElement>('details');
  readonly namespace = byTestId<HTMLElement>('namespace');
  private readonly links = byTestId<HTMLUListElement>('links');
  private readonly selected = byTestId<HTMLElement>('selected');
  private readonly caption = byTestId<HTMLElement>('caption');
  private readonly status = byTestId<HTMLOutputElement>('status');
  private syncingTimer: ReturnType<typeof setTimeout> | undefined;

  showStatus(status: SyncStatus): void {
    clearTimeout(this.syncingTimer);
    const show = () => {
      this.status.textContent = statusText(status);
      this.status.dataset.state = status.state;
      this.status.title = status.lastSyncAt ? `last synced ${status.lastSyncAt}` : 'not synced yet';
    };
    if (status.state === 'syncing') this.syncingTimer = setTimeout(show, SYNCING_SHOWN_AFTER_MS);
    else show();
  }

  showMessage(message: string): void {
    this.caption.textContent = message;
  }

  render(state: NotebookState): void {
    this.caption.textContent = state.caption;
    this.list.replaceChildren(
      ...state.items.map(({ memory, score }) => {
        const item = element(
          'li',
          memory.id === state.selected?.id ? 'memory selected' : 'memory',
          element('p', 'content', memory.content),
          element('p', 'meta', memoryMeta(memory, state.now, score)),
        );
        item.dataset.id = memory.id;
        item.dataset.testid = 'memory';
        return item;
      }),
    );
    this.renderDetails(state);
  }

  private renderDetails({ selected, links, candidates, now }: NotebookState): void {
    this.details.hidden = !selected;
    if (!selected) return;
    this.selected.replaceChildren(
      element('p', 'content', selected.content),
      element('p', 'meta', memoryMeta(selected, now)),
    );
    this.links.replaceChildren(
      ...(links.length === 0
        ? [element('li', 'empty', 'No links yet.')]
        : links.map(({ link, other }) => {
            const arrow = link.from === selected.id ? '→' : '←';
            const item = element('li', 'memory', `${arrow} ${link.type.replace(/_/g, ' ')}: `, other.content);
            item.dataset.id = other.id;
            return item;
          })),
    );
    this.linkTarget.replaceChildren(
      ...candidates.map((memory) => {
        const option = element('option', '', memory.content.slice(0, 80));
        option.value = memory.id;
        return option;
      }),
    );
    this.linkForm.hidden = candidates.length === 0;
  }
}
