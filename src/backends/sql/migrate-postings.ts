import { LANGUAGE_META, loadLanguage } from '../../core/text/index.js';
import { BulkWriter } from './bulk.js';
import type { SqlDialect } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';
import { BLOCK_DOCS, type BlockPosting, textPostings } from './posting-blocks.js';
import { encodeBlockV6 } from './reencode-postings.js';

/**
 * Schema step: the text index moves from one row per (term, memory) in `engram_terms` to posting blocks
 * (posting-blocks.ts). Every memory is numbered in id order, then the blocks are built from the stored
 * content group by group, as writes build them, so searches return the same ids and scores.
 */
export async function toPostingBlocks(tx: SqlQueries, dialect: SqlDialect): Promise<void> {
  const { integerType: int, keyType: key, blobType: blob, keyedTable: keyed } = dialect;
  await tx.run(`ALTER TABLE engram_namespaces ADD COLUMN docnos ${int} NOT NULL DEFAULT 0`, []);
  await tx.run(`ALTER TABLE engram_memories ADD COLUMN doc ${int}`, []);
  await tx.run(
    `CREATE TABLE engram_postings (ns ${key} NOT NULL, term ${key} NOT NULL, grp ${int} NOT NULL,
      data ${blob} NOT NULL, PRIMARY KEY (ns, term, grp))${keyed}`,
    [],
  );
  await tx.run('DROP TABLE engram_terms', []);
  const numbered = `UPDATE engram_memories SET doc = r.n - 1
    FROM (SELECT ns AS rns, id AS rid, row_number() OVER (PARTITION BY ns ORDER BY id) AS n FROM engram_memories) AS r
    WHERE engram_memories.ns = r.rns AND engram_memories.id = r.rid`;
  await tx.run(numbered, []);
  // Covers the doc -> id lookup of every search, so it never reads the memory rows themselves.
  await tx.run('CREATE INDEX engram_memories_by_doc ON engram_memories (ns, doc, id)', []);
  const bulk = new BulkWriter(tx, dialect);
  const namespaces = await tx.all<{ ns: string }>('SELECT ns FROM engram_namespaces', []);
  for (const { ns } of namespaces) {
    // Each namespace in its own index language (its `language` meta; none means English).
    const meta = 'SELECT value FROM engram_meta WHERE ns = ? AND key = ?';
    const [row] = await tx.all<{ value: string }>(dialect.native(meta), [ns, LANGUAGE_META]);
    const language = row === undefined ? undefined : (JSON.parse(row.value) as unknown);
    await loadLanguage(language);
    let docs = 0;
    let tokens = 0;
    for (let grp = 0; ; grp++) {
      const sql =
        'SELECT doc, content FROM engram_memories WHERE ns = ? AND doc >= ? AND doc < ? ORDER BY doc';
      const range = [ns, grp * BLOCK_DOCS, (grp + 1) * BLOCK_DOCS];
      const rows = await tx.all<{ doc: number | string; content: string }>(dialect.native(sql), range);
      const postings = new Map<string, BlockPosting[]>();
      for (const row of rows) {
        const doc = Number(row.doc);
        const { length, terms } = textPostings(row.content, language);
        for (const [term, tf] of terms) {
          const list = postings.get(term) ?? [];
          if (list.length === 0) postings.set(term, list);
          list.push({ doc, tf, len: length });
        }
        docs++;
        tokens += length;
      }
      const blocks: SqlParam[][] = [...postings.keys()]
        .sort()
        .map((term) => [ns, term, grp, encodeBlockV6(postings.get(term)!)]);
      await bulk.insert('engram_postings', ['ns', 'term', 'grp', 'data'], blocks);
      if (rows.length < BLOCK_DOCS) break;
    }
    const update = 'UPDATE engram_namespaces SET docnos = ?, docs = ?, tokens = ? WHERE ns = ?';
    await tx.run(dialect.native(update), [docs, docs, tokens, ns]);
  }
}
