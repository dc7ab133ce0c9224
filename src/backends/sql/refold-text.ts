import { LANGUAGE_META, loadLanguage } from '../../core/text/index.js';
import { indexedOtherwiseBeforeRefold } from '../../core/text/refold.js';
import { BulkWriter } from './bulk.js';
import type { SqlDialect } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';
import { BLOCK_DOCS, type BlockPosting, encodeBlock, textPostings } from './posting-blocks.js';

/** Texts read per statement while looking for one that v19 indexes otherwise. */
const PAGE = 1000;

/**
 * Schema step v19: normalisation keeps the marks other scripts spell with and composes again what
 * decomposition split (words.ts normalizeWord), so Korean, Japanese kana with voicing marks, Indic and Thai
 * text, and Greek words ending in sigma get other index keys. Each namespace holding such a text (found by
 * reading its texts until one is) has its text index rebuilt from the stored content; the others, English
 * and Latin-script text, are read once and left as they are. Document numbers, records and the change feed
 * are untouched.
 */
export async function refoldText(tx: SqlQueries, dialect: SqlDialect): Promise<void> {
  const namespaces = await tx.all<{ ns: string; docnos: number | string }>(
    'SELECT ns, docnos FROM engram_namespaces',
    [],
  );
  for (const { ns, docnos } of namespaces) {
    if (await holdsRefoldedText(tx, dialect, ns)) await rebuildTextIndex(tx, dialect, ns, Number(docnos));
  }
}

/**
 * Only texts with a character past ASCII can normalise otherwise. Postgres picks them itself (its regular
 * expressions read characters), so a namespace of English stays on the server rather than travelling
 * whole to this process (on the edge, a Worker). SQLite is in this process, where reading every text is
 * cheaper than GLOB testing it (measured on the 100K bench file: 0.12 s against 0.65 s).
 */
const NON_ASCII_ONLY = " AND content ~ '[^\\x01-\\x7f]'";

async function holdsRefoldedText(tx: SqlQueries, dialect: SqlDialect, ns: string): Promise<boolean> {
  const filter = dialect.name === 'postgres' ? NON_ASCII_ONLY : '';
  const sql = dialect.native(
    `SELECT id, content FROM engram_memories WHERE ns = ? AND id > ?${filter} ORDER BY id LIMIT ?`,
  );
  for (let after = ''; ; ) {
    const rows = await tx.all<{ id: string; content: string }>(sql, [ns, after, PAGE]);
    if (rows.some((row) => indexedOtherwiseBeforeRefold(row.content))) return true;
    if (rows.length < PAGE) return false;
    after = rows[rows.length - 1]!.id;
  }
}

/**
 * A namespace's postings built again from its texts, group by group, in its index language; on Postgres
 * its pending list goes too (every posting is then in the blocks). Counters recomputed from the texts.
 */
async function rebuildTextIndex(
  tx: SqlQueries,
  dialect: SqlDialect,
  ns: string,
  docnos: number,
): Promise<void> {
  const meta = 'SELECT value FROM engram_meta WHERE ns = ? AND key = ?';
  const [row] = await tx.all<{ value: string }>(dialect.native(meta), [ns, LANGUAGE_META]);
  const language = row === undefined ? undefined : (JSON.parse(row.value) as unknown);
  await loadLanguage(language);
  await tx.run(dialect.native('DELETE FROM engram_postings WHERE ns = ?'), [ns]);
  if (dialect.name === 'postgres') {
    await tx.run(dialect.native('DELETE FROM engram_pending WHERE ns = ?'), [ns]);
    await tx.run(dialect.native('UPDATE engram_namespaces SET merged = docnos, pending = 0 WHERE ns = ?'), [
      ns,
    ]);
  }
  const bulk = new BulkWriter(tx, dialect);
  const select = dialect.native(
    'SELECT doc, content FROM engram_memories WHERE ns = ? AND doc >= ? AND doc < ? ORDER BY doc',
  );
  let docs = 0;
  let tokens = 0;
  for (let grp = 0; grp * BLOCK_DOCS < docnos; grp++) {
    const rows = await tx.all<{ doc: number | string; content: string }>(select, [
      ns,
      grp * BLOCK_DOCS,
      (grp + 1) * BLOCK_DOCS,
    ]);
    const postings = new Map<string, BlockPosting[]>();
    for (const { doc, content } of rows) {
      const { length, terms } = textPostings(content, language);
      for (const [term, tf] of terms) {
        const list = postings.get(term);
        if (list) list.push({ doc: Number(doc), tf, len: length });
        else postings.set(term, [{ doc: Number(doc), tf, len: length }]);
      }
      docs++;
      tokens += length;
    }
    const blocks: SqlParam[][] = [...postings.keys()]
      .sort()
      .map((term) => [ns, term, grp, encodeBlock(postings.get(term)!)]);
    await bulk.insert('engram_postings', ['ns', 'term', 'grp', 'data'], blocks);
  }
  await tx.run(dialect.native('UPDATE engram_namespaces SET docs = ?, tokens = ? WHERE ns = ?'), [
    docs,
    tokens,
    ns,
  ]);
}
