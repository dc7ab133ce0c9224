import { feedPages, readChangeStates } from './change-states.js';
import { EngramError } from './errors.js';
import { isExpired } from './filter.js';
import type { Memory, SearchHit } from './model.js';
import type { ListQuery, MemoryStore, StoreCounts, Tombstone } from './store-contract.js';
import { splitWords } from './text/index.js';

const FEED_PAGE = 1000;
const LIST_PAGE = 1000;

/**
 * Content as dedupe compares it: Unicode NFC (composed and decomposed accents are one text), lower
 * case, runs of whitespace as one space, no leading or trailing whitespace.
 */
export function normalizeContent(content: string): string {
  return content.normalize('NFC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/**
 * A plain query made of the content's words, for finding duplicates through ranked search (which every
 * store answers, RemoteStore included): quotes, `-` and `*` in the text must not become operators.
 * Outside English the words keep their diacritics, which those stemmers need ("información").
 */
export function duplicateQuery(content: string, language?: string): string {
  const words =
    language === undefined || language === 'english'
      ? splitWords(content.normalize('NFC'))
      : (content
          .normalize('NFC')
          .toLowerCase()
          .match(/[\p{L}\p{M}\p{N}]+/gu) ?? []);
  return [...new Set(words)].slice(0, 64).join(' ');
}

/** Every record of the namespace, counted from the change feed: one entry per entity ever written. */
export async function countFromFeed(store: MemoryStore, namespace: string): Promise<StoreCounts> {
  const counts: StoreCounts = { memories: 0, links: 0, tombstones: 0 };
  for await (const page of feedPages(store, namespace, 0, FEED_PAGE)) {
    for (const state of await readChangeStates(store, namespace, page)) {
      if (state.tombstone) counts.tombstones++;
      else if (state.memory) counts.memories++;
      else if (state.link) counts.links++;
    }
  }
  return counts;
}

/**
 * Ids of every live record (expired or not valid now included), for `clear`; `unexpired` counts the
 * memories not expired at `now` (all of them without `now`), those a read would still return.
 */
export async function liveIds(
  store: MemoryStore,
  namespace: string,
  now?: string,
): Promise<{ memories: string[]; links: string[]; clocks: string[]; unexpired: number }> {
  const out = { memories: [] as string[], links: [] as string[], clocks: [] as string[], unexpired: 0 };
  for await (const page of feedPages(store, namespace, 0, FEED_PAGE)) {
    for (const state of await readChangeStates(store, namespace, page)) {
      if (state.tombstone) continue;
      if (state.memory) {
        out.memories.push(state.memory.memory.id);
        if (now === undefined || !isExpired(state.memory.memory, now)) out.unexpired++;
        out.clocks.push(...Object.values(state.memory.clocks));
      } else if (state.link) {
        out.links.push(state.link.link.id);
        out.clocks.push(...Object.values(state.link.clocks));
      }
    }
  }
  return out;
}

/** Tombstones for ids, cut into batches the sync protocol accepts. */
export function tombstoneBatches(
  namespace: string,
  ids: { memories: readonly string[]; links: readonly string[] },
  clock: string,
  size: number,
): Tombstone[][] {
  const all: Tombstone[] = [
    ...ids.memories.map((id) => ({ entity: 'memory' as const, id, namespace, clock })),
    ...ids.links.map((id) => ({ entity: 'link' as const, id, namespace, clock })),
  ];
  const batches: Tombstone[][] = [];
  for (let i = 0; i < all.length; i += size) batches.push(all.slice(i, i + size));
  return batches;
}

/** `count(filter)` where the store cannot count itself: pages through `list` by id. */
export async function countByListing(
  store: MemoryStore,
  namespace: string,
  query: Omit<ListQuery, 'limit' | 'beforeId'>,
): Promise<number> {
  let count = 0;
  for (let beforeId: string | undefined; ; ) {
    const page = await store.list(namespace, { ...query, beforeId, limit: LIST_PAGE });
    count += page.length;
    if (page.length < LIST_PAGE) return count;
    beforeId = page[page.length - 1]!.memory.id;
  }
}

/** Pages through `list` until `accept` finds a memory (dedupe of texts without words). */
export async function findListed(
  store: MemoryStore,
  namespace: string,
  query: Omit<ListQuery, 'limit' | 'beforeId'>,
  accept: (memory: Memory) => boolean,
): Promise<Memory | undefined> {
  for (let beforeId: string | undefined; ; ) {
    const page = await store.list(namespace, { ...query, beforeId, limit: LIST_PAGE });
    const found = page.find((r) => accept(r.memory));
    if (found) return found.memory;
    if (page.length < LIST_PAGE) return undefined;
    beforeId = page[page.length - 1]!.memory.id;
  }
}

/** When a fact took effect: its `validFrom`, else when it was written. */
function factTime(memory: Memory): number {
  return Date.parse(memory.validFrom ?? memory.createdAt);
}

/**
 * Renders hits for a prompt: one `- content` line each, best first and newest fact first among equal
 * scores, whole lines only while they fit in `maxChars`; a first line longer than that is cut with `…`.
 */
export function renderContext(hits: readonly SearchHit[], maxChars: number): string {
  const ordered = [...hits].sort(
    (a, b) =>
      b.score - a.score || factTime(b.memory) - factTime(a.memory) || (a.memory.id < b.memory.id ? 1 : -1),
  );
  let out = '';
  for (const { memory } of ordered) {
    const line = `- ${memory.content.replace(/\s+/gu, ' ').trim()}`;
    const next = out === '' ? line : `${out}\n${line}`;
    if (next.length <= maxChars) {
      out = next;
      continue;
    }
    if (out === '' && maxChars > 0) out = cut(line, maxChars - 1) + '…';
    break;
  }
  return out;
}

/** The first `length` UTF-16 units, one less when that would split a surrogate pair. */
function cut(text: string, length: number): string {
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}

export function alreadySuperseded(oldId: string, memory: Memory, now: string): EngramError | undefined {
  if (memory.validTo === undefined || Date.parse(memory.validTo) > Date.parse(now)) return undefined;
  return new EngramError(
    'CONFLICT',
    `supersede.oldId: memory ${JSON.stringify(oldId)} is no longer valid (validTo ${memory.validTo}); supersede its successor instead`,
    { field: 'supersede.oldId' },
  );
}

/**
 * VALIDATION when a period ends before it starts (an empty period, `validTo` = `validFrom`, is allowed).
 * The error names `validTo`, or `validFrom` when that is the field the caller gave (`movedFrom`: an update
 * that moved only the start past the stored end).
 */
export function assertPeriod(
  validFrom: string | undefined,
  validTo: string | undefined,
  where: string,
  movedFrom = false,
): void {
  if (validFrom === undefined || validTo === undefined) return;
  if (Date.parse(validTo) >= Date.parse(validFrom)) return;
  if (movedFrom) {
    throw new EngramError(
      'VALIDATION',
      `${where}.validFrom: expected an instant at or before validTo (${validTo}), got ${JSON.stringify(validFrom)}`,
      { field: `${where}.validFrom` },
    );
  }
  throw new EngramError(
    'VALIDATION',
    `${where}.validTo: expected an instant at or after validFrom (${validFrom}), got ${JSON.stringify(validTo)}`,
    { field: `${where}.validTo` },
  );
}
