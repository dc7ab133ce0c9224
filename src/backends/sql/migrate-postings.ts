import type { SqlDialect } from './dialect.js';
import type { SqlQueries } from './executor.js';
import { encodeBlockV6 } from './reencode-postings.js';
import { namespaceLanguage, writeBlocksFromTexts } from './text-rebuild.js';

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
  const namespaces = await tx.all<{ ns: string }>('SELECT ns FROM engram_namespaces', []);
  for (const { ns } of namespaces) {
    // Each namespace in its own index language; its memories were just numbered from 0, without gaps.
    const language = await namespaceLanguage(tx, dialect, ns);
    const count = 'SELECT count(*) AS n FROM engram_memories WHERE ns = ?';
    const [counted] = await tx.all<{ n: number | string }>(dialect.native(count), [ns]);
    const { docs, tokens } = await writeBlocksFromTexts(
      tx,
      dialect,
      ns,
      Number(counted!.n),
      language,
      encodeBlockV6,
    );
    const update = 'UPDATE engram_namespaces SET docnos = ?, docs = ?, tokens = ? WHERE ns = ?';
    await tx.run(dialect.native(update), [docs, docs, tokens, ns]);
  }
}
