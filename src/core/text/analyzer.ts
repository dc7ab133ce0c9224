import { stopwords as englishStopWords } from '@orama/stopwords/english';
import { stemmer as porter } from 'stemmer';
import { EngramError, validationError } from '../errors.js';
import { cutTerm, splitWords, WORD_MARK } from './words.js';

/** The languages `createMemory({ language })` accepts: a stemmer and a stop list each (English by default). */
export const LANGUAGES = [
  'english',
  'german',
  'french',
  'spanish',
  'italian',
  'portuguese',
  'dutch',
] as const;
export type Language = (typeof LANGUAGES)[number];

/** The namespace meta key holding its index language; absent means English. */
export const LANGUAGE_META = 'language';

/**
 * How one language turns text into index keys: `visit(word, term)` for each word in order, `word` as
 * written (normalised, for prefixes and stop words) and `term` its stem. Returns the number of words.
 */
export interface Analyzer {
  readonly language: Language;
  words(text: string, visit: (word: string, term: string) => void): number;
  /** True for a normalised, unstemmed word that carries no topic of its own ("the", "der", "le"). */
  isStopWord(word: string): boolean;
  /**
   * True for a stop word that only shapes a question ("what", "when", "did", "would"): beside content
   * words it is left out of the query altogether, where other stop words still refine (docs/search.md).
   * Languages without such a list leave it out.
   */
  isQuestionWord?(word: string): boolean;
  /**
   * The index keys of a normalised word's other irregular forms, which a stemmer cannot join to it: a
   * verb's ("go" → gone, went; their terms), a noun's other number ("child" → `~children`, "people" →
   * `~person`; word keys); undefined when it has none. A query word's clause matches them too (query.ts).
   * A verb form whose stem is a stop word's is its word key too ("eat" → eaten, `~ate`: "ate" stems to "at").
   */
  otherForms?(word: string): readonly string[] | undefined;
  /**
   * True when a word's term is computed from the word as written (normalised: diacritics folded), so the
   * index holds a word's term whenever it holds the word (English: folded, then stemmed). Languages
   * stemmed before folding leave it out: there a word typed without its accents can have another stem
   * than the text's ("informacion" against "información" → "inform"), and a query looks its words up as
   * written when their terms are not in the index (typos.ts).
   */
  readonly termFollowsWord?: boolean;
}

/** Words repeat far more than they vary, so stems are memoised per language; a cache is dropped when full. */
export const STEM_CACHE_LIMIT = 50_000;

/** Stop-list entries are split like indexed text, so the pieces of contractions ("didn't") count too. */
export const stopSet = (list: readonly string[]) => new Set(list.flatMap((word) => splitWords(word)));

const englishStems = new Map<string, string>();
/**
 * The package's English list is the Snowball project's with one word missing: the article "a" (the
 * Snowball list has it between "how's" and "an"). Without it "a" counted as a content word: a clause of
 * its own in every question that holds it, required by `match: 'all'` and weighing in the coordination
 * factor, against the contract's "function words do not outweigh content words".
 */
const englishStops = stopSet([...englishStopWords, 'a']);
/**
 * English question words and auxiliary verbs, a closed class within the stop list: what a question is
 * made of and an answer rarely says ("When did Maya adopt…" / "we adopted…"). Weighing them nothing
 * beside content words rose recall@5 and MRR on every seed of bench/quality.mjs (docs/search.md).
 */
const englishQuestionWords = new Set(
  'what which who whom when where why how am is are was were be been being have has had having do does did doing will would shall should can could may might must ought'.split(
    ' ',
  ),
);

/** The English index term of one normalised word: its Porter stem, cut to MAX_TERM_LENGTH. */
export function englishTerm(word: string): string {
  let term = englishStems.get(word);
  if (term === undefined) {
    term = cutTerm(porter(word));
    if (englishStems.size >= STEM_CACHE_LIMIT) englishStems.clear();
    englishStems.set(word, term);
  }
  return term;
}

/**
 * Each English irregular verb's base form to its other forms' terms, and each irregular noun to its
 * other number's word key, once `loadLanguage` has read the lists.
 */
let englishOtherForms: Map<string, readonly string[]> | undefined;

async function loadEnglishForms(): Promise<void> {
  if (englishOtherForms) return;
  const [{ irregularVerbForms }, { irregularNounForms }] = await Promise.all([
    import('./irregular-verbs.js'),
    import('./irregular-plurals.js'),
  ]);
  const terms = new Map<string, readonly string[]>();
  // A form stemmed like a stop word ("ate" → "at", "overate" → "over") is looked up as written (`~ate`):
  // by its stem the verb would match every memory holding that stop word. Not a form that is the stop
  // word itself ("won", listed as a piece of "won't").
  const stopTerms = new Set([...englishStops].map(englishTerm));
  const keyOf = (form: string) => {
    const term = englishTerm(form);
    return stopTerms.has(term) && !englishStops.has(form) ? WORD_MARK + cutTerm(form) : term;
  };
  for (const [base, forms] of irregularVerbForms()) {
    const own = englishTerm(base);
    const others = [...new Set(forms.map(keyOf))].filter((term) => term !== own);
    if (others.length > 0) terms.set(base, others);
  }
  // A noun's other number is looked up as written: its stem would reach other words ("people" → "person"
  // is also the stem of "personal", "lives" → "live" that of "living"), the word alone only itself.
  for (const [noun, other] of irregularNounForms()) {
    if (englishStops.has(noun)) continue;
    terms.set(noun, [...(terms.get(noun) ?? []), WORD_MARK + cutTerm(other)]);
  }
  englishOtherForms = terms;
}

/** English, the default: words are normalised first, then Porter-stemmed (the index format since v1). */
export const ENGLISH: Analyzer = {
  language: 'english',
  words(text, visit) {
    const words = splitWords(text);
    for (const word of words) visit(word, englishTerm(word));
    return words.length;
  },
  isStopWord: (word) => englishStops.has(word),
  isQuestionWord: (word) => englishQuestionWords.has(word),
  otherForms: (word) => englishOtherForms?.get(word),
  termFollowsWord: true,
};

const loaded = new Map<string, Analyzer>([['english', ENGLISH]]);

/**
 * Other languages load on demand, each its own chunk: an app in English never downloads a German
 * stemmer. The specifiers are literal so that bundlers see them.
 */
const LOADERS: Record<Exclude<Language, 'english'>, () => Promise<{ analyzer: Analyzer }>> = {
  german: () => import('./languages/german.js'),
  french: () => import('./languages/french.js'),
  spanish: () => import('./languages/spanish.js'),
  italian: () => import('./languages/italian.js'),
  portuguese: () => import('./languages/portuguese.js'),
  dutch: () => import('./languages/dutch.js'),
};

/** Throws VALIDATION unless `value` is one of LANGUAGES; `field` names the input in the message. */
export function parseLanguage(value: unknown, field = 'language'): Language {
  if (typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value)) return value as Language;
  throw validationError(
    field,
    `one of ${LANGUAGES.map((l) => `'${l}'`).join(', ')}`,
    typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value)),
  );
}

/**
 * Loads a language's analyzer (once per process); later `analyzerFor` calls find it synchronously.
 * English is built in, but its irregular verb forms (a query's alternatives) load here, on first use.
 * `createMemory({ language })` calls it; a custom store calls it before indexing a namespace.
 *
 * @example
 * const language = await store.getMeta(namespace, LANGUAGE_META);
 * await loadLanguage(language);
 * const { terms, length } = indexText(content, language);
 */
export async function loadLanguage(language: unknown): Promise<Analyzer> {
  const name = language === undefined || language === null ? 'english' : parseLanguage(language);
  if (name === 'english') await loadEnglishForms();
  const known = loaded.get(name);
  if (known) return known;
  const { analyzer } = await LOADERS[name as Exclude<Language, 'english'>]();
  loaded.set(name, analyzer);
  return analyzer;
}

/** True when `analyzerFor(language)` answers without loading: English, or a language loaded before. */
export function isLanguageLoaded(language: unknown): boolean {
  return language === undefined || language === null || loaded.has(language as string);
}

/**
 * The analyzer of a namespace's stored language (`undefined`/`null`: English). Synchronous, so stores
 * can call it inside a transaction: the language must have been loaded, which `createMemory` does
 * when it opens a namespace and the edge does for every language at start.
 */
export function analyzerFor(language: unknown): Analyzer {
  if (language === undefined || language === null) return ENGLISH;
  const known = loaded.get(language as string);
  if (known) return known;
  const name = parseLanguage(language);
  throw new EngramError(
    'VALIDATION',
    `language: '${name}' is not loaded in this process: open the namespace with createMemory({ language: '${name}' }) or await loadLanguage('${name}') first`,
    { field: 'language' },
  );
}
