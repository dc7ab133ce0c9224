import { env, exports } from 'cloudflare:workers';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/edge/token.js';

// Runs inside workerd: the Worker from wrangler.toml, through Hyperdrive's local connection to Postgres.
const ns = `workerd-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const worker = exports.default;
const call = async (method: string, path: string, body?: unknown, token?: string) => {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await worker.fetch(`https://engram.test${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
};

describe('edge Worker in workerd over Hyperdrive and Postgres', () => {
  const sql = postgres(env.HYPERDRIVE.connectionString, { max: 1 });
  afterAll(async () => {
    await sql`DELETE FROM engram_memories WHERE ns = ${ns}`.catch(() => {});
  });

  it('reports a reachable store on /health', async () => {
    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ ok: true, store: 'postgres' });
  });

  it('serves the API with auth, and its writes are rows in Postgres', async () => {
    const token = await mintToken({ secret: env.ENGRAM_SECRET, ns: [ns] });
    expect((await call('GET', `/v1/ns/${ns}/memories`)).status).toBe(401);
    expect((await call('GET', '/v1/ns/someone-else/memories', undefined, token)).status).toBe(403);

    const made = await call(
      'POST',
      `/v1/ns/${ns}/memories`,
      [
        { id: 'w1', content: 'Workers run close to users', tags: ['edge'] },
        { id: 'w2', content: 'Hyperdrive pools Postgres connections' },
      ],
      token,
    );
    expect(made.status).toBe(201);
    expect((await call('POST', `/v1/ns/${ns}/links`, { from: 'w1', to: 'w2', type: 'uses' })).status).toBe(
      401,
    );
    expect(
      (await call('POST', `/v1/ns/${ns}/links`, { from: 'w1', to: 'w2', type: 'uses' }, token)).status,
    ).toBe(201);
    const search = await call('POST', `/v1/ns/${ns}/search`, { query: 'postgres' }, token);
    expect(search.json.hits.map((h: { memory: { id: string } }) => h.memory.id)).toEqual(['w2']);
    expect((await call('GET', `/v1/ns/${ns}/path?from=w1&to=w2`, undefined, token)).json.path).toHaveLength(
      2,
    );
    expect((await call('GET', `/v1/ns/${ns}/memories/nope`, undefined, token)).status).toBe(404);

    const rows = await sql<
      { id: string; content: string }[]
    >`SELECT id, content FROM engram_memories WHERE ns = ${ns} ORDER BY id`;
    expect(rows.map((r) => [r.id, r.content])).toEqual([
      ['w1', 'Workers run close to users'],
      ['w2', 'Hyperdrive pools Postgres connections'],
    ]);
  });

  it('refuses malformed sync input and stamps beyond the bound with 400 naming the field, as on Node', async () => {
    const token = await mintToken({ secret: env.ENGRAM_SECRET, ns: [ns] });
    const stamp = (ms: number) => `${ms.toString(16).padStart(12, '0')}-0000-w`;
    const cases: Array<[unknown, string]> = [
      [{ pull: { after: 1e20 } }, 'sync.pull.after'],
      [{ push: [] }, 'sync.push'],
      [{ get: [] }, 'sync.get'],
      [
        { push: { memories: [{ id: 'w1', values: {}, clocks: { kind: stamp(Date.now()) } }] } },
        'sync.push.memories.0.values.kind',
      ],
      [
        {
          push: {
            memories: [{ id: 'w1', values: { content: 'x' }, clocks: { content: 'ffffffffffff-ffff-zzz' } }],
          },
        },
        'sync.push.memories.0.clocks.content',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await call('POST', `/v1/ns/${ns}/sync`, body, token);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'VALIDATION', field });
    }
    const ok = await call('POST', `/v1/ns/${ns}/sync`, {}, token);
    expect(ok.json.serverTime).toBeTypeOf('number');
  });
});
