import { BulkWriter } from './bulk.js';
import type { SqlDialect } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';
import { forEachEntry } from './pending-rows.js';
import { type BlockPosting, encodeTriples, putVarint, VarintReader } from './posting-blocks.js';

/**
 * The posting format of schema v6 to v15: three varints per posting (doc delta, tf, length). Kept for the
 * steps that wrote it (v6 builds its blocks so, v16 below reads them), as a shipped step never changes.
 */
export function encodeBlockV6(postings: readonly BlockPosting[]): Uint8Array {
  const out = new Uint8Array(postings.length * 24);
  let at = 0;
  let previous = 0;
  for (const { doc, tf, len } of postings) {
    at = putVarint(out, at, doc - previous);
    at = putVarint(out, at, tf);
    at = putVarint(out, at, len);
    previous = doc;
  }
  return out.slice(0, at);
}

/** v6's postings (doc deltas from 0) as flat (doc, tf, len) triples. */
function triplesV6(bytes: Uint8Array): number[] {
  const out: number[] = [];
  const reader = new VarintReader(bytes);
  let doc = 0;
  while (!reader.done) {
    doc += reader.next();
    const tf = reader.next();
    out.push(doc, tf, reader.next());
  }
  return out;
}

const reencode = (bytes: Uint8Array): Uint8Array => encodeTriples(triplesV6(bytes), 0);

/** Rows re-encoded per statement: a few MB of blobs at most, whatever the database's size. */
const PAGE = 2000;

/**
 * Schema step v16: every posting re-encoded from three varints to putPosting's head-and-length (a posting's
 * count, 1 in nearly all, shares the delta's varint): the blocks, and on Postgres the pending rows' entries.
 * Pages through each table by key, so memory stays bounded at any size; ids, scores and order unchanged.
 */
export async function reencodePostings(tx: SqlQueries, dialect: SqlDialect): Promise<void> {
  const bulk = new BulkWriter(tx, dialect);
  const blocks = dialect.native(`SELECT ns, term, grp, data FROM engram_postings
    WHERE ns > ? OR (ns = ? AND (term > ? OR (term = ? AND grp > ?))) ORDER BY ns, term, grp LIMIT ${PAGE}`);
  let key: [string, string, number] = ['', '', -1];
  for (;;) {
    const [ns, term, grp] = key;
    const rows = await tx.all<{ ns: string; term: string; grp: number | string; data: Uint8Array }>(blocks, [
      ns,
      ns,
      term,
      term,
      grp,
    ]);
    if (rows.length === 0) break;
    const out: SqlParam[][] = rows.map((row) => [row.ns, row.term, Number(row.grp), reencode(row.data)]);
    await bulk.insert(
      'engram_postings',
      ['ns', 'term', 'grp', 'data'],
      out,
      ' ON CONFLICT (ns, term, grp) DO UPDATE SET data = excluded.data',
    );
    const last = rows[rows.length - 1]!;
    key = [last.ns, last.term, Number(last.grp)];
  }
  if (dialect.name !== 'postgres') return;
  // Pending rows (Postgres only): entries of a term's name and its postings, only the postings change.
  const pending = dialect.native(`SELECT ns, bucket, first, data FROM engram_pending
    WHERE ns > ? OR (ns = ? AND (bucket > ? OR (bucket = ? AND first > ?))) ORDER BY ns, bucket, first LIMIT ${PAGE}`);
  let at: [string, string, number] = ['', '', -1];
  for (;;) {
    const [ns, bucket, first] = at;
    const rows = await tx.all<{ ns: string; bucket: string; first: number | string; data: Uint8Array }>(
      pending,
      [ns, ns, bucket, bucket, first],
    );
    if (rows.length === 0) break;
    const out: SqlParam[][] = rows.map((row) => [
      row.ns,
      row.bucket,
      Number(row.first),
      reencodeEntries(row.data),
    ]);
    await bulk.insert(
      'engram_pending',
      ['ns', 'bucket', 'first', 'data'],
      out,
      ' ON CONFLICT (ns, bucket, first) DO UPDATE SET data = excluded.data',
    );
    const last = rows[rows.length - 1]!;
    at = [last.ns, last.bucket, Number(last.first)];
  }
}

/** A pending row with each entry's postings re-encoded: varint name length, name, varint size, postings. */
function reencodeEntries(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const sized = (bytes: Uint8Array) => {
    const length = new Uint8Array(8);
    const head = length.subarray(0, putVarint(length, 0, bytes.length));
    parts.push(head, bytes);
    size += head.length + bytes.length;
  };
  forEachEntry(data, (name, postings) => {
    sized(name);
    sized(reencode(postings));
  });
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
