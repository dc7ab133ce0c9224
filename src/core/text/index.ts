export {
  type Candidate,
  type CorpusStats,
  compareCandidates,
  type Posting,
  rankDocuments,
  scoreDocuments,
} from './bm25.js';
export { type ParsedQuery, parseQuery, type QueryClause } from './query.js';
export {
  containsPhrase,
  indexText,
  MAX_TERM_LENGTH,
  normalizeWord,
  splitWords,
  tokenize,
} from './tokenize.js';
