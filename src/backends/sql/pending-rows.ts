import { bytesToBase64 } from '../../core/base64.js';
import { putVarint, VarintReader } from '../varint.js';
import type { SqlDialect } from './dialect.js';
import type { SqlQueries } from './executor.js';
import { blockOf, putTriples, type Triples } from './posting-blocks.js';

/** Scratch for a length varint: used and read synchronously, so one serves every writer. */
const LENGTH = new Uint8Array(8);

/**
 * Rows of postings bytes for Postgres, written into one byte array and sent as one bytea parameter that
 * the statement cuts into rows (`substring`): no array per row nor hex string per row in JS, and no JSON
 * to build and parse (BulkWriter's insertRows), which a push of 10,000 memories spent most of its
 * allocation on. The driver turns the one parameter into hex natively.
 */
export class PackedRows {
  bytes: Uint8Array;
  at = 0;
  /** Where each row starts in `bytes` (1-based, as `substring` counts) and its length. */
  readonly starts: number[] = [];
  readonly sizes: number[] = [];
  private rowStart = 0;
  private readonly encoder = new TextEncoder();

  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(capacity, 64));
  }

  /** Makes room for `count` more bytes. */
  reserve(count: number): void {
    if (this.at + count <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.at + count));
    grown.set(this.bytes.subarray(0, this.at));
    this.bytes = grown;
  }

  varint(value: number): void {
    this.reserve(8);
    this.at = putVarint(this.bytes, this.at, value);
  }

  /** The UTF-8 bytes of `text`, preceded by their length as a varint. */
  sizedText(text: string): void {
    this.reserve(8 + text.length * 3);
    let ascii = true;
    for (let i = 0; i < text.length && ascii; i++) ascii = text.charCodeAt(i) < 0x80;
    if (ascii) {
      this.at = putVarint(this.bytes, this.at, text.length);
      for (let i = 0; i < text.length; i++) this.bytes[this.at++] = text.charCodeAt(i);
      return;
    }
    const body = this.startSized();
    this.at += this.encoder.encodeInto(text, this.bytes.subarray(body)).written;
    this.endSized(body);
  }

  /**
   * (doc, tf, len) triples as postings, doc as the delta from the previous (`after` before the first);
   * returns the last document. What encodeTriples writes, without its array.
   */
  triples(triples: Triples, after: number): number {
    this.reserve(triples.length * 8);
    this.at = putTriples(this.bytes, this.at, triples, after);
    return triples.length > 0 ? triples[triples.length - 3]! : after;
  }

  /**
   * A block's postings, doc deltas counted from `after`: its pieces of pending rows, whose bytes are copied
   * but for each first posting's head, then its triples. Returns the last document.
   */
  postings(block: MergingBlock | { added: Triples }, after: number): number {
    let previous = after;
    for (const piece of 'pieces' in block ? block.pieces : NO_PIECES) {
      this.varint((piece.first - previous) * 2 + piece.countFollows);
      const size = piece.to - piece.from;
      this.reserve(size);
      const { data } = piece;
      for (let i = piece.from; i < piece.to; i++) this.bytes[this.at++] = data[i]!;
      previous = piece.last;
    }
    return this.triples(block.added, previous);
  }

  /** Starts a length-prefixed part and returns where its bytes begin: write them, then `endSized(body)`. */
  startSized(): number {
    // Two bytes are kept for the length (a term's or a block's mostly needs one or two); endSized moves
    // the bytes when it needs another number.
    this.reserve(2);
    this.at += 2;
    return this.at;
  }

  /** Puts the varint length of the bytes from `body` to here just before them. */
  endSized(body: number): void {
    const size = this.at - body;
    const width = putVarint(LENGTH, 0, size);
    if (width !== 2) {
      this.reserve(width);
      this.bytes.copyWithin(body - 2 + width, body, this.at);
    }
    // Byte by byte: a view of LENGTH per entry showed in the push's allocation profile.
    for (let i = 0; i < width; i++) this.bytes[body - 2 + i] = LENGTH[i]!;
    this.at = body - 2 + width + size;
  }

  /** Ends the current row at the current position. */
  endRow(): void {
    this.starts.push(this.rowStart + 1);
    this.sizes.push(this.at - this.rowStart);
    this.rowStart = this.at;
  }

  get rows(): number {
    return this.starts.length;
  }

  /** The bytes of every row, as one parameter. */
  data(): Uint8Array {
    return this.bytes.subarray(0, this.at);
  }
}

/**
 * A run of one term's postings within one group, in a pending row's bytes: `first` and `last` are its
 * first and last documents; `data[from, to)` is all of it but the first posting's head (its delta and
 * flag, putPosting), whose flag is `countFollows` (1 when a count follows, else 0). Copied rather than
 * decoded, a merge moves postings into blocks without an array of them.
 */
export interface PostingPiece {
  data: Uint8Array;
  first: number;
  last: number;
  countFollows: number;
  from: number;
  to: number;
}

/** One (term, group) a merge writes: pending pieces, then a batch's triples, in document order. */
export interface MergingBlock {
  term: string;
  grp: number;
  pieces: PostingPiece[];
  added: Triples;
}

export const NO_TRIPLES: Triples = [];
const NO_PIECES: readonly PostingPiece[] = [];

/** The first document of a block's postings. */
export function firstDoc(block: MergingBlock | { added: Triples }): number {
  return 'pieces' in block && block.pieces.length > 0 ? block.pieces[0]!.first : block.added[0]!;
}

/** About how many bytes a block's postings take (a guess to size PackedRows, not a bound). */
export function byteEstimate(block: { term: string; added: Triples } | MergingBlock): number {
  let bytes = block.term.length + block.added.length + 4;
  if ('pieces' in block) for (const piece of block.pieces) bytes += piece.to - piece.from + 2;
  return bytes;
}

/** Calls `visit` with each entry of a pending row, in term order: the term's UTF-8 bytes and its postings. */
export function forEachEntry(
  data: Uint8Array,
  visit: (name: Uint8Array, postings: Uint8Array) => void,
): void {
  const reader = new VarintReader(data);
  while (!reader.done) {
    const nameLength = reader.next();
    const name = data.subarray(reader.at, reader.at + nameLength);
    reader.at += nameLength;
    const length = reader.next();
    visit(name, data.subarray(reader.at, reader.at + length));
    reader.at += length;
  }
}

/**
 * Reads a pending row's entries into pieces, one per term and group, handed to the block
 * `blockOfTerm(term, grp)` returns.
 */
export function readPendingRow(
  data: Uint8Array,
  blockOfTerm: (term: string, grp: number) => MergingBlock,
): void {
  forEachEntry(data, (name, postings) => {
    const term = termName(name);
    const reader = new VarintReader(postings);
    let doc = 0;
    let grp = -1;
    let piece: PostingPiece | undefined;
    while (!reader.done) {
      const start = reader.at;
      const head = reader.next();
      const countFollows = head % 2;
      doc += (head - countFollows) / 2;
      if (blockOf(doc) !== grp) {
        grp = blockOf(doc);
        if (piece !== undefined) piece.to = start;
        piece = { data: postings, first: doc, last: doc, countFollows, from: reader.at, to: postings.length };
        blockOfTerm(term, grp).pieces.push(piece);
      }
      if (countFollows === 1) reader.next();
      reader.next();
      piece!.last = doc;
    }
  });
}

const UTF8_DECODER = new TextDecoder();

/** A pending row's entry name as a string: ASCII, the common case, without a decoder call. */
export function termName(name: Uint8Array): string {
  for (let i = 0; i < name.length; i++) if (name[i]! >= 0x80) return UTF8_DECODER.decode(name);
  return String.fromCharCode.apply(null, name as unknown as number[]);
}

/** Posting blocks to insert, packed: each block's postings encoded after the last document it holds. */
export class BlockRows {
  readonly terms: string[] = [];
  readonly groups: number[] = [];
  readonly packed: PackedRows;

  constructor(count: number) {
    this.packed = new PackedRows(count * 16);
  }

  add(block: MergingBlock | { term: string; grp: number; added: Triples }, after: number): void {
    this.packed.postings(block, after);
    this.packed.endRow();
    this.terms.push(block.term);
    this.groups.push(block.grp);
  }
}

/** A Postgres int[] literal. */
export const intArray = (values: readonly number[]): string => `{${values.join(',')}}`;

/** A Postgres text[] literal: every element quoted, so commas, braces and quotes inside stay data. */
export function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

/**
 * The packed rows' bytes, sent as base64 text and decoded once (`OFFSET 0` keeps the planner from
 * inlining the subquery, which would decode them again for every row): postgres.js binds every
 * parameter as text, and a bytea as hex after copying it, twice its size on the wire and in the
 * server's parser; base64 is 4/3 of it and Node writes it from the bytes without a copy.
 */
const PACKED_BYTES = `(SELECT decode(?::text, 'base64') AS bytes OFFSET 0) AS p`;

/**
 * Inserts the pending rows of one batch: (namespace, bucket, first) with each packed row as `data`.
 * `buckets` holds one name per packed row.
 */
export async function insertPackedPending(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  first: number,
  buckets: readonly string[],
  packed: PackedRows,
): Promise<void> {
  const sql = `INSERT INTO engram_pending (ns, bucket, first, data)
    SELECT ?::text, r.bucket, ?::bigint, substring(p.bytes FROM r.start FOR r.size)
    FROM ${PACKED_BYTES}, unnest(?::text[], ?::int[], ?::int[]) AS r(bucket, start, size)`;
  await db.run(dialect.native(sql), [
    namespace,
    first,
    bytesToBase64(packed.data()),
    textArray(buckets),
    intArray(packed.starts),
    intArray(packed.sizes),
  ]);
}

/** Inserts posting blocks (term, group) with each packed row as `data`; `conflict` as in BulkWriter. */
export async function insertPackedBlocks(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  terms: readonly string[],
  groups: readonly number[],
  packed: PackedRows,
  conflict = '',
): Promise<void> {
  if (packed.rows === 0) return;
  const sql = `INSERT INTO engram_postings (ns, term, grp, data)
    SELECT ?::text, r.term, r.grp, substring(p.bytes FROM r.start FOR r.size)
    FROM ${PACKED_BYTES}, unnest(?::text[], ?::bigint[], ?::int[], ?::int[]) AS r(term, grp, start, size)${conflict}`;
  await db.run(dialect.native(sql), [
    namespace,
    bytesToBase64(packed.data()),
    textArray(terms),
    intArray(groups),
    intArray(packed.starts),
    intArray(packed.sizes),
  ]);
}
