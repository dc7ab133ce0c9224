import type { ParsedQuery } from './query.js';
import { containsPhrase, indexText, tokenize } from './tokenize.js';

/** Whether the query leaves anything out (`-word`, `-"a phrase"`, `-pre*`). */
export function hasExclusions(parsed: ParsedQuery): boolean {
  return parsed.excluded.length + parsed.excludedPrefixes.length + parsed.excludedPhrases.length > 0;
}

/**
 * Whether `text` holds something the query leaves out, judged on the keys the text index holds for it
 * (stems, and words as written for prefixes), so a memory is left out exactly when a text search over
 * the index would leave it out: for hits found another way (a hybrid search's vector half).
 */
export function holdsExclusion(text: string, parsed: ParsedQuery, language: unknown): boolean {
  const { terms } = indexText(text, language);
  if (parsed.excluded.some((term) => terms.has(term))) return true;
  if (parsed.excludedPrefixes.length > 0) {
    for (const key of terms.keys()) if (parsed.excludedPrefixes.some((p) => key.startsWith(p))) return true;
  }
  if (parsed.excludedPhrases.length === 0) return false;
  const tokens = tokenize(text, language);
  return parsed.excludedPhrases.some((phrase) => containsPhrase(tokens, phrase));
}
