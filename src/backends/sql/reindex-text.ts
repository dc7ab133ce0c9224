import { indexText } from '../../core/text/index.js';
import { BulkWriter } from './bulk.js';
import type { SqlDialect } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';

const PAGE = 500;

/**
 * Rebuilds every namespace's postings and counters from the stored content, inside the caller's
 * transaction: the schema step for a change of what `indexText` emits (e.g. words as written beside
 * their stems). Records and the change feed are untouched.
 */
export async function reindexText(tx: SqlQueries, dialect: SqlDialect): Promise<void> {
  await tx.run('DELETE FROM engram_terms', []);
  const bulk = new BulkWriter(tx, dialect);
  const namespaces = await tx.all<{ ns: string }>('SELECT ns FROM engram_namespaces', []);
  for (const { ns } of namespaces) {
    let docs = 0;
    let tokens = 0;
    for (let after = ''; ; ) {
      const sql = 'SELECT id, content FROM engram_memories WHERE ns = ? AND id > ? ORDER BY id LIMIT ?';
      const rows = await tx.all<{ id: string; content: string }>(dialect.native(sql), [ns, after, PAGE]);
      const terms: SqlParam[][] = [];
      for (const { id, content } of rows) {
        const { length, terms: counts } = indexText(content);
        for (const [term, tf] of counts) terms.push([ns, term, id, tf, length]);
        docs++;
        tokens += length;
      }
      await bulk.insert('engram_terms', ['ns', 'term', 'id', 'tf', 'len'], terms);
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1]!.id;
    }
    const update = 'UPDATE engram_namespaces SET docs = ?, tokens = ? WHERE ns = ?';
    await tx.run(dialect.native(update), [docs, tokens, ns]);
  }
}
