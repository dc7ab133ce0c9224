import postgres from 'postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PostgresStore, postgresJs } from '../../src/backends/postgres/index.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import type { MemoryWrite, SyncResponse } from '../../src/index.js';
import { formatHlc } from '../../src/store/index.js';

const url = process.env.DATABASE_URL;
const FIELDS = ['content', 'kind', 'tags', 'metadata', 'embedding', 'importance', 'expiresAt'];

function write(id: string, at: number, node: string): MemoryWrite {
  const stamp = formatHlc({ wallMs: at, counter: 0, node });
  return {
    id,
    create: { namespace: 'busy', createdAt: new Date(at).toISOString() },
    values: { content: `note ${id}`, kind: 'note', tags: [], metadata: {} },
    clocks: Object.fromEntries(FIELDS.map((f) => [f, stamp])),
  };
}

if (!url) {
  describe.skip('concurrent pushers on real Postgres: skipped because DATABASE_URL is not set', () => {
    it('runs when DATABASE_URL points at a Postgres database', () => {});
  });
} else {
  const admin = postgres(url, { onnotice: () => {}, max: 1 });
  const schema = `engram_sync_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  afterAll(async () => {
    await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });

  describe('concurrent pushers on real Postgres', () => {
    it('a pull running alongside concurrent pushes never skips a change', async () => {
      const store = new PostgresStore(postgresJs(url, { max: 8, connection: { search_path: schema } }));
      const app = createEdgeApp({ store, secret: 's', logger: false });
      const token = await mintToken({ secret: 's', ns: ['busy'] });
      const sync = async (body: unknown): Promise<SyncResponse> => {
        const res = await app.request('/v1/ns/busy/sync', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as SyncResponse;
      };

      const PUSHERS = 6;
      const PUSHES = 15;
      const BATCH = 4;
      let pushing = true;
      const seen = new Set<string>();
      let cursor = 0;
      let pulls = 0;
      const puller = (async () => {
        while (pushing || pulls < 2) {
          const { pull } = await sync({ pull: { after: cursor, limit: 7 } });
          for (const change of pull!.changes) {
            expect(change.seq).toBeGreaterThan(cursor);
            seen.add(change.id);
          }
          cursor = pull!.cursor;
          if (!pull!.hasMore) pulls++;
        }
      })();
      // In the past: the edge refuses stamps ahead of its clock (bounded skew).
      const t0 = Date.parse('2024-01-01');
      await Promise.all(
        Array.from({ length: PUSHERS }, async (_, p) => {
          for (let n = 0; n < PUSHES; n++) {
            const memories = Array.from({ length: BATCH }, (_, b) =>
              write(`p${p}-${n}-${b}`, t0 + n, `node${p}`),
            );
            await sync({ push: { memories } });
          }
        }),
      );
      pushing = false;
      await puller;
      // One last catch-up pull: whatever the loop had not reached yet must come now, nothing earlier.
      for (let more = true; more; ) {
        const { pull } = await sync({ pull: { after: cursor, limit: 100 } });
        for (const change of pull!.changes) seen.add(change.id);
        cursor = pull!.cursor;
        more = pull!.hasMore;
      }
      expect(seen.size).toBe(PUSHERS * PUSHES * BATCH);
      const rows = await admin.unsafe(
        `SELECT count(*)::int AS count FROM ${schema}.engram_memories WHERE ns = 'busy'`,
      );
      expect(rows[0]?.count).toBe(PUSHERS * PUSHES * BATCH);
      await store.close();
    }, 60_000);
  });
  describe('two edges on one Postgres', () => {
    const opened: PostgresStore[] = [];
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });
    /** Two edge apps, each with a store of its own on the database: `request(edge, path, body?)` in `ns`. */
    const twoEdges = async (ns: string) => {
      const token = await mintToken({ secret: 's', ns: [ns] });
      const stores = [0, 1].map(
        () => new PostgresStore(postgresJs(url, { max: 4, connection: { search_path: schema } })),
      );
      opened.push(...stores);
      const apps = stores.map((store) => createEdgeApp({ store, secret: 's', logger: false }));
      return (edge: number, path: string, body?: unknown) =>
        apps[edge]!.request(`/v1/ns/${ns}${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
    };

    it('of two POSTs racing for one id, one creates it and the other is told CONFLICT', async () => {
      const request = await twoEdges('race');
      const post = (edge: number, body: unknown) => request(edge, '/memories', body);
      for (let round = 0; round < 12; round++) {
        const id = `same-${round}`;
        const answers = await Promise.all([
          post(0, { id, content: `from edge 0, round ${round}` }),
          post(1, { id, content: `from edge 1, round ${round}` }),
        ]);
        const statuses = answers.map((a) => a.status).sort();
        expect(statuses, `round ${round}`).toEqual([201, 409]);
        const winner = answers.findIndex((a) => a.status === 201);
        const loser = (await answers[1 - winner]!.json()) as { error: { code: string; field: string } };
        expect(loser.error).toMatchObject({ code: 'CONFLICT', field: 'add.id' });
        const stored = await request(0, `/memories/${id}`);
        expect(((await stored.json()) as { content: string }).content).toBe(
          `from edge ${winner}, round ${round}`,
        );
      }
      // Two edges linking the same memories with the same type at once: one link, both answers name it.
      await post(0, { id: 'from', content: 'from' });
      await post(0, { id: 'to', content: 'to' });
      const link = (edge: number, weight: number) =>
        request(edge, '/links', { from: 'from', to: 'to', type: `rel-${weight}`, weight });
      for (let round = 0; round < 8; round++) {
        const answers = await Promise.all([link(0, round), link(1, round)]);
        expect(answers.map((a) => a.status)).toEqual([201, 201]);
        const [one, two] = (await Promise.all(answers.map((a) => a.json()))) as Array<{ id: string }>;
        expect(two!.id, `round ${round}`).toBe(one!.id);
      }
      const all = await request(1, '/memories/from/links');
      expect((await all.json()) as { items?: unknown[] } | unknown[] as unknown).toSatisfy(
        (body: unknown) => {
          const items = Array.isArray(body) ? body : (body as { items: unknown[] }).items;
          return items.length === 8;
        },
      );
    });

    it('two deduping adds of one content racing through two edges make one memory', async () => {
      const request = await twoEdges('dedupe');
      const add = (edge: number, body: unknown) => request(edge, '/memories?dedupe=true', body);
      for (let round = 0; round < 10; round++) {
        const content = `Prefers tea in round ${round}`;
        const answers = await Promise.all([
          add(0, { content, tags: ['edge-0'] }),
          add(1, { content: `  ${content.toUpperCase()} `, tags: ['edge-1'] }),
        ]);
        expect(answers.map((a) => a.status)).toEqual([201, 201]);
        const [one, two] = (await Promise.all(answers.map((a) => a.json()))) as Array<{ id: string }>;
        expect(two!.id, `round ${round}`).toBe(one!.id);
        const stored = (await (await request(0, `/memories/${one!.id}`)).json()) as { tags: string[] };
        expect(stored.tags.sort(), `round ${round}`).toEqual(['edge-0', 'edge-1']);
      }
      const rows = await admin.unsafe(
        `SELECT count(*)::int AS count FROM ${schema}.engram_memories WHERE ns = 'dedupe'`,
      );
      expect(rows[0]?.count).toBe(10);
    });

    it('of two supersedes of one fact racing through two edges, one succeeds and the other is told CONFLICT', async () => {
      const request = await twoEdges('facts');
      for (let round = 0; round < 10; round++) {
        const old = (await (await request(0, '/memories', { content: `lives in city ${round}` })).json()) as {
          id: string;
        };
        const answers = await Promise.all(
          [0, 1].map((edge) =>
            request(edge, `/memories/${old.id}/supersede`, { content: `moved, told by edge ${edge}` }),
          ),
        );
        expect(answers.map((a) => a.status).sort(), `round ${round}`).toEqual([201, 409]);
        const loser = (await answers.find((a) => a.status === 409)!.json()) as {
          error: { code: string; field: string };
        };
        expect(loser.error).toMatchObject({ code: 'CONFLICT', field: 'supersede.oldId' });
        const links = (await (await request(1, `/memories/${old.id}/links`)).json()) as
          | unknown[]
          | { items: unknown[] };
        expect(Array.isArray(links) ? links : links.items, `round ${round}`).toHaveLength(1);
      }
    });
  });
}
