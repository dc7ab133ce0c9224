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
 * Candidates named by the store's document numbers, given best first by score (equal scores in any
 * order), and named only as they are handed out, `resolve` being called once per batch with the numbers
 * and how many of them are wanted now. Equal scores order by id, descending, so a batch always runs to
 * the end of the score it stops at: a batch of 10 whose 10th candidate ties with 200 others resolves all
 * 210 and sorts them, and whatever follows scores strictly less. Numbers that `resolve` leaves out
 * (memories deleted since the postings were read) are dropped.
 */
export function resolvingSource<C extends Scored<number>>(
  ordered: Iterator<C>,
  resolve: (docs: number[], wanted: number) => Promise<Map<number, DocName>>,
): CandidateSource<Omit<C, 'id'> & DocName> {
  type Named = Omit<C, 'id'> & DocName;
  let pending = ordered.next();
  const ready: Named[] = [];
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
      for (const candidate of batch) {
        const name = names.get(candidate.id);
        if (name !== undefined) named.push({ ...candidate, ...name });
      }
      named.sort(compareCandidates);
      for (const candidate of named) ready.push(candidate);
    }
    return ready.splice(0, count);
  };
}
