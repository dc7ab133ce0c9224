import type { Direction } from '../../core/model.js';
import type { LinkRecord, MemoryRecord, Tombstone } from '../../core/store-contract.js';
import { type SqlDialect, slices } from './dialect.js';
import type { SqlParam, SqlQueries } from './executor.js';
import {
  LINK_SELECT,
  type LinkRow,
  linkFromRow,
  MEMORY_SELECT,
  type MemoryRow,
  memoryFromRow,
  type TombstoneRow,
  tombstoneFromRow,
} from './rows.js';

/** Reads shared by the store and its transactions: one statement per call, whatever the number of ids. */
export class SqlReader {
  constructor(
    private readonly db: SqlQueries,
    private readonly dialect: SqlDialect,
    private readonly namespace: string,
  ) {}

  async memories(ids: readonly string[]): Promise<Map<string, MemoryRecord>> {
    const rows = await this.byIds<MemoryRow>(`SELECT ${MEMORY_SELECT} FROM engram_memories`, ids, [
      this.namespace,
    ]);
    return new Map(rows.map((row) => [row.id, memoryFromRow(this.namespace, row)]));
  }

  async links(ids: readonly string[]): Promise<Map<string, LinkRecord>> {
    const rows = await this.byIds<LinkRow>(`SELECT ${LINK_SELECT} FROM engram_links`, ids);
    return new Map(rows.map((row) => [row.id, linkFromRow(this.namespace, row)]));
  }

  async tombstones(ids: readonly string[]): Promise<Map<string, Tombstone>> {
    const rows = await this.byIds<TombstoneRow>('SELECT id, entity, clock FROM engram_tombstones', ids);
    return new Map(rows.map((row) => [row.id, tombstoneFromRow(this.namespace, row)]));
  }

  /** A whole graph frontier in one statement; a link touching two frontier ids comes back once. */
  async linksOf(memoryIds: readonly string[], direction: Direction, type?: string): Promise<LinkRecord[]> {
    const sides = direction === 'both' ? ['from_id', 'to_id'] : direction === 'out' ? ['from_id'] : ['to_id'];
    const found = new Map<string, LinkRecord>();
    for (const chunk of chunks(memoryIds, (this.dialect.maxParams - 4) / sides.length)) {
      const params: SqlParam[] = [];
      const selects = sides.map((column) => {
        const list = this.dialect.inList(column, chunk);
        params.push(this.namespace, ...list.params);
        if (type !== undefined) params.push(type);
        const typed = type === undefined ? '' : ' AND type = ?';
        return `SELECT ${LINK_SELECT} FROM engram_links WHERE ns = ? AND ${list.sql}${typed}`;
      });
      const rows = await this.db.all<LinkRow>(this.dialect.native(selects.join(' UNION ALL ')), params);
      for (const row of rows) found.set(row.id, linkFromRow(this.namespace, row));
    }
    // The Map drops the doubles UNION ALL lets through; sorting keeps delete cascades (and so the
    // change feed and exports) in the same order on every run.
    return [...found.values()].sort((a, b) => (a.link.id < b.link.id ? -1 : a.link.id > b.link.id ? 1 : 0));
  }

  /** The links from `from` to `to`, one indexed lookup whatever else either memory links. */
  async between(from: string, to: string): Promise<LinkRecord[]> {
    const sql = `SELECT ${LINK_SELECT} FROM engram_links WHERE ns = ? AND from_id = ? AND to_id = ?`;
    const rows = await this.db.all<LinkRow>(this.dialect.native(sql), [this.namespace, from, to]);
    return rows.map((row) => linkFromRow(this.namespace, row));
  }

  /**
   * The links joining any of the pairs (from, to), one indexed lookup a pair, in as few statements as the
   * dialect binds: what a push of new links reads for their twins (`StoreTransaction.readLinksJoining`).
   */
  async joining(pairs: readonly { from: string; to: string }[]): Promise<LinkRecord[]> {
    const found: LinkRecord[] = [];
    for (const slice of slices(pairs, (this.dialect.maxParams - 1) / 2)) {
      const source = this.dialect.pairs(slice.map(({ from, to }) => [from, to] as const));
      const sql = `WITH p(a, b) AS (${source.sql}) SELECT ${LINK_SELECT} FROM p
        JOIN engram_links ON ns = ? AND from_id = p.a AND to_id = p.b`;
      const rows = await this.db.all<LinkRow>(this.dialect.native(sql), [...source.params, this.namespace]);
      for (const row of rows) found.push(linkFromRow(this.namespace, row));
    }
    return found;
  }

  /** `selected`: the parameters of `select` itself, which go first. */
  private async byIds<T extends object>(
    select: string,
    ids: readonly string[],
    selected: readonly SqlParam[] = [],
  ): Promise<T[]> {
    const rows: T[] = [];
    for (const chunk of chunks(ids, this.dialect.maxParams - 1 - selected.length)) {
      const list = this.dialect.inList('id', chunk);
      const sql = this.dialect.native(`${select} WHERE ns = ? AND ${list.sql}`);
      for (const row of await this.db.all<T>(sql, [...selected, this.namespace, ...list.params]))
        rows.push(row);
    }
    return rows;
  }
}

/** Distinct ids in slices a statement can bind. */
function chunks(ids: readonly string[], size: number): string[][] {
  return slices([...new Set(ids)], size);
}
