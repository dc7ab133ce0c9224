import { isExpired, isValidAt, type MemoryFilter, validAt } from './filter.js';
import type { Memory } from './model.js';
import type { DocPostingList, MemoryRecord, TextIndex, TextStats } from './store-contract.js';
import { correctableHeld, type ParsedQuery, runPrefixSplits, typoCorrection } from './text/index.js';
import type { DocNumbered } from './text-candidates.js';

/*
 * A text search's reads of postings with their corrections (a Thai-script prefix's other readings, typos),
 * and the check that a word is held by a memory the search may return: text-candidates.ts ranks what these
 * read.
 */

/** How many records of a word's holders are read at a time to find one a search may return. */
const HOLDERS_PAGE = 64;

/** Whether a search with `filter` may return `memory`, its kind, tags and metadata aside. */
export const returnable = (memory: Memory, filter: MemoryFilter) =>
  !isExpired(memory, filter.now) && isValidAt(memory, validAt(filter));

/** What `readCorrected` found: the query to rank, its postings, and the correctable words they hold. */
export interface CorrectedRead<P> {
  query: ParsedQuery;
  found: P[];
  /** Terms a memory holds that typo correction would look up again were it not so (`correctableHeld`). */
  held: string[];
}

/**
 * Postings of the query's words, read by `read`. Then, when a prefix typed as a Thai (Lao, Khmer, Myanmar)
 * run finds no word, one read of its other readings (run-prefixes.ts); and when a content word no memory
 * holds may be misspelt, one more read of the words one edit away, with the query turned to match them
 * (typos.ts). `unheld`: terms whose postings are only memories the search cannot return (expired, not
 * valid at its instant), corrected as if no memory held them.
 */
export async function readCorrected<P extends { term: string }>(
  parsed: ParsedQuery,
  language: string,
  read: (terms: readonly string[], prefixes: readonly string[]) => Promise<P[]>,
  unheld: ReadonlySet<string>,
): Promise<CorrectedRead<P>> {
  let found = await read(parsed.terms, parsed.prefixes);
  let query = parsed;
  const splits = runPrefixSplits(parsed, found, language);
  if (splits) {
    const unread = splits.terms.length > 0 || splits.prefixes.length > 0;
    const split = splits.apply(unread ? await read(splits.terms, splits.prefixes) : []);
    query = split.query;
    found = found.concat(split.used);
  }
  const held = correctableHeld(query, found, language);
  const typos = typoCorrection(query, found, language, unheld);
  if (typos.keys.length === 0) return { query, found, held };
  const corrected = await read(typos.keys, []);
  return { query: typos.apply(corrected), found: found.concat(corrected), held };
}

/**
 * The namespace's statistics and the query's postings by document number: from one read when the store
 * serves them together (`docPostingsWithStats`), a typo correction's second read then alone; side by side
 * otherwise.
 */
export async function statsAndDocPostings(
  store: DocNumbered & TextIndex,
  namespace: string,
  parsed: ParsedQuery,
  language: string,
  unheld: ReadonlySet<string>,
): Promise<[TextStats, CorrectedRead<DocPostingList>]> {
  const read = (terms: readonly string[], prefixes: readonly string[]) =>
    store.docPostings(namespace, terms, prefixes);
  const together = store.docPostingsWithStats?.bind(store);
  if (together === undefined) {
    return Promise.all([store.textStats(namespace), readCorrected(parsed, language, read, unheld)]);
  }
  let stats: TextStats | undefined;
  const corrected = await readCorrected(
    parsed,
    language,
    async (terms, prefixes) => {
      if (stats !== undefined) return read(terms, prefixes);
      const first = await together(namespace, terms, prefixes);
      stats = first.stats;
      return first.lists;
    },
    unheld,
  );
  return [stats!, corrected];
}

/**
 * Whether a memory the search may return holds `term`: the records of its postings' documents, read a
 * page at a time, newest first (a memory that expired or was superseded is mostly older than one that
 * holds the word now), until one passes `filter`'s expiry and validity.
 */
export async function someReturnable<K>(
  keys: K[],
  records: (page: K[]) => Promise<Iterable<MemoryRecord>>,
  filter: MemoryFilter,
): Promise<boolean> {
  for (let at = 0; at < keys.length; at += HOLDERS_PAGE) {
    for (const record of await records(keys.slice(at, at + HOLDERS_PAGE))) {
      if (returnable(record.memory, filter)) return true;
    }
  }
  return false;
}
