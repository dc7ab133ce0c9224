import { putVarint } from '../varint.js';
import { BulkWriter } from './bulk.js';
import type { SqlDialect } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';
import { bucketOf } from './pending-postings.js';
import { forEachEntry, termName } from './pending-rows.js';

const PENDING_COLUMNS = ['ns', 'bucket', 'first', 'data'];

/** Schema step (Postgres only): the pending list and where it starts; existing postings are all in blocks. */
export async function addPendingPostings(tx: SqlQueries, dialect: SqlDialect): Promise<void> {
  if (dialect.name !== 'postgres') return;
  const { integerType: int, keyType: key, blobType: blob } = dialect;
  await tx.run(
    `CREATE TABLE engram_pending (ns ${key} NOT NULL, bucket ${key} NOT NULL, first ${int} NOT NULL,
      data ${blob} NOT NULL, PRIMARY KEY (ns, bucket, first))`,
    [],
  );
  await tx.run(`ALTER TABLE engram_namespaces ADD COLUMN merged ${int} NOT NULL DEFAULT 0`, []);
  await tx.run(`ALTER TABLE engram_namespaces ADD COLUMN pending ${int} NOT NULL DEFAULT 0`, []);
  await tx.run('UPDATE engram_namespaces SET merged = docnos', []);
}

/**
 * Schema step v9 (Postgres only): v8 bucketed every term by its first two characters, so a search read
 * about a twentieth of a batch's stems for each word; the rows are cut into today's buckets (bucketOf),
 * each batch keeping its key (`first`), one namespace at a time.
 */
export async function rebucketPending(tx: SqlQueries, dialect: SqlDialect): Promise<void> {
  if (dialect.name !== 'postgres') return;
  const namespaces = await tx.all<{ ns: string }>('SELECT DISTINCT ns FROM engram_pending', []);
  for (const { ns } of namespaces) {
    const sql = 'SELECT first, data FROM engram_pending WHERE ns = ?';
    const rows = await tx.all<{ first: number | string; data: Uint8Array }>(dialect.native(sql), [ns]);
    // By batch (its first document), then by new bucket: the entries, as they were laid out.
    const batches = new Map<number, Map<string, Uint8Array[]>>();
    for (const { first, data } of rows) {
      let buckets = batches.get(Number(first));
      if (buckets === undefined) {
        buckets = new Map();
        batches.set(Number(first), buckets);
      }
      const into = buckets;
      forEachEntry(data, (name, postings) => {
        const bucket = bucketOf(termName(name));
        const parts = into.get(bucket) ?? [];
        if (parts.length === 0) into.set(bucket, parts);
        parts.push(varint(name.length), name, varint(postings.length), postings);
      });
    }
    const out: SqlParam[][] = [];
    for (const [first, buckets] of batches) {
      for (const [bucket, parts] of buckets) out.push([ns, bucket, first, joinBytes(parts)]);
    }
    await tx.run(dialect.native('DELETE FROM engram_pending WHERE ns = ?'), [ns]);
    await new BulkWriter(tx, dialect).insert('engram_pending', PENDING_COLUMNS, out);
  }
}

/**
 * A pending row with each entry's postings put through `map` and its name kept: the entries as forEachEntry
 * reads them, laid out again (name length, name, postings length, postings). Schema v16 re-encodes them so.
 */
export function mapEntryPostings(data: Uint8Array, map: (postings: Uint8Array) => Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  forEachEntry(data, (name, postings) => {
    const mapped = map(postings);
    parts.push(varint(name.length), name, varint(mapped.length), mapped);
  });
  return joinBytes(parts);
}

/** One-byte varints, shared: most names and many postings are shorter than 128 bytes. */
const SMALL_VARINTS = Array.from({ length: 0x80 }, (_, i) => Uint8Array.of(i));

function varint(value: number): Uint8Array {
  if (value < 0x80) return SMALL_VARINTS[value]!;
  const out = new Uint8Array(8);
  return out.slice(0, putVarint(out, 0, value));
}

function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
