export {
  type Analyzer,
  analyzerFor,
  isLanguageLoaded,
  LANGUAGE_META,
  LANGUAGES,
  type Language,
  loadLanguage,
  parseLanguage,
} from './analyzer.js';
export {
  type Candidate,
  clauseLabel,
  compareCandidates,
  rankDocumentNumbers,
  rankDocuments,
  type ScoreOptions,
  scoreDocumentNumbers,
  scoreDocuments,
} from './bm25.js';
export { hasExclusions, holdsExclusion } from './exclusions.js';
export {
  cutQuery,
  MAX_QUERY_LENGTH,
  type ParsedQuery,
  type ParseOptions,
  parseQuery,
  type QueryClause,
  type QueryWord,
  type RunPrefix,
} from './query.js';
export { type RunPrefixSplits, type RunReading, runPrefixSplits, runReadings } from './run-prefixes.js';
export { isStopWord } from './stop-words.js';
export type { CorpusStats, Posting } from './term-index.js';
export {
  containsPhrase,
  indexText,
  MAX_TERM_LENGTH,
  normalizeWord,
  splitWords,
  tokenize,
  toTerm,
  visitIndexTerms,
  WORD_MARK,
  wordKey,
} from './tokenize.js';
export {
  correctableHeld,
  isTypoVariant,
  MAX_TYPO_WORDS,
  TYPO_MAX_LENGTH,
  TYPO_MIN_LENGTH,
  type TypoCorrection,
  typoCorrection,
  typoCorrectionOf,
  typoVariants,
} from './typos.js';
export { cjkRunEnds, FOLDED_MARKS, isLoneCjk } from './words.js';
