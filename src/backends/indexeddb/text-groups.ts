import type { TermBlockRow, TextGroupRow } from './schema.js';

/**
 * The inverted index is kept in groups of up to GROUP_DOCS memories. A group is one document table
 * (ids and lengths) plus its postings cut by term range into blocks of about BLOCK_POSTINGS, so a bulk
 * write of 1000 memories costs a handful of index rows instead of one per posting, and a search reads
 * one block per group and term. Groups are small enough to be rewritten whole when they change.
 */
export const GROUP_DOCS = 512;
const BLOCK_POSTINGS = 4096;

/** Ids cannot contain spaces (see core's id rules), nor can terms (they are letters and digits). */
const SEPARATOR = ' ';

export interface GroupDoc {
  id: string;
  length: number;
  terms: Map<string, number>;
}

export function splitIds(table: TextGroupRow): string[] {
  return table.ids === '' ? [] : table.ids.split(SEPARATOR);
}

/** Calls `visit` with each term of a block and the [start, end) span of its postings. */
export function forEachTerm(
  block: TermBlockRow,
  visit: (term: string, start: number, end: number) => void,
): void {
  let start = 0;
  block.terms.split(SEPARATOR).forEach((term, i) => {
    const end = block.ends[i]!;
    visit(term, start, end);
    start = end;
  });
}

/** The documents of a stored group, each with its term frequencies: the form edits are made in. */
export function decodeGroup(table: TextGroupRow, blocks: readonly TermBlockRow[]): GroupDoc[] {
  const docs = splitIds(table).map((id, slot) => ({
    id,
    length: table.lengths[slot]!,
    terms: new Map<string, number>(),
  }));
  for (const block of blocks) {
    forEachTerm(block, (term, start, end) => {
      for (let i = start; i < end; i++) docs[block.slots[i]!]!.terms.set(term, block.tfs[i]!);
    });
  }
  return docs;
}

/** A group's rows: its table and its blocks keyed by first term (the first block by '', so it covers every term). */
export function encodeGroup(docs: readonly GroupDoc[]): {
  table: TextGroupRow;
  blocks: Map<string, TermBlockRow>;
} {
  const postings = new Map<string, number[]>();
  docs.forEach((doc, slot) => {
    for (const [term, tf] of doc.terms) {
      const list = postings.get(term);
      if (list) list.push(slot, tf);
      else postings.set(term, [slot, tf]);
    }
  });
  const blocks = new Map<string, TermBlockRow>();
  let pending: string[] = [];
  let size = 0;
  const emit = () => {
    blocks.set(blocks.size === 0 ? '' : pending[0]!, encodeBlock(pending, postings, size));
    pending = [];
    size = 0;
  };
  for (const term of [...postings.keys()].sort()) {
    pending.push(term);
    size += postings.get(term)!.length / 2;
    if (size >= BLOCK_POSTINGS) emit();
  }
  if (pending.length > 0) emit();
  const table = {
    ids: docs.map((d) => d.id).join(SEPARATOR),
    lengths: Uint32Array.from(docs, (d) => d.length),
  };
  return { table, blocks };
}

function encodeBlock(terms: string[], postings: Map<string, number[]>, size: number): TermBlockRow {
  const ends = new Uint32Array(terms.length);
  const slots = new Uint16Array(size);
  const tfs = new Uint32Array(size);
  let at = 0;
  terms.forEach((term, i) => {
    const list = postings.get(term)!;
    for (let j = 0; j < list.length; j += 2) {
      slots[at] = list[j]!;
      tfs[at] = list[j + 1]!;
      at++;
    }
    ends[i] = at;
  });
  return { terms: terms.join(SEPARATOR), ends, slots, tfs };
}
