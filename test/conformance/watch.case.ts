import { describe, expect, it } from 'vitest';
import { createEdgeApp } from '../../src/edge/app.js';
import { mintToken } from '../../src/edge/token.js';
import {
  createMemory,
  type Engram,
  InMemoryStore,
  type ListResult,
  type SearchHit,
  type WatchQuery,
} from '../../src/index.js';
import { expectError, freshNamespace, manualClock, type SuiteContext } from './harness.js';

/** Long enough for a skipped change to have shown up had it not been skipped, on every store. */
const QUIET_MS = 150;
const WAIT_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records what a watch listener receives and waits for the next calls. */
function recorder<T>() {
  const calls: T[] = [];
  const errors: unknown[] = [];
  return {
    calls,
    errors,
    listener: (value: T) => {
      calls.push(value);
    },
    onError: (error: unknown) => {
      errors.push(error);
    },
    async until(count: number): Promise<T> {
      const deadline = Date.now() + WAIT_MS;
      while (calls.length < count) {
        if (errors.length > 0) throw errors[0];
        if (Date.now() > deadline) throw new Error(`expected ${count} watch calls, got ${calls.length}`);
        await sleep(5);
      }
      return calls[count - 1]!;
    },
    /** Waits until the latest call passes `check`. */
    async untilLatest(check: (value: T) => boolean): Promise<T> {
      const deadline = Date.now() + WAIT_MS;
      while (calls.length === 0 || !check(calls[calls.length - 1]!)) {
        if (errors.length > 0) throw errors[0];
        if (Date.now() > deadline) throw new Error(`the latest of ${calls.length} watch calls never passed`);
        await sleep(5);
      }
      return calls[calls.length - 1]!;
    },
  };
}

const contents = (page: ListResult) => page.items.map((m) => m.content);
const hitContents = (hits: SearchHit[]) => hits.map((h) => h.memory.content);

/** Watches `search` while nothing matches it, writes `content`, and expects the watch to deliver it alone. */
async function expectEnters(mem: Engram, search: string, content: string): Promise<void> {
  const seen = recorder<SearchHit[]>();
  const stop = mem.watch({ search }, seen.listener, { onError: seen.onError });
  expect(hitContents(await seen.until(1)), search).toEqual([]);
  await mem.add({ content });
  expect(hitContents(await seen.until(2)), search).toEqual([content]);
  stop();
}

export function watchCases(ctx: SuiteContext): void {
  describe('watch', () => {
    it('delivers the current list at once, then every local add, update and remove', async () => {
      const mem = await ctx.memory();
      const first = await mem.add({ content: 'first' });
      const seen = recorder<ListResult>();
      const stop = mem.watch({ list: {} }, seen.listener, { onError: seen.onError });
      expect(contents(await seen.until(1))).toEqual(['first']);
      const second = await mem.add({ content: 'second' });
      expect(contents(await seen.until(2))).toEqual(['second', 'first']);
      await mem.update(first.id, { content: 'first, edited' });
      expect(contents(await seen.until(3))).toEqual(['second', 'first, edited']);
      await mem.remove(second.id);
      expect(contents(await seen.until(4))).toEqual(['first, edited']);
      expect(await seen.until(4)).toEqual(await mem.list());
      stop();
    });

    it('follows a search: hits enter, move and leave; a write without its words does not call', async () => {
      const mem = await ctx.memory();
      const [tea] = await mem.addMany([{ content: 'green tea in the morning' }, { content: 'unrelated' }]);
      const seen = recorder<SearchHit[]>();
      const stop = mem.watch({ search: 'coffee* tea', limit: 5 }, seen.listener, { onError: seen.onError });
      expect(hitContents(await seen.until(1))).toEqual(['green tea in the morning']);
      await mem.add({ content: 'nothing to see here' });
      await sleep(QUIET_MS);
      await mem.add({ content: 'coffees and tea, tea, tea' });
      expect(hitContents(await seen.until(2))).toEqual([
        'coffees and tea, tea, tea',
        'green tea in the morning',
      ]);
      await mem.update(tea!.id, { content: 'black pepper' });
      expect(hitContents(await seen.until(3))).toEqual(['coffees and tea, tea, tea']);
      await sleep(QUIET_MS);
      expect(seen.calls).toHaveLength(3);
      expect(seen.calls[2]).toEqual(await mem.search('coffee* tea', { limit: 5 }));
      stop();
    });

    it('follows a misspelt search: a memory holding the word one edit away enters', async () => {
      const mem = await ctx.memory();
      await mem.add({ content: 'a quiet evening' });
      await expectEnters(mem, 'volutneering', 'volunteering at the food bank');
      // A typo in a plural: the singular one edit from the typo's singular enters too.
      await expectEnters(mem, 'recipies', 'my lasagna recipe');
    });

    it('follows a prefix search alone: a memory holding a word that begins with it enters', async () => {
      const mem = await ctx.memory();
      await mem.add({ content: 'a quiet evening' });
      await expectEnters(mem, 'coff*', 'coffees in the morning');
      await mem.add({ content: '東京タワーに行った' });
      const seen = recorder<SearchHit[]>();
      const stop = mem.watch({ search: '東京*' }, seen.listener, { onError: seen.onError });
      expect(hitContents(await seen.until(1))).toEqual(['東京タワーに行った']);
      await mem.add({ content: '東京都' });
      expect(hitContents(await seen.until(2)).sort()).toEqual(['東京タワーに行った', '東京都'].sort());
      stop();
      // One character ending a run: the memory enters a watch of that character.
      await expectEnters(mem, '猫', '我的猫');
    });

    it('follows a phrase search alone: a memory holding the phrase enters', async () => {
      const mem = await ctx.memory();
      await mem.add({ content: 'a quiet evening' });
      await expectEnters(mem, '"morning coffee"', 'strong morning coffee, black');
    });

    it('follows a search typed without accents: a memory holding the accented word enters', async () => {
      const mem = await ctx.memory({ language: 'spanish' });
      await mem.add({ content: 'una tarde tranquila' });
      // "informacion" stems apart from "información": the watch must let the memory in by its word.
      await expectEnters(mem, 'informacion', 'la información del vuelo');
    });

    it('follows a search for a verb: a memory holding its irregular past form enters', async () => {
      const mem = await ctx.memory();
      await mem.add({ content: 'a quiet evening' });
      await expectEnters(mem, 'go Lisbon', 'we went there in May');
      // A form stemmed like a stop word ("ate" → "at") is looked up as written.
      await expectEnters(mem, 'eat', 'we ate sushi');
    });

    it('keeps to its filters: kind and tags, since inclusive and until exclusive', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const since = new Date(clock.now()).toISOString();
      const until = new Date(clock.now() + 1000).toISOString();
      const byKind = recorder<ListResult>();
      const byTime = recorder<ListResult>();
      const stops = [
        mem.watch({ list: { kind: 'fact', tags: ['a', 'b'], tagMode: 'all' } }, byKind.listener),
        mem.watch({ list: { since, until } }, byTime.listener),
      ];
      await byKind.until(1);
      await byTime.until(1);
      const atSince = await mem.add({ content: 'at since', kind: 'fact', tags: ['a'] });
      await mem.add({ content: 'both tags, a note', tags: ['a', 'b'] });
      await mem.add({ content: 'a fact with one tag', kind: 'fact', tags: ['b'] });
      clock.advance(1000);
      await mem.add({ content: 'at until', kind: 'fact', tags: ['b', 'a'] });
      expect(contents(await byKind.until(2))).toEqual(['at until']);
      await mem.update(atSince.id, { tags: ['a', 'b'] });
      expect(contents(await byKind.until(3))).toEqual(['at until', 'at since']);
      await sleep(QUIET_MS);
      expect(byKind.calls).toHaveLength(3);
      await byTime.untilLatest((page) => page.items.length === 3);
      const timeline = byTime.calls.map((page) => contents(page).sort());
      expect(timeline.at(-1)).toEqual(['a fact with one tag', 'at since', 'both tags, a note']);
      expect(timeline.flat()).not.toContain('at until');
      expect(byTime.calls.at(-1)).toEqual(await mem.list({ since, until }));
      for (const stop of stops) stop();
    });

    it('a limited page takes newer memories and refills from older ones when one leaves', async () => {
      const mem = await ctx.memory();
      const made = await mem.addMany([1, 2, 3].map((n) => ({ id: `m${n}`, content: `n${n}` })));
      const seen = recorder<ListResult>();
      const stop = mem.watch({ list: { limit: 2 } }, seen.listener);
      expect(contents(await seen.until(1))).toEqual(['n3', 'n2']);
      await mem.add({ id: 'm0', content: 'older than the page' });
      await sleep(QUIET_MS);
      await mem.remove(made[2]!.id);
      expect(contents(await seen.until(2))).toEqual(['n2', 'n1']);
      await mem.add({ id: 'm9', content: 'newest' });
      expect(contents(await seen.until(3))).toEqual(['newest', 'n2']);
      expect(seen.calls).toHaveLength(3);
      stop();
    });

    it('ends a burst of concurrent writes with the final results', async () => {
      const mem = await ctx.memory();
      const seen = recorder<ListResult>();
      const stop = mem.watch({ list: {} }, seen.listener);
      await seen.until(1);
      await Promise.all([
        mem.add({ content: 'one' }),
        mem.add({ content: 'two' }),
        mem.add({ content: 'three' }),
      ]);
      const final = await seen.untilLatest((page) => page.items.length === 3);
      expect(final).toEqual(await mem.list());
      expect(contents(final).sort()).toEqual(['one', 'three', 'two']);
      await sleep(QUIET_MS);
      expect(seen.calls.at(-1)).toBe(final);
      stop();
    });

    it('sees a change pulled by sync', async () => {
      const secret = 'watch-conformance-secret-0123456789';
      const app = createEdgeApp({ store: new InMemoryStore(), secret, logger: false });
      const namespace = freshNamespace('watch-sync');
      const sync = {
        url: 'http://edge.test',
        token: await mintToken({ secret, ns: [namespace] }),
        fetch: ((input: RequestInfo | URL, init?: RequestInit) => app.request(input, init)) as typeof fetch,
        intervalMs: 0,
      };
      const writer = await createMemory({ namespace, sync });
      const reader: Engram = await createMemory({ store: ctx.store(), namespace, sync });
      const seen = recorder<SearchHit[]>();
      const stop = reader.watch({ search: 'pulled' }, seen.listener, { onError: seen.onError });
      expect(await seen.until(1)).toEqual([]);
      await writer.add({ content: 'pulled from another device' });
      await writer.sync();
      await reader.sync();
      expect(hitContents(await seen.until(2))).toEqual(['pulled from another device']);
      stop();
      await writer.close();
    });

    it('stops calling once unsubscribed, and when the memory closes', async () => {
      const mem = await ctx.memory();
      const seen = recorder<ListResult>();
      const stop = mem.watch({ list: {} }, seen.listener);
      await seen.until(1);
      await mem.add({ content: 'seen' });
      await seen.until(2);
      stop();
      stop();
      await mem.add({ content: 'not seen' });
      await sleep(QUIET_MS);
      expect(seen.calls.map(contents)).toEqual([[], ['seen']]);
    });

    it('refuses an unknown query shape or option at once, naming the field', async () => {
      const mem = await ctx.memory();
      const noop = () => {};
      const refuse = (query: unknown, field: string) =>
        expectError((async () => mem.watch(query as WatchQuery, noop))(), 'VALIDATION', field);
      await refuse({}, 'watch.query');
      await refuse('coffee', 'watch.query');
      await refuse({ list: {}, search: 'x' }, 'watch.query');
      await refuse({ lsit: {} }, 'watch.query');
      await refuse({ list: { limt: 3 } }, 'watch.list.limt');
      await refuse({ list: {}, limit: 3 }, 'watch.limit');
      await refuse({ list: { kind: '' } }, 'watch.list.kind');
      await refuse({ search: 'x', limt: 3 }, 'watch.limt');
      await refuse({ search: 'x', mode: 'fuzzy' }, 'watch.mode');
      await refuse({ search: 42 }, 'watch.search');
      await refuse({ search: '  ' }, 'watch.search');
      await expectError(
        (async () => mem.watch({ list: {} }, noop, { onError: 'x' as never }))(),
        'VALIDATION',
        'watch.options.onError',
      );
    });
  });
}
