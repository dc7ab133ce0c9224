import { stemmer } from 'stemmer';
import { describe, expect, it } from 'vitest';
import { makeCorpus } from '../../bench/corpus.mjs';
import { analyzerFor, isLanguageLoaded, parseQuery } from '../../src/core/text/index.js';
import {
  createMemory,
  EngramError,
  exportEntries,
  InMemoryStore,
  importEntries,
  LANGUAGES,
  loadLanguage,
} from '../../src/index.js';
import { indexText, LANGUAGE_META, tokenize } from '../../src/store/index.js';

/** The marks that folding drops, tested one at a time: diacritics of the scripts that have them optional. */
const FOLDED_SCRIPTS = ['Inherited', 'Latin', 'Greek', 'Cyrillic', 'Hebrew', 'Arabic', 'Syriac'].map(
  (name) => new RegExp(`^\\p{Script=${name}}$`, 'u'),
);
const dropped = (char: string) =>
  /^\p{M}$/u.test(char) && char !== '\u3099' && char !== '\u309a' && FOLDED_SCRIPTS.some((s) => s.test(char));

const segmenter = new Intl.Segmenter('th', { granularity: 'word' });
const dictionaryScripts = /(\p{Script=Thai}|\p{Script=Lao}|\p{Script=Khmer}|\p{Script=Myanmar})/u;

/**
 * Since schema v20, runs of Thai, Lao, Khmer and Myanmar split as the runtime's dictionary does: read with
 * SARA AM composed (folding decomposes it), each word-like segment decomposed again.
 */
function segmented(word: string): string[] {
  if (!dictionaryScripts.test(word)) return [word];
  const runs = word.split(/((?:\p{Script=Thai}|\p{Script=Lao}|\p{Script=Khmer}|\p{Script=Myanmar})+)/u);
  return runs.flatMap((part) =>
    dictionaryScripts.test(part)
      ? [...segmenter.segment(part.replace(/\u0e4d\u0e32/gu, '\u0e33').replace(/\u0ecd\u0eb2/gu, '\u0eb3'))]
          .filter((s) => s.isWordLike)
          .map((s) => s.segment.normalize('NFKD'))
      : part === ''
        ? []
        : [part],
  );
}

/**
 * The index format before languages existed: NFKD, diacritics dropped, composed again, lower case, final
 * sigma as σ (since schema v19; marks of other scripts kept), Thai and its neighbours segmented (v20), Porter,
 * both keys.
 */
function englishBefore(text: string): { length: number; terms: Map<string, number> } {
  const fold = (w: string) =>
    [...w.normalize('NFKD')]
      .filter((char) => !dropped(char))
      .join('')
      .normalize('NFC')
      .toLowerCase()
      .replace(/ς/gu, 'σ');
  const cjk =
    /[\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}]/u;
  const words: string[] = [];
  const runEnds: string[] = [];
  for (const word of fold(text).match(/[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu) ?? []) {
    if (!cjk.test(word)) {
      words.push(...segmented(word));
      continue;
    }
    const runs =
      /([\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}]+)|[^\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}]+/gu;
    for (const [part, run] of word.matchAll(runs)) {
      if (run === undefined) words.push(part);
      else {
        const chars = [...run];
        if (chars.length < 2) words.push(...chars);
        else {
          for (let i = 0; i + 1 < chars.length; i++) words.push(chars[i]! + chars[i + 1]!);
          runEnds.push(chars[chars.length - 1]!);
        }
      }
    }
  }
  const terms = new Map<string, number>();
  for (const word of words) {
    for (const key of [stemmer(word).slice(0, 64), `~${word.slice(0, 64)}`]) {
      terms.set(key, (terms.get(key) ?? 0) + 1);
    }
  }
  // Since session 13, a run's last character is a word key too, uncounted in the length (cjkRunEnds).
  for (const last of runEnds) terms.set(`~${last}`, (terms.get(`~${last}`) ?? 0) + 1);
  return { length: words.length, terms };
}

describe('languages', () => {
  it('keeps the English index bit-identical to the format before languages', () => {
    const { items } = makeCorpus(2000, 3);
    const texts = [
      ...items.map((item) => item.content),
      "Café CAFÉ naïve résumé — didn't ﬁle ㎒ 東京都に住んでいます 서울특별시 x",
      'हिंदी सीखना, สวัสดีครับ, ｶﾞｯｺｳ, ΟΔΟΣ Ἀθῆναι, שָׁלוֹם, مَرْحَبًا, 葛\u{E0100}飾',
      'Die Häuser am Fluss; las informaciones; nous avons mangé',
      'ผมกำลังทำงานที่สำนักงาน, ซื้อiPhoneรุ่นใหม่2เครื่อง, ຂ້ອຍດື່ມນ້ຳ, ខ្ញុំចូលចិត្តញ៉ាំបាយ, ကျွန်တော်ထမင်းစားတယ်',
    ];
    for (const text of texts) {
      expect(indexText(text), text).toEqual(englishBefore(text));
      expect(indexText(text, 'english')).toEqual(englishBefore(text));
      expect(indexText(text, null)).toEqual(englishBefore(text));
    }
  });

  it('loads a language on demand: before, a store is told how to load it', async () => {
    const error = (() => {
      try {
        indexText('Oggi mangiamo la pizza', 'italian');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(EngramError);
    expect(error).toMatchObject({ code: 'VALIDATION', field: 'language' });
    expect((error as Error).message).toContain("loadLanguage('italian')");
    const italian = await loadLanguage('italian');
    expect(italian.language).toBe('italian');
    expect(tokenize('Oggi mangiamo la pizza', 'italian')).toContain(tokenize('mangiare', 'italian')[0]);
  });

  it('stems before folding diacritics, and folds the stem like every key', async () => {
    await loadLanguage('spanish');
    await loadLanguage('portuguese');
    expect(tokenize('información', 'spanish')).toEqual(tokenize('informaciones', 'spanish'));
    expect(tokenize('informação', 'portuguese')).toEqual(tokenize('informações', 'portuguese'));
    // Words as written stay the folded words English keeps, for prefixes.
    const terms = [...indexText('Información', 'spanish').terms.keys()];
    expect(terms).toEqual(['inform', '~informacion']);
  });

  it('marks the language stop words and only those', async () => {
    await loadLanguage('german');
    const query = parseQuery('der die Fahrrad', { language: 'german' });
    expect(query.clauses.filter((c) => c.kind === 'term' && c.stop).length).toBe(2);
    const english = parseQuery('der die Fahrrad');
    expect(english.clauses.some((c) => c.kind === 'term' && c.stop)).toBe(false);
  });

  it('refuses an unknown language naming the accepted ones', async () => {
    await expect(loadLanguage('latin')).rejects.toMatchObject({ code: 'VALIDATION', field: 'language' });
    expect(() => analyzerFor(42)).toThrow(
      /'english', 'german', 'french', 'spanish', 'italian', 'portuguese', 'dutch'/,
    );
    expect(LANGUAGES).toEqual(['english', 'german', 'french', 'spanish', 'italian', 'portuguese', 'dutch']);
    // What was given, as written: a string quoted, anything else as JSON.
    await expect(loadLanguage('latin')).rejects.toThrow(/, got 'latin'$/);
    expect(() => analyzerFor({ name: 'latin' })).toThrow(/, got \{"name":"latin"\}$/);
    expect(() => analyzerFor(42)).toThrow(/, got 42$/);
  });

  it('reads a null language as English, as an absent one', async () => {
    expect(isLanguageLoaded(null)).toBe(true);
    expect((await loadLanguage(null)).language).toBe('english');
    expect(analyzerFor(null).language).toBe('english');
  });

  it('gives a custom store (engram/store) the postings the built-in stores keep', async () => {
    const store = new InMemoryStore();
    const mem = await createMemory({ store, namespace: 'kit', language: 'dutch' });
    const content = 'De bomen in de tuin zijn hoog, de fietsen staan buiten';
    const { id } = await mem.add({ content });
    const language = await store.getMeta('kit', LANGUAGE_META);
    expect(language).toBe('dutch');
    const { length, terms } = indexText(content, language);
    const postings = await store.postings('kit', [...terms.keys()], []);
    expect(postings.map((p) => [p.term, p.tf, p.length]).sort()).toEqual(
      [...terms].map(([term, tf]) => [term, tf, length]).sort(),
    );
    expect(postings.every((p) => p.id === id)).toBe(true);
  });

  it('changes a language by importing an export into a namespace opened with the new one', async () => {
    const source = new InMemoryStore();
    const old = await createMemory({ store: source, namespace: 'notes', language: 'german' });
    const { id } = await old.add({ content: 'Die Häuser, elle parlait' });
    const entries = [];
    for await (const entry of exportEntries(source)) entries.push(entry);
    // The old namespace keeps its language...
    await expect(
      createMemory({ store: source, namespace: 'notes', language: 'french' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'language',
    });
    // ...and a fresh one opened in French indexes the imported records in French.
    const target = new InMemoryStore();
    const fresh = await createMemory({ store: target, namespace: 'notes', language: 'french' });
    expect((await importEntries(target, entries)).imported).toBe(1);
    expect((await fresh.search('parler')).map((h) => h.memory.id)).toEqual([id]);
    expect(await old.search('parler')).toEqual([]);
    expect((await old.search('Haus')).map((h) => h.memory.id)).toEqual([id]);
    // Imported into a namespace nobody opened with a language, records keep the export's language...
    const plain = new InMemoryStore();
    await importEntries(plain, entries);
    expect(await plain.getMeta('notes', LANGUAGE_META)).toBe('german');
    // ...and into one a façade has opened (English, by default), in the façade's language, which it
    // searches in.
    const opened = new InMemoryStore();
    const english = await createMemory({ store: opened, namespace: 'notes' });
    await importEntries(opened, entries);
    expect(await opened.getMeta('notes', LANGUAGE_META)).toBeUndefined();
    expect(await english.search('Haus')).toEqual([]);
    expect((await english.search('Häuser')).map((h) => h.memory.id)).toEqual([id]);
  });
});
