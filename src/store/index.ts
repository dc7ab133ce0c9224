// engram/store: the kit for writing a store of your own (see docs/custom-store.md). The contract's types,
// the merge every store applies inside its transaction, the tokenizer its text index stores, and the
// helpers the built-in stores share; `engram/testing` runs the conformance suite against the result.
export { FEED_NUMBERS_PER_MS, feedFloor, nextFeedNumber } from '../core/feed-number.js';
export { compareIdsDesc, isExpired, isValidAt, matchesFilter, matchesListQuery } from '../core/filter.js';
export { formatHlc, HybridLogicalClock, hlcToIso, parseHlc } from '../core/hlc.js';
export { uuidv7 } from '../core/ids.js';
export { mergeBatch, mergeLink, mergeMemory, type StoreTransaction } from '../core/merge.js';
export { searchStore, withTextIndex } from '../core/search.js';
export { createSerialQueue } from '../core/serial.js';
export * from '../core/store-contract.js';
export {
  indexText,
  LANGUAGE_META,
  LANGUAGES,
  type Language,
  loadLanguage,
  tokenize,
} from '../core/text/index.js';
// The vector indexes behind the `vectors` store option, for a store (or a benchmark) of your own: not on
// the root entry, whose stores load them on demand (core/vector/approximate.ts).
export { HnswIndex, Int8Matrix, IvfIndex, VectorMatrix } from '../core/vector/index.js';
