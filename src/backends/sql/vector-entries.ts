import type { VectorEntry } from '../../core/store-contract.js';
import type { SqlDialect } from './dialect.js';
import type { SqlQueries } from './executor.js';
import { decodeVector } from './rows.js';

/** `MemoryStore.vectors`: the embeddings of the memories after `afterId` (all when null), id ascending. */
export async function readVectorEntries(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  afterId: string | null,
  limit: number,
): Promise<VectorEntry[]> {
  const after = afterId === null ? '' : ' AND id > ?';
  const sql = `SELECT id, embedding, embedding_model FROM engram_memories WHERE ns = ?
    AND embedding IS NOT NULL${after} ORDER BY id LIMIT ?`;
  const params = afterId === null ? [namespace, limit] : [namespace, afterId, limit];
  const rows = await db.all<{ id: string; embedding: Uint8Array; embedding_model: string | null }>(
    dialect.native(sql),
    params,
  );
  return rows.map((row) => {
    const entry: VectorEntry = { id: row.id, embedding: decodeVector(row.embedding) };
    if (row.embedding_model !== null) entry.model = row.embedding_model;
    return entry;
  });
}
