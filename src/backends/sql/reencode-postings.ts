import { putVarint, VarintReader } from '../varint.js';
import { BulkWriter } from './bulk.js';
import type { SqlDialect } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';
import { mapEntryPostings } from './pending-migrations.js';
import { type BlockPosting, encodeTriples } from './posting-blocks.js';

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
  await rewriteData(tx, dialect, 'engram_postings', ['term', 'grp'], reencode);
  if (dialect.name !== 'postgres') return;
  // Pending rows (Postgres only): entries of a term's name and its postings, only the postings change.
  await rewriteData(tx, dialect, 'engram_pending', ['bucket', 'first'], (data) =>
    mapEntryPostings(data, reencode),
  );
}

/**
 * Replaces the `data` of every row of `table`, keyed (ns, text key, integer key), with `map(data)`: pages of
 * PAGE rows in key order, each written back as one upsert.
 */
async function rewriteData(
  tx: SqlQueries,
  dialect: SqlDialect,
  table: string,
  [name, number]: readonly [string, string],
  map: (data: Uint8Array) => Uint8Array,
): Promise<void> {
  const bulk = new BulkWriter(tx, dialect);
  const page = dialect.native(`SELECT ns, ${name} AS k_text, ${number} AS k_int, data FROM ${table}
    WHERE ns > ? OR (ns = ? AND (${name} > ? OR (${name} = ? AND ${number} > ?)))
    ORDER BY ns, ${name}, ${number} LIMIT ${PAGE}`);
  const upsert = ` ON CONFLICT (ns, ${name}, ${number}) DO UPDATE SET data = excluded.data`;
  let after: [string, string, number] = ['', '', -1];
  for (;;) {
    const [ns, key, n] = after;
    type Row = { ns: string; k_text: string; k_int: number | string; data: Uint8Array };
    const rows = await tx.all<Row>(page, [ns, ns, key, key, n]);
    if (rows.length === 0) return;
    const out: SqlParam[][] = rows.map((row) => [row.ns, row.k_text, Number(row.k_int), map(row.data)]);
    await bulk.insert(table, ['ns', name, number, 'data'], out, upsert);
    const last = rows[rows.length - 1]!;
    after = [last.ns, last.k_text, Number(last.k_int)];
  }
}
