import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, postgresJs } from '../../src/backends/postgres/index.js';
import { postgresDialect } from '../../src/backends/sql/dialect.js';
import { expiredStatement } from '../../src/backends/sql/maintenance.js';
import { bucketOf } from '../../src/backends/sql/pending-postings.js';
import { listStatement, postingsStatement } from '../../src/backends/sql/queries.js';
import { collectTombstones } from '../../src/core/maintenance.js';
import type { ListQuery } from '../../src/core/store-contract.js';
import { createMemory } from '../../src/index.js';
import { freshNamespace } from '../conformance/harness.js';
import { testStore } from '../conformance/index.js';

const url = process.env.DATABASE_URL;

if (!url) {
  describe.skip('PostgresStore on a real server: skipped because DATABASE_URL is not set', () => {
    it('runs when DATABASE_URL points at a Postgres database', () => {});
  });
} else {
  // Each run works in schemas of its own, found through search_path and dropped at the end.
  const admin = postgres(url, { onnotice: () => {}, max: 2 });
  const schemas: string[] = [];
  const newSchema = async () => {
    const name = `engram_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
    await admin.unsafe(`CREATE SCHEMA ${name}`);
    schemas.push(name);
    return name;
  };
  const storeIn = (schema: string) =>
    new PostgresStore(postgresJs(url, { max: 4, connection: { search_path: schema } }));
  const schema = await newSchema();
  /** The server's plan for `statement` in `schema`, as text; `noSeqScan` makes a sequential scan the last resort. */
  const explain = async (statement: { sql: string; params: unknown[] }, noSeqScan = false) => {
    const plan = await admin.begin(async (tx) => {
      await tx.unsafe(`SET LOCAL search_path TO ${schema}`);
      if (noSeqScan) await tx.unsafe('SET LOCAL enable_seqscan = off');
      return tx.unsafe(`EXPLAIN ${statement.sql}`, statement.params as string[]);
    });
    return plan.map((row) => row['QUERY PLAN']).join('\n');
  };
  afterAll(async () => {
    for (const name of schemas) await admin.unsafe(`DROP SCHEMA ${name} CASCADE`);
    await admin.end();
  });

  testStore({
    name: 'PostgresStore (postgres.js)',
    create: () => storeIn(schema),
    reopen: async (store) => {
      await store.close();
      return storeIn(schema);
    },
    capabilities: { persistent: true },
  });

  describe('PostgresStore on a real server: extras', () => {
    it('writes rows that plain SQL reads back', async () => {
      const mem = await createMemory({ store: storeIn(schema), namespace: freshNamespace('raw') });
      const added = await mem.add({ content: 'Prefers dark roast', tags: ['coffee'], embedding: [0.5, -1] });
      const rows = await admin.unsafe(
        `SELECT id, content, kind, tags, metadata, octet_length(embedding) AS bytes
         FROM ${schema}.engram_memories WHERE ns = $1`,
        [mem.namespace],
      );
      expect(rows).toEqual([
        {
          id: added.id,
          content: 'Prefers dark roast',
          kind: 'note',
          tags: '["coffee"]',
          metadata: '{}',
          bytes: 16,
        },
      ]);
      // A new memory's postings wait in the pending list, one row per bucket (a stem's hashed one, a
      // word's first three characters), until its group of document numbers fills (pending-postings.ts).
      const blocks = await admin.unsafe(`SELECT term FROM ${schema}.engram_postings WHERE ns = $1`, [
        mem.namespace,
      ]);
      expect(blocks).toEqual([]);
      const pending = await admin.unsafe(
        `SELECT bucket, first, data FROM ${schema}.engram_pending WHERE ns = $1 ORDER BY bucket`,
        [mem.namespace],
      );
      const expected: [string, string][] = [
        [bucketOf('dark'), 'dark'],
        [bucketOf('prefer'), 'prefer'],
        [bucketOf('roast'), 'roast'],
        ['~da', '~dark'],
        ['~pr', '~prefers'],
        ['~ro', '~roast'],
      ];
      expected.sort(([a], [b]) => (a < b ? -1 : 1));
      expect(new Set(expected.slice(0, 3).map(([bucket]) => bucket)).size).toBe(3);
      expect(pending.map((p) => [p.bucket, Number(p.first)])).toEqual(
        expected.map(([bucket]) => [bucket, 0]),
      );
      // Each: the term's length and UTF-8 bytes, the postings' length, then document 0 with tf 1 (00), length 3.
      const entry = (term: string) =>
        `${term.length.toString(16).padStart(2, '0')}${Buffer.from(term).toString('hex')}020003`;
      expect(pending.map((p) => Buffer.from(p.data).toString('hex'))).toEqual(
        expected.map(([, term]) => entry(term)),
      );
      await mem.close();
    });

    it('numbers the change feed in commit order: a reader following it alongside concurrent writers skips nothing', async () => {
      const namespace = freshNamespace('feed');
      const writers = await Promise.all(
        [1, 2, 3, 4].map(() => createMemory({ store: storeIn(schema), namespace })),
      );
      const reader = storeIn(schema);
      const written: string[] = [];
      const seen: string[] = [];
      let done = false;
      const follow = (async () => {
        let cursor = 0;
        // Stop only on an empty page read after every writer had finished: `done` is sampled before
        // the read, or a read begun before the last commit could end the loop.
        for (let finished = false; ; ) {
          const page = await reader.changes(namespace, cursor, 7);
          for (const entry of page) {
            expect(entry.seq).toBeGreaterThan(cursor);
            cursor = entry.seq;
            seen.push(entry.id);
          }
          if (finished && page.length === 0) break;
          finished = done;
        }
      })();
      await Promise.all(
        writers.map(async (mem, w) => {
          for (let i = 0; i < 15; i++) {
            const batch = await mem.addMany([{ content: `writer ${w} item ${i}` }, { content: `more ${i}` }]);
            written.push(...batch.map((m) => m.id));
          }
        }),
      );
      done = true;
      await follow;
      expect(seen.sort()).toEqual(written.sort());
      await Promise.all([...writers.map((mem) => mem.close()), reader.close()]);
    });

    it('concurrent writers of different fields of one memory lose neither field', async () => {
      const namespace = freshNamespace('fields');
      const [a, b] = await Promise.all([1, 2].map(() => createMemory({ store: storeIn(schema), namespace })));
      const m = await a!.add({ content: 'start' });
      await Promise.all([
        (async () => {
          for (let i = 0; i < 20; i++) await a!.update(m.id, { content: `content ${i}` });
        })(),
        (async () => {
          for (let i = 0; i < 20; i++) await b!.update(m.id, { tags: [`tag-${i}`] });
        })(),
      ]);
      expect(await a!.get(m.id)).toMatchObject({ content: 'content 19', tags: ['tag-19'] });
      await Promise.all([a!.close(), b!.close()]);
    });

    it('migrates a fresh database once when two processes start together, and re-running changes nothing', async () => {
      const fresh = await newSchema();
      const [a, b] = [storeIn(fresh), storeIn(fresh)];
      await Promise.all([a.open(), b.open()]);
      const again = storeIn(fresh);
      await again.open();
      const versions = await admin.unsafe(
        `SELECT version FROM ${fresh}.engram_schema_version ORDER BY version`,
      );
      // Each version applied exactly once, all of them: 1, 2, ... with no repeat.
      expect(versions.length).toBeGreaterThanOrEqual(2);
      expect(versions.map((v) => Number(v.version))).toEqual(versions.map((_, i) => i + 1));
      await Promise.all([a.close(), b.close(), again.close()]);
    });

    it('answers a prefix search from the term index, not a scan of the namespace', async () => {
      const statement = postingsStatement(postgresDialect, 'ns', ['coffee'], ['auth'])!;
      const text = await explain(statement, true);
      expect(text).toContain('engram_postings_pkey');
      expect(text).toMatch(/term >= 'auth'::text\) AND \(term < 'auti'::text/);
      expect(text).not.toContain('Seq Scan');
    });

    it('finds expired memories from the partial expiry index, not a scan of the namespace', async () => {
      const namespace = freshNamespace('expiry');
      const mem = await createMemory({ store: storeIn(schema), namespace, maintenance: { intervalMs: 0 } });
      const past = new Date(Date.now() - 60_000).toISOString();
      const future = new Date(Date.now() + 86_400_000).toISOString();
      const [gone] = await mem.addMany([
        { content: 'expired an hour ago', expiresAt: past },
        { content: 'expires tomorrow', expiresAt: future },
        { content: 'never expires' },
      ]);
      const statement = expiredStatement(postgresDialect, namespace, {
        now: new Date().toISOString(),
        limit: 10,
      });
      const text = await explain(statement, true);
      expect(text).toContain('engram_memories_by_expiry');
      expect(text).not.toContain('engram_memories_pkey');
      const rows = await admin.begin(async (tx) => {
        await tx.unsafe(`SET LOCAL search_path TO ${schema}`);
        return tx.unsafe(statement.sql, statement.params as string[]);
      });
      expect(rows.map((row) => row.id)).toEqual([gone!.id]);
      await mem.close();
    });

    it('lists by a rare tag and by a recent creation time from indexes, by a common tag from the ids', async () => {
      const namespace = freshNamespace('listing');
      const mem = await createMemory({ store: storeIn(schema), namespace, maintenance: { intervalMs: 0 } });
      for (let batch = 0; batch < 3; batch++) {
        await mem.addMany(
          Array.from({ length: 1000 }, (_, i) => ({
            content: `note ${batch}-${i}`,
            tags: ['work', `t${i % 7}`],
          })),
        );
      }
      const rare = await mem.add({ content: 'the one with a rare tag', tags: ['project-x'] });
      await admin.unsafe(`ANALYZE ${schema}.engram_memories`);
      const planOf = (query: Omit<ListQuery, 'tagMode'>) =>
        explain(listStatement(postgresDialect, namespace, { tagMode: 'any', ...query }));
      const now = new Date().toISOString();
      expect(await planOf({ tags: ['project-x'], limit: 20, now })).toContain('engram_memories_by_tags');
      expect(await planOf({ tags: ['nobody-has-it', 'project-x'], limit: 20, now })).toContain(
        'engram_memories_by_tags',
      );
      expect(await planOf({ tags: ['work'], limit: 20, now })).toContain('engram_memories_pkey');
      const later = new Date(Date.now() + 3_600_000).toISOString();
      expect(await planOf({ since: later, limit: 20, now })).toContain('engram_memories_by_created');
      // And the answers are those of the filters.
      expect((await mem.list({ tags: ['project-x'] })).items.map((m) => m.id)).toEqual([rare.id]);
      expect((await mem.list({ tags: ['project-x', 'work'], tagMode: 'all' })).items).toEqual([]);
      expect((await mem.list({ tags: ['work', 't3'], tagMode: 'all', limit: 1000 })).items.length).toBe(429);
      expect(await mem.count({ tags: ['nobody-has-it', 'project-x'] })).toBe(1);
      expect((await mem.list({ since: later })).items).toEqual([]);
      await mem.close();
    });

    it('a tombstone collection with nothing due takes no lock: writers of the namespace are not held', async () => {
      const namespace = freshNamespace('collect');
      // lock_timeout: a statement that waits on a lock fails at once instead of hanging the test.
      const store = new PostgresStore(
        postgresJs(url, { max: 2, connection: { search_path: schema, lock_timeout: 300 } }),
      );
      const mem = await createMemory({ store, namespace, maintenance: { intervalMs: 0 } });
      const kept = await mem.add({ content: 'a memory deleted just now' });
      await mem.remove(kept.id);
      const now = Date.now();
      const holder = await admin.reserve();
      try {
        // Another transaction holds the counter row, as a long write would.
        await holder.unsafe('BEGIN');
        await holder.unsafe(`SELECT seq FROM ${schema}.engram_namespaces WHERE ns = $1 FOR UPDATE`, [
          namespace,
        ]);
        const horizon = { nowMs: now, horizonMs: 30 * 86_400_000 };
        await expect(collectTombstones(store, namespace, horizon)).resolves.toBe(0);
        // One that is due does need the lock: it waits (here: fails on lock_timeout) rather than racing writers.
        const due = { nowMs: now + 31 * 86_400_000, horizonMs: 30 * 86_400_000 };
        await expect(collectTombstones(store, namespace, due)).rejects.toThrow(/lock timeout/);
        await holder.unsafe('ROLLBACK');
        await expect(collectTombstones(store, namespace, due)).resolves.toBe(1);
      } finally {
        holder.release();
      }
      await mem.close();
    });

    it('searches the same through a client made with fetch_types: false, as the Worker makes its own', async () => {
      // Without the catalog's types postgres.js hands arrays back as text; the postings statement must not
      // depend on them (each pending bucket below holds one row per write, joined into one row per bucket).
      const namespace = freshNamespace('untyped');
      const typed = await createMemory({ store: storeIn(schema), namespace });
      for (const roast of ['dark', 'light', 'medium', 'french', 'espresso']) {
        await typed.add({ content: `Coffee, ${roast} roast, in the morning` });
      }
      const untypedStore = new PostgresStore(
        postgresJs(url, { max: 2, fetch_types: false, connection: { search_path: schema } }),
      );
      const untyped = await createMemory({ store: untypedStore, namespace });
      for (const query of ['coffee', 'roast morning', 'espres*', 'dark OR light']) {
        const want = (await typed.search(query)).map((hit) => [hit.memory.id, hit.score]);
        expect(want.length, query).toBeGreaterThan(0);
        expect(
          (await untyped.search(query)).map((hit) => [hit.memory.id, hit.score]),
          query,
        ).toEqual(want);
      }
      expect(await untyped.search('coffee')).toHaveLength(5);
      await untypedStore.close();
    });
  });
}
