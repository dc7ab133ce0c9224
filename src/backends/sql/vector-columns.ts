import { isCiphertext } from '../../core/crypto/sealed.js';
import type { MemoryRecord } from '../../core/store-contract.js';
import { normalizeInto } from '../../core/vector/vector-rows.js';
import type { SqlDialect } from './dialect.js';
import type { SqlQueries } from './executor.js';
import { decodeVector } from './rows.js';

const PAGE = 500;

/**
 * Postgres keeps, beside each embedding's exact float64 bytes, its unit-length float4 copy in
 * `embedding_unit` and its length in `embedding_dims`, so that vector search picks candidates in SQL
 * instead of reading every embedding: a pgvector `vector` column when the extension can be installed
 * (HNSW indexes per length, see postgres/vectors.ts), a `real[]` otherwise. The float4 copy only chooses
 * candidates; the final scores come from the float64 embedding, as in every other store.
 */
export async function addVectorColumns(tx: SqlQueries, dialect: SqlDialect): Promise<void> {
  if (dialect.name !== 'postgres') return;
  const type = (await installVector(tx)) ? 'vector' : 'real[]';
  await tx.run(`ALTER TABLE engram_memories ADD COLUMN embedding_unit ${type}`, []);
  await tx.run('ALTER TABLE engram_memories ADD COLUMN embedding_dims INTEGER', []);
  await tx.run(
    `CREATE INDEX engram_memories_by_model ON engram_memories (ns, embedding_model, embedding_dims)
      WHERE embedding IS NOT NULL`,
    [],
  );
  for (let after = { ns: '', id: '' }; ; ) {
    const rows = await tx.all<{ ns: string; id: string; embedding: Uint8Array; content: string }>(
      `SELECT ns, id, embedding, content FROM engram_memories WHERE embedding IS NOT NULL AND (ns, id) > ($1, $2)
        ORDER BY ns, id LIMIT ${PAGE}`,
      [after.ns, after.id],
    );
    const byNamespace = new Map<string, Array<{ id: string; embedding: number[] }>>();
    for (const { ns, id, embedding, content } of rows) {
      if (isCiphertext(content)) continue;
      const list = byNamespace.get(ns) ?? [];
      list.push({ id, embedding: decodeVector(embedding) });
      byNamespace.set(ns, list);
    }
    for (const [ns, list] of byNamespace) await writeUnitVectors(tx, ns, list);
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!;
  }
}

/**
 * Installs pgvector when the server offers it and it is not installed yet. A role without the right to
 * create it still gets the `real[]` column: the attempt runs under a savepoint so that its failure does
 * not abort the migration.
 */
async function installVector(tx: SqlQueries): Promise<boolean> {
  // Usable means visible on the search path: installed in another schema, its type and operators would
  // not resolve in our statements, so the store keeps to real[].
  const installed = async () => {
    const [row] = await tx.all<{ usable: boolean }>(
      `SELECT to_regtype('vector') IS NOT NULL
        AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') AS usable`,
      [],
    );
    return row?.usable === true;
  };
  if (await installed()) return true;
  const available = await tx.all("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'", []);
  if (available.length === 0) return false;
  await tx.run('SAVEPOINT engram_vector', []);
  try {
    await tx.run('CREATE EXTENSION IF NOT EXISTS vector', []);
    await tx.run('RELEASE SAVEPOINT engram_vector', []);
  } catch {
    await tx.run('ROLLBACK TO SAVEPOINT engram_vector', []);
  }
  return installed();
}

/** Sets (or clears, for a memory without embedding) the float4 unit copies, in one statement. */
export async function writeUnitVectors(
  tx: SqlQueries,
  namespace: string,
  entries: ReadonlyArray<{ id: string; embedding?: readonly number[] | undefined }>,
): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map(({ id, embedding }) => {
    if (!embedding) return { id, unit: null };
    const unit = new Float32Array(embedding.length);
    normalizeInto(embedding, unit);
    return { id, unit: Array.from(unit) };
  });
  // JSON carries every float4 exactly (its shortest double form parses back to the same float4) and
  // lets one parameter hold the whole batch, whatever its size.
  await tx.run(
    `UPDATE engram_memories AS m SET embedding_unit = v.unit, embedding_dims = array_length(v.unit, 1)
      FROM jsonb_to_recordset($2::text::jsonb) AS v(id text, unit real[]) WHERE m.ns = $1 AND m.id = v.id`,
    [namespace, JSON.stringify(rows)],
  );
}

/** After a merge: refreshes the copies of the memories whose embedding the batch wrote. */
export async function refreshUnitVectors(
  tx: SqlQueries,
  namespace: string,
  written: ReadonlySet<string>,
  merged: readonly MemoryRecord[],
): Promise<void> {
  // An end-to-end encrypted memory's embedding is ciphertext packed as numbers: a unit copy of it would
  // be noise to rank by, and more bytes derived from the sealed value kept on the server (see indexText).
  const entries = merged.flatMap(({ memory }) =>
    written.has(memory.id)
      ? [{ id: memory.id, embedding: isCiphertext(memory.content) ? undefined : memory.embedding }]
      : [],
  );
  await writeUnitVectors(tx, namespace, entries);
}
