import { indexText } from '../../core/text/index.js';
import { putVarint, VarintReader } from '../varint.js';

/**
 * The text index as posting blocks. Each memory gets a document number (`engram_memories.doc`, counted
 * per namespace in `engram_namespaces.docnos`); documents are grouped by number, BLOCK_DOCS to a group,
 * and one row of `engram_postings` holds one term's postings within one group, packed in a blob. So:
 * - a posting costs two or three bytes instead of a row repeating the namespace, the term and the id;
 * - a bulk add writes one row per term of the batch, not one per (term, memory);
 * - new memories only ever reach the newest group, and an edit or a delete rewrites the rows of its own.
 * SQLite's FTS4 and Postgres' GIN store their postings the same way (per term, compressed); neither lets
 * us keep core's scoring (BM25 over the exact tf and length of every posting), hence this small codec.
 */
export const BLOCK_DOCS = 4096;

export const blockOf = (doc: number): number => Math.floor(doc / BLOCK_DOCS);

/** One posting of a block: the document number, the term's count in it and the document's length. */
export interface BlockPosting {
  doc: number;
  tf: number;
  len: number;
}

/**
 * The index entries of one text in the namespace's language (loaded by the caller): its length and each
 * term's count (the single call to indexText here).
 */
export function textPostings(
  content: string,
  language: unknown,
): { length: number; terms: Map<string, number> } {
  return indexText(content, language);
}

/**
 * Postings sorted by document, each as putPosting writes it. `after` is the document the first delta
 * counts from: 0 for a whole block, the last document of a block that the result is appended to.
 */
export function encodeBlock(postings: readonly BlockPosting[], after = 0): Uint8Array {
  const triples: number[] = [];
  for (const { doc, tf, len } of postings) triples.push(doc, tf, len);
  return encodeTriples(triples, after);
}

/** Postings laid flat as (doc, tf, len) triples, in document order: no object per posting (bulk writes). */
export type Triples = ArrayLike<number>;

/**
 * Writes one posting at `at` and returns where the next goes (at most 24 bytes): the document's delta from
 * the one before, doubled, plus one when the term occurs more than once (then that count follows), then the
 * document's length. A term occurs once in 97% of postings (the bench corpus), so the count mostly costs
 * no byte of its own: a posting takes 2.6 bytes instead of 3.5 (schema v16; before, three varints).
 * A delta below 64 still takes one byte; a group holds 4096 documents, so any delta within it at most two.
 */
export function putPosting(out: Uint8Array, at: number, delta: number, tf: number, len: number): number {
  if (tf === 1) {
    at = putVarint(out, at, delta * 2);
  } else {
    at = putVarint(out, at, delta * 2 + 1);
    at = putVarint(out, at, tf);
  }
  return putVarint(out, at, len);
}

/**
 * Writes (doc, tf, len) triples as postings at `at` (putPosting), each doc as the delta from the one before
 * (`after` before the first); returns where they end. `out` needs 24 bytes a posting.
 */
export function putTriples(out: Uint8Array, at: number, triples: Triples, after: number): number {
  let previous = after;
  for (let i = 0; i < triples.length; i += 3) {
    const doc = triples[i]!;
    at = putPosting(out, at, doc - previous, triples[i + 1]!, triples[i + 2]!);
    previous = doc;
  }
  return at;
}

/** `encodeBlock` of postings laid flat as (doc, tf, len) triples. */
export function encodeTriples(triples: Triples, after = 0): Uint8Array {
  const out = new Uint8Array(triples.length * 8);
  return out.slice(0, putTriples(out, 0, triples, after));
}

/** Calls `visit` with each posting of a block, in document order. */
export function forEachPosting(
  bytes: Uint8Array,
  visit: (doc: number, tf: number, len: number) => void,
): void {
  const reader = new VarintReader(bytes);
  let doc = 0;
  while (!reader.done) {
    const head = reader.next();
    doc += Math.floor(head / 2);
    const tf = head % 2 === 0 ? 1 : reader.next();
    visit(doc, tf, reader.next());
  }
}

/** Parallel arrays a search decodes blocks into (see `decodeInto`). */
export interface PostingArrays {
  docs: Float64Array;
  tfs: Uint32Array;
  lengths: Uint32Array;
}

/**
 * Decodes a block into `into` from index `at` on and returns the index after its last posting: a loop
 * without a call per posting, as a search decodes tens of thousands. A posting takes at least two
 * bytes, so arrays with half of the blocks' bytes have room.
 */
export function decodeInto(bytes: Uint8Array, into: PostingArrays, at: number): number {
  const { docs, tfs, lengths } = into;
  let read = 0;
  let doc = 0;
  // What the next varint is: 0 the head (delta and flag), 1 the count, 2 the length.
  let field = 0;
  let value = 0;
  let scale = 1;
  while (read < bytes.length) {
    const byte = bytes[read++]!;
    value += (byte & 0x7f) * scale;
    if (byte >= 0x80) {
      scale *= 0x80;
      continue;
    }
    if (field === 0) {
      const flag = value % 2;
      doc += (value - flag) / 2;
      docs[at] = doc;
      if (flag === 0) {
        tfs[at] = 1;
        field = 2;
      } else {
        field = 1;
      }
    } else if (field === 1) {
      tfs[at] = value;
      field = 2;
    } else {
      lengths[at++] = value;
      field = 0;
    }
    value = 0;
    scale = 1;
  }
  return at;
}

export function decodeBlock(bytes: Uint8Array): BlockPosting[] {
  const out: BlockPosting[] = [];
  forEachPosting(bytes, (doc, tf, len) => out.push({ doc, tf, len }));
  return out;
}

/** The last document of a block (-1 when empty), without building its postings. */
export function lastDoc(bytes: Uint8Array): number {
  let last = -1;
  forEachPosting(bytes, (doc) => {
    last = doc;
  });
  return last;
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
