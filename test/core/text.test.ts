import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CIPHERTEXT_PREFIX } from '../../src/core/crypto/sealed.js';
import { EngramError } from '../../src/core/errors.js';
import {
  type Candidate,
  type CorpusStats,
  containsPhrase,
  cutQuery,
  indexText,
  isTypoVariant,
  loadLanguage,
  normalizeWord,
  type ParsedQuery,
  type Posting,
  parseQuery,
  rankDocuments,
  tokenize,
  typoCorrection,
  typoCorrectionOf,
  typoVariants,
  visitIndexTerms,
  WORD_MARK,
} from '../../src/core/text/index.js';
import { indexedOtherwiseBeforeRefold } from '../../src/core/text/refold.js';
import { hasLoneSurrogate } from '../../src/core/validate.js';

// ---------------------------------------------------------------------------------------------
// A tiny in-memory "store": what every backend does between parseQuery and rankDocuments.

interface Corpus {
  texts: Map<string, string>;
  postings: Posting[];
  stats: CorpusStats;
}

function buildCorpus(docs: Record<string, string>): Corpus {
  const texts = new Map(Object.entries(docs));
  const postings: Posting[] = [];
  let tokens = 0;
  for (const [id, text] of texts) {
    const { length, terms } = indexText(text);
    tokens += length;
    for (const [term, tf] of terms) postings.push({ term, id, tf, length });
  }
  return { texts, postings, stats: { docs: texts.size, tokens } };
}

/** Fetches like a store: exact terms, then prefix expansions (so a term can come back twice). */
function fetchPostings(corpus: Corpus, parsed: ParsedQuery): Posting[] {
  const exact = corpus.postings.filter((p) => parsed.terms.includes(p.term));
  const expanded = corpus.postings.filter((p) => parsed.prefixes.some((prefix) => p.term.startsWith(prefix)));
  return [...exact, ...expanded];
}

function search(corpus: Corpus, query: string): Candidate[] {
  const parsed = parseQuery(query);
  return rankDocuments(parsed, fetchPostings(corpus, parsed), corpus.stats);
}

/** BM25 of one term in one document, straight from the formula. */
function bm25(tf: number, length: number, docFrequency: number, stats: CorpusStats): number {
  const k1 = 1.2;
  const b = 0.3;
  const idf = Math.log(1 + (stats.docs - docFrequency + 0.5) / (docFrequency + 0.5));
  const avgdl = stats.tokens / stats.docs;
  return idf * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length) / avgdl)));
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = mulberry32(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------

describe('tokenize', () => {
  it('lower-cases, folds diacritics and splits on anything but letters and digits', () => {
    expect(tokenize('Café au LAIT')).toEqual(['cafe', 'au', 'lait']);
    expect(tokenize('e-mail, isn’t it?')).toEqual(['e', 'mail', 'isn', 't', 'it']);
    expect(tokenize('naïve Ångström')).toEqual(tokenize('naive angstrom'));
  });

  it('stems every word with Porter', () => {
    expect(tokenize('running runs Run ran')).toEqual(['run', 'run', 'run', 'ran']);
    expect(tokenize('authorities authority')).toEqual(['author', 'author']);
  });

  it('keeps numbers and mixed alphanumerics as words', () => {
    expect(tokenize('Version 2.0 in 2024, ipv6')).toEqual(['version', '2', '0', 'in', '2024', 'ipv6']);
    expect(tokenize('٣ ३')).toEqual(['٣', '३']);
  });

  it('handles non-Latin scripts and compatibility forms', () => {
    expect(tokenize('Привет, мир!')).toEqual(['привет', 'мир']);
    expect(tokenize('Ἀθῆναι')).toEqual(['αθηναι']);
    expect(tokenize('東京 タワー')).toEqual(['東京', 'タワ', 'ワー']);
    expect(tokenize('ﬁle ＡＢＣ ㎒')).toEqual(['file', 'abc', 'mhz']);
  });

  it('preserves order and duplicates, and returns nothing for text without words', () => {
    expect(tokenize('b a b')).toEqual(['b', 'a', 'b']);
    expect(tokenize('  ... --- !!! ')).toEqual([]);
    expect(tokenize('')).toEqual([]);
  });

  it('truncates terms to 64 characters', () => {
    const [term] = tokenize(`${'x'.repeat(100)} y`);
    expect(term).toBe('x'.repeat(64));
  });
});

describe('normalizeWord', () => {
  it('folds case and marks but does not stem', () => {
    expect(normalizeWord('Running')).toBe('running');
    expect(normalizeWord('ÜBER')).toBe('uber');
    expect(normalizeWord('Café')).toBe('cafe');
  });

  it('tells the texts whose keys changed with script-aware folding from those it left alone', () => {
    // Diacritics fold away as before: such a text keeps its keys and is not indexed again.
    expect(indexedOtherwiseBeforeRefold('Das Café öffnet')).toBe(false);
    expect(indexedOtherwiseBeforeRefold('plain ascii')).toBe(false);
    // Korean syllables, kana voicing marks and Greek final sigma are keyed otherwise now.
    expect(indexedOtherwiseBeforeRefold('서울')).toBe(true);
    expect(indexedOtherwiseBeforeRefold('がっこう')).toBe(true);
    expect(indexedOtherwiseBeforeRefold('κόσμος')).toBe(true);
  });
});

describe('indexText', () => {
  it('counts term frequencies and the token length', () => {
    const { length, terms } = indexText('The cat and the cats');
    expect(length).toBe(5);
    expect(Object.fromEntries(terms)).toEqual({
      the: 2,
      cat: 2,
      and: 1,
      '~the': 2,
      '~cat': 1,
      '~cats': 1,
      '~and': 1,
    });
  });

  it('is empty for text without words', () => {
    const { length, terms } = indexText('?!');
    expect(length).toBe(0);
    expect(terms.size).toBe(0);
  });

  it("keys a CJK run's last character as a word, not a character the next pair begins with", async () => {
    const { length, terms } = indexText('東京都');
    expect(length).toBe(2);
    expect(Object.fromEntries(terms)).toEqual({ 東京: 1, '~東京': 1, 京都: 1, '~京都': 1, '~都': 1 });
    // Every language splits and counts the run alike: its length is its pairs, not one word.
    await loadLanguage('german');
    expect(indexText('東京都', 'german')).toEqual({ length, terms });
  });

  it('cuts every key to 64 characters, the word as written too, on every path', async () => {
    await loadLanguage('german');
    for (const [text, language] of [
      ['x'.repeat(100), undefined],
      ['é'.repeat(100), undefined],
      ['x'.repeat(100), 'german'],
    ] as const) {
      const keys = [...indexText(text, language).terms.keys()];
      expect(keys, `${text[0]} ${language}`).toHaveLength(2);
      for (const key of keys) expect(key.replace(WORD_MARK, '').length, key).toBeLessThanOrEqual(64);
      expect(keys).toContain(`${WORD_MARK}${normalizeWord(text).slice(0, 64)}`);
    }
  });

  it('indexes nothing of a sealed (end-to-end encrypted) content, on either path', () => {
    const sealed = `${CIPHERTEXT_PREFIX}key1.${'A'.repeat(40)}`;
    expect(indexText(sealed)).toEqual({ length: 0, terms: new Map() });
    const visited: string[] = [];
    expect(visitIndexTerms(sealed, undefined, (term) => visited.push(term))).toBe(0);
    expect(visited).toEqual([]);
    // Text that merely starts like it is indexed as text.
    expect(visitIndexTerms('e1. key1', undefined, (term) => visited.push(term))).toBe(2);
    expect(visited).toContain('key1');
  });

  it('visits each term with the count and the length indexText gives, on every path', async () => {
    await loadLanguage('german');
    for (const [text, language] of [
      ['the cat saw the other cat', undefined],
      ['the café saw the other café', undefined],
      ['Das Café öffnet um acht, das Café', 'german'],
      ['東京都に行く', undefined],
    ] as const) {
      const { length, terms } = indexText(text, language);
      const visited = new Map<string, number>();
      const lengths = new Set<number>();
      const returned = visitIndexTerms(text, language, (term, count, visitedLength) => {
        visited.set(term, count);
        lengths.add(visitedLength);
      });
      expect([returned, [...lengths], visited], text).toEqual([length, [length], terms]);
    }
  });
});

describe('containsPhrase', () => {
  const tokens = ['the', 'quick', 'brown', 'fox'];

  it('finds contiguous runs anywhere, including at the ends', () => {
    expect(containsPhrase(tokens, ['the', 'quick'])).toBe(true);
    expect(containsPhrase(tokens, ['brown', 'fox'])).toBe(true);
    expect(containsPhrase(tokens, tokens)).toBe(true);
  });

  it('rejects gaps, wrong order and phrases longer than the text', () => {
    expect(containsPhrase(tokens, ['quick', 'fox'])).toBe(false);
    expect(containsPhrase(tokens, ['fox', 'brown'])).toBe(false);
    expect(containsPhrase(tokens, [...tokens, 'jumps'])).toBe(false);
    expect(containsPhrase(['a', 'a', 'b'], ['a', 'b'])).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

describe('parseQuery', () => {
  it('stems plain words and ignores case', () => {
    const parsed = parseQuery('Running DOGS');
    expect(parsed.clauses).toEqual([
      { kind: 'term', term: 'run' },
      { kind: 'term', term: 'dog' },
    ]);
    expect(parsed.terms).toEqual(['dog', 'run']);
    expect(parsed.prefixes).toEqual([]);
    expect(parsed.excluded).toEqual([]);
    expect(parsed.excludedPhrases).toEqual([]);
  });

  it('parses quoted phrases, and a one-word phrase as a term', () => {
    expect(parseQuery('"quick brown fox" jumps "Dogs"').clauses).toEqual([
      { kind: 'phrase', terms: ['quick', 'brown', 'fox'] },
      { kind: 'term', term: 'jump' },
      { kind: 'term', term: 'dog' },
    ]);
  });

  it('reads an unbalanced quote as punctuation, never as a phrase to the end', () => {
    expect(parseQuery('fox "lazy dogs').clauses).toEqual([
      { kind: 'term', term: 'fox' },
      { kind: 'term', term: 'lazi' },
      { kind: 'term', term: 'dog' },
    ]);
  });

  it('reads quoted parts of a question as words, unless strictPhrases', () => {
    const question = 'Tell me about "Becoming Nicole"?';
    expect(parseQuery(question).clauses).toEqual([
      { kind: 'term', term: 'tell' },
      { kind: 'term', term: 'me', stop: true },
      { kind: 'term', term: 'about', stop: true },
      { kind: 'term', term: 'becom' },
      { kind: 'term', term: 'nicol' },
    ]);
    expect(parseQuery(question, { strictPhrases: true }).clauses).toContainEqual({
      kind: 'phrase',
      terms: ['becom', 'nicol'],
    });
  });

  it('weighs stop words down when content words remain, and fully when they are all there is', () => {
    // "what" is a question word: beside content words it is left out; other stop words refine.
    expect(parseQuery("what's the user's favourite coffee?").clauses).toEqual([
      { kind: 'term', term: 's', stop: true },
      { kind: 'term', term: 'the', stop: true },
      { kind: 'term', term: 'user' },
      { kind: 'term', term: 'favourit' },
      { kind: 'term', term: 'coffe' },
    ]);
    expect(parseQuery('to be or not to be').clauses).toEqual([
      { kind: 'term', term: 'to' },
      { kind: 'term', term: 'be' },
      { kind: 'term', term: 'or' },
      { kind: 'term', term: 'not' },
    ]);
  });

  it('leaves question words and auxiliaries out beside content words, and keeps them alone', async () => {
    await loadLanguage('german');
    expect(parseQuery('When did Maya adopt the dog?').clauses).toEqual([
      { kind: 'term', term: 'maya' },
      { kind: 'term', term: 'adopt' },
      { kind: 'term', term: 'the', stop: true },
      { kind: 'term', term: 'dog' },
    ]);
    expect(parseQuery('what did they do').clauses.map((c) => c.kind === 'term' && c.term)).toEqual([
      'what',
      'did',
      'thei',
      'do',
    ]);
    // Other languages have no such list: their stop words all refine.
    expect(parseQuery('wer hat den Hund', { language: 'german' }).clauses).toContainEqual({
      kind: 'term',
      term: 'hat',
      stop: true,
    });
  });

  it('reads a capitalized function word inside a sentence as a name in English only', async () => {
    await loadLanguage('german');
    expect(parseQuery('trip in May').clauses).toContainEqual({ kind: 'term', term: 'mai' });
    // German capitalizes more than names: "Die" inside a sentence is still the article.
    expect(parseQuery('wer sah Die Katze', { language: 'german' }).clauses).toContainEqual({
      kind: 'term',
      term: 'die',
      stop: true,
    });
  });

  it('counts only the capitalized word itself as a name, and reads "I" as the pronoun wherever it stands', () => {
    const clauses = (query: string) => parseQuery(query).clauses;
    // The `s` of "Priya's" is the possessive, a function word still.
    expect(clauses("trip with Priya's dog")).toContainEqual({ kind: 'term', term: 's', stop: true });
    expect(clauses("they said I'm late")).toEqual(
      expect.arrayContaining([
        { kind: 'term', term: 'i', stop: true },
        { kind: 'term', term: 'm', stop: true },
      ]),
    );
  });

  it('reads a capital after a sentence ends (behind a closing quote too) or after wordless chunks at the start as no name', () => {
    const named = (query: string) =>
      parseQuery(query).clauses.some((c) => c.kind === 'term' && c.term === 'mai');
    expect(named('the cat May')).toBe(true);
    expect(named('the cat; May')).toBe(false);
    expect(named('a list: May')).toBe(false);
    expect(named('we met." May')).toBe(false);
    expect(named('is it cold? May trip')).toBe(false);
    expect(named('— May trip')).toBe(false);
    expect(named('the cat — May')).toBe(true);
  });

  it('reads one CJK character beyond the BMP (two UTF-16 units) as a prefix of words, as one in the BMP', () => {
    for (const char of ['猫', '\u{20000}']) {
      expect(parseQuery(char).clauses).toEqual([{ kind: 'prefix', prefix: `${WORD_MARK}${char}` }]);
      expect(parseQuery(`tea -${char}`).excludedPrefixes).toEqual([`${WORD_MARK}${char}`]);
    }
  });

  it("gives a stop word's clause to a content word sharing its stem", () => {
    // "being" (a stop word) and "beings" both stem to "be": the query keeps the content word's clause.
    expect(parseQuery('being beings matter').clauses).toEqual([
      { kind: 'term', term: 'be' },
      { kind: 'term', term: 'matter' },
    ]);
  });

  it.each(['?', '!!! ... ???', '*', '""', '"', '-', "'", '- - -', '"?"'])(
    'parses %j without throwing, to no clauses',
    (query) => {
      expect(parseQuery(query).clauses).toEqual([]);
    },
  );

  it('treats a quote inside a word as punctuation', () => {
    expect(parseQuery('rock"n roll').clauses).toEqual([
      { kind: 'term', term: 'rock' },
      { kind: 'term', term: 'n' },
      { kind: 'term', term: 'roll' },
    ]);
  });

  it('parses prefixes normalised but not stemmed', () => {
    const parsed = parseQuery('Authenticat* CAFÉ* nations**');
    expect(parsed.clauses).toEqual([
      { kind: 'prefix', prefix: '~authenticat' },
      { kind: 'prefix', prefix: '~cafe' },
      { kind: 'prefix', prefix: '~nations' },
    ]);
    expect(parsed.prefixes).toEqual(['~authenticat', '~cafe', '~nations']);
    expect(parsed.terms).toEqual([]);
  });

  it('ignores a lone star and splits punctuated prefix words', () => {
    expect(parseQuery('cat * -*').clauses).toEqual([{ kind: 'term', term: 'cat' }]);
    const parsed = parseQuery('e-mail*');
    expect(parsed.clauses).toEqual([
      { kind: 'term', term: 'e' },
      { kind: 'prefix', prefix: '~mail' },
    ]);
    expect(parsed.terms).toEqual(['e']);
    expect(parsed.prefixes).toEqual(['~mail']);
  });

  it('reads a prefix followed by punctuation as a prefix: at the end of a question, in brackets, before an emoji', () => {
    expect(parseQuery('What does she drink in the morni*?').prefixes).toEqual(['~morni']);
    expect(parseQuery('coffee*, tea').clauses).toEqual([
      { kind: 'prefix', prefix: '~coffee' },
      { kind: 'term', term: 'tea' },
    ]);
    expect(parseQuery('(auth*)').prefixes).toEqual(['~auth']);
    expect(parseQuery('coffee*😀').prefixes).toEqual(['~coffee']);
    // A star with a word character after it is not a prefix, a letter outside the BMP included.
    expect(parseQuery('auth*or?').prefixes).toEqual([]);
    expect(parseQuery('ab*𝒜').prefixes).toEqual([]);
    const started = performance.now();
    expect(parseQuery(`x*${'?'.repeat(200_000)}`).prefixes).toEqual(['~x']);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('parses a long run of stars in linear time', () => {
    const started = performance.now();
    expect(parseQuery(`${'*'.repeat(1000)}x b*`).clauses).toEqual([
      { kind: 'term', term: 'x' },
      { kind: 'prefix', prefix: '~b' },
    ]);
    // Past the first 1024 characters nothing is read: the stars alone are left.
    expect(parseQuery(`${'*'.repeat(200_000)}x b*`).clauses).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('cuts a query to its first 1024 characters, between words and never inside a surrogate pair', () => {
    expect(cutQuery('short query')).toBe('short query');
    const words = 'tea '.repeat(255);
    // A word ends at the 1024th character, or a space follows it: the cut is there.
    expect(cutQuery(`${words}teas coffee`)).toBe(`${words}teas`);
    expect(cutQuery(`${words}tea  coffee`)).toBe(`${words}tea `);
    // "coffee" starts at the 1025th, or straddles it: left out whole.
    expect(cutQuery(`${words}tea coffee`)).toBe(`${words}tea`);
    expect(cutQuery(`${words}coffee`)).toBe(words.trimEnd());
    expect(cutQuery('x'.repeat(2000))).toBe('x'.repeat(1024));
    const astral = cutQuery(`x${'𝒜'.repeat(600)}`);
    expect(astral).toBe(`x${'𝒜'.repeat(511)}`);
    expect(astral.length).toBe(1023);
    // A `?` past the cut still reads the query as a question: its quotes are words, not a phrase.
    const question = parseQuery(`"dark chocolate" ${'cake '.repeat(300)}?`);
    expect(question.clauses.map((c) => c.kind)).toEqual(['term', 'term', 'term']);
    // A single word past the limit gives way to ` ?`: the cut text still holds 1024 characters at most.
    expect(cutQuery(`${'x'.repeat(2000)}?`)).toBe(`${'x'.repeat(1022)} ?`);
  });

  it('counts the 1024 characters from the first one that is not whitespace', () => {
    // A message pasted after blank lines: the whitespace does not use up the budget.
    expect(cutQuery(`${' '.repeat(2000)}coffee beans`)).toBe('coffee beans');
    expect(cutQuery(`${'\n\t '.repeat(700)}coffee beans`)).toBe('coffee beans');
    expect(parseQuery(`${'\n'.repeat(5000)}coffee`).clauses).toEqual([{ kind: 'term', term: 'coffe' }]);
    const words = 'tea '.repeat(255);
    expect(cutQuery(`${' '.repeat(3000)}${words}teas coffee`)).toBe(`${words}teas`);
    expect(cutQuery(`${' '.repeat(3000)}${words}tea coffee`)).toBe(`${words}tea`);
    // Past the whitespace, the cut still keeps a surrogate pair whole.
    const astral = cutQuery(`${' '.repeat(999)}x${'𝒜'.repeat(600)}`);
    expect(astral).toBe(`x${'𝒜'.repeat(511)}`);
    expect(astral.length).toBe(1023);
    expect(cutQuery(`${' '.repeat(999)}${'𝒜'.repeat(600)}`)).toBe('𝒜'.repeat(512));
    // A `?` past the cut still makes the rest a question.
    expect(cutQuery(`${' '.repeat(2000)}${'cake '.repeat(300)}?`)).toBe(`${'cake '.repeat(203)}cake ?`);
    // Whitespace alone stays blank (the VALIDATION error of a blank query), and shorter queries are untouched.
    expect(cutQuery(' '.repeat(5000)).trim()).toBe('');
    expect(cutQuery('  tea  ')).toBe('  tea  ');
    // At the limit exactly, nothing is cut, whitespace before the first word included.
    const longest = `  ${'tea '.repeat(255)}ab`;
    expect(longest.length).toBe(1024);
    expect(cutQuery(longest)).toBe(longest);
  });

  it('cuts any query to at most 1024 characters of well-formed text, idempotently', () => {
    const pieces = fc.constantFrom(' ', '\n', 'a', 'word ', '𝒜', '?', '"', '-');
    fc.assert(
      fc.property(fc.nat(3000), fc.array(pieces, { maxLength: 2500 }), (blank, parts) => {
        const query = ' '.repeat(blank) + parts.join('');
        const cut = cutQuery(query);
        // However long the whitespace before it, the first word is searched.
        if (query.trim() !== '') expect(cut.trim()).not.toBe('');
        expect(cut.length).toBeLessThanOrEqual(1024);
        expect(hasLoneSurrogate(cut)).toBe(false);
        expect(cutQuery(cut)).toBe(cut);
        // What is kept is the query's words from its first one: nothing but whitespace is skipped.
        expect(query.trimStart().startsWith(cut.trimStart().replace(/ \?$/, ''))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('cuts prefixes to the indexed term length', () => {
    expect(parseQuery(`${'y'.repeat(80)}*`).prefixes).toEqual([`~${'y'.repeat(64)}`]);
  });

  it('splits punctuated words into separate term clauses', () => {
    expect(parseQuery('e-mail').clauses).toEqual([
      { kind: 'term', term: 'e' },
      { kind: 'term', term: 'mail' },
    ]);
  });

  it('excludes words and phrases', () => {
    const parsed = parseQuery('cats -Dogs -"big birds" -"fish" -e-mail --mice -auth*');
    expect(parsed.clauses).toEqual([{ kind: 'term', term: 'cat' }]);
    expect(parsed.excluded).toEqual(['dog', 'fish', 'mice', 'auth']);
    expect(parsed.excludedPhrases).toEqual([
      ['big', 'bird'],
      ['e', 'mail'],
    ]);
    expect(parsed.terms).toEqual(['auth', 'big', 'bird', 'cat', 'dog', 'e', 'fish', 'mail', 'mice']);
  });

  it('lists every term to fetch once, sorted', () => {
    const parsed = parseQuery('zebra "apple zebra" -mango ap* -"kiwi apple" ap* ba*');
    expect(parsed.terms).toEqual(['appl', 'kiwi', 'mango', 'zebra']);
    expect(parsed.prefixes).toEqual(['~ap', '~ba']);
  });

  it('keeps the first of duplicate clauses', () => {
    const parsed = parseQuery('run RUNNING "big dog" "Big  Dogs" pre* PRE* run* -x -X -"a b" -"A B"');
    expect(parsed.clauses).toEqual([
      { kind: 'term', term: 'run' },
      { kind: 'phrase', terms: ['big', 'dog'] },
      { kind: 'prefix', prefix: '~pre' },
      { kind: 'prefix', prefix: '~run' },
    ]);
    expect(parsed.excluded).toEqual(['x']);
    expect(parsed.excludedPhrases).toEqual([['a', 'b']]);
  });

  it.each(['', '   ', '\t\n'])('rejects %j, which has nothing typed in it', (query) => {
    expect(() => parseQuery(query)).toThrow(EngramError);
    try {
      parseQuery(query);
    } catch (error) {
      expect((error as EngramError).code).toBe('VALIDATION');
    }
  });

  it('says what it expected and what it got', () => {
    expect(() => parseQuery(' ')).toThrow('query: expected at least one search term, got " "');
  });

  it('parses exclusions alone as a query with nothing to rank, keeping what it leaves out (typed text never throws)', () => {
    expect(parseQuery('-foo')).toMatchObject({ clauses: [], excluded: ['foo'] });
    expect(parseQuery('-"big dog" -cats')).toMatchObject({
      clauses: [],
      excluded: ['cat'],
      excludedPhrases: [['big', 'dog']],
    });
    expect(parseQuery('- -x')).toMatchObject({ clauses: [], excluded: ['x'] });
  });
});

// ---------------------------------------------------------------------------------------------

describe('rankDocuments', () => {
  const corpus = buildCorpus({
    a: 'cat cat dog',
    b: 'cat fish',
    c: 'bird',
    d: 'dog dog dog dog',
  });
  const { stats } = corpus;

  it('computes BM25 from the formula', () => {
    expect(stats).toEqual({ docs: 4, tokens: 10 });
    const results = search(corpus, 'cat');
    const expectedA = bm25(2, 3, 2, stats);
    const expectedB = bm25(1, 2, 2, stats);
    expect(results.map((r) => r.id)).toEqual(['a', 'b']);
    expect(results[0]!.score).toBeCloseTo(expectedA, 12);
    expect(results[1]!.score).toBeCloseTo(expectedB, 12);
    expect(results.every((r) => !r.needsPhraseCheck)).toBe(true);
  });

  it('sums term clauses and matches documents holding any of them', () => {
    const results = search(corpus, 'cat dog');
    const byId = new Map(results.map((r) => [r.id, r.score]));
    expect([...byId.keys()].sort()).toEqual(['a', 'b', 'd']);
    expect(byId.get('a')).toBeCloseTo(bm25(2, 3, 2, stats) + bm25(1, 3, 2, stats), 12);
    // d holds one of the two words: coordination halves its sum.
    expect(byId.get('d')).toBeCloseTo(bm25(4, 4, 2, stats) / 2, 12);
  });

  it('counts document frequency by distinct ids, ignoring duplicated postings', () => {
    const parsed = parseQuery('cat');
    const once = rankDocuments(parsed, fetchPostings(corpus, parsed), stats);
    const twice = rankDocuments(
      parsed,
      [...fetchPostings(corpus, parsed), ...fetchPostings(corpus, parsed)],
      stats,
    );
    expect(twice).toEqual(once);
  });

  it('scores a prefix by its best expansion, each with its own document frequency', () => {
    const prefixed = buildCorpus({
      x: 'authority authentication authentication',
      y: 'authentication',
      z: 'authority',
      w: 'unrelated words here',
    });
    const results = search(prefixed, 'auth*');
    const byId = new Map(results.map((r) => [r.id, r.score]));
    const s = prefixed.stats;
    const authorInX = bm25(1, 3, 2, s);
    const authentInX = bm25(2, 3, 2, s);
    expect(byId.get('x')).toBeCloseTo(Math.max(authorInX, authentInX), 12);
    expect(byId.get('x')).not.toBeCloseTo(authorInX + authentInX, 6);
    expect(byId.get('y')).toBeCloseTo(bm25(1, 1, 2, s), 12);
    expect(byId.has('w')).toBe(false);
  });

  it('gives an expansion its own document frequency', () => {
    const skewed = buildCorpus({ p: 'authority', q: 'authority', r: 'authentication', s: 'other' });
    const byId = new Map(search(skewed, 'auth*').map((r) => [r.id, r.score]));
    expect(byId.get('r')).toBeCloseTo(bm25(1, 1, 1, skewed.stats), 12);
    expect(byId.get('p')).toBeCloseTo(bm25(1, 1, 2, skewed.stats), 12);
  });

  it('drops documents holding an excluded term', () => {
    expect(search(corpus, 'cat -dog').map((r) => r.id)).toEqual(['b']);
    expect(search(corpus, 'cat -dog -fish')).toEqual([]);
  });

  it("adds a quarter of a stop word's BM25 to what content words matched, and matches nothing by it", () => {
    const withStops = buildCorpus({ a: 'the cat', b: 'the the dog', c: 'cat' });
    const results = search(withStops, 'the cat');
    expect(results.map((r) => r.id)).toEqual(['a', 'c']);
    const s = withStops.stats;
    expect(results[0]!.score).toBeCloseTo(bm25(1, 2, 2, s) + 0.25 * bm25(1, 2, 2, s), 12);
    expect(results[1]!.score).toBeCloseTo(bm25(1, 1, 2, s), 12);
    // Alone, stop words are ordinary terms at full weight.
    expect(search(withStops, 'the')[0]).toMatchObject({
      id: 'b',
      score: expect.closeTo(bm25(2, 3, 2, s), 12),
    });
  });

  it('requires every phrase term, sums them in order and flags phrase checks', () => {
    const results = search(corpus, '"cat dog" bird');
    expect(results.map((r) => r.id)).toEqual(['a']);
    expect(results[0]!.needsPhraseCheck).toBe(true);
    // The phrase is one of two clauses (bird is absent): coordination halves the sum.
    expect(results[0]!.score).toBeCloseTo((bm25(2, 3, 2, stats) + bm25(1, 3, 2, stats)) / 2, 12);
    expect(search(corpus, '"cat bird"')).toEqual([]);
  });

  it('flags only documents that might hold an excluded phrase', () => {
    const results = search(corpus, 'cat -"dog cat"');
    expect(results.map((r) => [r.id, r.needsPhraseCheck])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });

  it('breaks score ties by id descending, in plain string order', () => {
    const tied = buildCorpus({
      a: 'same words',
      B: 'same words',
      b: 'same words',
      c10: 'same words',
      c9: 'same words',
    });
    expect(search(tied, 'same').map((r) => r.id)).toEqual(['c9', 'c10', 'b', 'a', 'B']);
  });

  it('stays finite when the corpus stats are empty or lag behind the postings', () => {
    const parsed = parseQuery('cat');
    const postings = fetchPostings(corpus, parsed);
    for (const lagging of [
      { docs: 0, tokens: 0 },
      { docs: 1, tokens: 3 },
    ]) {
      const results = rankDocuments(parsed, postings, lagging);
      expect(results.map((r) => r.id)).toEqual(['a', 'b']);
      for (const r of results) expect(Number.isFinite(r.score) && r.score > 0).toBe(true);
    }
  });

  it('keeps one copy of a duplicated posting whatever their order: the higher tf, then the longer length', () => {
    const parsed = parseQuery('cat');
    const copies: Posting[] = [
      { term: 'cat', id: 'a', tf: 1, length: 2 },
      { term: 'cat', id: 'a', tf: 1, length: 5 },
    ];
    const other: Posting = { term: 'cat', id: 'b', tf: 1, length: 3 };
    const expected = bm25(1, 5, 2, stats);
    for (const postings of [[...copies, other], [other, ...copies].reverse()]) {
      const [first] = rankDocuments(parsed, postings, stats);
      expect(first!.id).toBe('b');
      expect(rankDocuments(parsed, postings, stats).find((r) => r.id === 'a')!.score).toBeCloseTo(
        expected,
        12,
      );
    }
  });

  it('returns nothing without postings', () => {
    expect(rankDocuments(parseQuery('cat'), [], stats)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over random corpora and queries.

const VOCABULARY = [
  'alpha',
  'alps',
  'beta',
  'bet',
  'gamma',
  'game',
  'delta',
  'dell',
  'omega',
  'om',
  'the',
  'what',
];
const textArb = fc
  .array(fc.constantFrom(...VOCABULARY), { minLength: 1, maxLength: 12 })
  .map((w) => w.join(' '));
const corpusArb = fc
  .array(textArb, { minLength: 1, maxLength: 25 })
  .map((texts) => buildCorpus(Object.fromEntries(texts.map((text, i) => [`doc-${i}`, text]))));
const clauseArb = fc.oneof(
  fc.constantFrom(...VOCABULARY),
  fc.constantFrom(...VOCABULARY).map((w) => `-${w}`),
  fc.constantFrom('al*', 'be*', 'ga*', 'de*', 'o*', 'gam*'),
  fc
    .array(fc.constantFrom(...VOCABULARY), { minLength: 2, maxLength: 3 })
    .chain((words) => fc.constantFrom(`"${words.join(' ')}"`, `-"${words.join(' ')}"`)),
);
const queryArb = fc
  .tuple(fc.constantFrom(...VOCABULARY), fc.array(clauseArb, { maxLength: 6 }))
  .map(([first, rest]) => [first, ...rest].join(' '));

/** Scores the straightforward way, document by document, as the specification reads. */
function referenceRanking(
  corpus: Corpus,
  parsed: ParsedQuery,
): Map<string, { score: number; check: boolean }> {
  const docFrequency = new Map<string, number>();
  for (const p of corpus.postings) docFrequency.set(p.term, (docFrequency.get(p.term) ?? 0) + 1);
  const found = new Map<string, { score: number; check: boolean }>();
  for (const [id, text] of corpus.texts) {
    const { length, terms } = indexText(text);
    const weight = (term: string) => bm25(terms.get(term)!, length, docFrequency.get(term)!, corpus.stats);
    const hasAll = (phrase: readonly string[]) => phrase.every((t) => terms.has(t));
    if (parsed.excluded.some((t) => terms.has(t))) continue;
    let held = 0;
    let phrasesHeld = true;
    let score = 0;
    for (const clause of parsed.clauses) {
      if (clause.kind === 'term' && clause.stop) {
        // Beside content words a stop word adds a quarter of its weight and matches nothing alone.
        if (terms.has(clause.term)) score += 0.25 * weight(clause.term);
      } else if (clause.kind === 'term' && terms.has(clause.term)) {
        held++;
        score += weight(clause.term);
      } else if (clause.kind === 'prefix') {
        const expansions = [...terms.keys()].filter((t) => t.startsWith(clause.prefix));
        if (expansions.length > 0) {
          held++;
          score += Math.max(...expansions.map(weight));
        }
      } else if (clause.kind === 'phrase') {
        if (hasAll(clause.terms)) {
          held++;
          score += clause.terms.reduce((sum, t) => sum + weight(t), 0);
        } else phrasesHeld = false;
      }
    }
    if (held === 0 || !phrasesHeld) continue;
    // Coordination: the score times the share of the clauses (stop words beside content words aside) held.
    const positive = parsed.clauses.filter((c) => c.kind !== 'term' || !c.stop).length;
    score *= held / positive;
    const hasPhrases = parsed.clauses.some((c) => c.kind === 'phrase');
    found.set(id, { score, check: hasPhrases || parsed.excludedPhrases.some(hasAll) });
  }
  return found;
}

describe('rankDocuments properties', () => {
  it('agrees with the document-by-document definition', () => {
    fc.assert(
      fc.property(corpusArb, queryArb, (corpus, query) => {
        const parsed = parseQuery(query);
        const results = rankDocuments(parsed, fetchPostings(corpus, parsed), corpus.stats);
        const expected = referenceRanking(corpus, parsed);
        expect(results.map((r) => r.id).sort()).toEqual([...expected.keys()].sort());
        for (const r of results) {
          expect(r.score).toBeCloseTo(expected.get(r.id)!.score, 9);
          expect(r.needsPhraseCheck).toBe(expected.get(r.id)!.check);
        }
        for (let i = 1; i < results.length; i++) {
          const [before, after] = [results[i - 1]!, results[i]!];
          expect(before.score > after.score || (before.score === after.score && before.id > after.id)).toBe(
            true,
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives bit-identical scores whatever the order of the postings', () => {
    fc.assert(
      fc.property(corpusArb, queryArb, fc.integer(), (corpus, query, seed) => {
        const parsed = parseQuery(query);
        const postings = fetchPostings(corpus, parsed);
        const reference = rankDocuments(parsed, postings, corpus.stats);
        for (const order of [shuffled(postings, seed), [...postings].reverse()]) {
          const other = rankDocuments(parsed, order, corpus.stats);
          expect(other.map((r) => r.id)).toEqual(reference.map((r) => r.id));
          other.forEach((r, i) => {
            expect(r.score).toBe(reference[i]!.score);
            expect(r.needsPhraseCheck).toBe(reference[i]!.needsPhraseCheck);
          });
        }
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Typo tolerance.

describe('typo correction', () => {
  it('lists the words one edit away with the first letter kept', () => {
    const variants = typoVariants('cat');
    expect(variants).toEqual([...new Set(variants)].sort());
    for (const v of ['ct', 'ca', 'cta', 'cot', 'cab', 'cart', 'cats']) expect(variants).toContain(v);
    for (const v of ['cat', 'at', 'act', 'bat', 'scat', 'cast x']) expect(variants).not.toContain(v);
    expect(variants.every((v) => v[0] === 'c')).toBe(true);
  });

  it('agrees with isTypoVariant', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-eé]{1,7}$/), fc.stringMatching(/^[a-eé]{1,8}$/), (word, other) => {
        expect(isTypoVariant(word, other)).toBe(typoVariants(word).includes(other));
      }),
      { numRuns: 500 },
    );
  });

  it("inserts and replaces only letters a-z or the word's own, as typoVariants does", () => {
    for (const [word, other, expected] of [
      ['coffee', 'coffeé', false],
      ['coffee', 'coféee', false],
      ['café', 'caféé', true],
      ['café', 'cafée', true],
      ['coffee', 'coffeex', true],
      ['coffee', 'coffeeé', false],
      ['coffee', 'cofféee', false],
    ] as const) {
      expect(isTypoVariant(word, other), `${word} → ${other}`).toBe(expected);
      expect(typoVariants(word).includes(other), `${word} → ${other}`).toBe(expected);
    }
  });

  const corpus = buildCorpus({
    a: 'I was volunteering at the food bank',
    b: 'the doctor says no running',
    c: 'a volunteer group',
  });
  const correct = (query: string) => {
    const parsed = parseQuery(query);
    const found = fetchPostings(corpus, parsed);
    const typos = typoCorrection(parsed, found);
    const more = corpus.postings.filter((p) => typos.keys.includes(p.term));
    return { typos, ranked: rankDocuments(typos.apply(more), [...found, ...more], corpus.stats) };
  };

  it('looks up a content word no memory holds one edit away, scored like its best variant', () => {
    const { typos, ranked } = correct('volutneering bank');
    expect(typos.keys).toContain('~volunteering');
    expect(typos.keys.every((k) => k.startsWith('~v'))).toBe(true);
    expect(ranked.map((r) => r.id)).toEqual(['a']);
    // Both clauses held: the variant's own BM25 (as written, df 1) plus bank's.
    expect(ranked[0]!.score).toBeCloseTo(2 * bm25(1, 7, 1, corpus.stats), 12);
  });

  it('leaves words the index holds, short words and stop words alone', () => {
    expect(correct('volunteering doctor').typos.keys).toEqual([]);
    expect(correct('runing').typos.keys.length).toBeGreaterThan(0);
    expect(correct('fod').typos.keys).toEqual([]);
    expect(correct('x'.repeat(25)).typos.keys).toEqual([]);
    expect(correct('x'.repeat(24)).typos.keys.length).toBeGreaterThan(0);
    // "thiers" is one swap from "theirs", a stop word: never a variant (but "thieves" would be).
    expect(correct('thiers').typos.keys).not.toContain('~theirs');
    expect(correct('thiers').typos.keys).toContain('~thiefs');
    expect(correct('xyzzyq').ranked).toEqual([]);
  });

  it("also reads an English plural's singular one edit away, not a word ending in ss nor another language's", async () => {
    await loadLanguage('spanish');
    const variants = (query: string, language?: string) =>
      typoCorrection(parseQuery(query, { language }), [], language).keys.map((key) => key.slice(1));
    expect(variants('recipies')).toContain('recipe');
    expect(
      variants('recipies').every((v) => isTypoVariant('recipies', v) || isTypoVariant('recipie', v)),
    ).toBe(true);
    // "adress" is no plural: "adres" is not a word it is read as, so "adrea" (two edits away) is no variant.
    expect(variants('adress')).not.toContain('adrea');
    expect(variants('adress').every((v) => isTypoVariant('adress', v))).toBe(true);
    // In Spanish, only the word as written and its own variants.
    const spanish = variants('camions', 'spanish').filter((v) => v !== 'camions');
    expect(spanish).not.toContain('camio');
    expect(spanish.every((v) => isTypoVariant('camions', v))).toBe(true);
  });

  it('tells which words a watched misspelt word would look up (typoCorrectionOf), stop words left out', () => {
    const looksUp = typoCorrectionOf('thiers');
    expect(looksUp('thiefs')).toBe(true);
    expect(looksUp('theirs')).toBe(false);
    expect(looksUp('thiers')).toBe(false);
    for (const key of correct('thiers').typos.keys) expect(looksUp(key.slice(1))).toBe(true);
    expect(typoCorrectionOf('recipies')('recipe')).toBe(true);
    expect(typoCorrectionOf('adress')('adrea')).toBe(false);
  });

  it('corrects at most MAX_TYPO_WORDS words of a query', () => {
    const { typos } = correct('aaaaaa bbbbbb cccccc dddddd');
    expect(new Set(typos.keys.map((k) => k[1])).size).toBe(3);
  });

  it('looks a word up as written first where stems read accents (every language but English)', async () => {
    await loadLanguage('spanish');
    // "informacion" stems apart from "información" (→ "inform"); its word key is the same.
    const parsed = parseQuery('informacion mas', { language: 'spanish' });
    const typos = typoCorrection(parsed, [], 'spanish');
    expect(typos.keys).toContain('~informacion');
    expect(typos.keys.length).toBeGreaterThan(1);
    // Found as written, the word alone is the match: it was not misspelt, so no variant joins it.
    expect(typos.apply([{ term: '~informacion' }, { term: '~informacio' }]).clauses[0]).toEqual({
      kind: 'fuzzy',
      word: 'informacion',
      keys: ['~informacion'],
    });
    // Not found as written: the variants, as before.
    expect(typos.apply([{ term: '~informacio' }]).clauses[0]).toEqual({
      kind: 'fuzzy',
      word: 'informacion',
      keys: ['~informacio'],
    });
    // Short words too (no variants under TYPO_MIN_LENGTH letters), never a stop word ("mas").
    expect(typoCorrection(parseQuery('cafe mas', { language: 'spanish' }), [], 'spanish').keys).toEqual([
      '~cafe',
    ]);
    // A held term is never looked up again; English never looks up as written (its stems follow words).
    expect(
      typoCorrection(
        parsed,
        [{ term: parsed.clauses[0]!.kind === 'term' ? parsed.clauses[0]!.term : '' }],
        'spanish',
      ).keys,
    ).toEqual([]);
    expect(correct('cafe').typos.keys).toEqual([]);
  });
});

// Last in the file: once the English forms are loaded, every later parse in this process expands verbs.
describe('irregular verb forms', () => {
  const corpus = buildCorpus({
    a: 'we went to Lisbon in May',
    b: 'Lisbon was sunny',
    c: 'I found my keys, then I said goodbye',
  });

  it('are not expanded before the English analyzer has loaded them', () => {
    expect(parseQuery('go Lisbon').clauses).toEqual([
      { kind: 'term', term: 'go' },
      { kind: 'term', term: 'lisbon' },
    ]);
  });

  it('make a word with irregular forms one clause matching any of them', async () => {
    await loadLanguage('english');
    const parsed = parseQuery('when did she go to Lisbon?');
    expect(parsed.clauses).toEqual([
      { kind: 'term', term: 'she', stop: true },
      { kind: 'forms', word: 'go', terms: ['go', 'gone', 'went'] },
      { kind: 'term', term: 'to', stop: true },
      { kind: 'term', term: 'lisbon' },
    ]);
    expect(parsed.terms).toEqual(expect.arrayContaining(['go', 'gone', 'went']));
    // Only a base form is expanded: a past form or participle in a query is left as written.
    expect(parseQuery('said').clauses).toEqual([{ kind: 'term', term: 'said' }]);
    expect(parseQuery('say').clauses).toEqual([{ kind: 'forms', word: 'say', terms: ['sai', 'said'] }]);
    // A word with forms is a real word: never looked up one edit away.
    expect(parseQuery('bring').correctable).toEqual([]);
    // Each other form once, never the word's own term: "learned" stems like "learn", "broadcasted" like
    // "broadcast", which then has no other form at all.
    expect(parseQuery('learn').clauses).toEqual([
      { kind: 'forms', word: 'learn', terms: ['learn', 'learnt'] },
    ]);
    expect(parseQuery('broadcast').clauses).toEqual([{ kind: 'term', term: 'broadcast' }]);
  });

  it('join an irregular noun to its other number, looked up as written', async () => {
    await loadLanguage('english');
    expect(parseQuery('children').clauses).toEqual([
      { kind: 'forms', word: 'children', terms: ['children', '~child'] },
    ]);
    expect(parseQuery('person').clauses).toEqual([
      { kind: 'forms', word: 'person', terms: ['person', '~people'] },
    ]);
    // Pairs Porter already joins, and stop words ("these", "those"), are left as they are.
    expect(parseQuery('sheep').clauses).toEqual([{ kind: 'term', term: 'sheep' }]);
    expect(parseQuery('aircraft').clauses).toEqual([{ kind: 'term', term: 'aircraft' }]);
    expect(parseQuery('these thesis').clauses).toEqual([
      { kind: 'term', term: 'these', stop: true },
      { kind: 'forms', word: 'thesis', terms: ['thesi', '~theses'] },
    ]);
    // Nor when a capital makes the stop word a name ("a film called This").
    expect(parseQuery('a film called This').clauses).toContainEqual({ kind: 'term', term: 'thi' });
  });

  it('leave stop words and regular verbs as they are', async () => {
    await loadLanguage('english');
    expect(parseQuery('what did they adopt').clauses).toEqual([
      { kind: 'term', term: 'thei', stop: true },
      { kind: 'term', term: 'adopt' },
    ]);
    expect(parseQuery('to be or not to be').clauses.every((c) => c.kind === 'term')).toBe(true);
  });

  it('score a memory by the best BM25 among the forms it holds, other forms at a quarter', async () => {
    await loadLanguage('english');
    const ranked = search(corpus, 'go Lisbon');
    expect(ranked.map((r) => r.id)).toEqual(['a', 'b']);
    // "went" (df 1) in a six-word memory at a quarter, plus Lisbon (df 2): both clauses held.
    const expected = 0.25 * bm25(1, 6, 1, corpus.stats) + bm25(1, 6, 2, corpus.stats);
    expect(ranked[0]!.score).toBeCloseTo(expected, 12);
    // The word asked for outranks its other forms.
    const both = buildCorpus({ a: 'we went there', b: 'we go there' });
    expect(search(both, 'go').map((r) => r.id)).toEqual(['b', 'a']);
    expect(search(corpus, 'find').map((r) => r.id)).toEqual(['c']);
    expect(search(corpus, 'say').map((r) => r.id)).toEqual(['c']);
    // A participle is not expanded: "gone" does not find "went".
    expect(search(corpus, 'gone')).toEqual([]);
  });
});
