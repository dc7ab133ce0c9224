import { describe, expect, it } from 'vitest';
import {
  createMemory,
  exportJsonl,
  importJsonl,
  LANGUAGES,
  type Language,
  type SearchHit,
} from '../../src/index.js';
import { LANGUAGE_META } from '../../src/store/index.js';
import { fullWrite } from './changes.case.js';
import { expectError, freshNamespace, ids, type SuiteContext } from './harness.js';

/**
 * Per language: two forms of one word that its stemmer joins and the English one does not (so the case
 * fails if a store or the query side stems in English), and a few of its stop words.
 */
const SAMPLES: Record<
  Exclude<Language, 'english'>,
  { forms: [string, string][]; stop: string; content: string }
> = {
  german: {
    forms: [
      ['Die Häuser am Fluss sind alt', 'Haus'],
      ['Im Frühling blühen die Gärten', 'Garten'],
    ],
    stop: 'der die und',
    content: 'Fahrrad',
  },
  french: {
    forms: [
      ['Nous avons mangé au restaurant', 'manger'],
      ['Elle parlait avec son voisin', 'parler'],
    ],
    stop: 'le la et',
    content: 'vélo',
  },
  spanish: {
    forms: [
      ['Estaba corriendo por el parque', 'correr'],
      ['Las informaciones llegaron tarde', 'información'],
    ],
    stop: 'el la y',
    content: 'bicicleta',
  },
  italian: {
    forms: [
      ['Oggi mangiamo la pizza', 'mangiare'],
      ['Ho comprato due libri nuovi', 'libro'],
    ],
    stop: 'il la di',
    content: 'bicicletta',
  },
  portuguese: {
    forms: [
      ['Nós falamos com o professor', 'falar'],
      ['Os livros estão na mesa', 'livro'],
    ],
    stop: 'o de que',
    content: 'bicicleta',
  },
  dutch: {
    forms: [['De bomen in de tuin zijn hoog', 'boom']],
    stop: 'de het en',
    content: 'fiets',
  },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `createMemory({ language })`: each language's stemmer and stop words, on every store and the edge. */
export function languageCases(ctx: SuiteContext): void {
  describe('languages', () => {
    for (const [language, sample] of Object.entries(SAMPLES) as [Language, (typeof SAMPLES)['german']][]) {
      it(`${language}: a word form finds another form of its stem; stop words do not outweigh content`, async () => {
        const mem = await ctx.memory({ language });
        const found = await mem.addMany(sample.forms.map(([content]) => ({ content })));
        const content = await mem.add({ content: sample.content });
        const chatter = await mem.add({ content: `${sample.stop} ${sample.stop} ${sample.stop}` });
        for (const [at, [, query]] of sample.forms.entries()) {
          expect(ids(await mem.search(query)), `${language}: ${query}`).toEqual([found[at]!.id]);
        }
        const hits = await mem.search(`${sample.stop} ${sample.content}`);
        expect(ids(hits)[0], `${language}: stop words`).toBe(content.id);
        // Only stop words: they still find the text holding them.
        expect(ids(await mem.search(sample.stop))[0]).toBe(chatter.id);
        expect(mem.language).toBe(language);
      });
    }

    it('finds a duplicate whose words carry diacritics', async () => {
      const mem = await ctx.memory({ language: 'spanish' });
      const first = await mem.add({ content: 'Información' });
      const again = await mem.add({ content: 'información' }, { dedupe: true });
      expect(again.id).toBe(first.id);
      expect((await mem.list()).items).toHaveLength(1);
    });

    it('finds a word typed without its accents, and with them, where the stems differ', async () => {
      // Each pair: text and a query its stemmer, which reads accents, stems apart from the text's word.
      const pairs: [Language, string, string][] = [
        ['spanish', 'Necesito la información del vuelo', 'informacion'],
        ['portuguese', 'A população da cidade cresceu', 'populacao'],
        ['french', 'Une longue journée de travail', 'journee'],
        ['german', 'Das Café öffnet um acht', 'cafe'],
        ['spanish', 'necesito la informacion del tren', 'información'],
      ];
      for (const [language, content, query] of pairs) {
        const mem = await ctx.memory({ language });
        const [wanted] = await mem.addMany([{ content }, { content: 'otra cosa, autre chose, outra coisa' }]);
        const hits = await mem.search(query, { explain: true });
        expect(ids(hits), `${language}: ${query}`).toEqual([wanted!.id]);
        const parts = Object.values(hits[0]!.explain!.text ?? {});
        expect(Math.abs(parts.reduce((a, b) => a + b, 0) - hits[0]!.score)).toBeLessThan(1e-9);
        // Beside another word, both count.
        expect(ids(await mem.search(`${query} ${content.split(' ').at(-1)}`))[0]).toBe(wanted!.id);
      }
    });

    it('stems words in compatibility characters (fullwidth, ligatures) as in plain letters', async () => {
      const mem = await ctx.memory({ language: 'spanish' });
      const [ligature, plain] = await mem.addMany([
        { content: 'Necesito la ﬁnanciación del proyecto' },
        { content: 'la financiación llegó tarde' },
        { content: 'otra cosa' },
      ]);
      const both = [ligature!.id, plain!.id].sort();
      expect(ids(await mem.search('financiación')).sort()).toEqual(both);
      // Fullwidth, as a Chinese or Japanese input method types Latin letters.
      expect(ids(await mem.search('ｆｉｎａｎｃｉａｃｉｏｎｅｓ')).sort()).toEqual(both);
    });

    it('keeps prefixes on words as written and CJK pairs in every language', async () => {
      const mem = await ctx.memory({ language: 'german' });
      const [house, tokyo] = await mem.addMany([
        { content: 'Die Häuser von Köln' },
        { content: '東京都に住んでいます' },
      ]);
      expect(ids(await mem.search('häus*'))).toEqual([house!.id]);
      expect(ids(await mem.search('Koln'))).toEqual([house!.id]);
      expect(ids(await mem.search('東京'))).toEqual([tokyo!.id]);
    });

    it('an export carries the language, and an import into a new namespace indexes in it', async () => {
      const source = await ctx.memory({ language: 'german' });
      await source.add({ content: 'Die Häuser am Fluss sind alt' });
      const dump: string[] = [];
      for await (const line of exportJsonl(ctx.store(), { namespaces: [source.namespace] })) dump.push(line);
      expect(JSON.parse(dump[0]!)).toMatchObject({ type: 'language', language: 'german' });
      const namespace = freshNamespace('lang');
      const moved = dump.map((line) => line.replaceAll(`"${source.namespace}"`, `"${namespace}"`));
      await importJsonl(ctx.store(), moved);
      const target = await createMemory({ store: ctx.store(), namespace, language: 'german' });
      // "Häuser" and "Haus" share a stem in German only.
      expect((await target.search('Haus')).map((hit) => hit.memory.content)).toEqual([
        'Die Häuser am Fluss sind alt',
      ]);
    });

    it('refuses to open a namespace in another language than its index, naming both', async () => {
      const namespace = freshNamespace('lang');
      const german = await createMemory({ store: ctx.store(), namespace, language: 'german' });
      await german.add({ content: 'Die Häuser am Fluss' });
      const error = await expectError(
        createMemory({ store: ctx.store(), namespace }),
        'VALIDATION',
        'language',
      );
      expect(error.message).toContain("'german'");
      expect(error.message).toContain("'english'");
      const french = createMemory({ store: ctx.store(), namespace, language: 'french' });
      expect((await expectError(french, 'VALIDATION', 'language')).message).toContain("'french'");
      // English memories written before any language was chosen are English too.
      const english = freshNamespace('lang');
      const plain = await createMemory({ store: ctx.store(), namespace: english });
      await plain.add({ content: 'houses by the river' });
      const late = createMemory({ store: ctx.store(), namespace: english, language: 'dutch' });
      expect((await expectError(late, 'VALIDATION', 'language')).message).toContain("'english'");
      // The same language opens it again, and the index still finds the stem.
      const again = await createMemory({ store: ctx.store(), namespace, language: 'german' });
      expect(await again.search('Haus')).toHaveLength(1);
    });

    it('refuses an unknown language, naming the accepted ones', async () => {
      const unknown = createMemory({
        store: ctx.store(),
        namespace: freshNamespace('lang'),
        language: 'klingon' as Language,
      });
      const error = await expectError(unknown, 'VALIDATION', 'language');
      for (const name of LANGUAGES) expect(error.message).toContain(`'${name}'`);
      expect(error.message).toContain('klingon');
    });

    it('indexes the memories of a batch that sets the language in that language', async () => {
      const namespace = freshNamespace('lang');
      const write = fullWrite(namespace, 'haeuser', 'Die Häuser am Fluss sind alt', Date.now());
      await ctx.store().apply(namespace, { meta: { [LANGUAGE_META]: 'german' }, memories: [write] });
      const mem = await createMemory({ store: ctx.store(), namespace, language: 'german' });
      // "Häuser" and "Haus" share a stem in German only.
      expect(ids(await mem.search('Haus'))).toEqual(['haeuser']);
    });

    it('a remove alone unindexes the memory in the namespace language: scores as if it never was', async () => {
      const kept = [{ content: 'Das Haus ist alt' }, { content: 'Ein anderes Ding' }];
      const mem = await ctx.memory({ language: 'german' });
      const [gone] = await mem.addMany([{ content: 'Die Häuser am Fluss sind alt' }, ...kept]);
      await mem.remove(gone!.id);
      const fresh = await ctx.memory({ language: 'german' });
      await fresh.addMany(kept);
      const scores = async (m: typeof mem) => (await m.search('Haus')).map((hit) => hit.score);
      const expected = await scores(fresh);
      expect(expected).toHaveLength(1);
      expect(await scores(mem)).toEqual(expected);
    });

    it('an edit alone indexes the new text in the namespace language', async () => {
      const mem = await ctx.memory({ language: 'german' });
      const memory = await mem.add({ content: 'Ein anderes Ding' });
      await mem.update(memory.id, { content: 'Die Häuser am Fluss sind alt' });
      // "Häuser" and "Haus" share a stem in German only.
      expect(ids(await mem.search('Haus'))).toEqual([memory.id]);
    });

    it('keeps the language across a reopen', async () => {
      const { reopen, capabilities } = ctx.options;
      if (!capabilities?.persistent || !reopen) return;
      const namespace = freshNamespace('lang');
      const scratch = await ctx.options.create();
      const mem = await createMemory({ store: scratch, namespace, language: 'spanish' });
      const [song] = await mem.addMany([{ content: 'Las canciones de la radio' }]);
      const reopened = await reopen(scratch);
      await expectError(createMemory({ store: reopened, namespace }), 'VALIDATION', 'language');
      const again = await createMemory({ store: reopened, namespace, language: 'spanish' });
      await again.add({ content: 'Estaba corriendo' });
      expect(ids(await again.search('canción'))).toEqual([song!.id]);
      expect(await again.search('correr')).toHaveLength(1);
      await again.close();
    });

    it('watches a search in the namespace language', async () => {
      const mem = await ctx.memory({ language: 'german' });
      const seen: SearchHit[][] = [];
      const stop = mem.watch({ search: 'Haus' }, (hits) => seen.push(hits));
      const deadline = Date.now() + 10_000;
      while (seen.length === 0 && Date.now() < deadline) await sleep(5);
      const house = await mem.add({ content: 'Die Häuser am Fluss' });
      while (!seen.at(-1)?.some((h) => h.memory.id === house.id) && Date.now() < deadline) await sleep(5);
      stop();
      expect(ids(seen.at(-1)!)).toEqual([house.id]);
    });
  });
}
