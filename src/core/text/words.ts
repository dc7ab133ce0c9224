/** Index keys stay bounded whatever the input (a pasted hash or blob would otherwise become one huge key). */
export const MAX_TERM_LENGTH = 64;

/**
 * A key cut to MAX_TERM_LENGTH UTF-16 units, one less when the cut would split a surrogate pair: a lone
 * surrogate is no text, and stores that keep keys as UTF-8 (SQLite, Postgres) could not hold it as the
 * in-memory and IndexedDB stores do, so a long word in a script beyond the BMP was found by some only.
 */
export function cutTerm(key: string): string {
  if (key.length <= MAX_TERM_LENGTH) return key;
  const last = key.charCodeAt(MAX_TERM_LENGTH - 1);
  return key.slice(0, last >= 0xd800 && last <= 0xdbff ? MAX_TERM_LENGTH - 1 : MAX_TERM_LENGTH);
}

/**
 * Marks an index key holding a word as written (normalised, NOT stemmed) rather than its stem. Prefixes
 * (`coffee*`) are matched against these keys, so they find "coffee" and "coffees" although the stem is
 * "coffe". Stems are letters and digits, so the mark cannot collide with one; it sorts apart from every
 * stem, so a prefix over words is one key range in every store.
 */
export const WORD_MARK = '~';

/**
 * The marks folded away: diacritics (the generic combining marks, Unicode's "Inherited" script: "é",
 * "ά", "й"; also variation selectors), Cyrillic's own, and the vowel points of Hebrew, Arabic and Syriac,
 * which writers mostly leave out. Every other script's marks are parts of its letters and are kept:
 * Devanagari vowel signs ("हिंदी" is not "हद"), Thai vowels and tones, and the voicing marks of Japanese
 * kana (inherited, but "がっこう", school, is not "かっこう", cuckoo). `\p{M}` alone would take those too.
 */
export const FOLDED_MARKS =
  /(?![\u3099\u309a])(?=\p{M})[\p{Script=Inherited}\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}]/gu;
const MARK = /\p{M}/u;
/** A word: letters and digits, with the marks its script keeps (never starting with one). */
const WORD = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range is the point
const ASCII = /^[\x00-\x7f]*$/;
/** True for text of ASCII alone, which normalises to itself but for case. */
export const isAscii = (text: string): boolean => ASCII.test(text);
/** Scripts written without spaces between words: indexed as overlapping character pairs. */
const CJK =
  /[\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}]/u;
const CJK_RUNS =
  /([\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}]+)|[^\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}]+/gu;
/**
 * Scripts written without spaces whose words a dictionary finds: Thai, Lao, Khmer and Myanmar. Their runs are
 * split by the runtime's word segmenter (ICU's dictionaries), not into pairs.
 */
export const SEGMENTED = /[\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const SEGMENTED_RUNS =
  /([\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]+)|[^\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]+/gu;
/** A run of the SEGMENTED scripts ending a word. */
const SEGMENTED_TAIL = /[\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]+$/u;

/**
 * The run of Thai, Lao, Khmer or Myanmar letters that ends the last word of `text`, normalised as
 * splitWords normalises it before segmenting; undefined when the text ends otherwise. A prefix query reads
 * it whole (run-prefixes.ts), since the dictionary splits an unfinished word ("คอมพิว") into pieces.
 */
export function segmentedRunEnd(text: string): string | undefined {
  const words = normalizeWord(text).match(WORD);
  return words?.[words.length - 1]?.match(SEGMENTED_TAIL)?.[0];
}

/** Text that splitWords splits further than its Unicode words: CJK runs into pairs, the scripts above by dictionary. */
const SPLIT_FURTHER =
  /[\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
/** Thai and Lao SARA AM as normalizeWord leaves it, decomposed (NIKHAHIT + SARA AA), and composed. */
const DECOMPOSED_AM = /\u0e4d\u0e32|\u0ecd\u0eb2/g;
const COMPOSED_AM = /[\u0e33\u0eb3]/g;
const composeAm = (am: string) => (am === '\u0e4d\u0e32' ? '\u0e33' : '\u0eb3');
const decomposeAm = (am: string) => (am === '\u0e33' ? '\u0e4d\u0e32' : '\u0ecd\u0eb2');

/**
 * Normalise one word WITHOUT stemming (for prefixes): NFKD, diacritics folded (FOLDED_MARKS), composed
 * again (NFC), lower-cased, Greek final sigma as σ. Folding case and diacritics lets "Café", "CAFÉ" and
 * "cafe" meet in one key. Composing again keeps what decomposition split but is no diacritic whole: a
 * Korean syllable (NFKD spells "서울" as five jamo, whose pairs "서류를" shares), a kana with its voicing
 * mark. Final sigma: lower-casing writes "ς" at a word's end only, so the prefix "ΚΟΣ" would end in "ς"
 * and miss "κοσμος".
 */
export function normalizeWord(word: string): string {
  // ASCII has nothing to decompose or fold: skip the costliest steps for the commonest text.
  if (ASCII.test(word)) return word.toLowerCase();
  // Lower-casing comes last: compatibility decomposition can yield capitals (e.g. "㎒" → "MHz").
  const decomposed = word.normalize('NFKD');
  const folded = MARK.test(decomposed) ? decomposed.replace(FOLDED_MARKS, '') : decomposed;
  const lower = folded.normalize('NFC').toLowerCase();
  return lower.includes('ς') ? lower.replaceAll('ς', 'σ') : lower;
}

/**
 * A run of Chinese, Japanese or Korean characters as overlapping pairs ("東京都" → "東京", "京都"), so that
 * a two-character query finds a longer word without a dictionary; a lone character stays itself.
 */
function bigrams(run: string): string[] {
  const chars = [...run];
  if (chars.length < 2) return chars;
  const out: string[] = [];
  for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
  return out;
}

/**
 * The runtime's word segmenter, made on first use; null where the runtime has none (Intl.Segmenter is
 * missing in some older engines): there a run of the SEGMENTED scripts stays one word, as before v20.
 * The locale is fixed so that the default locale's tailorings cannot change the index: ICU picks the
 * dictionary by script, so 'th' serves Lao, Khmer and Myanmar alike.
 */
let segmenter: Intl.Segmenter | null | undefined;

function wordSegmenter(): Intl.Segmenter | null {
  if (segmenter === undefined) {
    segmenter =
      typeof Intl.Segmenter === 'function' ? new Intl.Segmenter('th', { granularity: 'word' }) : null;
  }
  return segmenter;
}

/**
 * A normalised word holding letters of the SEGMENTED scripts: each run of them split into the dictionary's
 * words (the segments ICU calls word-like), the rest of the word ("iphone" glued to Thai) kept apart.
 * normalizeWord decomposes SARA AM (a compatibility character), which ICU's dictionaries do not hold: "กำลัง"
 * would split as "กํา|ลัง". The run is segmented with it composed again, each word decomposed back.
 */
function splitSegmented(word: string, out: string[]): void {
  const words = wordSegmenter();
  if (words === null) {
    out.push(word);
    return;
  }
  for (const [part, run] of word.matchAll(SEGMENTED_RUNS)) {
    if (run === undefined) {
      for (const piece of part.match(WORD) ?? []) out.push(piece);
      continue;
    }
    const composed = run.replace(DECOMPOSED_AM, composeAm);
    for (const { segment, isWordLike } of words.segment(composed)) {
      if (!isWordLike) continue;
      const decomposed = composed === run ? segment : segment.replace(COMPOSED_AM, decomposeAm);
      for (const piece of decomposed.match(WORD) ?? []) out.push(piece);
    }
  }
}

function splitCjk(word: string, out: string[]): void {
  for (const [part, run] of word.matchAll(CJK_RUNS)) {
    if (run !== undefined) out.push(...bigrams(run));
    else if (SEGMENTED.test(part)) splitSegmented(part, out);
    else out.push(part);
  }
}

/**
 * The normalised, unstemmed words of a text, in order: CJK runs as character pairs, runs of Thai, Lao, Khmer
 * and Myanmar as the runtime's dictionary splits them.
 */
export function splitWords(text: string): string[] {
  const words = normalizeWord(text).match(WORD) ?? [];
  if (ASCII.test(text) || !SPLIT_FURTHER.test(text)) return words;
  const out: string[] = [];
  for (const word of words) {
    if (CJK.test(word)) splitCjk(word, out);
    else if (SEGMENTED.test(word)) splitSegmented(word, out);
    else out.push(word);
  }
  return out;
}

/**
 * The word key a CJK pair adds beside the words of its text: its second character, unless the next
 * word begins with it. Pairs give every character of a run as a pair's first character but the run's
 * last; keying that last one too (as a word key only, never a term nor in the text's length) lets a
 * one-character query, a prefix of word keys, find the character wherever it stands ("猫" in "我的猫").
 * Taken from the words already split, in order, so the text is not read twice.
 */
export function cjkRunEnd(word: string, next: string | undefined): string | undefined {
  // Pairs are two characters of one script family; a lone character and other words have no run end.
  if (word.length > 4 || !CJK.test(word)) return undefined;
  const chars = [...word];
  if (chars.length !== 2) return undefined;
  const last = chars[1]!;
  return next?.startsWith(last) ? undefined : last;
}

/** The run-end keys (cjkRunEnd) of a text's words, in order. */
export function cjkRunEnds(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const end = cjkRunEnd(words[i]!, words[i + 1]);
    if (end !== undefined) out.push(end);
  }
  return out;
}

/** True for a word that is one Chinese, Japanese or Korean character. */
export function isLoneCjk(word: string): boolean {
  return word.length <= 2 && [...word].length === 1 && CJK.test(word);
}
