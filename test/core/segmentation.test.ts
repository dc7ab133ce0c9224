import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  cjkRunEnds,
  indexText,
  normalizeWord,
  parseQuery,
  runPrefixSplits,
  runReadings,
  splitWords,
} from '../../src/core/text/index.js';
import { indexedOtherwiseBeforeSegmenting } from '../../src/core/text/resegment.js';
import { createMemory, InMemoryStore } from '../../src/index.js';

/** The words as splitWords keys them: normalised (SARA AM decomposed, Lao ໜ as ຫນ). */
const keyed = (...words: string[]) => words.map(normalizeWord);

describe('Thai, Lao, Khmer and Myanmar runs split into dictionary words', () => {
  it('splits a Thai sentence written without spaces into its words', () => {
    expect(splitWords('ฉันชอบกินข้าวผัดตอนเช้า')).toEqual(['ฉัน', 'ชอบ', 'กิน', 'ข้าว', 'ผัด', 'ตอน', 'เช้า']);
  });

  it('reads SARA AM composed, as the dictionary holds it, and keys it as normalizeWord writes it', () => {
    // Segmented as normalised (NIKHAHIT + SARA AA), ICU read "ผมกํา|ลัง|ทํา|งา|นที่|สํา|นักงาน".
    expect(splitWords('ผมกำลังทำงานที่สำนักงาน')).toEqual(keyed('ผม', 'กำลัง', 'ทำงาน', 'ที่', 'สำนักงาน'));
    expect(splitWords('ดื่มน้ำเย็น')).toEqual(keyed('ดื่ม', 'น้ำ', 'เย็น'));
    expect(splitWords('ຂ້ອຍດື່ມນ້ຳ')).toEqual(keyed('ຂ້ອຍ', 'ດື່ມ', 'ນ້ຳ'));
    expect(splitWords('ดื่มน้ำเย็น').join('')).not.toContain('\u0e33');
  });

  it('splits Lao, Khmer and Myanmar', () => {
    expect(splitWords('ຂ້ອຍມັກກິນເຂົ້າໜຽວ')).toEqual(keyed('ຂ້ອຍ', 'ມັກ', 'ກິນ', 'ເຂົ້າ', 'ໜຽວ'));
    expect(splitWords('ខ្ញុំចូលចិត្តញ៉ាំបាយ')).toEqual(['ខ្ញុំ', 'ចូលចិត្ត', 'ញ៉ាំបាយ']);
    expect(splitWords('ကျွန်တော်ထမင်းစားတယ်')).toEqual(['ကျွန်တော်', 'ထမင်းစား', 'တယ်']);
  });

  it('keeps Latin letters and digits glued to Thai apart, and other words as before', () => {
    expect(splitWords('ซื้อiPhoneรุ่นใหม่2เครื่อง')).toEqual(['ซื้อ', 'iphone', 'รุ่น', 'ใหม่', '2', 'เครื่อง']);
    expect(splitWords('Café กาแฟร้อน 42 东京都 ภาษาไทย')).toEqual([
      'cafe',
      'กาแฟ',
      'ร้อน',
      '42',
      '东京',
      '京都',
      'ภาษา',
      'ไทย',
    ]);
    expect(splitWords('東京ไทยภาษา')).toEqual(['東京', 'ไทย', 'ภาษา']);
    expect(splitWords("Don't stop, naïve résumé")).toEqual(['don', 't', 'stop', 'naive', 'resume']);
  });

  it('gives Thai words no CJK run end, and a lone Thai letter is a word, not a prefix', () => {
    const words = splitWords('ฉันชอบกินข้าวผัด');
    expect(cjkRunEnds(words)).toEqual([]);
    expect(parseQuery('ก').clauses).toEqual([{ kind: 'term', term: 'ก' }]);
    expect(indexText('ฉันชอบกินข้าว').length).toBe(4);
  });

  it('parses a query as the index splits text: phrases, prefixes and exclusions over the words', () => {
    expect(parseQuery('"ข้าวผัด"').clauses).toEqual([{ kind: 'phrase', terms: ['ข้าว', 'ผัด'] }]);
    // A prefix typed as a run is the whole run's first (run-prefixes.ts), its words kept for other readings.
    const prefix = parseQuery('ภาษาไท*');
    expect(prefix.clauses).toEqual([{ kind: 'prefix', prefix: '~ภาษาไท' }]);
    expect(prefix.runPrefixes).toEqual([
      {
        prefix: '~ภาษาไท',
        words: [
          { word: 'ภาษา', term: 'ภาษา' },
          { word: 'ไท', term: 'ไท' },
        ],
      },
    ]);
    // One word of the run, or words before it that are not of it, parse as any prefix.
    expect(parseQuery('กาแ*').runPrefixes).toEqual([]);
    expect(parseQuery('e-คอมพิว*').clauses).toEqual([
      { kind: 'term', term: 'e' },
      { kind: 'prefix', prefix: '~คอมพิว' },
    ]);
    expect(parseQuery('กิน -ข้าวผัด').excludedPhrases).toEqual([['ข้าว', 'ผัด']]);
    expect(parseQuery('กิน -ผัด').excluded).toEqual(['ผัด']);
  });

  it('finds a word from the middle of a sentence, a phrase and a prefix', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'th' });
    const [rice, , lao] = await mem.addMany([
      { content: 'ฉันชอบกินข้าวผัดตอนเช้า' },
      { content: 'ผัดไทยกับข้าวสวย' },
      { content: 'ຂ້ອຍມັກກິນເຂົ້າໜຽວ' },
    ]);
    const ids = async (query: string) => (await mem.search(query)).map((hit) => hit.memory.id).sort();
    expect(await ids('กิน')).toEqual([rice!.id]);
    expect(await ids('"ข้าวผัด"')).toEqual([rice!.id]);
    expect(await ids('ตอน*')).toEqual([rice!.id]);
    expect(await ids('ເຂົ້າ')).toEqual([lao!.id]);
    expect(await ids('ผัด -กิน')).toHaveLength(1);
  });

  it('reads a prefix typed as a run from where the index holds a word beginning so', () => {
    // Indexed as โรง + พยาบาล; typed unfinished, "โรงพยา" reads as โรง + พ + ยา.
    expect(splitWords('ไปโรงพยาบาลเมื่อวาน')).toContain('พยาบาล');
    const parsed = parseQuery('โรงพยา*');
    expect(runReadings(parsed.runPrefixes[0]!).map((r) => [r.words.map((w) => w.word), r.prefix])).toEqual([
      [[], '~โรงพยา'],
      [['โรง'], '~พยา'],
      [['โรง', 'พ'], '~ยา'],
    ]);
    // A word beginning with the whole run: the query stands, nothing more is read.
    expect(runPrefixSplits(parsed, [{ term: '~โรงพยาบาล' }])).toBeUndefined();
    const splits = runPrefixSplits<{ term: string }>(parsed, [])!;
    expect([splits.terms, splits.prefixes]).toEqual([['พ', 'โรง'].sort(), ['~พยา', '~ยา']]);
    // The first reading whose prefix begins a word is kept, with only the postings it uses.
    const fetched = [{ term: 'โรง' }, { term: '~พยาบาล' }, { term: '~ยาว' }, { term: 'พ' }];
    const kept = splits.apply(fetched);
    expect(kept.query.clauses).toEqual([
      { kind: 'term', term: 'โรง' },
      { kind: 'prefix', prefix: '~พยา' },
    ]);
    expect(kept.used).toEqual([{ term: 'โรง' }, { term: '~พยาบาล' }]);
    // None begins a word: every word but the last whole, as other text.
    expect(splits.apply([]).query.clauses).toEqual([
      { kind: 'term', term: 'โรง' },
      { kind: 'term', term: 'พ' },
      { kind: 'prefix', prefix: '~ยา' },
    ]);
  });

  it('keeps a reading whose prefix the query read already (another clause), not read again', () => {
    const parsed = parseQuery('โรงพยา* พยา*');
    expect(parsed.prefixes).toContain('~พยา');
    // The first read found a word for พยา* but none for the whole run.
    const found = [{ term: '~พยาบาล' }];
    const splits = runPrefixSplits<{ term: string }>(parsed, found)!;
    expect(splits.prefixes).not.toContain('~พยา');
    const kept = splits.apply([{ term: 'โรง' }]);
    expect(kept.query.clauses).toEqual([
      { kind: 'term', term: 'โรง' },
      { kind: 'prefix', prefix: '~พยา' },
    ]);
  });

  it('re-runs a watched run prefix for a memory any of its readings finds', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'th' });
    const pages: string[][] = [];
    mem.watch({ search: 'โรงพยา*' }, (hits) => pages.push(hits.map((hit) => hit.memory.content)));
    await vi.waitFor(() => expect(pages).toHaveLength(1));
    await mem.add({ content: 'ไปโรงพยาบาลเมื่อวาน' });
    await vi.waitFor(() => expect(pages.at(-1)).toEqual(['ไปโรงพยาบาลเมื่อวาน']));
  });

  it('re-runs a watched run prefix for a memory holding only a later reading’s unfinished word', async () => {
    const mem = await createMemory({ store: new InMemoryStore(), namespace: 'th' });
    const pages: string[][] = [];
    mem.watch({ search: 'โรงพยา*' }, (hits) => pages.push(hits.map((hit) => hit.memory.content)));
    await vi.waitFor(() => expect(pages).toHaveLength(1));
    // No โรง here: only the reading โรง + พยา* finds it, by its word พยาบาล.
    await mem.add({ content: 'พยาบาล' });
    expect((await mem.search('โรงพยา*')).map((hit) => hit.memory.content)).toEqual(['พยาบาล']);
    await vi.waitFor(() => expect(pages.at(-1)).toEqual(['พยาบาล']));
  });

  it('tells which stored texts v20 / v8 index otherwise', () => {
    expect(indexedOtherwiseBeforeSegmenting('ฉันชอบกินข้าว')).toBe(true);
    expect(indexedOtherwiseBeforeSegmenting('ซื้อiPhone')).toBe(true);
    expect(indexedOtherwiseBeforeSegmenting('ខ្ញុំចូលចិត្តញ៉ាំបាយ')).toBe(true);
    // As many words as before, but not the same: the dictionary reads the Khmer lunar-date digit ៳ as no
    // word, where the run was one word with it.
    expect(splitWords('អ៳')).toEqual(['អ']);
    expect(indexedOtherwiseBeforeSegmenting('អ៳')).toBe(true);
    // A text of single words splits as before: its keys are what they were.
    expect(indexedOtherwiseBeforeSegmenting('สวัสดี ครับ')).toBe(false);
    expect(indexedOtherwiseBeforeSegmenting('東京都 서울 coffee, naïve')).toBe(false);
    // A lone CJK character was a word of its own before, as it is now.
    expect(indexedOtherwiseBeforeSegmenting('猫 สวัสดี')).toBe(false);
  });
});

describe('without Intl.Segmenter', () => {
  const original = Intl.Segmenter;
  afterEach(() => {
    Object.defineProperty(Intl, 'Segmenter', { value: original, writable: true, configurable: true });
    vi.resetModules();
  });

  it('keeps a run whole, as before v20, and finds nothing to rebuild', async () => {
    // @ts-expect-error: a runtime without the segmenter (made once, on first use, by a fresh module)
    delete Intl.Segmenter;
    vi.resetModules();
    const words = await import('../../src/core/text/words.js');
    const resegment = await import('../../src/core/text/resegment.js');
    expect(words.splitWords('ฉันชอบกินข้าว ภาษาไทย')).toEqual(['ฉันชอบกินข้าว', 'ภาษาไทย']);
    expect(words.splitWords('ซื้อiPhone 東京都')).toEqual(['ซื้อiphone', '東京', '京都']);
    expect(resegment.indexedOtherwiseBeforeSegmenting('ฉันชอบกินข้าว')).toBe(false);
  });
});
