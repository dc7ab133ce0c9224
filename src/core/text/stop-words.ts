import { stopwords } from '@orama/stopwords/english';
import { splitWords } from './tokenize.js';

/**
 * English function words, from a maintained list (@orama/stopwords) rather than one of our own. Entries
 * are split like indexed text, so the pieces of contractions ("didn't" → "didn", "t") count as well.
 */
const STOP_WORDS = new Set(stopwords.flatMap((word) => splitWords(word)));

/** True for a normalised, unstemmed word that carries no topic of its own ("the", "did", "what"). */
export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word);
}
