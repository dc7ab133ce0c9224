import { normalizeWord, SEGMENTED, splitWords } from './words.js';

const WORD = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu;
const CJK =
  /[\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}]/u;
const CJK_RUNS =
  /([\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}]+)|[^\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}]+/gu;

/**
 * splitWords as it was before SQL schema v20 and IndexedDB schema v8: a run of Thai, Lao, Khmer or Myanmar
 * letters one word, CJK runs as character pairs. Kept only to tell which stored texts those steps must
 * index again (normalisation is v19's, today's).
 */
function splitWordsBeforeSegmenting(text: string): string[] {
  const out: string[] = [];
  for (const word of normalizeWord(text).match(WORD) ?? []) {
    if (!CJK.test(word)) {
      out.push(word);
      continue;
    }
    for (const [part, run] of word.matchAll(CJK_RUNS)) {
      if (run === undefined) out.push(part);
      else {
        const chars = [...run];
        if (chars.length < 2) out.push(run);
        for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
      }
    }
  }
  return out;
}

/**
 * True when a text was indexed under other words before the dictionary segmentation of Thai, Lao, Khmer and
 * Myanmar runs (splitWords): a store whose namespace holds such a text rebuilds that namespace's text index
 * once, when it upgrades. Every language splits its words with splitWords, so the same words mean the same
 * keys. Where the runtime has no word segmenter, nothing differs and nothing is rebuilt.
 */
export function indexedOtherwiseBeforeSegmenting(text: string): boolean {
  if (!SEGMENTED.test(text)) return false;
  const before = splitWordsBeforeSegmenting(text);
  const now = splitWords(text);
  return before.length !== now.length || now.some((word, at) => word !== before[at]);
}
