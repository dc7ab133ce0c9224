import type { SqlDialect } from './dialect.js';
import type { SqlQueries } from './executor.js';
import {
  type PendingBlock,
  type PendingState,
  removeMergedPending,
  writeMerged,
} from './pending-postings.js';
import { BLOCK_DOCS, type Triples } from './posting-blocks.js';

/** The namespace row as a batch left it: where the pending list starts, how many batches, the next number. */
export interface PendingAfter extends PendingState {
  docnos: number;
}

interface Entry {
  after: PendingAfter;
  /** The pending list's batches, oldest first, each as its blocks in key order (term, group). */
  batches: readonly (readonly PendingBlock[])[];
  postings: number;
}

/**
 * At most this many postings are kept, over all namespaces (24 bytes each, 12 MiB, and about as much again
 * for the blocks' objects), the namespace written longest ago dropped first: a group of 4096 documents of
 * about 70 postings each fits.
 */
const MAX_POSTINGS = 1 << 19;

/**
 * What this process wrote to each namespace's pending list (pending-postings.ts), so that the merge when a
 * group fills need not read the rows back nor decode them: a push of 10,000 memories merged twice, about
 * 2.6 MB read back and decoded into 120,000 (term, group) pieces sorted again. An entry holds the batches'
 * blocks as they were inserted, with the namespace row (`docnos`, `merged`, `pending`) as the last of them
 * left it, and is used only when the row, read under the namespace's lock, still says exactly that:
 * `docnos` only grows, every batch with new documents moves it, and every merge resets `pending` and moves
 * `merged`, so another writer (another process, or a transaction of this one) having touched the list
 * since shows as a different row, and the rows are read as before. An entry is replaced only after its
 * transaction committed (`stage`'s callback, run by SqlStore.apply).
 */
export class PendingBatches {
  private readonly entries = new Map<string, Entry>();
  private postings = 0;

  /** The batches pending in `namespace` if this cache knows them all for the row `state`; [] when none are. */
  find(namespace: string, state: PendingAfter): readonly (readonly PendingBlock[])[] | undefined {
    if (state.pending === 0) return [];
    const entry = this.entries.get(namespace);
    const after = entry?.after;
    if (after === undefined || after.docnos !== state.docnos) return undefined;
    return after.merged === state.merged && after.pending === state.pending ? entry!.batches : undefined;
  }

  /** What to do once the transaction commits: remember `batches` (undefined: unknown) as the row `after`. */
  stage(
    namespace: string,
    after: PendingAfter,
    batches: readonly (readonly PendingBlock[])[] | undefined,
  ): () => void {
    return () => this.set(namespace, batches && { after, batches, postings: countPostings(batches) });
  }

  /** Drops what is known of `namespace` (a write that rewrites blocks directly). */
  forget(namespace: string): void {
    this.set(namespace, undefined);
  }

  private set(namespace: string, entry: Entry | undefined): void {
    const old = this.entries.get(namespace);
    if (old !== undefined) {
      this.entries.delete(namespace);
      this.postings -= old.postings;
    }
    if (entry === undefined || entry.postings > MAX_POSTINGS) return;
    this.entries.set(namespace, entry);
    this.postings += entry.postings;
    for (const [name, oldest] of this.entries) {
      if (this.postings <= MAX_POSTINGS) break;
      this.entries.delete(name);
      this.postings -= oldest.postings;
    }
  }
}

/** Postings per batch, counted once: an entry is replaced by one batch longer after every write. */
const counted = new WeakMap<readonly PendingBlock[], number>();

function countPostings(batches: readonly (readonly PendingBlock[])[]): number {
  let postings = 0;
  for (const batch of batches) {
    let count = counted.get(batch);
    if (count === undefined) {
      count = 0;
      for (const block of batch) count += block.added.length / 3;
      counted.set(batch, count);
    }
    postings += count;
  }
  return postings;
}

/**
 * mergePending over batches this process knows (PendingBatches) instead of the rows read back: the same
 * blocks, bytes and pending rows, as each block's postings are the same triples in the same order.
 */
export async function mergeKnownPending(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  state: PendingState,
  boundary: number,
  known: readonly (readonly PendingBlock[])[],
  batch: readonly PendingBlock[],
): Promise<{ after: PendingState; rest: PendingBlock[] }> {
  if (state.pending > 0) await removeMergedPending(db, dialect, namespace);
  const below: PendingBlock[] = [];
  const rest: PendingBlock[] = [];
  for (const block of mergeBatches([...known, batch])) {
    (block.grp * BLOCK_DOCS < boundary ? below : rest).push(block);
  }
  await writeMerged(db, dialect, namespace, state, below, rest);
  return { after: { merged: boundary, pending: rest.length > 0 ? 1 : 0 }, rest };
}

/** A (term, group) in the batches being merged: its postings in each batch holding it, in batch order. */
interface Gathered {
  term: string;
  grp: number;
  parts: Triples[];
}

/**
 * The blocks of batches each in key order, as one list in key order; a (term, group) in several batches
 * gets their postings one after another, in batch order (which is document order). Merged two lists at
 * a time, so no sort of every block again; each block's postings are copied once, at the end.
 */
export function mergeBatches(batches: readonly (readonly PendingBlock[])[]): PendingBlock[] {
  let lists: Gathered[][] = batches
    .filter((batch) => batch.length > 0)
    .map((batch) => batch.map(({ term, grp, added }) => ({ term, grp, parts: [added] })));
  while (lists.length > 1) {
    const next: Gathered[][] = [];
    for (let i = 0; i < lists.length; i += 2) {
      next.push(i + 1 < lists.length ? mergeTwo(lists[i]!, lists[i + 1]!) : lists[i]!);
    }
    lists = next;
  }
  return (lists[0] ?? []).map(({ term, grp, parts }) => ({
    term,
    grp,
    added: parts.length === 1 ? parts[0]! : joinTriples(parts),
  }));
}

function mergeTwo(a: readonly Gathered[], b: readonly Gathered[]): Gathered[] {
  const out: Gathered[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    // Batches share most terms, as the same string: compared by identity first.
    const order = x.term === y.term ? x.grp - y.grp : x.term < y.term ? -1 : 1;
    if (order < 0) {
      out.push(x);
      i++;
    } else if (order > 0) {
      out.push(y);
      j++;
    } else {
      for (const part of y.parts) x.parts.push(part);
      out.push(x);
      i++;
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

function joinTriples(parts: readonly Triples[]): Float64Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Float64Array(length);
  let at = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) out[at + i] = part[i]!;
    at += part.length;
  }
  return out;
}
