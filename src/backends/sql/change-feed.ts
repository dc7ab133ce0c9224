import type { ChangeEntry, Entity } from '../../core/store-contract.js';
import type { SqlDialect } from './dialect.js';
import type { SqlQueries } from './executor.js';
import type { Integer } from './rows.js';

/**
 * The change feed after a number (schema v18): each memory, link and tombstone row that holds an entry
 * (`seq`), from the `(ns, seq)` index of each table, each limited before they are merged, so a page of
 * the feed reads at most `limit` rows of each whatever the namespace's size.
 */
const FEED_SQL = [
  ['engram_memories', "CAST('memory' AS TEXT)"],
  ['engram_links', "CAST('link' AS TEXT)"],
  ['engram_tombstones', 'entity'],
]
  .map(
    ([table, entity]) => `SELECT * FROM (SELECT seq, ${entity} AS entity, id, remote FROM ${table}
      WHERE ns = ? AND seq > ? ORDER BY seq LIMIT ?) AS ${table}`,
  )
  .join(' UNION ALL ')
  .concat(' ORDER BY seq LIMIT ?');

/** `MemoryStore.changes`: the first `limit` entries after `afterSeq`. */
export async function readChanges(
  db: SqlQueries,
  dialect: SqlDialect,
  namespace: string,
  afterSeq: number,
  limit: number,
): Promise<ChangeEntry[]> {
  const rows = await db.all<{ seq: Integer; entity: Entity; id: string; remote: Integer }>(
    dialect.native(FEED_SQL),
    [namespace, afterSeq, limit, namespace, afterSeq, limit, namespace, afterSeq, limit, limit],
  );
  return rows.map((row) => ({
    seq: Number(row.seq),
    entity: row.entity,
    id: row.id,
    origin: Number(row.remote) === 1 ? 'remote' : 'local',
  }));
}

/** `MemoryStore.latestSeq`: the `seq` of the namespace's counter row, 0 without one. */
export async function readLatestSeq(db: SqlQueries, dialect: SqlDialect, namespace: string): Promise<number> {
  const sql = dialect.native('SELECT seq FROM engram_namespaces WHERE ns = ?');
  const [row] = await db.all<{ seq: Integer }>(sql, [namespace]);
  return Number(row?.seq ?? 0);
}
