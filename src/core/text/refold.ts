import { isAscii, normalizeWord } from './words.js';

const EVERY_MARK = /\p{M}+/gu;

/**
 * normalizeWord as it was before SQL schema v19 and IndexedDB schema v7: every mark stripped, nothing
 * composed again, final sigma kept. Kept only to tell which stored texts those steps must index again.
 */
function normalizedBeforeRefold(text: string): string {
  return text.normalize('NFKD').replace(EVERY_MARK, '').toLowerCase();
}

/**
 * True when a text was indexed under other keys before the script-aware folding of normalizeWord (Korean
 * syllables, kana voicing marks, Indic and Thai vowel signs, Greek final sigma): a store whose namespace
 * holds such a text rebuilds that namespace's text index once, when it upgrades. Normalising is local to a
 * character (and its marks), so a text that normalises alike both ways splits into the same words and keys.
 */
export function indexedOtherwiseBeforeRefold(text: string): boolean {
  return !isAscii(text) && normalizedBeforeRefold(text) !== normalizeWord(text);
}
