import type { TextPosting } from '../../core/store-contract.js';
import type { SqlDialect } from './dialect.js';
import type { SqlQueries } from './executor.js';
import { forEachPosting } from './posting-blocks.js';
import { postingsStatement } from './queries.js';

/**
 * Postings of exact terms and prefixes, from the posting blocks: the blocks are read in one statement,
 * then their document numbers are turned into ids in one more (or a few, for long lists on SQLite).
 */
export async function readPostings(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  terms: readonly string[],
  prefixes: readonly string[],
  known?: Map<number, string>,
): Promise<TextPosting[]> {
  const statement = postingsStatement(dialect, namespace, terms, prefixes);
  if (!statement) return [];
  const rows = await db.all<{ term: string; data: Uint8Array }>(statement.sql, statement.params);
  const termOf: string[] = [];
  const docOf: number[] = [];
  const tfOf: number[] = [];
  const lengthOf: number[] = [];
  for (const row of rows) {
    forEachPosting(row.data, (doc, tf, len) => {
      termOf.push(row.term);
      docOf.push(doc);
      tfOf.push(tf);
      lengthOf.push(len);
    });
  }
  if (docOf.length === 0) return [];
  const ids = await idsOf(db, dialect, namespace, docOf, known ?? new Map());
  const out: TextPosting[] = [];
  for (let i = 0; i < docOf.length; i++) {
    const id = ids.get(docOf[i]!);
    // A memory deleted between the two reads (another connection) is skipped.
    if (id !== undefined) out.push({ term: termOf[i]!, id, tf: tfOf[i]!, length: lengthOf[i]! });
  }
  return out;
}

/**
 * The id of each document number, added to `out`, which may already know some: a number names one
 * memory for good once committed (an edit keeps it, a delete retires it), so a store that alone writes
 * its database keeps what it read. A dense set (a common term) is one range scan of the doc index;
 * a sparse one is a list of keys.
 */
async function idsOf(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  docs: readonly number[],
  out: Map<number, string>,
): Promise<Map<number, string>> {
  const missing = new Set<number>();
  for (const doc of docs) if (!out.has(doc)) missing.add(doc);
  const unique = [...missing].sort((a, b) => a - b);
  if (unique.length === 0) return out;
  const low = unique[0]!;
  const high = unique[unique.length - 1]!;
  type Row = { doc: number | string; id: string };
  const keep = (rows: Row[]) => {
    for (const row of rows) out.set(Number(row.doc), row.id);
  };
  if (unique.length * 2 >= high - low + 1) {
    const sql = 'SELECT doc, id FROM engram_memories WHERE ns = ? AND doc >= ? AND doc <= ?';
    keep(await db.all<Row>(dialect.native(sql), [namespace, low, high]));
    return out;
  }
  // One parameter whatever the count: a statement with thousands of placeholders costs more to prepare
  // than to run.
  const sql =
    dialect.name === 'postgres'
      ? 'SELECT doc, id FROM engram_memories WHERE ns = ? AND doc = ANY(?::bigint[])'
      : 'SELECT doc, id FROM engram_memories WHERE ns = ? AND doc IN (SELECT value FROM json_each(?))';
  const list = dialect.name === 'postgres' ? `{${unique.join(',')}}` : `[${unique.join(',')}]`;
  keep(await db.all<Row>(dialect.native(sql), [namespace, list]));
  return out;
}
