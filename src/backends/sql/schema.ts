import { EngramError } from '../../core/errors.js';
import type { SqlDialect } from './dialect.js';
import type { SqlExecutor, SqlQueries } from './executor.js';
import { toPostingBlocks } from './migrate-postings.js';
import { addPendingPostings, rebucketPending } from './pending-migrations.js';
import { reencodePostings } from './reencode-postings.js';
import { refoldText } from './refold-text.js';
import { reindexText } from './reindex-text.js';
import { resegmentText } from './resegment-text.js';
import { addVectorColumns } from './vector-columns.js';

/**
 * Schema versions, oldest first; a store applies those its database lacks. Never edit a shipped step:
 * append a new one. Memories keep their JSON fields as text, exactly as written; `created_ms` and
 * `expires_ms` mirror the ISO instants as epoch milliseconds so that filters compare like `Date.parse`.
 */
type Migration = ((d: SqlDialect) => string[]) | { run: (tx: SqlQueries, d: SqlDialect) => Promise<void> };

const MIGRATIONS: Migration[] = [
  ({ keyType: key, integerType: int, realType: real, blobType: blob, keyedTable: keyed }) => [
    `CREATE TABLE engram_namespaces (ns ${key} PRIMARY KEY, seq ${int} NOT NULL, docs ${int} NOT NULL,
      tokens ${int} NOT NULL)${keyed}`,
    `CREATE TABLE engram_memories (ns ${key} NOT NULL, id ${key} NOT NULL, content TEXT NOT NULL,
      kind TEXT NOT NULL, tags TEXT NOT NULL, metadata TEXT NOT NULL, embedding ${blob}, importance ${real},
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL, expires_at TEXT, created_ms ${int}, expires_ms ${int},
      clocks TEXT NOT NULL, PRIMARY KEY (ns, id))`,
    'CREATE INDEX engram_memories_by_kind ON engram_memories (ns, kind, id)',
    `CREATE TABLE engram_tags (ns ${key} NOT NULL, tag TEXT NOT NULL, id ${key} NOT NULL,
      PRIMARY KEY (ns, tag, id))${keyed}`,
    `CREATE TABLE engram_terms (ns ${key} NOT NULL, term ${key} NOT NULL, id ${key} NOT NULL, tf ${int} NOT NULL,
      len ${int} NOT NULL, PRIMARY KEY (ns, term, id))${keyed}`,
    `CREATE TABLE engram_links (ns ${key} NOT NULL, id ${key} NOT NULL, from_id ${key} NOT NULL,
      to_id ${key} NOT NULL, type TEXT NOT NULL, weight ${real}, metadata TEXT NOT NULL, created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL, clocks TEXT NOT NULL, PRIMARY KEY (ns, id))`,
    'CREATE INDEX engram_links_by_from ON engram_links (ns, from_id)',
    'CREATE INDEX engram_links_by_to ON engram_links (ns, to_id)',
    `CREATE TABLE engram_tombstones (ns ${key} NOT NULL, id ${key} NOT NULL, entity TEXT NOT NULL,
      clock TEXT NOT NULL, PRIMARY KEY (ns, id))${keyed}`,
    `CREATE TABLE engram_changes (ns ${key} NOT NULL, entity TEXT NOT NULL, id ${key} NOT NULL,
      seq ${int} NOT NULL, origin TEXT NOT NULL, PRIMARY KEY (ns, entity, id))${keyed}`,
    'CREATE INDEX engram_changes_by_seq ON engram_changes (ns, seq)',
    `CREATE TABLE engram_meta (ns ${key} NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
      PRIMARY KEY (ns, key))${keyed}`,
  ],
  // v2: the text index holds words as written beside their stems (prefix search): rebuilt from content.
  { run: reindexText },
  // v3: the model that produced each embedding (vector search compares only equal models).
  () => ['ALTER TABLE engram_memories ADD COLUMN embedding_model TEXT'],
  // v4: validity in time (docs/lifecycle.md): existing memories get open bounds, i.e. valid always.
  ({ integerType: int }) => [
    'ALTER TABLE engram_memories ADD COLUMN valid_from TEXT',
    'ALTER TABLE engram_memories ADD COLUMN valid_to TEXT',
    `ALTER TABLE engram_memories ADD COLUMN valid_from_ms ${int}`,
    `ALTER TABLE engram_memories ADD COLUMN valid_to_ms ${int}`,
  ],
  // v5 (Postgres only): float4 unit copies of the embeddings, pgvector's type when available, so that
  // vector search ranks in SQL (vector-columns.ts).
  { run: addVectorColumns },
  // v6: the text index as posting blocks, memories numbered (posting-blocks.ts); rebuilt from content.
  { run: toPostingBlocks },
  // v7: tag filters read the memory's own `tags` column (queries.ts): the row per (tag, memory) goes.
  () => ['DROP TABLE engram_tags'],
  // v8 (Postgres only): new postings wait in a pending list until merged into the blocks (pending-postings.ts).
  { run: addPendingPostings },
  // v9 (Postgres only): pending stems bucketed by a hash of the whole term, so a search reads fewer bytes.
  { run: rebucketPending },
  // v10: memories' instants packed (rows.ts packDates): rows written before are packed in place, the
  // escape first so that no value reads back as another.
  ({ name }) => [
    `UPDATE engram_memories SET updated_at = '=' || updated_at
      WHERE updated_at <> created_at AND (updated_at = '' OR substr(updated_at, 1, 1) = '=')`,
    "UPDATE engram_memories SET updated_at = '' WHERE updated_at = created_at",
    `UPDATE engram_memories SET created_at = '' WHERE created_ms IS NOT NULL AND created_at = ${
      name === 'postgres'
        ? `to_char(TIMESTAMP 'epoch' + created_ms * INTERVAL '1 millisecond', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
        : `strftime('%Y-%m-%dT%H:%M:%fZ', created_ms / 1000.0, 'unixepoch')`
    }`,
  ],
  // v11: the doc index without the id (37 bytes an entry, 3% of a 10K-memory sql.js file): core asks for
  // the ids of document numbers only to break a large tie (`docIds`), and reads whole rows otherwise.
  () => [
    'DROP INDEX engram_memories_by_doc',
    'CREATE INDEX engram_memories_by_doc ON engram_memories (ns, doc)',
  ],
  // v12: a memory's lone stamp without its wall clock when that is `created_ms` (rows.ts packClocks):
  // older rows packed in place, those whose JSON string holds no escape (a stamp never needs one).
  ({ name }) => {
    const wall = name === 'postgres' ? `lpad(to_hex(created_ms), 12, '0')` : `printf('%012x', created_ms)`;
    const noEscape = name === 'postgres' ? `strpos(clocks, '\\') = 0` : `instr(clocks, '\\') = 0`;
    return [
      `UPDATE engram_memories SET clocks = '@' || substr(clocks, 15, length(clocks) - 15)
        WHERE created_ms BETWEEN 0 AND 281474976710655 AND substr(clocks, 1, 14) = '"' || ${wall} || '-'
        AND substr(clocks, length(clocks), 1) = '"' AND ${noEscape}`,
    ];
  },
  // v13: the change feed keyed by (ns, seq) alone, its entries' numbers kept in the rows they describe
  // (BulkWriter.deleteChangesOf): the (ns, seq) index, which repeated the entity and the id, goes (5% of a sql.js file).
  ({ keyType: key, integerType: int, keyedTable: keyed }) => [
    ...['engram_memories', 'engram_links', 'engram_tombstones'].map(
      (table) => `ALTER TABLE ${table} ADD COLUMN seq ${int}`,
    ),
    `UPDATE engram_memories SET seq = (SELECT c.seq FROM engram_changes c WHERE c.ns = engram_memories.ns
      AND c.entity = 'memory' AND c.id = engram_memories.id)`,
    `UPDATE engram_links SET seq = (SELECT c.seq FROM engram_changes c WHERE c.ns = engram_links.ns
      AND c.entity = 'link' AND c.id = engram_links.id)`,
    `UPDATE engram_tombstones SET seq = (SELECT c.seq FROM engram_changes c WHERE c.ns = engram_tombstones.ns
      AND c.entity = engram_tombstones.entity AND c.id = engram_tombstones.id)`,
    `CREATE TABLE engram_feed (ns ${key} NOT NULL, seq ${int} NOT NULL, entity TEXT NOT NULL, id ${key} NOT NULL,
      origin TEXT NOT NULL, PRIMARY KEY (ns, seq))${keyed}`,
    `INSERT INTO engram_feed (ns, seq, entity, id, origin) SELECT ns, seq, entity, id, origin FROM engram_changes
      ORDER BY ns, seq`,
    'DROP TABLE engram_changes',
    'ALTER TABLE engram_feed RENAME TO engram_changes',
  ],
  // v14: the memories that expire, indexed apart (maintenance.ts `expiredIds`): finding the expired ones was a
  // scan of every row, at every open of a sql.js file (24 ms of 130 at 100K) and every minute of a namespace's
  // sync traffic on the edge (a parallel sequential scan on Postgres: 0.6 s at 100K). Partial, so memories
  // without an expiry, most of them, cost nothing in it.
  () => [
    'CREATE INDEX engram_memories_by_expiry ON engram_memories (ns, expires_ms) WHERE expires_ms IS NOT NULL',
  ],
  // v15 (Postgres only): `list` and `count` by tag and by creation time read indexes, not every row. A list
  // by a tag no memory holds walked the whole namespace backwards by id: at 1M memories 1.3 s with the
  // table in cache, 140 s cold; one `since` now, 0.56 s. A GIN index over the tags as jsonb (queries.ts
  // asks by containment), and (ns, created_ms). SQLite keeps them out: a sql.js file is in memory, where
  // such a scan takes 40-90 ms at 100K, and every index is bytes of the file.
  ({ name }) =>
    name === 'postgres'
      ? [
          'CREATE INDEX engram_memories_by_tags ON engram_memories USING gin ((tags::jsonb))',
          'CREATE INDEX engram_memories_by_created ON engram_memories (ns, created_ms)',
        ]
      : [],
  // v16: postings take 2.6 bytes instead of 3.5, a posting's count sharing its delta's varint (posting-blocks.ts
  // putPosting): every block, and Postgres' pending rows, re-encoded.
  { run: reencodePostings },
  // v17 (SQLite only): no (ns, kind, id) index, 6% of a 100K-memory sql.js file (5.5 of 92.7 MiB). Measured
  // there (docs/stores.md): `list({ kind })` walks the ids newest first as a tag filter does, 0.07 ms for a
  // kind a quarter of the memories hold and 33 ms for one none holds (0.06 with the index); `count({ kind })`
  // reads the rows either way (it checks expiry), 19 ms without the index against 27 ms with it. Postgres,
  // whose tables are on disk, keeps it.
  ({ name }) => (name === 'postgres' ? [] : ['DROP INDEX engram_memories_by_kind']),
  // v18: the change feed is the rows themselves. Each memory, link and tombstone row already held its entry's
  // number (v13); it now holds the entry's origin too (`remote`, 1 for a pulled change), and an (ns, seq)
  // index per table replaces engram_changes, which repeated the entity and the id (6.1 of a 100K-memory
  // sql.js file's 85.3 MiB; the memories' index takes 1.7). A row whose number names no entry (none should)
  // loses the number, so the feed reads the same entries before and after.
  ({ integerType: int }) => [
    ...FEED_TABLES.flatMap(([table, entity]) => [
      `ALTER TABLE ${table} ADD COLUMN remote ${int}`,
      `UPDATE ${table} SET remote = (SELECT CASE c.origin WHEN 'remote' THEN 1 ELSE 0 END FROM engram_changes c
        WHERE c.ns = ${table}.ns AND c.seq = ${table}.seq AND c.entity = ${entity} AND c.id = ${table}.id)
        WHERE seq IS NOT NULL`,
      `UPDATE ${table} SET seq = NULL WHERE seq IS NOT NULL AND remote IS NULL`,
      `CREATE INDEX ${table}_by_seq ON ${table} (ns, seq)`,
    ]),
    'DROP TABLE engram_changes',
  ],
  // v19: words keep the marks of scripts that spell with them and are composed again (Korean syllables, kana
  // voicing marks, Indic and Thai vowel signs), and Greek final sigma folds to σ (words.ts normalizeWord):
  // each namespace holding such a text has its text index rebuilt from content (refold-text.ts).
  { run: refoldText },
  // v20: runs of Thai, Lao, Khmer and Myanmar letters are split into the words of the runtime's dictionary
  // (Intl.Segmenter; words.ts splitWords), not kept as one word: each namespace holding a text split otherwise
  // has its text index rebuilt from content (resegment-text.ts).
  { run: resegmentText },
  // v21 (SQLite): a group a bulk add leaves keeps a word's stem and word rows as one paired row (`=word`) when
  // they agree, and a word row holding another stem row's bytes as a reference to it (paired-words.ts).
  // Nothing to convert: rows written before stay as they are, and readers take both forms. The version
  // keeps older code, which reads neither, from opening a file that holds them.
  () => [],
  // v22: links indexed by their pair, which also serves every read by `from` alone: a new link's twin check
  // (`between`) looked up every link of its `from` and filtered on `to`, so linking a memory that already
  // had thousands of links (a hub) read them all, once per link pushed. `IF [NOT] EXISTS`: a database
  // written by this version and marked older (the legacy tests) migrates again.
  () => [
    'CREATE INDEX IF NOT EXISTS engram_links_by_pair ON engram_links (ns, from_id, to_id)',
    'DROP INDEX IF EXISTS engram_links_by_from',
  ],
  // v23: a namespace's home client (rows.ts `packClocks`): a memory's lone stamp from one of its nodes is
  // stored without the client id (17 bytes a row); and a link's lone stamp is stored alone (`linkToRow`, 45
  // bytes instead of ~170). Rows written before keep their form; the version keeps older code, which cannot
  // read the new forms, from opening a database that holds them.
  () => ['ALTER TABLE engram_namespaces ADD COLUMN home TEXT'],
];

/** The tables whose rows are the change feed's entries (v18), with the entity each row names. */
const FEED_TABLES = [
  ['engram_memories', "'memory'"],
  ['engram_links', "'link'"],
  ['engram_tombstones', 'engram_tombstones.entity'],
] as const;

const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the schema up to date in one transaction. An up-to-date database costs one read, without the
 * lock: stores opened per request (Workers) pay that, not a migration transaction.
 */
export async function migrate(db: SqlExecutor, dialect: SqlDialect): Promise<void> {
  const current = await db
    .all<{ version: number | string | null }>('SELECT max(version) AS version FROM engram_schema_version', [])
    .then(([row]) => Number(row?.version ?? 0))
    // No version table yet: a fresh database, migrated below.
    .catch(() => 0);
  if (current === SCHEMA_VERSION) return;
  await db.transaction(async (tx) => {
    if (dialect.migrationLock) await tx.all(dialect.migrationLock, []);
    await tx.run(
      `CREATE TABLE IF NOT EXISTS engram_schema_version (version ${dialect.integerType} NOT NULL)`,
      [],
    );
    const [row] = await tx.all<{ version: number | string | null }>(
      'SELECT max(version) AS version FROM engram_schema_version',
      [],
    );
    const current = Number(row?.version ?? 0);
    if (current > SCHEMA_VERSION) {
      throw new EngramError(
        'STORAGE',
        `the database has engram schema version ${current}, newer than this engram understands ` +
          `(${SCHEMA_VERSION}); upgrade engram`,
      );
    }
    for (let version = current; version < SCHEMA_VERSION; version++) {
      const step = MIGRATIONS[version]!;
      if (typeof step === 'function') for (const statement of step(dialect)) await tx.run(statement, []);
      else await step.run(tx, dialect);
      await tx.run(dialect.native('INSERT INTO engram_schema_version (version) VALUES (?)'), [version + 1]);
    }
  });
}
