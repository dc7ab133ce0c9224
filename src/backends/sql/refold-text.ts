import { indexedOtherwiseBeforeRefold } from '../../core/text/refold.js';
import { rebuildChangedText } from './text-rebuild.js';

/**
 * Schema step v19: normalisation keeps the marks other scripts spell with and composes again what
 * decomposition split (words.ts normalizeWord), so Korean, Japanese kana with voicing marks, Indic and Thai
 * text, and Greek words ending in sigma get other index keys: each namespace holding such a text has its text
 * index rebuilt; the others, English and Latin-script text, are left as they are. Only texts with a character
 * past ASCII can normalise otherwise.
 */
export const refoldText = rebuildChangedText({
  indexedOtherwise: indexedOtherwiseBeforeRefold,
  postgresFilter: "content ~ '[^\\x01-\\x7f]'",
});
