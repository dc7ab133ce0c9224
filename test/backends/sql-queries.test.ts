import { describe, expect, it } from 'vitest';
import { postgresDialect, sqliteDialect } from '../../src/backends/sql/dialect.js';
import { resolvingSelect } from '../../src/backends/sql/paired-words.js';
import { bucketOf } from '../../src/backends/sql/pending-postings.js';
import {
  countStatement,
  listStatement,
  postingsStatement,
  prefixEnd,
} from '../../src/backends/sql/queries.js';
import { decodeVector, encodeVector } from '../../src/backends/sql/rows.js';

/** What a Postgres postings clause selects, from blocks and from the pending list. */
const BLOCKS =
  "SELECT term, string_agg(data, ''::bytea) AS data, string_agg(length(data)::text, ',') AS sizes, 0 AS pending";
const PENDING =
  "SELECT bucket AS term, string_agg(data, ''::bytea) AS data, string_agg(length(data)::text, ',') AS sizes, 1 AS pending";

describe('SQL statements', () => {
  it('bounds a prefix by the next code point', () => {
    expect(prefixEnd('auth')).toBe('auti');
    expect(prefixEnd('caf\u00e9')).toBe('caf\u00ea');
    expect(prefixEnd('a\u{10ffff}')).toBe('b');
    expect(prefixEnd('x\ud7ff')).toBe('x\ue000');
    expect(prefixEnd('\u{10ffff}')).toBeNull();
  });

  it('numbers placeholders for Postgres and binds a list as one array', () => {
    const statement = postingsStatement(postgresDialect, 'ns', ['a', 'b'], ['pre', '~pre']);
    // One row per term or bucket: the blocks' bytes joined, with their sizes to cut them apart.
    const blocks = `${BLOCKS} FROM engram_postings WHERE`;
    const pending = `${PENDING} FROM engram_pending WHERE`;
    expect(statement!.sql).toBe(
      `${blocks} ns = $1 AND term = ANY($2::text[]) GROUP BY term UNION ALL ` +
        `${blocks} ns = $3 AND term >= $4 AND term < $5 GROUP BY term UNION ALL ` +
        `${blocks} ns = $6 AND term >= $7 AND term < $8 GROUP BY term UNION ALL ` +
        `${pending} ns = $9 AND bucket = ANY($10::text[]) GROUP BY bucket UNION ALL ` +
        `${pending} ns = $11 AND bucket >= $12 AND bucket < $13 GROUP BY bucket`,
    );
    // The pending list is read by bucket: a stem's hashed one, a word's first three characters; a prefix
    // that is not over words as written reads every stem bucket.
    const buckets = [bucketOf('a'), bucketOf('b'), '~pr'];
    expect(statement!.params).toEqual([
      'ns',
      '{"a","b"}',
      'ns',
      'pre',
      'prf',
      'ns',
      '~pre',
      '~prf',
      'ns',
      `{${buckets.map((b) => `"${b}"`).join(',')}}`,
      'ns',
      '#',
      '$',
    ]);
    // SQLite: each term's pair key too (paired-words.ts), each row's group to tell two apart, and word
    // rows by a statement that reads a reference as the row it names.
    const sqlite = postingsStatement(sqliteDialect, 'ns', ['a', '~b'], [])!;
    expect(sqlite.params).toEqual(['ns', 'a', '=a', '=b', 'ns', '~b']);
    expect(sqlite.sql.split(' UNION ALL ')).toEqual([
      'SELECT term, grp, data FROM engram_postings WHERE ns = ? AND term IN (?, ?, ?)',
      `${resolvingSelect(false)} WHERE p.ns = ? AND p.term IN (?)`,
    ]);
    expect(postingsStatement(sqliteDialect, 'ns', ['a'], [])!.sql).not.toContain('JOIN');
  });

  it("reads a prefix's paired rows as one more range on SQLite, and none on Postgres", () => {
    const sqlite = postingsStatement(sqliteDialect, 'ns', [], ['~co', 'st', ''])!;
    expect(sqlite.params).toEqual([
      'ns',
      '~co',
      '~cp',
      'ns',
      'st',
      'su',
      'ns',
      '',
      'ns',
      '=co',
      '=cp',
      'ns',
      '=st',
      '=su',
    ]);
    const postgres = postingsStatement(postgresDialect, 'ns', ['a'], ['~co'])!;
    expect(postgres.params.filter((p) => String(p).includes('='))).toEqual([]);
  });

  it('reads the pending buckets a short prefix over words begins as a range, every stem bucket once (Postgres)', () => {
    const statement = postingsStatement(postgresDialect, 'ns', ['coffee'], ['~\u{1F600}', '~x', 'x', 'y']);
    const pending = statement!.sql.split(' UNION ALL ').filter((select) => select.includes('engram_pending'));
    expect(pending).toEqual([
      `${PENDING} FROM engram_pending WHERE ns = $15 AND bucket = ANY($16::text[]) GROUP BY bucket`,
      `${PENDING} FROM engram_pending WHERE ns = $17 AND bucket >= $18 AND bucket < $19 GROUP BY bucket`,
      `${PENDING} FROM engram_pending WHERE ns = $20 AND bucket >= $21 AND bucket < $22 GROUP BY bucket`,
      `${PENDING} FROM engram_pending WHERE ns = $23 AND bucket >= $24 AND bucket < $25 GROUP BY bucket`,
    ]);
    expect(statement!.params.slice(14)).toEqual([
      'ns',
      `{"${bucketOf('coffee')}"}`,
      'ns',
      '~\u{1F600}',
      '~\u{1F601}',
      'ns',
      '~x',
      '~y',
      'ns',
      '#',
      '$',
    ]);
    // The empty prefix reads every bucket.
    expect(postingsStatement(postgresDialect, 'ns', [], [''])!.sql).toContain(
      'FROM engram_pending WHERE ns = $3 AND bucket >= $4',
    );
  });

  it('reads the BM25 statistics in the postings statement when asked (Postgres only)', () => {
    const statement = postingsStatement(postgresDialect, 'ns', ['a'], [], true);
    expect(statement!.sql).toBe(
      'SELECT NULL AS term, NULL AS data, NULL AS sizes, 2 AS pending, docs, tokens FROM engram_namespaces WHERE ns = $1 UNION ALL ' +
        `${BLOCKS}, NULL, NULL FROM engram_postings WHERE ns = $2 AND term = ANY($3::text[]) GROUP BY term UNION ALL ` +
        `${PENDING}, NULL, NULL FROM engram_pending WHERE ns = $4 AND bucket = ANY($5::text[]) GROUP BY bucket`,
    );
    expect(postingsStatement(sqliteDialect, 'ns', ['a'], [], true)!.sql).not.toContain('engram_namespaces');
    expect(postingsStatement(postgresDialect, 'ns', [], [], true)).toBeNull();
  });

  it('pushes every list filter into SQL, skipping bounds that do not parse as core does', () => {
    const { sql, params } = listStatement(sqliteDialect, 'ns', {
      kind: 'fact',
      tags: ['a', 'b', 'a'],
      tagMode: 'all',
      since: 'not a date',
      until: '2030-01-01T00:00:00.000Z',
      beforeId: 'm9',
      now: '2029-01-01T00:00:00.000Z',
      limit: 5,
    });
    expect(sql).not.toContain('created_ms >= ?');
    expect(sql).toContain('(SELECT count(DISTINCT t.value) FROM json_each(m.tags) AS t');
    expect(params).toEqual([
      // The namespace twice: the home client's subquery in the selected columns (rows.ts MEMORY_SELECT), then
      // the filter.
      'ns',
      'ns',
      'm9',
      'fact',
      Date.parse('2030-01-01'),
      Date.parse('2029-01-01'),
      // Validity: valid at `now` by default (validFrom <= now < validTo).
      Date.parse('2029-01-01'),
      Date.parse('2029-01-01'),
      'a',
      'b',
      2,
      5,
    ]);
  });

  it('filters validity at asOf, or not at all with history, and counts with the same filters', () => {
    const base = { tagMode: 'any' as const, now: '2029-01-01T00:00:00.000Z', limit: 5 };
    const asOf = listStatement(sqliteDialect, 'ns', { ...base, asOf: '2020-01-01T00:00:00.000Z' });
    expect(asOf.sql).toContain('m.valid_from_ms <= ?');
    expect(asOf.sql).toContain('m.valid_to_ms > ?');
    expect(asOf.params).toEqual([
      'ns',
      'ns',
      Date.parse('2029-01-01'),
      Date.parse('2020-01-01'),
      Date.parse('2020-01-01'),
      5,
    ]);
    const history = listStatement(sqliteDialect, 'ns', { ...base, history: true });
    expect(history.sql).not.toContain('valid_from_ms');
    const count = countStatement(sqliteDialect, 'ns', { tagMode: 'any', now: base.now, kind: 'fact' });
    expect(count.sql).toMatch(/^SELECT count\(\*\) AS n FROM engram_memories m WHERE/);
    expect(count.sql).not.toContain('LIMIT');
    expect(count.params).toEqual([
      'ns',
      'fact',
      Date.parse('2029-01-01'),
      Date.parse('2029-01-01'),
      Date.parse('2029-01-01'),
    ]);
  });

  it('stores embeddings losslessly', () => {
    const vector = [0.1, -0, 1e-300, Number.MAX_VALUE, 1 / 3];
    expect(decodeVector(encodeVector(vector))).toEqual(vector);
    expect(Object.is(decodeVector(encodeVector([-0]))[0], -0)).toBe(true);
  });
});
