import { indexedOtherwiseBeforeSegmenting } from '../../core/text/resegment.js';
import { rebuildChangedText, type TextChange } from './text-rebuild.js';

/**
 * The texts schema step v20 indexes otherwise: runs of Thai, Lao, Khmer and Myanmar letters, one word each before, are split into the
 * words of the runtime's dictionary (words.ts splitWords): each namespace holding a text split otherwise now
 * has its text index rebuilt; the others are left as they are. Only texts with a letter of those scripts can
 * split otherwise: Postgres picks them by their blocks (Thai and Lao, Myanmar, Khmer, Khmer symbols, and
 * Myanmar's two extensions).
 */
export const SEGMENTED_TEXT: TextChange = {
  indexedOtherwise: indexedOtherwiseBeforeSegmenting,
  postgresFilter:
    "content ~ '[\\u0e00-\\u0eff\\u1000-\\u109f\\u1780-\\u17ff\\u19e0-\\u19ff\\ua9e0-\\ua9ff\\uaa60-\\uaa7f]'",
};

/** Schema step v20 (schema.ts). */
export const resegmentText = rebuildChangedText(SEGMENTED_TEXT);
