import { decodeCursor } from './cursor.js';
import { EngramError, isEngramError } from './errors.js';
import { matchesFilter, matchesListQuery } from './filter.js';
import type { ListOptions, ListResult, Memory, SearchHit, SearchMode, SearchOptions } from './model.js';
import {
  analyzerFor,
  cjkRunEnds,
  type ParsedQuery,
  parseQuery,
  runReadings,
  TYPO_MAX_LENGTH,
  TYPO_MIN_LENGTH,
  tokenize,
  typoCorrectionOf,
  WORD_MARK,
} from './text/index.js';
import * as schema from './validate.js';

export interface ListWatch {
  list: ListOptions;
}
export type SearchWatch = { search: string } & SearchOptions;
/** What `mem.watch` follows: a `list` page or a `search`. */
export type WatchQuery = ListWatch | SearchWatch;
export type WatchResult<Q extends WatchQuery> = Q extends ListWatch ? ListResult : SearchHit[];

/** A changed memory, its words worked out at most once however many watches look at it. */
export class ChangedMemory {
  private terms: Set<string> | undefined;
  private words: string[] | undefined;

  /** `language`: the namespace's, so that terms are the ones its index holds (default English). */
  constructor(
    readonly memory: Memory,
    private readonly language?: string,
  ) {}

  get indexedTerms(): Set<string> {
    this.terms ??= new Set(tokenize(this.memory.content, this.language));
    return this.terms;
  }

  get unstemmedWords(): string[] {
    if (this.words === undefined) {
      const words: string[] = [];
      analyzerFor(this.language).words(this.memory.content, (word) => words.push(word));
      // The index also keys each CJK run's last character (a one-character query's prefix finds it).
      words.push(...cjkRunEnds(words));
      this.words = words;
    }
    return this.words;
  }
}

/** What a compiled watch reads through: the façade's own `list` and `search`. */
export interface QuerySource {
  list(o: ListOptions): Promise<ListResult>;
  search(q: string, o: SearchOptions): Promise<SearchHit[]>;
}

/**
 * A validated watch query, and the test that lets a watch skip a change: `mayEnter` is false only when
 * the changed memory certainly cannot be among the results (a result that changes is always re-read).
 */
export interface CompiledWatch {
  run(source: QuerySource): Promise<ListResult | SearchHit[]>;
  mayEnter(changed: ChangedMemory, now: string, current: ListResult | SearchHit[] | undefined): boolean;
  /**
   * Whether removing a memory that is not among the results may still alter them: a list page's cursor
   * says whether anything follows it, and the removed memory may have been all that did.
   */
  mayLeave?(id: string, current: ListResult | SearchHit[] | undefined): boolean;
  /**
   * Whether any change of the namespace may re-rank the results (a search with two hits or more: BM25's
   * corpus statistics move with every write). Such a change alone re-runs the query a moment later, once
   * for a burst of them, rather than at once (`RERANK_DELAY_MS` in watch.ts).
   */
  reranksOnAnyChange?(current: ListResult | SearchHit[] | undefined): boolean;
  /**
   * When the first memory after a list page with a next cursor expires (ms; Infinity: never, or no
   * cursor). It may be all that follows the page, and then the cursor goes with it, with no write.
   */
  expiryAfter?(source: QuerySource, current: ListResult | SearchHit[]): Promise<number>;
  /**
   * True when the results are what is valid now (neither `asOf` nor `history`): they change when a
   * memory's `validFrom` or `validTo` passes, with no write.
   */
  followsValidity: boolean;
}

const followsValidity = (options: { asOf?: string; history?: boolean }) =>
  options.asOf === undefined && !options.history;

// Filters this module knows how to evaluate. An option added to the façade's schemas later (and so
// accepted here at once) makes the filter test conservative instead of wrong: it then re-runs.
// `metadata`, `since`, `until`, `asOf` and `history` are judged by matchesFilter like the store's own
// reads; `match` and `explain` never let in a memory that holds no query word.
const FILTERS = ['kind', 'tags', 'tagMode', 'metadata', 'asOf', 'history', 'since', 'until', 'limit'];
const LIST_FILTERS = new Set([...FILTERS, 'cursor']);
const SEARCH_FILTERS = new Set([...FILTERS, 'mode', 'vector', 'match', 'explain']);

const onlyKnown = (options: object, known: Set<string>) =>
  Object.entries(options).every(([key, value]) => value === undefined || known.has(key));

function invalid(field: string, expected: string, got: string): EngramError {
  return new EngramError('VALIDATION', `${field}: expected ${expected}, got ${got}`, { field });
}

const SHAPE = "{ list: { ...listOptions } } or { search: 'words', ...searchOptions }";

/** `mem.search`'s default `limit` (engram.ts): a search watch without one is full at this many hits. */
const SEARCH_DEFAULT_LIMIT = 10;

/** What the façade tells a watch query beyond the query itself. */
export interface WatchContext {
  /** The namespace's index language (default English). */
  language?: string;
  /** True when the memory embeds queries itself, so a vector or hybrid search needs no `vector`. */
  hasEmbedder?: boolean;
}

/**
 * Checks a watch query with the façade's own option schemas, so `watch` accepts exactly what `list`
 * and `search` accept. Throws VALIDATION naming the field.
 */
export function compileWatch(query: unknown, context: WatchContext = {}): CompiledWatch {
  if (typeof query !== 'object' || query === null || Array.isArray(query)) {
    throw invalid(
      'watch.query',
      SHAPE,
      query === null ? 'null' : Array.isArray(query) ? 'an array' : typeof query,
    );
  }
  const hasList = 'list' in query;
  const hasSearch = 'search' in query;
  if (hasList === hasSearch) {
    const keys = Object.keys(query);
    throw invalid('watch.query', SHAPE, keys.length ? `keys ${keys.join(', ')}` : 'an empty object');
  }
  return hasList ? compileList(query as ListWatch) : compileSearch(query as SearchWatch, context);
}

function compileList(query: ListWatch): CompiledWatch {
  for (const key of Object.keys(query)) {
    if (key !== 'list') {
      throw new EngramError('VALIDATION', `watch.${key}: unknown field, a list watch is { list: { ... } }`, {
        field: `watch.${key}`,
      });
    }
  }
  const options = schema.parse(
    schema.listOptionsSchema,
    query.list === undefined ? {} : query.list,
    'watch.list',
  );
  const beforeId = options.cursor ? decodeCursor(options.cursor) : undefined;
  const filtered = onlyKnown(options, LIST_FILTERS);
  return {
    run: (source) => source.list(options),
    mayEnter(changed, now, current) {
      const memory = changed.memory;
      if (filtered) {
        const listQuery = { ...options, tagMode: options.tagMode ?? 'any', beforeId, now, limit: 1 };
        // Not in the list now, but it may have been, after the page: then it may have been all that
        // followed the page, whose cursor must then go.
        if (!matchesListQuery(memory, listQuery)) return followsPage(memory.id, current);
      }
      // A full page (one with a next cursor) only takes memories newer than its last one; with filters
      // this test does not know, an older one may also have left the list, taking the cursor with it.
      return filtered ? !followsPage(memory.id, current) : true;
    },
    mayLeave: (id, current) => followsPage(id, current),
    async expiryAfter(source, current) {
      const cursor = (current as ListResult).cursor;
      if (!cursor) return Number.POSITIVE_INFINITY;
      const [first] = (await source.list({ ...options, cursor, limit: 1 })).items;
      return first?.expiresAt ? Date.parse(first.expiresAt) : Number.POSITIVE_INFINITY;
    },
    followsValidity: followsValidity(options),
  };
}

/** True when `id` sorts after the last memory of a page that has a next cursor. */
function followsPage(id: string, current: ListResult | SearchHit[] | undefined): boolean {
  const page = current as ListResult | undefined;
  const last = page?.items[page.items.length - 1];
  return Boolean(page?.cursor && last && id < last.id);
}

function compileSearch(query: SearchWatch, { language, hasEmbedder }: WatchContext): CompiledWatch {
  const { search, ...rest } = query;
  const text = schema.parse(schema.querySchema, search, 'watch.search');
  const options = schema.parse(schema.searchOptionsSchema, rest, 'watch');
  const mode: SearchMode = options.mode ?? (options.vector ? (text.trim() ? 'hybrid' : 'vector') : 'text');
  if (mode !== 'text' && !options.vector && !hasEmbedder) {
    // Every run would fail the same way: refuse it now, as bad input.
    throw invalid(
      'watch.vector',
      `a query vector for mode '${mode}' (or an embedder given to createMemory)`,
      'nothing',
    );
  }
  let parsed: ParsedQuery | undefined;
  if (mode === 'text') {
    try {
      parsed = parseQuery(text, { language });
    } catch (error) {
      if (!isEngramError(error, 'VALIDATION')) throw error;
      throw new EngramError('VALIDATION', error.message.replace(/^query:/, 'watch.search:'), {
        field: 'watch.search',
      });
    }
  }
  const filtered = onlyKnown(options, SEARCH_FILTERS);
  // Where stems read accents, a word no memory holds is searched as written (typos.ts).
  const asWritten = parsed !== undefined && !analyzerFor(language).termFollowsWord;
  // BM25 weighs every hit by corpus statistics (document count, average length) that any write moves.
  // That can reorder two hits, and at the limit let a memory just below the last hit overtake it: a search
  // with two hits or more (or at its limit) is re-ranked after any change. One hit or none cannot reorder.
  const limit = options.limit ?? SEARCH_DEFAULT_LIMIT;
  const rankedByCorpus = mode !== 'vector';
  const reranks = (current: ListResult | SearchHit[] | undefined) => {
    const hits = (current as SearchHit[] | undefined)?.length ?? 0;
    return rankedByCorpus && (hits >= 2 || hits >= limit);
  };
  return {
    run: (source) => source.search(text, options),
    followsValidity: followsValidity(options),
    reranksOnAnyChange: reranks,
    mayEnter(changed, now, _current) {
      if (filtered && !matchesFilter(changed.memory, { ...options, tagMode: options.tagMode ?? 'any', now }))
        return false;
      // Vector and hybrid searches rank every embedded memory: any of them may enter.
      return parsed ? holdsPositiveTerm(parsed, changed, asWritten, language) : true;
    },
  };
}

/**
 * A text hit holds at least one positive term, prefix or phrase word, so a memory holding none cannot
 * enter. Prefixes are tried on the words as written, as the index matches them.
 */
function holdsPositiveTerm(
  parsed: ParsedQuery,
  changed: ChangedMemory,
  asWritten: boolean,
  language: unknown,
): boolean {
  const terms = changed.indexedTerms;
  // A verb's form may be a word key (`~ate`, see Analyzer.otherForms): the word as written.
  const held = (t: string) =>
    t.startsWith(WORD_MARK) ? changed.unstemmedWords.includes(t.slice(WORD_MARK.length)) : terms.has(t);
  for (const clause of parsed.clauses) {
    if (clause.kind === 'term' && terms.has(clause.term)) return true;
    if (clause.kind === 'phrase' && clause.terms.every((t) => terms.has(t))) return true;
    if (clause.kind === 'forms' && clause.terms.some(held)) return true;
    if (clause.kind === 'prefix') {
      // The clause's prefix is a word key's (WORD_MARK first): it matches the words as written.
      const prefix = clause.prefix.slice(WORD_MARK.length);
      if (changed.unstemmedWords.some((word) => word.startsWith(prefix))) return true;
    }
  }
  // A prefix typed as a Thai (…) run may be read from any of its words on, those before then being terms
  // (run-prefixes.ts): a memory holding what any reading asks may enter.
  for (const run of parsed.runPrefixes) {
    for (const { words, prefix } of runReadings(run)) {
      if (changed.unstemmedWords.some((word) => (WORD_MARK + word).startsWith(prefix))) return true;
      if (words.some(({ term }) => terms.has(term))) return true;
    }
  }
  // A word the namespace lacks is searched one edit away (typos.ts): a memory holding such a word may enter.
  // Where stems read accents, it is first searched as written: a memory holding the word itself may too.
  for (const { word } of parsed.correctable) {
    if (asWritten && changed.unstemmedWords.includes(word)) return true;
    const length = [...word].length;
    if (length < TYPO_MIN_LENGTH || length > TYPO_MAX_LENGTH) continue;
    if (changed.unstemmedWords.some(typoCorrectionOf(word, language))) return true;
  }
  return false;
}
