import { analyzerFor } from './analyzer.js';

/**
 * True for a normalised, unstemmed word that carries no topic of its own ("the", "did", "what"), in
 * `language` (default English). The lists come from a maintained package (@orama/stopwords).
 */
export function isStopWord(word: string, language?: unknown): boolean {
  return analyzerFor(language).isStopWord(word);
}
