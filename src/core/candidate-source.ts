import { bestFirst } from './best-first.js';
import type { MemoryRecord } from './store-contract.js';
import { compareCandidates } from './text/index.js';

/** Hands out ranked candidates best first, `count` at a time; fewer only once none are left. */
export type CandidateSource<C> = (count: number) => Promise<C[]>;

interface Scored<K> {
  id: K;
  score: number;
}

/** Candidates already named by id: ordered only as far as they are read (see best-first.ts). */
export function listSource<C extends Scored<string>>(candidates: C[]): CandidateSource<C> {
  const ordered = bestFirst(candidates, compareCandidates);
  return async (count) => {
    const out: C[] = [];
    while (out.length < count) {
      const next = ordered.next();
      if (next.done) break;
      out.push(next.value);
    }
    return out;
  };
}

/** What a store tells of a document number: its id, and its record when it was read in the same step. */
export interface DocName {
  id: string;
  record?: MemoryRecord;
}

/**
 * A candidate the store turned down unread (`docMemories` with a `LiveFilter`): it counts as examined and
 * rejected, like one read and failing the filter, so the read-ahead still sees the filter's true rate.
 */
export const REJECTED: unique symbol = Symbol('rejected');

/**
 * Candidates named by the store's document numbers, given best first by score (equal scores in any
 * order), and named only as they are handed out, `resolve` being called once per batch with the numbers
 * and how many of them are wanted now. Equal scores order by id, descending, so a batch always runs to
 * the end of the score it stops at: a batch of 10 whose 10th candidate ties with 200 others resolves all
 * 210 and sorts them, and whatever follows scores strictly less. Numbers that `resolve` leaves out
 * (memories deleted since the postings were read) are dropped; those it names `REJECTED` are handed out
 * as such in their place by score (after the named ones of an equal score: they have no id to sort by),
 * so that a search counts as examined the candidates it really passed over.
 */
export function resolvingSource<C extends Scored<number>>(
  ordered: Iterator<C>,
  resolve: (docs: number[], wanted: number) => Promise<Map<number, DocName | typeof REJECTED>>,
): CandidateSource<(Omit<C, 'id'> & DocName) | typeof REJECTED> {
  type Named = Omit<C, 'id'> & DocName;
  let pending = ordered.next();
  const ready: Array<Named | typeof REJECTED> = [];
  return async (count) => {
    while (ready.length < count && !pending.done) {
      const batch: C[] = [];
      const wanted = count - ready.length;
      while (!pending.done && (batch.length < wanted || pending.value.score === batch.at(-1)!.score)) {
        batch.push(pending.value);
        pending = ordered.next();
      }
      const names = await resolve(
        batch.map((c) => c.id),
        wanted,
      );
      const named: Named[] = [];
      const rejected: number[] = [];
      for (const candidate of batch) {
        const name = names.get(candidate.id);
        if (name === REJECTED) rejected.push(candidate.score);
        else if (name !== undefined) named.push({ ...candidate, ...name });
      }
      named.sort(compareCandidates);
      // The rejected scores come best first, as the batch did: each goes after the named ones scoring as much.
      let next = 0;
      for (const candidate of named) {
        for (; next < rejected.length && rejected[next]! > candidate.score; next++) ready.push(REJECTED);
        ready.push(candidate);
      }
      for (; next < rejected.length; next++) ready.push(REJECTED);
    }
    return ready.splice(0, count);
  };
}
