import { LANGUAGE_META, loadLanguage } from '../../core/text/index.js';
import { BulkWriter } from './bulk.js';
import type { SqlDialect } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';
import { BLOCK_DOCS, type BlockPosting, textPostings } from './posting-blocks.js';

/** A namespace's index language as its `language` meta records it (none: English), loaded. */
export async function namespaceLanguage(tx: SqlQueries, dialect: SqlDialect, ns: string): Promise<unknown> {
  const meta = 'SELECT value FROM engram_meta WHERE ns = ? AND key = ?';
  const [row] = await tx.all<{ value: string }>(dialect.native(meta), [ns, LANGUAGE_META]);
  const language = row === undefined ? undefined : (JSON.parse(row.value) as unknown);
  await loadLanguage(language);
  return language;
}

/**
 * Schema steps that build a namespace's posting blocks from its stored texts: group by group, the memories
 * numbered below `docnos` read one group at a time, each term's postings encoded by `encode` (the format
 * of the step's schema) and inserted. Returns the texts' count and total length, for the counters.
 */
export async function writeBlocksFromTexts(
  tx: SqlQueries,
  dialect: SqlDialect,
  ns: string,
  docnos: number,
  language: unknown,
  encode: (postings: readonly BlockPosting[]) => Uint8Array,
): Promise<{ docs: number; tokens: number }> {
  const bulk = new BulkWriter(tx, dialect);
  const select = dialect.native(
    'SELECT doc, content FROM engram_memories WHERE ns = ? AND doc >= ? AND doc < ? ORDER BY doc',
  );
  let docs = 0;
  let tokens = 0;
  for (let grp = 0; grp * BLOCK_DOCS < docnos; grp++) {
    const range = [ns, grp * BLOCK_DOCS, (grp + 1) * BLOCK_DOCS];
    const rows = await tx.all<{ doc: number | string; content: string }>(select, range);
    const postings = new Map<string, BlockPosting[]>();
    for (const row of rows) {
      const doc = Number(row.doc);
      const { length, terms } = textPostings(row.content, language);
      for (const [term, tf] of terms) {
        const list = postings.get(term);
        if (list) list.push({ doc, tf, len: length });
        else postings.set(term, [{ doc, tf, len: length }]);
      }
      docs++;
      tokens += length;
    }
    const blocks: SqlParam[][] = [...postings.keys()]
      .sort()
      .map((term) => [ns, term, grp, encode(postings.get(term)!)]);
    await bulk.insert('engram_postings', ['ns', 'term', 'grp', 'data'], blocks);
  }
  return { docs, tokens };
}
