import 'fake-indexeddb/auto';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../bench/corpus.mjs';
import { IndexedDBStore } from '../src/backends/indexeddb/index.js';
import { PostgresStore, pglite } from '../src/backends/postgres/index.js';
import { SqlJsStore } from '../src/backends/sqljs/index.js';
import { explainedScore } from '../src/core/explain.js';
import type { Explanation } from '../src/core/model.js';
import {
  containsPhrase,
  FOLDED_MARKS,
  indexText,
  LANGUAGES,
  type Language,
  parseQuery,
  type QueryClause,
  runPrefixSplits,
  tokenize,
  typoCorrection,
} from '../src/core/text/index.js';
import { CHUNK } from '../src/core/text/query.js';
import {
  createMemory,
  type Engram,
  InMemoryStore,
  type MemoryInput,
  type MemoryStore,
  type SearchOptions,
} from '../src/index.js';
import { propertySeed } from './setup/property-seed.js';

/**
 * Random queries as people type them (quotes balanced or not, -word, prefix*, punctuation, emoji, CJK
 * runs and single characters, words with and without accents, any case, typos, long words, numbers, with
 * match, explain, limit, kind, tags and metadata) over random memories in every language, on every
 * embedded store. Each answer must be the same on every store (ids, scores and explanations, bit for
 * bit, as in parity.test.ts), the ranking docs/search.md describes (computed memory by memory below,
 * apart from bm25.ts and the stores), and keep what a search promises whatever the query: best first,
 * within its limit and filters, explanations adding up to the score, a longer limit beginning the same,
 * match: 'all' a subset of 'any', ASCII case, fullwidth letters and (in English) accents of no weight,
 * plain words in any order. store-differential.test.ts does the same for random writes with a few fixed query shapes.
 *
 * Seeded: SEARCH_DIFF_SEED, SEARCH_DIFF_SEEDS, SEARCH_DIFF_QUERIES and SEARCH_DIFF_DOCS run other or
 * more cases (`SEARCH_DIFF_SEEDS=60 SEARCH_DIFF_QUERIES=150 SEARCH_DIFF_DOCS=250 npx vitest run
 * test/search-differential.test.ts`, about 5 minutes).
 */
// `SEARCH_DIFF_SEED=random` draws the first seed (each failure names its seed).
const FIRST_SEED = propertySeed('SEARCH_DIFF_SEED', 1).seed ?? Math.floor(Math.random() * 2 ** 31);
const SEEDS = Number(process.env.SEARCH_DIFF_SEEDS ?? 7);
const QUERIES = Number(process.env.SEARCH_DIFF_QUERIES ?? 30);
const DOCS = Number(process.env.SEARCH_DIFF_DOCS ?? 60);
/** Larger runs (SEARCH_DIFF_*) take up to about 150 ms a query on a busy machine. */
const TIMEOUT = Math.max(120_000, SEEDS * QUERIES * 150);

/** Each language's words: inflections, accented words beside the same typed without, stop words. */
const OWN: Record<Language, string[]> = {
  english: [
    ...['coffee', 'coffees', 'Coffee', 'running', 'run', 'runs', 'went', 'go', 'gone', 'said', 'say'],
    ...['found', 'find', 'volunteering', 'volunteer', 'pottery', 'community', 'the', 'a', 'of', 'what'],
    ...['does', 'doe', 'is', 'being', 'beings', 'has', 'ha', 'was', 'café', 'cafe', 'naïve', 'naive'],
    ...['résumé', 'resume', "don't", "user's", 'e-mail', 'email', 'grandmother', 'brought', 'bring'],
    ...['felt', 'feel', 'others', 'other', 'eat', 'ate', 'at', 'over', 'win', 'won'],
  ],
  german: [
    ...['Häuser', 'Haus', 'Hauses', 'Straße', 'Strasse', 'Bücher', 'Buch', 'Café', 'cafe', 'schön'],
    ...['schon', 'Köln', 'Koln', 'über', 'uber', 'Mädchen', 'Madchen', 'laufen', 'läuft', 'der', 'die'],
    ...['das', 'und', 'ist', 'nicht', 'Fahrräder', 'Fahrrad', 'Frühling'],
  ],
  french: [
    ...['journée', 'journee', 'été', 'ete', 'café', 'cafe', 'élève', 'eleve', 'garçon', 'garcon'],
    ...['forêt', 'foret', 'cœur', 'coeur', 'Noël', 'noel', 'le', 'la', 'les', 'et', 'est', 'mangé'],
    ...['manger', 'mangeons', "l'école", 'école', 'ecole'],
  ],
  spanish: [
    ...['información', 'informacion', 'informaciones', 'niño', 'nino', 'niños', 'año', 'ano', 'corazón'],
    ...['corazon', 'el', 'la', 'y', 'está', 'esta', 'mañana', 'manana', 'canción', 'cancion'],
    ...['canciones', 'población', 'poblacion'],
  ],
  italian: [
    ...['città', 'citta', 'perché', 'perche', 'università', 'universita', 'il', 'lo', 'e', 'è', 'caffè'],
    ...['caffe', 'gelato', 'gelati', 'mangiare', 'mangiato', 'più', 'piu'],
  ],
  portuguese: [
    ...['população', 'populacao', 'coração', 'coracao', 'não', 'nao', 'o', 'a', 'ação', 'acao'],
    ...['informações', 'informacoes', 'informação', 'então', 'entao', 'cidade', 'cidades', 'você', 'voce'],
  ],
  dutch: [
    ...['huizen', 'huis', 'één', 'een', 'geëerd', 'geeerd', 'coördinatie', 'coordinatie', 'de', 'het'],
    ...['en', 'ĳs', 'ijs', 'fietsen', 'fiets', 'gebruikt', 'gebruiken', 'café', 'cafe'],
  ],
};

/** Words of every namespace: CJK runs and characters, emoji, numbers, other scripts, long words. */
const COMMON = [
  ...['東京都', '京都', '東京', '我的猫', '猫', '猫很可爱', '可爱', 'ひらがな', 'カタカナ', 'ひら', '한국어'],
  ...['한국', '서울', '日本語', '語', '学生', '大学生', '😀', '👍🏽', '❤️', '42', '2024', '3.14', 'COVID-19'],
  ...['½', '①', 'Ελλάδα', 'ελλαδα', 'Σίσυφος', 'Москва', 'москва', 'İstanbul', 'istanbul', 'ﬁsh', 'fish'],
  ...['𝔘𝔫𝔦𝔠𝔬𝔡𝔢', 'unicode', '𐐨𐐯𐑊𐐬', 'lisbon', 'apple', 'tea', 'green', 'morning'],
  // Thai runs without spaces: their beginnings typed as prefixes are read where the index holds a word.
  ...['ไปโรงพยาบาล', 'ซื้อคอมพิวเตอร์', 'ฉันชอบกาแฟ', 'ยาวมาก', 'คอมเครื่องนี้', 'กินข้าวผัด'],
  // Longer than an index key (64 UTF-16 units): cut, the last one between a surrogate pair.
  ...['x'.repeat(70), `${'y'.repeat(63)}z`, `a${'𐐨𐐯𐑊𐐬'.repeat(10)}`, '東京'.repeat(20)],
];

/** What people type around words. */
const PUNCTUATION = ['?', '!', '.', ',', '...', "'s", ')', '(', ':', ';', '—', '/', '&', '#', '@', '%'];

const foldAccents = (text: string) => text.normalize('NFKD').replace(/\p{M}+/gu, '');
/** Only the marks search folds: not Thai vowels, Devanagari vowel signs or kana voicing marks. */
const foldDiacritics = (text: string) => text.normalize('NFKD').replace(FOLDED_MARKS, '').normalize('NFC');

type Random = () => number;
const picker =
  (random: Random) =>
  <T>(list: readonly T[]): T =>
    list[Math.floor(random() * list.length)]!;

/** Memories of one namespace: words of its language and of every namespace, some capitalised or punctuated. */
function makeMemories(random: Random, language: Language, seed: number) {
  const pick = picker(random);
  const vocabulary = [...OWN[language], ...OWN[language], ...COMMON];
  const word = () => {
    const w = pick(vocabulary);
    const roll = random();
    if (roll < 0.1) return w.toUpperCase();
    if (roll < 0.15) return w + pick(PUNCTUATION);
    return w;
  };
  const docs: MemoryInput[] = Array.from({ length: DOCS }, (_, i) => ({
    id: `s${seed}-${String(i).padStart(4, '0')}`,
    content: Array.from({ length: 1 + Math.floor(random() * 12) }, word).join(pick([' ', ' ', ', ', '\n'])),
    kind: pick(['note', 'fact', 'event']),
    tags: pick([[], ['a'], ['b'], ['a', 'b']]),
    metadata: pick<MemoryInput['metadata']>([
      { p: 1 },
      { p: 2, s: 'x' },
      { p: 3, s: 'y' },
      {},
      { p: 2, nested: { a: [1, 2] } },
    ]),
  }));
  return { docs, vocabulary };
}

/** A random query as people type them. */
function makeQuery(random: Random, vocabulary: readonly string[], docs: readonly MemoryInput[]): string {
  const pick = picker(random);
  const typo = (w: string) => {
    const chars = [...w];
    if (chars.length < 3) return w;
    const at = 1 + Math.floor(random() * (chars.length - 1));
    const roll = random();
    if (roll < 0.3) chars.splice(at, 1);
    else if (roll < 0.55 && at + 1 < chars.length) [chars[at], chars[at + 1]] = [chars[at + 1]!, chars[at]!];
    else if (roll < 0.8) chars[at] = pick([...'abcdefghijklmnopqrstuvwxyz']);
    else chars.splice(at, 0, pick([...'aeiou']));
    return chars.join('');
  };
  const cased = (w: string) =>
    pick([
      w,
      w.toUpperCase(),
      w.toLowerCase(),
      w.charAt(0).toUpperCase() + w.slice(1),
      [...w].map((c) => (random() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join(''),
    ]);
  /** Two or three words next to each other in some memory: a phrase that matches. */
  const adjacent = () => {
    const words = pick(docs).content.split(/\s+/);
    const start = Math.floor(random() * words.length);
    return words.slice(start, start + 2 + Math.floor(random() * 2)).join(' ');
  };
  const chunk = (): string => {
    const w = pick(vocabulary);
    const roll = random();
    if (roll < 0.3) return cased(w);
    if (roll < 0.38) return foldAccents(w);
    if (roll < 0.48) return typo(w);
    if (roll < 0.58) {
      const chars = [...w];
      return `${chars.slice(0, 1 + Math.floor(random() * chars.length)).join('')}${pick(['*', '*', '**'])}`;
    }
    if (roll < 0.64) return `-${pick([w, `"${adjacent()}"`, `${w}*`])}`;
    if (roll < 0.72) return `"${adjacent()}"`;
    if (roll < 0.75) return `"${pick(vocabulary)} ${pick(vocabulary)}`; // never closed
    if (roll < 0.8) return pick(PUNCTUATION) + w + pick(PUNCTUATION);
    if (roll < 0.84) return pick(['-', '--', '"', '""', '*', '?!', '😀', '...', "'", '-"', '"-']);
    if (roll < 0.88) return pick([...pick(['東京都', '我的猫', '한국어', 'ひらがな', '大学生'])]); // one character
    if (roll < 0.91) return String(Math.floor(random() * 3000));
    if (roll < 0.94) return w + pick(['-', "'", '.']) + pick(vocabulary);
    return w;
  };
  const query = Array.from({ length: 1 + Math.floor(random() * 4) }, chunk).join(
    pick([' ', ' ', '  ', ', ']),
  );
  return random() < 0.15 ? `${query}?` : query;
}

function makeOptions(random: Random): SearchOptions {
  const options: SearchOptions = {};
  if (random() < 0.3) options.match = random() < 0.5 ? 'all' : 'any';
  if (random() < 0.4) options.explain = true;
  if (random() < 0.3) options.limit = 1 + Math.floor(random() * 30);
  const filter = random();
  if (filter < 0.08) options.kind = 'fact';
  else if (filter < 0.16) options.tags = ['a'];
  else if (filter < 0.2) Object.assign(options, { tags: ['a', 'b'], tagMode: 'all' });
  else if (filter < 0.28) options.metadata = { p: 2 };
  else if (filter < 0.32) options.metadata = { p: 2, nested: { a: [1, 2] } };
  else if (filter < 0.35) options.metadata = { s: 'y', p: 3 };
  return options;
}

type Hit = [id: string, score: number, explain: Explanation | undefined];
type Outcome = { value: Hit[] } | { error: string };

/** Whether a memory passes the search's filters, as docs/search.md says (metadata compared as JSON). */
function passes(doc: MemoryInput, options: SearchOptions): boolean {
  if (options.kind && doc.kind !== options.kind) return false;
  if (options.tags) {
    const held = options.tags.filter((t) => doc.tags?.includes(t)).length;
    if (options.tagMode === 'all' ? held < options.tags.length : held === 0) return false;
  }
  const metadata = (doc.metadata ?? {}) as Record<string, unknown>;
  return Object.entries(options.metadata ?? {}).every(
    ([key, value]) => JSON.stringify(metadata[key]) === JSON.stringify(value),
  );
}

/**
 * docs/search.md's ranking, memory by memory from its text alone (indexText, tokenize), apart from
 * bm25.ts and every store: each matching memory with its score, best first. Parsing and typo lookup are
 * core's (parseQuery, typoCorrection), fed what the namespace holds.
 */
function documentedRanking(
  query: string,
  options: SearchOptions,
  docs: readonly MemoryInput[],
  language: Language,
): Array<[string, number]> {
  const indexed = docs.map((doc) => ({
    doc,
    tokens: tokenize(doc.content, language),
    ...indexText(doc.content, language),
  }));
  type Indexed = (typeof indexed)[number];
  const count = indexed.length;
  const averageLength = indexed.reduce((sum, d) => sum + d.length, 0) / count;
  const holders = new Map<string, number>();
  for (const { terms } of indexed)
    for (const key of terms.keys()) holders.set(key, (holders.get(key) ?? 0) + 1);
  const bm25 = (key: string, d: Indexed): number | undefined => {
    const tf = d.terms.get(key);
    if (tf === undefined) return undefined;
    const n = holders.get(key)!;
    const idf = Math.log(1 + (count - n + 0.5) / (n + 0.5));
    return (idf * tf * 2.2) / (tf + 1.2 * (1 - 0.3 + (0.3 * d.length) / averageLength));
  };
  let parsed = parseQuery(query, { language });
  if (parsed.clauses.length === 0) return [];
  // What the query's own words and prefixes find in the namespace; then the other readings of a prefix
  // typed as a Thai run when it finds nothing; then typos, the variants the namespace holds.
  const keys = [...holders.keys()];
  const held = (terms: readonly string[], prefixes: readonly string[]) =>
    [
      ...terms.filter((t) => holders.has(t)),
      ...keys.filter((k) => prefixes.some((p) => k.startsWith(p))),
    ].map((term) => ({ term }));
  let fetched = held(parsed.terms, parsed.prefixes);
  const splits = runPrefixSplits(parsed, fetched, language);
  if (splits) {
    const split = splits.apply(held(splits.terms, splits.prefixes));
    parsed = split.query;
    fetched = fetched.concat(split.used);
  }
  const typos = typoCorrection(parsed, fetched, language);
  if (typos.keys.length > 0) {
    parsed = typos.apply(typos.keys.filter((k) => holders.has(k)).map((term) => ({ term })));
  }
  const best = (scores: Array<number | undefined>) => {
    const found = scores.filter((s): s is number => s !== undefined);
    return found.length === 0 ? undefined : Math.max(...found);
  };
  const scoreOf = (clause: QueryClause, d: Indexed): number | undefined => {
    switch (clause.kind) {
      case 'term':
        return bm25(clause.term, d);
      case 'prefix':
        return best([...d.terms.keys()].filter((k) => k.startsWith(clause.prefix)).map((k) => bm25(k, d)));
      case 'fuzzy':
        return best(clause.keys.map((k) => bm25(k, d)));
      case 'forms': {
        // The verb's own stem at full weight, its other forms at a quarter.
        const [own, ...others] = clause.terms.map((t) => bm25(t, d));
        return best([own, ...others.map((s) => (s === undefined ? undefined : 0.25 * s))]);
      }
      case 'phrase': {
        const parts = clause.terms.map((t) => bm25(t, d));
        if (parts.some((p) => p === undefined) || !containsPhrase(d.tokens, clause.terms)) return undefined;
        return parts.reduce((sum, p) => sum! + p!, 0);
      }
    }
  };
  const positive = parsed.clauses.filter((c) => c.kind !== 'term' || !c.stop).length;
  const ranked: Array<[string, number]> = [];
  for (const d of indexed) {
    if (!passes(d.doc, options)) continue;
    if (parsed.excluded.some((t) => d.terms.has(t))) continue;
    if (parsed.excludedPrefixes.some((p) => [...d.terms.keys()].some((k) => k.startsWith(p)))) continue;
    if (parsed.excludedPhrases.some((p) => containsPhrase(d.tokens, p))) continue;
    let sum = 0;
    let matched = 0;
    let phrasesHeld = true;
    for (const clause of parsed.clauses) {
      const score = scoreOf(clause, d);
      if (score === undefined) phrasesHeld &&= clause.kind !== 'phrase';
      else if (clause.kind === 'term' && clause.stop) sum += 0.25 * score;
      else {
        sum += score;
        matched++;
      }
    }
    if (matched === 0 || !phrasesHeld || (options.match === 'all' && matched < positive)) continue;
    ranked.push([d.doc.id!, positive > 1 ? (sum * matched) / positive : sum]);
  }
  return ranked.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1));
}

const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));

/**
 * `hits` are `ranking`'s first, scores within rounding: sums added in another order round apart, so
 * equal scores may come in another order and a tie at the limit be cut elsewhere.
 */
function followsRanking(hits: Hit[], ranking: Array<[string, number]>, limit: number): boolean {
  const scoreOf = new Map(ranking);
  const last = hits.at(-1)?.[1] ?? Number.POSITIVE_INFINITY;
  return (
    hits.length === Math.min(limit, ranking.length) &&
    hits.every(
      ([id, score], i) => near(score, scoreOf.get(id) ?? Number.NaN) && near(score, ranking[i]![1]),
    ) &&
    ranking.every(([id, score]) => score <= last || near(score, last) || hits.some(([hit]) => hit === id))
  );
}

/** What every answer keeps, whatever the query (docs/search.md). */
function checkAnswer(where: string, options: SearchOptions, outcome: Outcome, docs: readonly MemoryInput[]) {
  if ('error' in outcome) {
    // Nothing typed throws: only a query with no text at all is refused, as VALIDATION.
    expect(outcome.error, where).toMatch(/^VALIDATION query: expected at least one search term/);
    expect(where, 'only a blank query throws').toMatch(/\) "(\\[tn]| )*" /);
    return;
  }
  const hits = outcome.value;
  expect(hits.length, where).toBeLessThanOrEqual(options.limit ?? 10);
  const byRank = (a: Hit, b: Hit) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0);
  expect([...hits].sort(byRank), `${where}: best first, equal scores by id descending`).toEqual(hits);
  const byId = new Map(docs.map((d) => [d.id!, d]));
  for (const [id, score, explain] of hits) {
    expect(score > 0 && Number.isFinite(score), `${where}: ${id} scores ${score}`).toBe(true);
    expect(passes(byId.get(id)!, options), `${where}: ${id} passes the filters`).toBe(true);
    if (!options.explain) {
      expect(explain, where).toBeUndefined();
      continue;
    }
    const sum = explainedScore(explain!);
    expect(Math.abs(sum - score), `${where}: ${id} explained ${sum}, scored ${score}`).toBeLessThan(1e-9);
    for (const label of Object.keys(explain!.text!)) expect(label, where).not.toMatch(/\p{Cs}/u);
  }
}

const STORES = ['memory', 'indexeddb', 'indexeddbGroups', 'sqljs', 'pglite'] as const;
type Store = (typeof STORES)[number];

describe('search: random typed queries answer alike on every store, as documented', () => {
  it(`${SEEDS} seeds x ${QUERIES} queries on memory, IndexedDB, sql.js and PGlite`, {
    timeout: TIMEOUT,
  }, async () => {
    const pg = await PGlite.create();
    const name = `search-differential-${process.pid}-${Date.now()}`;
    const stores: Record<Store, MemoryStore> = {
      memory: new InMemoryStore(),
      indexeddb: new IndexedDBStore({ name }),
      // Groups of 7 memories: every search crosses text-index group boundaries.
      indexeddbGroups: new IndexedDBStore({ name: `${name}-groups`, textGroupSize: 7 }),
      sqljs: new SqlJsStore(),
      pglite: new PostgresStore(pglite(pg)),
    };
    let compared = 0;
    let ranked = 0;
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
      const random = mulberry32(seed);
      const pick = picker(random);
      const language = LANGUAGES[seed % LANGUAGES.length]!;
      const made = makeMemories(random, language, seed);
      // Some memories go and some are rewritten: postings of words no memory holds any more, and the
      // typo and as-written lookups of words that left.
      const gone = new Set(made.docs.filter(() => random() < 0.15).map((d) => d.id!));
      const edits = made.docs
        .filter((d) => !gone.has(d.id!) && random() < 0.1)
        .map((d) => ({ id: d.id!, content: pick(made.docs).content }));
      const mems = {} as Record<Store, Engram>;
      for (const store of STORES) {
        const mem = await createMemory({
          store: stores[store],
          namespace: `search-${seed}`,
          language,
          maintenance: { intervalMs: 0 },
        });
        await mem.addMany(made.docs);
        for (const id of gone) await mem.remove(id);
        for (const { id, content } of edits) await mem.update(id, { content });
        mems[store] = mem;
      }
      const edited = new Map(edits.map((e) => [e.id, e.content]));
      const docs = made.docs
        .filter((d) => !gone.has(d.id!))
        .map((d) => ({ ...d, content: edited.get(d.id!) ?? d.content }));
      const run = (store: Store, query: string, options: SearchOptions): Promise<Outcome> =>
        mems[store].search(query, options).then(
          (hits) => ({ value: hits.map((h): Hit => [h.memory.id, h.score, h.explain]) }),
          (error: { code?: string; message?: string }) => ({ error: `${error.code} ${error.message}` }),
        );

      for (let q = 0; q < QUERIES; q++) {
        const query = makeQuery(random, made.vocabulary, docs);
        const options = makeOptions(random);
        const where = `seed ${seed} (${language}) ${JSON.stringify(query)} ${JSON.stringify(options)}`;
        const reference = await run('memory', query, options);
        checkAnswer(where, options, reference, docs);
        for (const store of STORES.slice(1)) {
          expect(await run(store, query, options), `${store} vs memory: ${where}`).toEqual(reference);
          compared++;
        }
        if ('error' in reference) continue;
        const hits = reference.value;

        const ranking = documentedRanking(query, options, docs, language);
        if (!followsRanking(hits, ranking, options.limit ?? 10)) {
          expect(
            hits.map(([id, score]) => [id, score]),
            `documented ranking: ${where}`,
          ).toEqual(ranking);
        }
        ranked++;

        // A longer limit begins with the same hits (on any store).
        const longer = await run(pick(STORES), query, { ...options, limit: 1000 });
        expect('value' in longer && longer.value.slice(0, hits.length), `limit 1000: ${where}`).toEqual(hits);
        // match: 'all' keeps a subset of 'any', with the same scores (its coordination factor is 1).
        if (options.match === 'all' && 'value' in longer) {
          const any = await run('memory', query, { ...options, match: 'any', limit: 1000 });
          const scores = new Map('value' in any ? any.value.map(([id, score]) => [id, score]) : []);
          for (const [id, score] of longer.value)
            expect(scores.get(id), `all in any: ${where}: ${id}`).toBe(score);
        }
        // ASCII letters typed in another case find the same, but for the first letter of each word chunk of
        // the grammar: there a capital makes a function word inside a sentence a name (docs/search.md).
        if (/^[ -~]*$/.test(query)) {
          const starts = new Set(
            [...query.matchAll(CHUNK)].filter((m) => m[3] !== undefined).map((m) => m.index + m[1]!.length),
          );
          const swapped = [...query].map((c, i) =>
            starts.has(i) ? c : c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase(),
          );
          expect(await run('memory', swapped.join(''), options), `case: ${where}`).toEqual(reference);
        }
        // Letters and digits typed fullwidth (as CJK input methods type Latin) find the same.
        const fullwidth = query.replace(/[A-Za-z0-9]/g, (c) =>
          String.fromCodePoint(c.codePointAt(0)! + 0xfee0),
        );
        if (fullwidth !== query) {
          expect(await run('memory', fullwidth, options), `fullwidth: ${where}`).toEqual(reference);
        }
        // English folds accents before stemming: a query typed without them finds the same.
        if (language === 'english' && foldDiacritics(query) !== query) {
          expect(await run('memory', foldDiacritics(query), options), `accents: ${where}`).toEqual(reference);
        }
        // Plain words (no quotes, exclusions, prefixes, questions) in another order find the same.
        const words = query.split(/\s+/).filter(Boolean);
        if (!/["*?-]/.test(query) && words.length > 1 && words.length <= 3) {
          // In lower case: a capital inside a sentence may make a function word a name, and a new order
          // may move it to the start (docs/search.md).
          const plain = words.map((w) => w.toLowerCase());
          const forward =
            plain.join(' ') === query ? reference : await run('memory', plain.join(' '), options);
          const reversed = await run('memory', plain.reverse().join(' '), { ...options, limit: 1000 });
          const scores = new Map('value' in reversed ? reversed.value.map(([id, score]) => [id, score]) : []);
          for (const [id, score] of 'value' in forward ? forward.value : []) {
            expect(near(score, scores.get(id) ?? Number.NaN), `order: ${where}: ${id}`).toBe(true);
          }
        }
      }
    }
    expect(compared).toBe(SEEDS * QUERIES * (STORES.length - 1));
    // Most queries find something to rank: the generator is not all punctuation and exclusions.
    expect(ranked).toBeGreaterThan(SEEDS * QUERIES * 0.7);
    for (const store of Object.values(stores)) await store.close();
    await pg.close();
  });
});
