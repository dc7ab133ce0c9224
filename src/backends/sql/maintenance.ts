import { COLLECTED_SEQ_META, type TombstoneCollection } from '../../core/store-contract.js';
import { BulkWriter } from './bulk.js';
import type { SqlDialect } from './dialect.js';
import type { SqlExecutor, Statement } from './executor.js';
import type { Integer } from './rows.js';

/**
 * Memories expired at `now`: `expires_ms` mirrors `expiresAt` in the epoch ms that `isExpired` compares. A
 * range of the partial index `engram_memories_by_expiry` (schema v14), which holds only memories that expire.
 */
export function expiredStatement(
  dialect: SqlDialect,
  namespace: string,
  options: { now: string; limit: number },
): Statement {
  const sql = `SELECT id FROM engram_memories WHERE ns = ? AND expires_ms IS NOT NULL AND expires_ms <= ?
    ORDER BY id LIMIT ?`;
  return { sql: dialect.native(sql), params: [namespace, Date.parse(options.now), options.limit] };
}

export async function expiredIds(
  db: SqlExecutor,
  dialect: SqlDialect,
  namespace: string,
  options: { now: string; limit: number },
): Promise<string[]> {
  const { sql, params } = expiredStatement(dialect, namespace, options);
  const rows = await db.all<{ id: string }>(sql, params);
  return rows.map((r) => r.id);
}

/**
 * A stamp's wall time, its first 12 hex digits (hlc.ts), compared bytewise: Postgres's default collation
 * could otherwise weigh the `-` separators differently from JavaScript. `before` is a stamp of counter 0
 * and no node, so "wall below before's" is exactly "stamp below before".
 */
function wallOf(column: string, dialect: SqlDialect): string {
  return dialect.name === 'postgres' ? `substr(${column}, 1, 12) COLLATE "C"` : `substr(${column}, 1, 12)`;
}

/** Leaves out tombstones `t` stored after `seqAtMost` (one without a feed entry has no position to wait for). */
function storedBy(seqAtMost: number | undefined): { sql: string; params: number[] } {
  return seqAtMost === undefined
    ? { sql: '', params: [] }
    : { sql: 'AND (t.seq IS NULL OR t.seq <= ?)', params: [seqAtMost] };
}

interface Candidate {
  id: string;
  seq: Integer | null;
  remote: Integer | null;
}

/**
 * `MemoryStore.collectTombstones`: tombstones and their feed entries go in one transaction with the raised
 * `gc.collectedSeq`, which holds the namespace's counter row so that it runs between writers, not among them.
 */
export async function collectTombstones(
  db: SqlExecutor,
  dialect: SqlDialect,
  namespace: string,
  options: TombstoneCollection,
): Promise<number> {
  const before = options.before.slice(0, 12);
  const recent = storedBy(options.seqAtMost);
  // Most runs find nothing due. Asking first, outside the transaction, spares those the counter-row lock
  // (every writer of the namespace waits on it) and a committed write: on the edge, a run per namespace
  // a minute. A tombstone coming due just after is collected by the next run.
  const due = `SELECT 1 AS due FROM engram_tombstones t WHERE t.ns = ? AND ${wallOf('t.clock', dialect)} < ?
    ${recent.sql} LIMIT 1`;
  const found = await db.all(dialect.native(due), [namespace, before, ...recent.params]);
  return found.length === 0 ? 0 : collectDue(db, dialect, namespace, before, options);
}

function collectDue(
  db: SqlExecutor,
  dialect: SqlDialect,
  namespace: string,
  before: string,
  options: TombstoneCollection,
): Promise<number> {
  const recent = storedBy(options.seqAtMost);
  return db.transaction(async (tx) => {
    await tx.run(dialect.native('UPDATE engram_namespaces SET seq = seq WHERE ns = ?'), [namespace]);
    // A tombstone's feed entry is its row (seq null: none).
    const sql = `SELECT t.id, t.seq, t.remote FROM engram_tombstones t
      WHERE t.ns = ? AND ${wallOf('t.clock', dialect)} < ? ${recent.sql} ORDER BY t.clock LIMIT ?`;
    // Unpushed local deletes are skipped after the query: read a little more than `limit` to make up for them.
    const rows = await tx.all<Candidate>(dialect.native(sql), [
      namespace,
      before,
      ...recent.params,
      options.limit * 2,
    ]);
    const keep = options.keepLocalAfter;
    const local = (r: Candidate) => r.seq !== null && Number(r.remote) === 0;
    const gone = rows
      .filter((r) => !(local(r) && keep !== undefined && Number(r.seq) > keep))
      .slice(0, options.limit);
    if (gone.length === 0) return 0;
    const bulk = new BulkWriter(tx, dialect);
    await bulk.deleteIds(
      'engram_tombstones',
      namespace,
      gone.map((r) => r.id),
    );
    const [stored] = await tx.all<{ value: string }>(
      dialect.native('SELECT value FROM engram_meta WHERE ns = ? AND key = ?'),
      [namespace, COLLECTED_SEQ_META],
    );
    const highest = Math.max(
      Number(stored ? JSON.parse(stored.value) : 0),
      ...gone.map((r) => Number(r.seq ?? 0)),
    );
    const upsert = `INSERT INTO engram_meta (ns, key, value) VALUES (?, ?, ?)
      ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value`;
    await tx.run(dialect.native(upsert), [namespace, COLLECTED_SEQ_META, JSON.stringify(highest)]);
    return gone.length;
  });
}
