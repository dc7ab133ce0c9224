import { EngramError, validationError } from '../../core/errors.js';
import { type MemoryFilter, matchesFilter } from '../../core/filter.js';
import type { MemoryRecord, NativeSearchHit } from '../../core/store-contract.js';
import { LengthTally } from '../../core/vector/query-length.js';
import { rankExactly } from '../../core/vector/rank-exactly.js';
import { normalizeInto } from '../../core/vector/vector-rows.js';
import type { SqlDialect } from '../sql/dialect.js';
import type { SqlExecutor, SqlParam, SqlQueries } from '../sql/executor.js';
import { listWhere } from '../sql/queries.js';
import { SqlReader } from '../sql/reads.js';
import type { Integer } from '../sql/rows.js';

/** pgvector's HNSW build and search parameters (see its README); defaults are pgvector's but `efSearch`. */
export interface PgvectorHnswOptions {
  /** Links per node, 2..100 (pgvector default 16). */
  m?: number;
  /** Candidate list while building, 4..1000, at least 2·m (default 64). */
  efConstruction?: number;
  /**
   * Candidate list while searching, 1..1000; default 400 (pgvector's 40 misses too much: at 5K × 384 in
   * bench/postgres-vector.mjs, 100 missed 8% of the exact top 10 and 400 none, for about the same time).
   */
  efSearch?: number;
}

/**
 * PostgresStore's `vectors` option, the same shape as the in-memory and IndexedDB stores' (`VectorOptions`)
 * where Postgres can honour it: `index: 'exact'` (default) ranks every embedding of the model in SQL, same
 * results as every other store; `index: 'hnsw'` uses pgvector's approximate HNSW index, one per embedding
 * length, built on the first such search and kept up to date by Postgres afterwards.
 */
export interface PostgresVectorOptions {
  index?: 'exact' | 'hnsw';
  hnsw?: PgvectorHnswOptions;
}

/** What PostgresVectors runs with, once checked. */
export type PostgresVectorIndex = 'exact' | { hnsw: PgvectorHnswOptions };

/** Without `model`, every embedding is compared whatever its model (as core's scan does). */
type NearestQuery = { vector: readonly number[]; model?: string; limit: number; filter: MemoryFilter };

/** A candidate row; its float4 distance when the exact scan chose it (the HNSW index is approximate anyway). */
type Candidate = { id: string; distance?: number };

/** The rows a search may rank (namespace, model, length, the list filters SQL runs) and its query vector. */
type Scope = { where: string; params: SqlParam[]; vector: string; column: 'vector' | 'real[]' };

/** Candidates read per wanted hit before the float64 rescoring (as the in-memory store's index does). */
const MARGIN = 2;

/**
 * How far apart two rows' float4 distances can lie while their float64 cosines rank the other way: the
 * unit copies and the query are rounded to float4 (2^-24 of each component, 2^-23 of the product) and
 * the sum of `dims` float4 products is accumulated in float4 (at most `dims` · 2^-24 of a unit dot
 * product, by pgvector or Postgres' `sum(real)`), on either side.
 */
const float4Blur = (dims: number) => 2 * (dims + 2) * 2 ** -24;

/**
 * The largest float4 distance a row may have and still rank among the best `limit` of `kept` by its float64
 * cosine: the limit-th kept candidate's plus {@link float4Blur}. Undefined when fewer are kept (then every
 * row was read) or the candidates came from the HNSW index.
 */
function distanceCeiling(
  best: readonly Candidate[],
  kept: readonly MemoryRecord[],
  limit: number,
  dims: number,
): number | undefined {
  const last = kept[limit - 1]?.memory.id;
  const distance = best.find((c) => c.id === last)?.distance;
  return distance === undefined ? undefined : distance + float4Blur(dims);
}

/** pgvector's HNSW indexes `vector`s of at most this many dimensions; longer ones are ranked by the exact scan. */
const HNSW_MAX_DIMS = 2000;

/** pgvector's own ranges for its HNSW parameters. */
const HNSW_RANGES: Record<keyof PgvectorHnswOptions, [number, number]> = {
  m: [2, 100],
  efConstruction: [4, 1000],
  efSearch: [1, 1000],
};

/** Checks `vectors`; every bad value (IVF or int8, which Postgres does not offer, included) names its field. */
export function parsePostgresVectors(value: unknown): PostgresVectorIndex {
  if (value === undefined) return 'exact';
  const got = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw validationError('vectors', "an object like { index: 'hnsw' }", got(value));
  }
  const { index = 'exact', hnsw = {}, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) {
    throw validationError(
      `vectors.${unknown}`,
      'one of index, hnsw (PostgresStore)',
      'an unsupported option',
    );
  }
  if (index !== 'exact' && index !== 'hnsw') {
    throw validationError('vectors.index', "'exact' or 'hnsw' (PostgresStore)", got(index));
  }
  if (typeof hnsw !== 'object' || hnsw === null || Array.isArray(hnsw)) {
    throw validationError('vectors.hnsw', 'an object of HNSW settings', got(hnsw));
  }
  for (const [name, v] of Object.entries(hnsw)) {
    const range = HNSW_RANGES[name as keyof PgvectorHnswOptions];
    if (!range)
      throw validationError(
        `vectors.hnsw.${name}`,
        'one of m, efConstruction, efSearch',
        'an unknown option',
      );
    if (v !== undefined && !(Number.isInteger(v) && v >= range[0] && v <= range[1])) {
      throw validationError(`vectors.hnsw.${name}`, `an integer from ${range[0]} to ${range[1]}`, got(v));
    }
  }
  return index === 'exact' ? 'exact' : { hnsw: hnsw as PgvectorHnswOptions };
}

/**
 * Vector search in Postgres over the float4 unit copies (`embedding_unit`, sql/vector-columns.ts): SQL
 * chooses `limit × 2 + 10` candidates (pgvector's `<#>` or an HNSW index when installed, a sum over
 * `unnest` otherwise), in exact mode with every other row within float4's error of the limit-th, then
 * each candidate is scored from its float64 embedding exactly like core's scan, so exact mode returns
 * the ids and scores of every other store.
 */
export class PostgresVectors {
  private column: Promise<'vector' | 'real[]'> | undefined;
  private readonly indexed = new Set<number>();

  constructor(
    private readonly dialect: SqlDialect,
    private readonly index: PostgresVectorIndex,
  ) {}

  async nearest(
    db: SqlExecutor,
    namespace: string,
    query: NearestQuery,
  ): Promise<{ hits: NativeSearchHit[]; otherModels: number }> {
    const dims = query.vector.length;
    const anyModel = query.model === undefined;
    const groups = await db.all<{ same: boolean | null; dims: number | null; n: Integer }>(
      `SELECT ${anyModel ? 'true' : 'embedding_model = $2'} AS same, embedding_dims AS dims, count(*) AS n
        FROM engram_memories WHERE ns = $1 AND embedding IS NOT NULL GROUP BY 1, 2`,
      anyModel ? [namespace] : [namespace, query.model!],
    );
    let otherModels = 0;
    // Embeddings of the model but another length are skipped and counted, as in core's scan.
    const lengths = new LengthTally(dims);
    let found = false;
    for (const group of groups) {
      if (group.same !== true) {
        otherModels += Number(group.n);
        continue;
      }
      if (lengths.admits(group.dims, Number(group.n))) found = true;
    }
    otherModels += lengths.settle();
    if (!found || query.limit <= 0) return { hits: [], otherModels };
    const reader = new SqlReader(db, this.dialect, namespace);
    const scope = await this.scope(db, namespace, query);
    const enough = query.limit * MARGIN + 10;
    const keep = async (ids: readonly string[]) => {
      const records = await reader.memories(ids);
      const kept: MemoryRecord[] = [];
      for (const id of ids) {
        const record = records.get(id);
        // Metadata is compared in JS, as `list` does; the other filters already ran in SQL.
        if (record?.memory.embedding && matchesFilter(record.memory, query.filter)) kept.push(record);
      }
      return kept;
    };
    for (let want = enough; ; want *= 4) {
      const best = await this.candidates(db, scope, dims, want);
      const kept = await keep(best.map((c) => c.id));
      if (best.length < want || kept.length >= enough) {
        const ceiling = distanceCeiling(best, kept, query.limit, dims);
        // Rows past the candidates within float4's error of the limit-th kept one may rank above it by
        // their float64 cosine (vectors nearer than float4 tells apart): exact mode reads them too.
        if (ceiling !== undefined && best.length === want && best[want - 1]!.distance! <= ceiling) {
          const read = new Set(best.map((c) => c.id));
          const past = (await this.within(db, scope, ceiling)).filter((id) => !read.has(id));
          kept.push(...(await keep(past)));
        }
        return { hits: rankExactly(query.vector, kept, query.limit), otherModels };
      }
    }
  }

  /**
   * The best `want` rows, best first, with their float4 distance in exact mode (the negative inner product
   * of the unit copies, as pgvector's `<#>`; equal distances by id, descending), by the index otherwise.
   */
  private async candidates(db: SqlExecutor, scope: Scope, dims: number, want: number): Promise<Candidate[]> {
    if (this.index === 'exact' || dims > HNSW_MAX_DIMS) {
      const { sql, params } = distances(scope);
      const rows = await db.all<{ id: string; distance: number | string }>(
        this.dialect.native(`${sql} ORDER BY distance, id DESC LIMIT ?`),
        [...params, want],
      );
      return rows.map((row) => ({ id: row.id, distance: Number(row.distance) }));
    }
    await this.ensureIndex(db, dims, this.index.hnsw);
    const { hnsw } = this.index;
    return db.transaction(async (tx) => {
      // Iterative scans keep reading the graph until enough rows pass the filters (namespace, model,
      // kind…); the order they relax is restored by the rescoring.
      await tx.run("SET LOCAL hnsw.iterative_scan = 'relaxed_order'", []);
      await tx.run(`SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.max(hnsw.efSearch ?? 400, want))}`, []);
      return tx.all<{ id: string }>(
        this.dialect.native(
          `SELECT m.id FROM engram_memories m WHERE ${scope.where}
            ORDER BY (m.embedding_unit::vector(${dims})) <#> ?::vector(${dims}) LIMIT ?`,
        ),
        [...scope.params, scope.vector, want],
      );
    });
  }

  /** The ids of every row in scope whose float4 distance is at most `ceiling`. */
  private async within(db: SqlExecutor, scope: Scope, ceiling: number): Promise<string[]> {
    const { sql, params } = distances(scope);
    const rows = await db.all<{ id: string }>(
      this.dialect.native(`SELECT id FROM (${sql}) AS scored WHERE distance <= ?`),
      [...params, ceiling],
    );
    return rows.map((row) => row.id);
  }

  /** The search's {@link Scope}; HNSW asked of a database without pgvector is refused here. */
  private async scope(db: SqlExecutor, namespace: string, query: NearestQuery): Promise<Scope> {
    const dims = query.vector.length;
    const unit = new Float32Array(dims);
    normalizeInto(query.vector, unit);
    const { where, params } = listWhere(this.dialect, namespace, query.filter);
    const column = await this.columnType(db);
    if (column === 'real[]' && this.index !== 'exact') {
      throw new EngramError(
        'VALIDATION',
        "vectors.index: 'hnsw' needs the pgvector extension, which this database does not have " +
          "(CREATE EXTENSION vector before engram first opens it, or use index: 'exact')",
        { field: 'vectors.index' },
      );
    }
    const ofModel = query.model === undefined ? '' : ' AND m.embedding_model = ?';
    return {
      where: `${where}${ofModel} AND m.embedding_dims = ${dims}`,
      params: [...params, ...(query.model === undefined ? [] : [query.model])],
      vector: column === 'vector' ? `[${unit.join(',')}]` : `{${unit.join(',')}}`,
      column,
    };
  }

  private columnType(db: SqlQueries): Promise<'vector' | 'real[]'> {
    this.column ??= db
      .all<{ type: string }>(
        `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
          WHERE attrelid = 'engram_memories'::regclass AND attname = 'embedding_unit'`,
        [],
      )
      .then(([row]) => (row?.type === 'vector' ? 'vector' : 'real[]'))
      .catch((error: unknown) => {
        this.column = undefined;
        throw error;
      });
    return this.column;
  }

  /** One partial HNSW index per embedding length (pgvector indexes only vectors of one length). */
  private async ensureIndex(db: SqlQueries, dims: number, hnsw: PgvectorHnswOptions): Promise<void> {
    if (this.indexed.has(dims)) return;
    const m = hnsw.m ?? 16;
    const build = hnsw.efConstruction ?? Math.max(64, 2 * m);
    await db.run(
      `CREATE INDEX IF NOT EXISTS engram_memories_hnsw_${dims} ON engram_memories
        USING hnsw ((embedding_unit::vector(${dims})) vector_ip_ops) WITH (m = ${m}, ef_construction = ${build})
        WHERE embedding_dims = ${dims}`,
      [],
    );
    this.indexed.add(dims);
  }
}

/**
 * The exact scan's rows: id and float4 distance. `<#>` (pgvector) is the negative inner product, cosine for
 * unit vectors; without the extension a sum over `unnest` gives the same. An expression unlike the HNSW
 * index's (no typed cast) keeps the scan off the approximate index. Only ids and distances leave the server.
 */
function distances({ where, params, vector, column }: Scope) {
  const distance =
    column === 'vector'
      ? 'm.embedding_unit <#> ?::vector'
      : '-(SELECT sum(x * y) FROM unnest(m.embedding_unit, ?::real[]) AS t(x, y))';
  return {
    sql: `SELECT m.id, ${distance} AS distance FROM engram_memories m WHERE ${where}`,
    params: [vector, ...params],
  };
}
