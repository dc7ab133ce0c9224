import { describe, expect, it } from 'vitest';
import { explainedScore } from '../../src/core/explain.js';
import { ids, type SuiteContext } from './harness.js';

/** "Search that finds what people mean": prefixes on words as written, questions, stop words, CJK, match, metadata, explain. */
export function retrievalCases(ctx: SuiteContext): void {
  describe('retrieval', () => {
    it('matches a prefix against words as written, whole words included', async () => {
      const mem = await ctx.memory();
      const [coffee, coffees, morning] = await mem.addMany([
        { content: 'I drink coffee every day' },
        { content: 'two coffees please' },
        { content: 'a quiet morning run' },
        { content: 'tea only' },
      ]);
      expect(ids(await mem.search('coffee*')).sort()).toEqual([coffee!.id, coffees!.id].sort());
      for (const typed of ['morn*', 'morni*', 'mornin*', 'morning*']) {
        expect(ids(await mem.search(typed)), typed).toEqual([morning!.id]);
      }
      expect(ids(await mem.search('running coffee*'))).toContain(coffee!.id);
      // Typed at the end of a question or before a comma, the star still makes a prefix.
      expect(ids(await mem.search('what happens in the morni*?'))).toEqual([morning!.id]);
      expect(ids(await mem.search('coffee*, please')).sort()).toEqual([coffee!.id, coffees!.id].sort());
    });

    it('takes questions as queries: apostrophes, ?, a stray - and unbalanced quotes never throw', async () => {
      const mem = await ctx.memory();
      const [book] = await mem.addMany([
        { content: 'She said Becoming Nicole was moving and honest' },
        { content: 'what did they want, she asked' },
        { content: 'what did you do about the weather' },
        { content: 'she did it' },
      ]);
      for (const question of [
        'What did she say about "Becoming Nicole"?',
        'what did she say about "Becoming Nicole',
        "what's Nicole's book - the one she read?",
        // A message cut inside an emoji by its sender: the lone half reads as U+FFFD.
        'Becoming Nicole 🍕'.slice(0, -1),
        '\udc55Becoming Nicole',
      ]) {
        expect(ids(await mem.search(question))[0], question).toBe(book!.id);
        expect(await mem.context(question), question).toContain('Becoming Nicole');
      }
      expect(await mem.search('?')).toEqual([]);
      expect(await mem.search('\ud83c')).toEqual([]);
    });

    it('lets content words decide over function words, and still finds stop-word-only queries', async () => {
      const mem = await ctx.memory();
      const [wanted, chatter] = await mem.addMany([
        { content: 'the espresso machine broke' },
        { content: 'what did they do with the thing that they did' },
      ]);
      expect(ids(await mem.search('what did the user say about the espresso'))[0]).toBe(wanted!.id);
      expect(ids(await mem.search('what did they do'))[0]).toBe(chatter!.id);
    });

    it('takes the article "a" for a function word like "the": never required, never a hit alone', async () => {
      const mem = await ctx.memory();
      const [pottery, dog] = await mem.addMany([
        { content: 'pottery class tonight' },
        { content: 'I have a dog' },
      ]);
      for (const article of ['a', 'the']) {
        const query = `${article} pottery class`;
        expect(ids(await mem.search(query, { match: 'all' })), query).toEqual([pottery!.id]);
        expect(ids(await mem.search(query)), query).toEqual([pottery!.id]);
      }
      // Same score with either article: both are left out of the coordination factor alike.
      const [withA] = await mem.search('a pottery class');
      const [withThe] = await mem.search('the pottery class');
      expect(withA!.score).toBe(withThe!.score);
      // Alone it still finds the text holding it.
      expect(ids(await mem.search('a'))).toEqual([dog!.id]);
    });

    it('keeps a content word whose stem a question word before it shares ("does", "doe")', async () => {
      const mem = await ctx.memory();
      const [doe] = await mem.addMany([
        { content: 'the doe eats grass' },
        { content: 'the horse eats grass' },
        { content: 'she does yoga' },
      ]);
      // "does" stems to "doe": its clause, a question word's, was left out and "doe" with it.
      expect(ids(await mem.search('What does a doe eat?', { match: 'all' }))).toEqual([doe!.id]);
      expect(ids(await mem.search('does doe eat', { match: 'all' }))).toEqual([doe!.id]);
      const [first] = await mem.search('What does a doe eat?', { explain: true });
      expect(first!.memory.id).toBe(doe!.id);
      expect(Object.keys(first!.explain!.text!)).toContain('doe');
    });

    it('reads a function word written capitalized inside a sentence as a name: "in May", "ask Will"', async () => {
      const mem = await ctx.memory();
      const [may, june, birthday, will, paris] = await mem.addMany([
        { content: 'The conference in May was in Lisbon' },
        { content: 'Trip to Rome in June' },
        { content: "Mom's birthday is on May 5th" },
        { content: 'Will is my brother; he lives in Denver' },
        { content: 'Trip to Paris in May' },
        { content: 'I may be late tomorrow, it will rain' },
      ]);
      // (The index does not keep case: "I may be late" holds the word too, and comes after.)
      const inMay = ids(await mem.search('what happened in May?'));
      expect(new Set(inMay.slice(0, 3))).toEqual(new Set([may!.id, birthday!.id, paris!.id]));
      expect(inMay).not.toContain(june!.id);
      expect(ids(await mem.search('trip in May'))[0]).toBe(paris!.id);
      expect(ids(await mem.search('trip in May', { match: 'all' }))).toEqual([paris!.id]);
      expect(ids(await mem.search('trip in June', { match: 'all' }))).toEqual([june!.id]);
      expect(ids(await mem.search('where does my brother Will live?'))[0]).toBe(will!.id);
      // At the start of a sentence a capital says nothing: "May I…" and "Will it…" ask, as lower case does.
      expect(ids(await mem.search('Will it happen in Lisbon?'))).toEqual([may!.id]);
      expect(ids(await mem.search('May I see the conference?'))).toEqual([may!.id]);
      // Nor after what holds no word: an emoji (one with a variation selector, a mark, too), a dash, an
      // empty pair of quotes.
      for (const before of ['😀', '❤️', '--', '" "']) {
        expect(ids(await mem.search(`${before} Will it happen in Lisbon?`))).toEqual([may!.id]);
      }
      // "I" is written capitalized everywhere, and the `s` of a name's possessive stays a function word.
      const [first] = await mem.search("What did I say about Mom's birthday?", { explain: true });
      expect(first!.memory.id).toBe(birthday!.id);
      expect(Object.keys(first!.explain!.text!)).not.toContain('i');
    });

    it('finds a misspelt word one edit away when no memory holds it, and explains it', async () => {
      const mem = await ctx.memory();
      const [volunteer, doctor] = await mem.addMany([
        { content: 'I was volunteering at the food bank on Saturday' },
        { content: 'the doctor says no running for six weeks' },
        { content: 'a quiet evening at home' },
      ]);
      // Two neighbours swapped, a letter dropped, a letter doubled: each one edit away.
      expect(ids(await mem.search('how did she feel after volutneering?'))).toEqual([volunteer!.id]);
      expect(ids(await mem.search('what did the doctr say?'))).toEqual([doctor!.id]);
      expect(ids(await mem.search('volunteerring'))).toEqual([volunteer!.id]);
      // The first letter is never changed, nor a word under five letters ("fod" is not "food").
      expect(await mem.search('ovlunteering')).toEqual([]);
      expect(await mem.search('fod')).toEqual([]);
      // A typo in a plural is one edit from the singular's plural, two from the singular a memory holds:
      // the plural's singular is corrected too.
      const [recipe, vacation] = await mem.addMany([
        { content: 'my lasagna recipe uses ricotta' },
        { content: 'planning a vacation to Portugal' },
      ]);
      expect(ids(await mem.search('any good recipies?'))).toEqual([recipe!.id]);
      expect(ids(await mem.search('vacatons'))).toEqual([vacation!.id]);
      expect(await mem.search('vacatonz')).toEqual([]);
      const [hit] = await mem.search('volutneering bank', { explain: true });
      expect(Object.keys(hit!.explain!.text!)).toEqual(['volutneering~', 'bank']);
      expect(Math.abs(explainedScore(hit!.explain!) - hit!.score)).toBeLessThan(1e-9);
    });

    it('matches the irregular forms of a question verb: "go" finds "went", "say" finds "said"', async () => {
      const mem = await ctx.memory();
      const [went, said] = await mem.addMany([
        { content: 'we went to Lisbon last spring' },
        { content: 'Maya said the concert was loud' },
        { content: 'Lisbon has steep streets' },
      ]);
      expect(ids(await mem.search('did she go to Lisbon?'))[0]).toBe(went!.id);
      expect(ids(await mem.search('What did Maya say about the concert?'))).toEqual([said!.id]);
      expect(ids(await mem.search('go'))).toEqual([went!.id]);
      // Only a verb's base form is expanded: "gone" in a query is not "went".
      expect(await mem.search('gone')).toEqual([]);
      const [hit] = await mem.search('go Lisbon', { explain: true });
      expect(Object.keys(hit!.explain!.text!)).toEqual(['go|gone|went', 'lisbon']);
      expect(Math.abs(explainedScore(hit!.explain!) - hit!.score)).toBeLessThan(1e-9);
    });

    it('looks a form stemmed like a stop word up as written: "eat" finds "ate", not every "at"', async () => {
      const mem = await ctx.memory();
      const [ate] = await mem.addMany([
        { content: 'we ate sushi' },
        { content: 'meet me at noon' },
        { content: 'over the hill' },
      ]);
      // "ate" and "at" share the Porter stem "at"; "overate" and "over" the stem "over".
      expect(ids(await mem.search('eat'))).toEqual([ate!.id]);
      expect(ids(await mem.search('what did we eat?'))).toEqual([ate!.id]);
      expect(await mem.search('overeat')).toEqual([]);
      const [hit] = await mem.search('eat sushi', { explain: true });
      expect(Object.keys(hit!.explain!.text!)).toEqual(['eat|~ate|eaten', 'sushi']);
      expect(Math.abs(explainedScore(hit!.explain!) - hit!.score)).toBeLessThan(1e-9);
    });

    it('matches an irregular noun in its other number: "children" finds "child", "person" finds "people"', async () => {
      const mem = await ctx.memory();
      const [child, people, statuses, person] = await mem.addMany([
        { content: 'her child starts school in September' },
        { content: 'twelve people came to the party' },
        { content: 'the order statuses were stale' },
        { content: 'one person stayed late' },
        { content: 'a personal trainer' },
      ]);
      expect(ids(await mem.search('Does she have children?'))).toEqual([child!.id]);
      // The word asked for first, its other number after. Looked up as written: "person" is also the stem
      // of "personal", which "people" does not find.
      expect(ids(await mem.search('people'))).toEqual([people!.id, person!.id]);
      expect(ids(await mem.search('person')).slice(-1)).toEqual([people!.id]);
      // Porter cuts "status" to "statu" and "statuses" to "status": the list joins them.
      expect(ids(await mem.search('status'))).toEqual([statuses!.id]);
      const [hit] = await mem.search('child school', { explain: true });
      expect(Object.keys(hit!.explain!.text!)).toEqual(['child|~children', 'school']);
      expect(Math.abs(explainedScore(hit!.explain!) - hit!.score)).toBeLessThan(1e-9);
    });

    it('ranks a memory holding more of the query words first (coordination)', async () => {
      const mem = await ctx.memory();
      const [both] = await mem.addMany([
        { content: 'pottery class at the community centre' },
        { content: 'pottery pottery, my pottery wheel and the pottery kiln' },
        { content: 'the community garden' },
        { content: 'a community meeting' },
      ]);
      // Without coordination the second memory's repeated word would outweigh the first's two words.
      expect(ids(await mem.search('pottery community'))[0]).toBe(both!.id);
    });

    it('indexes Chinese, Japanese and Korean text by character pairs', async () => {
      const mem = await ctx.memory();
      const [tokyo, seoul] = await mem.addMany([
        { content: '東京都に住んでいます' },
        { content: '서울특별시 여행' },
        { content: 'plain latin' },
      ]);
      expect(ids(await mem.search('東京'))).toEqual([tokyo!.id]);
      expect(ids(await mem.search('서울'))).toEqual([seoul!.id]);
    });

    it('folds diacritics but keeps the marks other scripts spell with: Korean, kana, Devanagari, Thai, Greek', async () => {
      const mem = await ctx.memory();
      const [seoul, papers, school, cuckoo, hindi, hd, thai, kosmos, cafe] = await mem.addMany([
        { content: '서울에서 만나요' },
        // Decomposed to jamo, "서류를" shared pairs with "서울" (서, ᅥᄋ…): every Korean query found noise.
        { content: '서류를 보내 주세요' },
        { content: 'がっこうへいく' },
        // Without its voicing mark "がっこう" (school) is "かっこう" (cuckoo).
        { content: 'かっこうがなく' },
        { content: 'मुझे हिंदी पसंद है' },
        // Vowel signs stripped, "हिंदी" was "हद".
        { content: 'हद से ज़्यादा' },
        { content: 'สวัสดีครับ' },
        { content: 'Ο ΚΟΣΜΟΣ ΕΙΝΑΙ ΜΙΚΡΟΣ' },
        { content: 'Café au lait' },
      ]);
      expect(ids(await mem.search('서울'))).toEqual([seoul!.id]);
      expect(ids(await mem.search('서류'))).toEqual([papers!.id]);
      // Pairs: the two share "っこ" and "こう"; every pair only in the one.
      const all = { match: 'all' } as const;
      expect(ids(await mem.search('がっこう', all))).toEqual([school!.id]);
      expect(ids(await mem.search('かっこう', all))).toEqual([cuckoo!.id]);
      expect(ids(await mem.search('がっこう'))[0]).toBe(school!.id);
      expect(ids(await mem.search('かっこう'))[0]).toBe(cuckoo!.id);
      // Half-width katakana compose with their voicing mark as they widen.
      const katakana = await mem.add({ content: 'ガッコウ' });
      expect(ids(await mem.search('ｶﾞｯｺｳ', all))).toEqual([katakana.id]);
      expect(ids(await mem.search('हिंदी'))).toEqual([hindi!.id]);
      expect(ids(await mem.search('हद'))).toEqual([hd!.id]);
      expect(ids(await mem.search('สวัสดี*'))).toEqual([thai!.id]);
      expect(ids(await mem.search('สวสด*'))).toEqual([]);
      // Final sigma: lower-cased, the prefix "ΚΟΣ" ends in "ς", which no word inside "κόσμος" holds.
      for (const query of ['ΚΟΣ*', 'κόσ*', 'κοσμος', 'ΚΌΣΜΟΣ']) {
        expect(ids(await mem.search(query)), query).toEqual([kosmos!.id]);
      }
      for (const query of ['cafe', 'CAFÉ', 'café*'])
        expect(ids(await mem.search(query)), query).toEqual([cafe!.id]);
      // Marks alone are no word (a word starts with a letter or digit): such queries find nothing, never throw.
      for (const query of [
        '\u0301',
        '\u0301\u0301 \u093f',
        '\u3099',
        '-\u0301',
        '"\u0301"',
        '\u0301*',
        '\ufe0f',
      ]) {
        expect(await mem.search(query), JSON.stringify(query)).toEqual([]);
      }
      // Hundreds of diacritics on one letter fold away; hundreds of kept vowel signs make one word, cut to 64.
      const zalgo = await mem.add({ content: `x${'\u0301'.repeat(500)}yz` });
      expect(ids(await mem.search('xyz'))).toEqual([zalgo.id]);
      expect(await mem.search(`\u0915${'\u093f'.repeat(900)}`)).toEqual([]);
    });

    it('splits Thai, Lao, Khmer and Myanmar into dictionary words: a word inside a sentence, a phrase, a prefix', async () => {
      const mem = await ctx.memory();
      const [rice, padThai, work, lao, khmer, myanmar] = await mem.addMany([
        { content: 'ฉันชอบกินข้าวผัดตอนเช้า' },
        // "ผัด" before "ข้าว": both words, not the phrase "ข้าวผัด".
        { content: 'ผัดไทยและข้าวสวย' },
        { content: 'ผมกำลังทำงานที่สำนักงาน' },
        { content: 'ຂ້ອຍມັກກິນເຂົ້າໜຽວ' },
        { content: 'ខ្ញុំចូលចិត្តញ៉ាំបាយ' },
        { content: 'ကျွန်တော်ထမင်းစားတယ်' },
        { content: 'plain latin' },
      ]);
      // One run, one word before: only a query for the run's beginning found it.
      expect(ids(await mem.search('กิน'))).toEqual([rice!.id]);
      expect(ids(await mem.search('ตอน*'))).toEqual([rice!.id]);
      expect(ids(await mem.search('"ข้าวผัด"'))).toEqual([rice!.id]);
      expect(ids(await mem.search('ข้าว')).sort()).toEqual([rice!.id, padThai!.id].sort());
      expect(ids(await mem.search('ข้าว -กิน'))).toEqual([padThai!.id]);
      // SARA AM ("ทำ", "สำ"): typed composed, indexed decomposed, found either way.
      expect(ids(await mem.search('ทำงาน'))).toEqual([work!.id]);
      expect(ids(await mem.search('สำนัก*'))).toEqual([work!.id]);
      expect(ids(await mem.search('ເຂົ້າ'))).toEqual([lao!.id]);
      expect(ids(await mem.search('ចូលចិត្ត'))).toEqual([khmer!.id]);
      expect(ids(await mem.search('တယ်'))).toEqual([myanmar!.id]);
    });

    it('reads a prefix typed as a Thai run from where the index holds a word beginning so', async () => {
      const mem = await ctx.memory();
      const [computer, hospital, coffee, com] = await mem.addMany([
        { content: 'ซื้อคอมพิวเตอร์ใหม่' },
        { content: 'ไปโรงพยาบาลเมื่อวาน' },
        { content: 'ฉันชอบกาแฟร้อน' },
        { content: 'คอมเครื่องนี้ช้า' },
        { content: 'ยาวมาก' },
      ]);
      // The unfinished word reads as คอม + พิว, "โรงพยา" as โรง + พ + ยา (the index holds โรง + พยาบาล).
      expect(ids(await mem.search('คอมพิว*'))).toEqual([computer!.id]);
      // No word begins with the whole run "โรงพยา": โรง is typed whole, พยา begins (not ยา*, which finds ยาว).
      expect(ids(await mem.search('โรงพยา*'))).toEqual([hospital!.id]);
      expect(ids(await mem.search('โรงพยา*', { match: 'all' }))).toEqual([hospital!.id]);
      expect(ids(await mem.search('ฉันชอบกาแ*', { match: 'all' }))).toEqual([coffee!.id]);
      expect(ids(await mem.search('คอมขขข*'))).toEqual([com!.id]);
      const [hit] = await mem.search('โรงพยา*', { explain: true });
      expect(Object.keys(hit!.explain!.text ?? {}).sort()).toEqual(['พยา*', 'โรง'].sort());
      expect(Math.abs(explainedScore(hit!.explain!) - hit!.score)).toBeLessThan(1e-9);
    });

    it('finds one CJK character wherever it stands in a run: first, inside, last or alone', async () => {
      const mem = await ctx.memory();
      const [first, inside, last, alone] = await mem.addMany([
        { content: '猫很可爱' },
        { content: '我的猫很可爱' },
        { content: '我的猫' },
        { content: '猫' },
        { content: '我的狗' },
      ]);
      const wanted = [first!.id, inside!.id, last!.id, alone!.id].sort();
      expect(ids(await mem.search('猫')).sort()).toEqual(wanted);
      expect(ids(await mem.search('猫', { match: 'all' })).sort()).toEqual(wanted);
      // A character that only ends runs, and a pair, as before.
      expect(ids(await mem.search('狗'))).toHaveLength(1);
      expect(ids(await mem.search('的猫')).sort()).toEqual([inside!.id, last!.id].sort());
      const [hit] = await mem.search('猫', { explain: true });
      expect(Math.abs(explainedScore(hit!.explain!) - hit!.score)).toBeLessThan(1e-9);
    });

    it('finds a long word of letters beyond the BMP, its keys cut between two characters', async () => {
      const mem = await ctx.memory();
      // "a" and 32 Deseret letters: 65 UTF-16 units, the 64th a high surrogate. Cut there, the keys held a
      // lone surrogate, which SQLite and Postgres store as UTF-8 cannot hold: only two stores found the word.
      const word = `a${'𐐨𐐯𐑊𐐬'.repeat(8)}`;
      const [long] = await mem.addMany([{ content: `${word} note` }, { content: 'another note' }]);
      // Postgres refused the edit outright: its terms went as JSON, where a lone surrogate is invalid.
      await mem.update(long!.id, { content: `${word} note, edited` });
      for (const query of [word, `${word}*`, `${word.slice(0, 41)}*`, `${word} note`]) {
        const hits = await mem.search(query, { explain: true });
        expect(ids(hits)[0], query).toBe(long!.id);
        for (const label of Object.keys(hits[0]!.explain!.text!)) expect(label).not.toMatch(/\p{Cs}/u);
      }
    });

    it('answers a query of hundreds of prefixes: one-character CJK words and word* alike', async () => {
      const mem = await ctx.memory();
      // 500 distinct CJK characters from U+4E00, each a one-character word (a prefix of words as written),
      // then 250 two-letter prefixes: as many as a query's 1024 characters hold. One SQL clause each was
      // past SQLite's 500 terms of a compound SELECT, and past what PGlite prepares.
      const chars = Array.from({ length: 500 }, (_, i) => String.fromCodePoint(0x4e00 + i));
      const letters = 'abcdefghijklmnopqrstuvwxyz';
      const pairs = Array.from({ length: 250 }, (_, i) => `${letters[Math.floor(i / 26)]}${letters[i % 26]}`);
      const [cjk, latin] = await mem.addMany([
        { content: `我的${chars[450]}很可爱` },
        // Every other word starts past the pairs' first letters (a to j).
        { content: `${pairs[249]}xyz tomorrow` },
        { content: 'nothing once more' },
      ]);
      expect(ids(await mem.search(chars.join(' ')))).toEqual([cjk!.id]);
      expect(ids(await mem.search(pairs.map((p) => `${p}*`).join(' ')))).toEqual([latin!.id]);
    });

    it('a query of more prefixes than one clause takes finds the memories of each one', async () => {
      const mem = await ctx.memory();
      const letters = 'abcdefghijklmnopqrstuvwxyz';
      // 70 prefixes: past the 16 a SQL store reads one clause each, then in clauses of several.
      const pairs = Array.from({ length: 70 }, (_, i) => `${letters[Math.floor(i / 26)]}${letters[i % 26]}`);
      const made = await mem.addMany(pairs.map((pair) => ({ content: `${pair}qz marker` })));
      const hits = await mem.search(pairs.map((pair) => `${pair}*`).join(' '), { limit: 100 });
      expect(ids(hits).sort()).toEqual(made.map((m) => m.id).sort());
    });

    it('leaves out with -猫 every memory a search for 猫 finds, not only those holding it alone', async () => {
      const mem = await ctx.memory();
      const [inside, alone, last, plain] = await mem.addMany([
        { content: '我的猫很可爱 coffee' },
        { content: '猫 coffee' },
        { content: '我的猫 coffee' },
        { content: 'coffee only' },
      ]);
      expect(ids(await mem.search('猫')).sort()).toEqual([inside!.id, alone!.id, last!.id].sort());
      expect(ids(await mem.search('coffee -猫'))).toEqual([plain!.id]);
      expect(ids(await mem.search('coffee -可爱')).sort()).toEqual([alone!.id, last!.id, plain!.id].sort());
      expect(await mem.search('-猫')).toEqual([]);
    });

    it("match: 'all' requires every term, 'any' ranks documents holding any", async () => {
      const mem = await ctx.memory();
      const [both, one] = await mem.addMany([
        { content: 'green tea with lemon' },
        { content: 'green apples' },
        { content: 'lemon cake' },
      ]);
      expect(ids(await mem.search('green lemon', { match: 'all' }))).toEqual([both!.id]);
      expect(ids(await mem.search('green lemon'))).toHaveLength(3);
      expect(ids(await mem.search('green -lemon', { match: 'all' }))).toEqual([one!.id]);
    });

    it('filters list and search by metadata equality on top-level keys', async () => {
      const mem = await ctx.memory();
      const [a, b] = await mem.addMany([
        { content: 'note one', metadata: { source: 'chat', n: 1, where: { room: 'a' } } },
        { content: 'note two', metadata: { source: 'chat', n: 2 } },
        { content: 'note three', metadata: { source: 'email', n: 1 } },
      ]);
      expect(ids((await mem.list({ metadata: { source: 'chat' } })).items).sort()).toEqual(
        [a!.id, b!.id].sort(),
      );
      expect(ids((await mem.list({ metadata: { source: 'chat', n: 1 } })).items)).toEqual([a!.id]);
      expect(ids((await mem.list({ metadata: { where: { room: 'a' } } })).items)).toEqual([a!.id]);
      expect(ids((await mem.list({ metadata: { source: 'fax' } })).items)).toEqual([]);
      expect(ids(await mem.search('note', { metadata: { n: 1 } })).sort()).toEqual(
        [a!.id, (await mem.list({ metadata: { source: 'email' } })).items[0]!.id].sort(),
      );
      const page = await mem.list({ metadata: { source: 'chat' }, limit: 1 });
      expect(page.items).toHaveLength(1);
      const next = await mem.list({ metadata: { source: 'chat' }, limit: 1, cursor: page.cursor });
      expect(ids([...page.items, ...next.items]).sort()).toEqual([a!.id, b!.id].sort());
    });

    it('compares a metadata value whole: arrays by length and order, objects by their keys, own keys only', async () => {
      const mem = await ctx.memory();
      const [short, long, keyed, protoKeyed] = await mem.addMany([
        { content: 'short', metadata: { list: [1, 2], where: { room: 'a', floor: 1 } } },
        { content: 'long', metadata: { list: [1, 2, 3], where: { room: 'a' } } },
        { content: 'keyed', metadata: { list: { 0: 1, 1: 2 }, where: ['a'] } },
        { content: 'proto', metadata: JSON.parse('{"__proto__":{}}') },
      ]);
      const listed = async (metadata: Record<string, unknown>) =>
        ids((await mem.list({ metadata: metadata as never })).items);
      expect(await listed({ list: [1, 2] })).toEqual([short!.id]);
      expect(await listed({ list: [1, 2, 3] })).toEqual([long!.id]);
      expect(await listed({ list: [2, 1] })).toEqual([]);
      expect(await listed({ list: { 1: 2, 0: 1 } })).toEqual([keyed!.id]);
      expect(await listed({ where: { room: 'a' } })).toEqual([long!.id]);
      expect(await listed({ where: { floor: 1, room: 'a' } })).toEqual([short!.id]);
      // A key every object inherits is no key of the metadata: only the memory that holds it matches.
      expect(await listed(JSON.parse('{"__proto__":{}}'))).toEqual([protoKeyed!.id]);
    });

    it('explains scores: the parts add up to the score', async () => {
      const mem = await ctx.memory();
      await mem.addMany([
        { content: 'the user prefers dark roast coffee in the morning' },
        { content: 'coffee beans and coffees' },
        { content: 'morning light' },
      ]);
      const hits = await mem.search('what coffee* does the user drink in the morning', { explain: true });
      expect(hits.length).toBeGreaterThan(1);
      for (const hit of hits) {
        expect(hit.explain?.text).toBeDefined();
        expect(Math.abs(explainedScore(hit.explain!) - hit.score)).toBeLessThan(1e-9);
      }
      expect(Object.keys(hits[0]!.explain!.text!)).toContain('coffee*');
      expect((await mem.search('coffee'))[0]!.explain).toBeUndefined();
    });

    it('explains vector and hybrid scores, parts adding up to the score', async () => {
      const mem = await ctx.memory();
      await mem.addMany([
        { content: 'solar panels on the roof', embedding: [0, 1] },
        { content: 'solar power storage', embedding: [0.9, 0.1] },
        { content: 'battery chemistry', embedding: [1, 0] },
      ]);
      const vector = await mem.search('', { vector: [1, 0], explain: true });
      for (const hit of vector) expect(hit.explain).toEqual({ vector: hit.score });
      const hybrid = await mem.search('solar', { vector: [1, 0], mode: 'hybrid', explain: true });
      expect(hybrid).toHaveLength(3);
      for (const hit of hybrid) {
        expect(Math.abs(explainedScore(hit.explain!) - hit.score)).toBeLessThan(1e-9);
      }
      expect(hybrid[0]!.explain!.text).toBeDefined();
      expect(hybrid[0]!.explain!.vector).toBeGreaterThan(0);
    });
  });
}
