import type { PGlite } from '@electric-sql/pglite';
import type { Database } from 'sql.js';
import { mapEntryPostings } from '../../src/backends/sql/pending-migrations.js';
import { decodeBlock } from '../../src/backends/sql/posting-blocks.js';
import { encodeBlockV6 } from '../../src/backends/sql/reencode-postings.js';
import { indexText } from '../../src/store/index.js';

/** A posting block (or a pending entry's postings) as v6-v15 wrote it: three varints a posting. */
const toV6 = (data: Uint8Array): Uint8Array => encodeBlockV6(decodeBlock(data));

/** The change feed as its own table (v13-v17), rebuilt from the rows that hold it since v18. */
const v17Feed = (key: string, int: string, keyed: string) => `
  CREATE TABLE engram_changes (ns ${key} NOT NULL, seq ${int} NOT NULL, entity TEXT NOT NULL, id ${key} NOT NULL,
    origin TEXT NOT NULL, PRIMARY KEY (ns, seq))${keyed};
  INSERT INTO engram_changes (ns, seq, entity, id, origin)
    SELECT ns, seq, 'memory', id, CASE remote WHEN 1 THEN 'remote' ELSE 'local' END FROM engram_memories WHERE seq IS NOT NULL
    UNION ALL SELECT ns, seq, 'link', id, CASE remote WHEN 1 THEN 'remote' ELSE 'local' END FROM engram_links WHERE seq IS NOT NULL
    UNION ALL SELECT ns, seq, entity, id, CASE remote WHEN 1 THEN 'remote' ELSE 'local' END FROM engram_tombstones
      WHERE seq IS NOT NULL;
  DROP INDEX engram_memories_by_seq;
  DROP INDEX engram_links_by_seq;
  DROP INDEX engram_tombstones_by_seq;
  ALTER TABLE engram_memories DROP COLUMN remote;
  ALTER TABLE engram_links DROP COLUMN remote;
  ALTER TABLE engram_tombstones DROP COLUMN remote;
  DELETE FROM engram_schema_version WHERE version > 17`;

/**
 * Schema v22's memories: a lone stamp packed against its namespace's home client (v23, src/backends/sql/rows.ts
 * packClocks: `#`, the counter, the node past the client id) spelt out again (`@`, the counter, the node);
 * and its links' clocks an object again where v23 keeps a link's lone stamp alone.
 */
const V22_CLOCKS = `
  UPDATE engram_memories SET clocks = '@' || substr(clocks, 2, 4) || '-' ||
    (SELECT n.home FROM engram_namespaces n WHERE n.ns = engram_memories.ns) || substr(clocks, 6)
    WHERE substr(clocks, 1, 1) = '#';
  UPDATE engram_links SET clocks = '{"type":' || clocks || ',"weight":' || clocks || ',"metadata":' || clocks || '}'
    WHERE substr(clocks, 1, 1) = '"';
  ALTER TABLE engram_namespaces DROP COLUMN home;
  DELETE FROM engram_schema_version WHERE version > 22`;

/** Turns a database written by today's SqlJsStore back into schema version 22 (no home client). */
export function downgradeToVersion22(db: Database): void {
  db.exec(V22_CLOCKS);
}

/** `downgradeToVersion22` on a PGlite database written by today's PostgresStore. */
export async function downgradePostgresToVersion22(db: PGlite): Promise<void> {
  await db.exec(V22_CLOCKS);
}

/** Turns a database written by today's SqlJsStore back into schema version 17 (the feed in engram_changes). */
export function downgradeToVersion17(db: Database): void {
  downgradeToVersion22(db);
  db.exec(v17Feed('TEXT', 'INTEGER', ' WITHOUT ROWID'));
}

/** `downgradeToVersion17` on a PGlite database written by today's PostgresStore. */
export async function downgradePostgresToVersion17(db: PGlite): Promise<void> {
  await downgradePostgresToVersion22(db);
  await db.exec(v17Feed('TEXT COLLATE "C"', 'BIGINT', ''));
}

/**
 * Turns a database written by today's SqlJsStore back into schema version 15: postings as three varints
 * each (v16 shares the count with the delta) and the kind index (v17 drops it on SQLite).
 */
export function downgradeToVersion15(db: Database): void {
  downgradeToVersion17(db);
  const [rows] = db.exec('SELECT ns, term, grp, data FROM engram_postings');
  const update = db.prepare('UPDATE engram_postings SET data = ? WHERE ns = ? AND term = ? AND grp = ?');
  for (const [ns, term, grp, data] of rows?.values ?? []) {
    update.run([toV6(data as Uint8Array), ns as string, term as string, grp as number]);
  }
  update.free();
  db.run('CREATE INDEX engram_memories_by_kind ON engram_memories (ns, kind, id)');
  db.run('DELETE FROM engram_schema_version WHERE version > 15');
}

/** `downgradeToVersion15` on a PGlite database written by today's PostgresStore (its pending rows too). */
export async function downgradePostgresToVersion15(db: PGlite): Promise<void> {
  await downgradePostgresToVersion17(db);
  // Each row's data through `toOld`, one UPDATE a row (a test's few hundred rows).
  const rewrite = async (
    table: string,
    keys: readonly [string, string],
    toOld: (data: Uint8Array) => Uint8Array,
  ) => {
    const [name, number] = keys;
    const { rows } = await db.query<{ ns: string; a: string; b: number; data: Uint8Array }>(
      `SELECT ns, ${name} AS a, ${number} AS b, data FROM ${table}`,
    );
    for (const { ns, a, b, data } of rows) {
      await db.query(`UPDATE ${table} SET data = $1 WHERE ns = $2 AND ${name} = $3 AND ${number} = $4`, [
        toOld(data),
        ns,
        a,
        b,
      ]);
    }
  };
  await rewrite('engram_postings', ['term', 'grp'], toV6);
  await rewrite('engram_pending', ['bucket', 'first'], (data) => mapEntryPostings(data, toV6));
  await db.exec('DELETE FROM engram_schema_version WHERE version > 15');
}

/**
 * The change feed as v1-v12 laid it out (v13 keys it by (ns, seq) and keeps each entry's number in the
 * memory, link and tombstone rows): keyed by (ns, entity, id), with an (ns, seq) index; and no expiry
 * index (v14), nor Postgres's tag and creation-time indexes (v15).
 */
const v12Feed = (key: string, int: string, keyed: string) => `
  DROP INDEX engram_memories_by_expiry;
  DROP INDEX IF EXISTS engram_memories_by_tags;
  DROP INDEX IF EXISTS engram_memories_by_created;
  CREATE TABLE engram_feed (ns ${key} NOT NULL, entity TEXT NOT NULL, id ${key} NOT NULL, seq ${int} NOT NULL,
    origin TEXT NOT NULL, PRIMARY KEY (ns, entity, id))${keyed};
  INSERT INTO engram_feed (ns, entity, id, seq, origin) SELECT ns, entity, id, seq, origin FROM engram_changes;
  DROP TABLE engram_changes;
  ALTER TABLE engram_feed RENAME TO engram_changes;
  CREATE INDEX engram_changes_by_seq ON engram_changes (ns, seq);
  ALTER TABLE engram_memories DROP COLUMN seq;
  ALTER TABLE engram_links DROP COLUMN seq;
  ALTER TABLE engram_tombstones DROP COLUMN seq;
  DELETE FROM engram_schema_version WHERE version > 12`;

/** Turns a database written by today's SqlJsStore back into schema version 12 with the raw library. */
export function downgradeToVersion12(db: Database): void {
  downgradeToVersion15(db);
  db.exec(v12Feed('TEXT', 'INTEGER', ' WITHOUT ROWID'));
}

/** `downgradeToVersion12` on a PGlite database written by today's PostgresStore. */
export async function downgradePostgresToVersion12(db: PGlite): Promise<void> {
  await downgradePostgresToVersion15(db);
  await db.exec(v12Feed('TEXT COLLATE "C"', 'BIGINT', ''));
}

/**
 * Turns a database written by today's SqlJsStore back into schema version 9 with the raw library: the
 * memories' instants and clocks as written (v10 and v12 pack them, src/backends/sql/rows.ts packDates and
 * packClocks), the doc index with ids (v11 drops them).
 */
export function downgradeToVersion9(db: Database): void {
  downgradeToVersion12(db);
  db.run(`UPDATE engram_memories SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_ms / 1000.0, 'unixepoch')
    WHERE created_at = '' AND created_ms IS NOT NULL`);
  db.run(UNPACK_UPDATED_AT);
  db.run(V9_DOC_INDEX);
  db.run(unpackClocks("printf('%012x', created_ms)"));
  db.run('DELETE FROM engram_schema_version WHERE version > 9');
}

/** The doc index as v6 made it, with the id (v11 drops it). */
const V9_DOC_INDEX =
  'DROP INDEX engram_memories_by_doc; CREATE INDEX engram_memories_by_doc ON engram_memories (ns, doc, id)';

/** A memory's lone stamp as the JSON string it was, its wall clock (`created_ms` in hex) put back. */
const unpackClocks = (wall: string) =>
  `UPDATE engram_memories SET clocks = '"' || ${wall} || '-' || substr(clocks, 2) || '"' WHERE substr(clocks, 1, 1) = '@'`;

/** `updated_at` as written: empty was "as created", a leading `=` an escape. */
const UNPACK_UPDATED_AT = `UPDATE engram_memories SET updated_at = CASE WHEN updated_at = '' THEN created_at
  ELSE substr(updated_at, 2) END WHERE updated_at = '' OR substr(updated_at, 1, 1) = '='`;

/**
 * Turns a database written by today's SqlJsStore back into schema version 4: the text index as one
 * row per (term, memory) in engram_terms, built from the content with the raw library, as v4 wrote it;
 * no document numbers, no posting blocks; a row per (tag, memory) in engram_tags (dropped by v7).
 */
export function downgradeToVersion4(db: Database): void {
  downgradeToVersion9(db);
  db.run(`CREATE TABLE engram_tags (ns TEXT NOT NULL, tag TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (ns, tag, id)) WITHOUT ROWID`);
  db.run('INSERT INTO engram_tags SELECT m.ns, t.value, m.id FROM engram_memories m, json_each(m.tags) t');
  db.run(`CREATE TABLE engram_terms (ns TEXT NOT NULL, term TEXT NOT NULL, id TEXT NOT NULL, tf INTEGER NOT NULL,
    len INTEGER NOT NULL, PRIMARY KEY (ns, term, id)) WITHOUT ROWID`);
  const insert = db.prepare('INSERT INTO engram_terms (ns, term, id, tf, len) VALUES (?, ?, ?, ?, ?)');
  const [memories] = db.exec('SELECT ns, id, content FROM engram_memories');
  for (const [ns, id, content] of memories?.values ?? []) {
    const { length, terms } = indexText(content as string);
    for (const [term, tf] of terms) insert.run([ns as string, term, id as string, tf, length]);
  }
  insert.free();
  db.run('DROP TABLE engram_postings');
  db.run('DROP INDEX engram_memories_by_doc');
  db.run('ALTER TABLE engram_memories DROP COLUMN doc');
  db.run('ALTER TABLE engram_namespaces DROP COLUMN docnos');
  db.run('DELETE FROM engram_schema_version WHERE version > 4');
}

/**
 * Turns a database written by today's SqlJsStore back into schema version 1 (what the first release
 * wrote), with the raw library: stems only in the text index, no embedding_model (v3) or validity (v4)
 * columns, version rows above 1 gone. Each upgrade test then opens it and checks every step runs.
 */
export function downgradeToVersion1(db: Database): void {
  downgradeToVersion4(db);
  db.run("DELETE FROM engram_terms WHERE term LIKE '~%'");
  for (const column of ['embedding_model', 'valid_from', 'valid_to', 'valid_from_ms', 'valid_to_ms']) {
    db.run(`ALTER TABLE engram_memories DROP COLUMN ${column}`);
  }
  db.run('DELETE FROM engram_schema_version WHERE version > 1');
}

/**
 * The schema version today's code migrates to (SQL migrations: v2 reindex, v3 embedding_model, v4 validity,
 * v5 Postgres vector columns (a no-op on SQLite), v6 posting blocks, v7 no engram_tags, v8 and v9 the
 * Postgres pending list of postings (no-ops on SQLite), v10 packed instants, v11 the doc index without ids, v12 packed clocks,
 * v13 the change feed keyed by (ns, seq), v14 the partial expiry index, v15 the Postgres tag and creation-time indexes,
 * v16 postings re-encoded, v17 no kind index on SQLite, v18 the feed in the rows, v19 the text folded by script,
 * v20 Thai, Lao, Khmer and Myanmar split by dictionary, v21 paired and referring posting rows on SQLite, v22 links indexed by their pair, v23 the namespace's home client).
 */
export const CURRENT_SQL_VERSION = 23;

/** `downgradeToVersion9` on a PGlite database written by today's PostgresStore. */
export async function downgradePostgresToVersion9(db: PGlite): Promise<void> {
  await downgradePostgresToVersion12(db);
  await db.exec(`UPDATE engram_memories SET created_at =
      to_char(TIMESTAMP 'epoch' + created_ms * INTERVAL '1 millisecond', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    WHERE created_at = '' AND created_ms IS NOT NULL;
    ${UNPACK_UPDATED_AT};
    ${V9_DOC_INDEX};
    ${unpackClocks("lpad(to_hex(created_ms), 12, '0')")};
    DELETE FROM engram_schema_version WHERE version > 9`);
}

/**
 * Turns a PGlite database written by today's PostgresStore back into schema version 4 with the raw
 * library: v6's posting blocks (and v8's pending list) become one engram_terms row per (term, memory)
 * again, v5's vector columns go and v7's dropped engram_tags comes back.
 */
export async function downgradePostgresToVersion4(db: PGlite): Promise<void> {
  await downgradePostgresToVersion9(db);
  await db.exec(`CREATE TABLE engram_tags (ns TEXT COLLATE "C" NOT NULL, tag TEXT NOT NULL,
    id TEXT COLLATE "C" NOT NULL, PRIMARY KEY (ns, tag, id));
    INSERT INTO engram_tags SELECT m.ns, t.value, m.id FROM engram_memories m,
      jsonb_array_elements_text(m.tags::jsonb) AS t(value)`);
  await db.exec(`CREATE TABLE engram_terms (ns TEXT COLLATE "C" NOT NULL, term TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL, tf BIGINT NOT NULL, len BIGINT NOT NULL, PRIMARY KEY (ns, term, id))`);
  const { rows } = await db.query<{ ns: string; id: string; content: string }>(
    'SELECT ns, id, content FROM engram_memories',
  );
  // One INSERT over arrays rather than a round trip per row: a few thousand single inserts cost PGlite
  // tens of seconds on a loaded machine, and the rows are the same.
  const columns: [string[], string[], string[], number[], number[]] = [[], [], [], [], []];
  for (const { ns, id, content } of rows) {
    const { length, terms } = indexText(content);
    for (const [term, tf] of terms) {
      columns[0].push(ns);
      columns[1].push(term);
      columns[2].push(id);
      columns[3].push(tf);
      columns[4].push(length);
    }
  }
  await db.query(
    'INSERT INTO engram_terms SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])',
    columns,
  );
  await db.exec(`DROP TABLE engram_postings; DROP INDEX engram_memories_by_doc;
    DROP TABLE engram_pending; ALTER TABLE engram_namespaces DROP COLUMN merged, DROP COLUMN pending;
    ALTER TABLE engram_memories DROP COLUMN doc; ALTER TABLE engram_namespaces DROP COLUMN docnos;
    DROP INDEX engram_memories_by_model;
    ALTER TABLE engram_memories DROP COLUMN embedding_unit, DROP COLUMN embedding_dims;
    DELETE FROM engram_schema_version WHERE version > 4`);
}
