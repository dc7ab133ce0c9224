import type { StoreCounts, StoreUsage } from '../../core/store-contract.js';
import type { SqlDialect } from './dialect.js';
import type { SqlQueries } from './executor.js';
import type { Integer } from './rows.js';

/** `MemoryStore.stats`: the namespace's memories, links and tombstones, a `count(*)` of each table. */
export async function readStoreCounts(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
): Promise<StoreCounts> {
  const count = async (table: string) => {
    const [row] = await db.all<{ n: Integer }>(
      dialect.native(`SELECT count(*) AS n FROM ${table} WHERE ns = ?`),
      [namespace],
    );
    return Number(row?.n ?? 0);
  };
  return {
    memories: await count('engram_memories'),
    links: await count('engram_links'),
    tombstones: await count('engram_tombstones'),
  };
}

/** `MemoryStore.usage`: the namespace's memories and the UTF-8 bytes of their content and metadata. */
export async function readUsage(db: SqlQueries, dialect: SqlDialect, namespace: string): Promise<StoreUsage> {
  const size = `${dialect.byteLength('content')} + ${dialect.byteLength('metadata')}`;
  const [row] = await db.all<{ n: Integer; bytes: Integer | null }>(
    dialect.native(`SELECT count(*) AS n, sum(${size}) AS bytes FROM engram_memories WHERE ns = ?`),
    [namespace],
  );
  return { memories: Number(row?.n ?? 0), bytes: Number(row?.bytes ?? 0) };
}
