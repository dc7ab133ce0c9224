import type { SqlDialect } from './dialect.js';
import type { SqlQueries } from './executor.js';
import { putVarint } from './posting-blocks.js';

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
   * (doc, tf, len) triples as varints, doc as the delta from the previous (`after` before the first);
   * returns the last document. What encodeTriples writes, without its array.
   */
  triples(triples: readonly number[], after: number): number {
    this.reserve(triples.length * 8);
    const out = this.bytes;
    let at = this.at;
    let previous = after;
    for (let i = 0; i < triples.length; i += 3) {
      const doc = triples[i]!;
      at = putVarint(out, at, doc - previous);
      at = putVarint(out, at, triples[i + 1]!);
      at = putVarint(out, at, triples[i + 2]!);
      previous = doc;
    }
    this.at = at;
    return previous;
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
    this.bytes.set(LENGTH.subarray(0, width), body - 2);
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

/** A Postgres int[] literal. */
export const intArray = (values: readonly number[]): string => `{${values.join(',')}}`;

/** A Postgres text[] literal: every element quoted, so commas, braces and quotes inside stay data. */
export function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

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
    SELECT ?::text, r.bucket, ?::bigint, substring(?::bytea FROM r.start FOR r.size)
    FROM unnest(?::text[], ?::int[], ?::int[]) AS r(bucket, start, size)`;
  await db.run(dialect.native(sql), [
    namespace,
    first,
    packed.data(),
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
    SELECT ?::text, r.term, r.grp, substring(?::bytea FROM r.start FOR r.size)
    FROM unnest(?::text[], ?::bigint[], ?::int[], ?::int[]) AS r(term, grp, start, size)${conflict}`;
  await db.run(dialect.native(sql), [
    namespace,
    packed.data(),
    textArray(terms),
    intArray(groups),
    intArray(packed.starts),
    intArray(packed.sizes),
  ]);
}
