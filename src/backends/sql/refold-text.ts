import { indexedOtherwiseBeforeRefold } from '../../core/text/refold.js';
import type { SqlDialect } from './dialect.js';
import type { SqlQueries } from './executor.js';
import { encodeBlock } from './posting-blocks.js';
import { namespaceLanguage, writeBlocksFromTexts } from './text-rebuild.js';

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
  const language = await namespaceLanguage(tx, dialect, ns);
  await tx.run(dialect.native('DELETE FROM engram_postings WHERE ns = ?'), [ns]);
  if (dialect.name === 'postgres') {
    await tx.run(dialect.native('DELETE FROM engram_pending WHERE ns = ?'), [ns]);
    await tx.run(dialect.native('UPDATE engram_namespaces SET merged = docnos, pending = 0 WHERE ns = ?'), [
      ns,
    ]);
  }
  const { docs, tokens } = await writeBlocksFromTexts(tx, dialect, ns, docnos, language, encodeBlock);
  await tx.run(dialect.native('UPDATE engram_namespaces SET docs = ?, tokens = ? WHERE ns = ?'), [
    docs,
    tokens,
    ns,
  ]);
}
