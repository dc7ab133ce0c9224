import { describe, expect, it } from 'vitest';
import type { SearchHit } from '../../src/index.js';
import { ids, manualClock, type SuiteContext } from './harness.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * What people type, read as they mean it (CONTRACT.md, "Search that finds what people mean"): numbers
 * below zero, words only dead memories hold, messages longer than a query, vectors of one direction.
 */
export function searchMeaningCases(ctx: SuiteContext): void {
  describe('search: what people mean', () => {
    it('reads a - before a digit as a minus sign, not an exclusion', async () => {
      const mem = await ctx.memory();
      const [cold, warm, lake] = await mem.addMany([
        { content: 'It was -5 degrees on Monday' },
        { content: 'Monday was warm, 20 degrees' },
        { content: 'the lake fell to -3.2 overnight' },
      ]);
      expect(ids(await mem.search('Was it -5 degrees on Monday?'))).toEqual([cold!.id, warm!.id]);
      expect(ids(await mem.search('-5 degrees'))).toEqual([cold!.id, warm!.id]);
      expect(ids(await mem.search('-5'))).toEqual([cold!.id]);
      expect(ids(await mem.search('-3.2'))).toEqual([lake!.id]);
      // Other numerals are digits as the index reads them (`⑤` is 5): the same minus sign.
      expect(ids(await mem.search('-⑤ degrees'))).toEqual([cold!.id, warm!.id]);
      // A - before a word still excludes it.
      expect(ids(await mem.search('degrees -warm'))).toEqual([cold!.id]);
      expect(ids(await mem.search('Monday -"20 degrees"'))).toEqual([cold!.id]);
    });

    it('corrects a word that only expired or no longer valid memories hold', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const [beans, typo, grandmother, note] = await mem.addMany([
        { content: 'coffee beans' },
        { content: 'cofee typo', expiresAt: iso(clock.now() + 1000) },
        { content: 'grandmother visits in May', kind: 'fact' },
        { content: 'a grandmohter note', kind: 'note' },
      ]);
      // While a memory holding the word lives, the word is not a typo.
      expect(ids(await mem.search('cofee'))).toEqual([typo!.id]);
      clock.advance(1000);
      expect(ids(await mem.search('cofee'))).toEqual([beans!.id]);
      expect(ids(await mem.search('cofee beans'))).toEqual([beans!.id]);
      // Beside a word live memories hold, the typo is still read as a typo: only its own holders count.
      expect(ids(await mem.search('cofee grandmother')).sort()).toEqual([beans!.id, grandmother!.id].sort());
      // Expired is gone from every read, whatever period it reads.
      expect(ids(await mem.search('cofee', { history: true }))).toEqual([beans!.id]);

      // A memory a filter leaves out still holds the word: only validity decides.
      expect(ids(await mem.search('grandmohter', { kind: 'fact' }))).toEqual([]);
      // Superseded, it is no longer valid now: the word is read as a typo of "grandmother".
      expect(ids(await mem.search('grandmohter'))).toEqual([note!.id]);
      await mem.supersede(note!.id, { content: 'a fixed note', kind: 'note' });
      expect(ids(await mem.search('grandmohter'))).toEqual([grandmother!.id]);
      // Reading every period, or the instant before, the superseded memory holds it.
      expect(ids(await mem.search('grandmohter', { history: true }))).toEqual([note!.id]);
      expect(ids(await mem.search('grandmohter', { asOf: iso(clock.now() - 1) }))).toEqual([note!.id]);
    });

    it('looks a short word up as written once only expired memories hold its stem (German stems before folding)', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now, language: 'german' });
      // "cafe" and "Café" stem apart in German but share the word as written; four letters is under the
      // typo length, and the lookup as written has none.
      const [accented, bare] = await mem.addMany([
        { content: 'Das Café öffnet um acht' },
        { content: 'cafe Notiz', expiresAt: iso(clock.now() + 1000) },
      ]);
      expect(ids(await mem.search('cafe'))).toContain(bare!.id);
      clock.advance(1000);
      expect(ids(await mem.search('cafe'))).toEqual([accented!.id]);
    });

    it('corrects a word that only a memory valid from a later date holds', async () => {
      const clock = manualClock();
      const mem = await ctx.memory({ now: clock.now });
      const [volunteer, later] = await mem.addMany([
        { content: 'volunteering at the shelter' },
        { content: 'volutneering plans', validFrom: iso(clock.now() + 60_000) },
      ]);
      expect(ids(await mem.search('volutneering'))).toEqual([volunteer!.id]);
      clock.advance(60_000);
      expect(ids(await mem.search('volutneering'))).toEqual([later!.id]);
    });

    it('searches the first 1024 characters of a longer query, cut between words', async () => {
      const mem = await ctx.memory();
      const [coffee] = await mem.addMany([
        { content: 'my coffee habits' },
        { content: 'zucchini bread' },
        { content: 'zu' },
      ]);
      // 1,064 characters: the last word lies past the cut.
      const message = `${'please tell me about my coffee habits '.repeat(28)}zucchini?`;
      expect(message.length).toBeGreaterThan(1024);
      expect(ids(await mem.search(message))).toEqual([coffee!.id]);
      expect(await mem.context(message)).toBe('- my coffee habits');
      let stop = () => {};
      const watched = await new Promise<SearchHit[]>((resolve, reject) => {
        stop = mem.watch({ search: message }, resolve, { onError: reject });
      });
      stop();
      expect(ids(watched)).toEqual([coffee!.id]);
      // "zucchini" straddles character 1024: it is left out whole, not searched as "zu".
      const straddling = `${'coffee '.repeat(146)}zucchini`;
      expect(straddling.slice(1022, 1026)).toBe('zucc');
      expect(ids(await mem.search(straddling))).toEqual([coffee!.id]);
      // One word longer than the cut, and letters beyond the BMP at it: cut, never split in a pair.
      const hits = await mem.search(`x${'𝒜'.repeat(600)}`, { explain: true });
      expect(hits).toEqual([]);
    });

    it('reads a longer query as a question when its `?` lies past the cut', async () => {
      const mem = await ctx.memory();
      const [together, apart] = await mem.addMany([
        { content: 'dark chocolate cake' },
        { content: 'chocolate that is dark' },
      ]);
      const statement = `"dark chocolate" ${'please '.repeat(200)}`;
      expect(ids(await mem.search(statement))).toEqual([together!.id]);
      // A question: its quoted words count as words, not as a phrase, on every store (a RemoteStore too).
      const both = [together!.id, apart!.id].sort();
      expect(ids(await mem.search(`${statement}?`)).sort()).toEqual(both);
      // Also when the cut falls inside a word that fills the rest of it.
      expect(ids(await mem.search(`"dark chocolate" ${'x'.repeat(1500)} ?`)).sort()).toEqual(both);
    });

    it('holds cosine to [-1, 1]: vectors of one direction tie at 1, ordered by id', async () => {
      const mem = await ctx.memory();
      const tripled = [0.30000000000000004, 0.6000000000000001, 2.0999999999999996];
      await mem.addMany([
        { id: 'v-a', content: 'a', embedding: [0.1, 0.2, 0.7], embeddingModel: 'm' },
        { id: 'v-b', content: 'b', embedding: tripled, embeddingModel: 'm' },
        { id: 'v-c', content: 'c', embedding: [-0.1, -0.2, -0.7], embeddingModel: 'm' },
      ]);
      for (const vector of [[0.1, 0.2, 0.7], [1, 2, 7], tripled]) {
        // Without a model every embedding is scanned in core; with one the store's index chooses.
        for (const model of [undefined, 'm']) {
          const hits = await mem.search('', { vector, model, explain: true });
          expect(ids(hits), `${vector} ${model}`).toEqual(['v-b', 'v-a', 'v-c']);
          expect(hits.map((h) => h.score)).toEqual([1, 1, -1]);
          expect(hits.map((h) => h.explain?.vector)).toEqual([1, 1, -1]);
        }
      }
    });

    it('keeps equal vectors by id descending when more of them tie than candidates are taken', async () => {
      const mem = await ctx.memory();
      // Two ways a float32 scan can keep the wrong ties: a score it stores exactly, or one it rounds.
      for (const [model, vector] of [
        ['exact', [0.25, 0.5, 0.75, 1]],
        ['rounded', [0.6, 0.8, 0, 0]],
        [undefined, [0.5, 0.25, 1, 0.75]],
      ] as const) {
        const id = (i: number) => `${model}-${String(i).padStart(2, '0')}`;
        await mem.addMany(
          Array.from({ length: 60 }, (_, i) => ({
            id: id(i),
            content: `copy ${i}`,
            embedding: [...vector],
            ...(model ? { embeddingModel: model } : {}),
          })),
        );
        for (const limit of [3, 10]) {
          // With a model the store's index chooses; without one every embedding is scanned in core.
          const hits = await mem.search('', { vector: [...vector], model, limit });
          expect(ids(hits), `${model} ${limit}`).toEqual(Array.from({ length: limit }, (_, i) => id(59 - i)));
        }
      }
    });

    it('ranks embeddings nearer than float32 tells apart by their float64 cosine', async () => {
      const mem = await ctx.memory();
      // A billionth apart: against [1, 1] their float64 cosines fall with i, their float32 ones tie or
      // cross, so a store choosing its candidates in float32 kept the wrong ones (v14, v15, v16).
      const id = (i: number) => `near-${String(i).padStart(2, '0')}`;
      await mem.addMany(
        Array.from({ length: 30 }, (_, i) => ({
          id: id(i),
          content: `near ${i}`,
          kind: i % 2 === 0 ? 'even' : 'odd',
          embedding: [1, (30 - i) * 1e-9],
          embeddingModel: 'm',
        })),
      );
      for (const limit of [1, 3]) {
        const hits = await mem.search('', { vector: [1, 1], model: 'm', limit });
        expect(ids(hits), `${limit}`).toEqual(Array.from({ length: limit }, (_, i) => id(i)));
        const even = await mem.search('', { vector: [1, 1], model: 'm', limit, kind: 'even' });
        expect(ids(even), `even ${limit}`).toEqual(Array.from({ length: limit }, (_, i) => id(2 * i)));
      }
    });
  });
}
