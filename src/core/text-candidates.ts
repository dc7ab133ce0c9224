import {
  type CandidateSource,
  type DocName,
  listSource,
  REJECTED,
  resolvingSource,
} from './candidate-source.js';
import { readCorrected, someReturnable, statsAndDocPostings } from './corrected-read.js';
import { textExplanation } from './explain.js';
import { compareIdsDesc, type MemoryFilter } from './filter.js';
import type { Explanation } from './model.js';
import type { LiveFilter, MemoryStore, SearchRequest, TextIndex } from './store-contract.js';
import { type Candidate, type ParsedQuery, rankDocumentNumbers, scoreDocuments } from './text/index.js';

/** Stores that number their documents rank on numbers and name only what a search returns. */
export type DocNumbered = MemoryStore & Required<Pick<MemoryStore, 'docPostings' | 'docIds'>>;

const numbersDocuments = (store: MemoryStore): store is DocNumbered =>
  store.docPostings !== undefined && store.docIds !== undefined;

/**
 * Names a batch of candidates. Most batches are about what is wanted (ties at the boundary add a few):
 * reading their records now saves the separate read `takeAccepted` would make, and the store may turn
 * down those expired or not valid without decoding them (`live`): a number it then leaves out is rejected,
 * as its record would be (or it is gone, which rejects it too). A batch swollen by a large tie is only
 * named, so that only the records handed out are read.
 */
async function nameDocuments(
  store: DocNumbered,
  namespace: string,
  docs: number[],
  wanted: number,
  live: LiveFilter | undefined,
): Promise<Map<number, DocName | typeof REJECTED>> {
  const out = new Map<number, DocName | typeof REJECTED>();
  if (store.docMemories && docs.length <= 2 * wanted + 8) {
    const records = await store.docMemories(namespace, docs, live);
    for (const doc of docs) {
      const record = records.get(doc);
      if (record !== undefined) out.set(doc, { id: record.memory.id, record });
      else if (live !== undefined) out.set(doc, REJECTED);
    }
  } else {
    for (const [doc, id] of await store.docIds(namespace, docs)) out.set(doc, { id });
  }
  return out;
}

type TextCandidate = (Candidate & { explain?: Explanation }) | typeof REJECTED;

/** A text search's ranked candidates, and how to tell whether a memory it may return holds a word. */
export interface TextCandidates {
  source: CandidateSource<TextCandidate>;
  /** See `CorrectedRead.held`. */
  held: string[];
  heldReturnably(term: string, filter: MemoryFilter): Promise<boolean>;
}

/** Ranked candidates with their explanations, each made when it is taken. */
function* explaining<K extends string | number>(ranked: Iterable<Candidate<K>>) {
  for (const candidate of ranked) yield { ...candidate, explain: textExplanation(candidate.parts ?? []) };
}

/** The query's candidates with their scores (and explanations), best first as `takeAccepted` reads them. */
export async function textCandidates(
  store: MemoryStore & TextIndex,
  namespace: string,
  parsed: ParsedQuery,
  request: SearchRequest,
  language: string,
  live: LiveFilter | undefined,
  unheld: ReadonlySet<string>,
): Promise<TextCandidates> {
  const options = { match: request.match, explain: request.explain };
  if (numbersDocuments(store)) {
    const [stats, { query, found, held }] = await statsAndDocPostings(
      store,
      namespace,
      parsed,
      language,
      unheld,
    );
    const ranked = rankDocumentNumbers(query, found, stats, options);
    const source = resolvingSource(request.explain ? explaining(ranked) : ranked, (docs, wanted) =>
      nameDocuments(store, namespace, docs, wanted, live),
    );
    const heldReturnably = (term: string, filter: MemoryFilter) => {
      const docs = found.flatMap((list) => (list.term === term ? Array.from(list.docs) : []));
      return someReturnable(
        docs.sort((a, b) => b - a),
        async (page) =>
          store.docMemories
            ? (await store.docMemories(namespace, page, live)).values()
            : store.getMemories(namespace, [...(await store.docIds(namespace, page)).values()]),
        filter,
      );
    };
    return { source, held, heldReturnably };
  }
  const [stats, { query, found, held }] = await Promise.all([
    store.textStats(namespace),
    readCorrected(parsed, language, (terms, prefixes) => store.postings(namespace, terms, prefixes), unheld),
  ]);
  const scored = scoreDocuments(query, found, stats, options);
  const heldReturnably = (term: string, filter: MemoryFilter) => {
    const ids = [...new Set(found.flatMap((posting) => (posting.term === term ? [posting.id] : [])))];
    return someReturnable(ids.sort(compareIdsDesc), (page) => store.getMemories(namespace, page), filter);
  };
  return { source: listSource(request.explain ? [...explaining(scored)] : scored), held, heldReturnably };
}
