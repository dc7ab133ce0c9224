import { describe, expect, it } from 'vitest';
import { PULL_LIMIT_DEFAULT } from '../../src/core/sync/protocol.js';
import { InMemoryStore } from '../../src/index.js';
import { testApp } from './helpers.js';

describe('edge routes: memories', () => {
  it('adds one (201) or many (201, array), gets, patches and deletes', async () => {
    const { call } = await testApp();
    const one = await call('POST', '/v1/ns/demo/memories', { content: 'Likes green tea', tags: ['tea'] });
    expect(one.status).toBe(201);
    expect(one.json).toMatchObject({
      namespace: 'demo',
      content: 'Likes green tea',
      kind: 'note',
      tags: ['tea'],
    });
    const many = await call('POST', '/v1/ns/demo/memories', [
      { content: 'a' },
      { content: 'b', kind: 'fact' },
    ]);
    expect(many.status).toBe(201);
    expect(many.json.map((m: { content: string }) => m.content)).toEqual(['a', 'b']);

    const got = await call('GET', `/v1/ns/demo/memories/${one.json.id}`);
    expect(got.status).toBe(200);
    expect(got.json).toEqual(one.json);

    const patched = await call('PATCH', `/v1/ns/demo/memories/${one.json.id}`, {
      content: 'Loves green tea',
      importance: 0.5,
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      id: one.json.id,
      content: 'Loves green tea',
      importance: 0.5,
      tags: ['tea'],
    });

    const removed = await call('DELETE', `/v1/ns/demo/memories/${one.json.id}`);
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    expect((await call('GET', `/v1/ns/demo/memories/${one.json.id}`)).status).toBe(404);
  });

  it('answers 404 NOT_FOUND for a missing memory on every id route', async () => {
    const { call } = await testApp();
    for (const [method, path, body] of [
      ['GET', '/v1/ns/demo/memories/ghost'],
      ['PATCH', '/v1/ns/demo/memories/ghost', { content: 'x' }],
      ['DELETE', '/v1/ns/demo/memories/ghost'],
      ['GET', '/v1/ns/demo/memories/ghost/links'],
      ['GET', '/v1/ns/demo/memories/ghost/neighbors'],
      ['GET', '/v1/ns/demo/path?from=ghost&to=ghost'],
      ['DELETE', '/v1/ns/demo/links/ghost'],
    ] as const) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json.error.code).toBe('NOT_FOUND');
      expect(res.json.error.message).toContain('ghost');
    }
  });

  it('answers 409 CONFLICT for a taken id', async () => {
    const { call } = await testApp();
    await call('POST', '/v1/ns/demo/memories', { id: 'pref:1', content: 'x' });
    const again = await call('POST', '/v1/ns/demo/memories', { id: 'pref:1', content: 'y' });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'CONFLICT' });
  });

  it('answers 400 VALIDATION naming the field, like the SDK', async () => {
    const { call } = await testApp();
    const bad = await call('POST', '/v1/ns/demo/memories', { content: 'x', importance: 2 });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({
      error: {
        code: 'VALIDATION',
        message: 'add.importance: expected a number from 0 to 1, got number 2',
        field: 'add.importance',
      },
    });
    const many = await call('POST', '/v1/ns/demo/memories', [{ content: 'ok' }, { content: '' }]);
    expect(many.json.error.field).toBe('addMany.1.content');
    const patch = await call('PATCH', '/v1/ns/demo/memories/x', {});
    expect(patch.json.error.field).toBe('update.patch');
  });

  it('lists with the list filters as query params; tags comma-separated or repeated', async () => {
    const { call } = await testApp();
    await call('POST', '/v1/ns/demo/memories', [
      { id: 'm1', content: 'ab', tags: ['a', 'b'] },
      { id: 'm2', content: 'a', tags: ['a'], kind: 'fact' },
      { id: 'm3', content: 'bc', tags: ['b', 'c'] },
      { id: 'm4', content: 'none' },
    ]);
    const ids = async (query: string) =>
      (await call('GET', `/v1/ns/demo/memories${query}`)).json.items.map((m: { id: string }) => m.id);
    expect(await ids('')).toEqual(['m4', 'm3', 'm2', 'm1']);
    expect(await ids('?tags=a,c')).toEqual(['m3', 'm2', 'm1']);
    expect(await ids('?tags=a&tags=c')).toEqual(['m3', 'm2', 'm1']);
    expect(await ids('?tags=a,b&tagMode=all')).toEqual(['m1']);
    // Empty items (a trailing comma, an empty value) name no tag.
    expect(await ids('?tags=c,')).toEqual(['m3']);
    expect(await ids('?tags=&tags=c')).toEqual(['m3']);
    // A JSON array names each tag whole (a tag may hold a comma); anything else starting with [ is split.
    expect(await ids(`?tags=${encodeURIComponent('["a","c"]')}`)).toEqual(['m3', 'm2', 'm1']);
    expect(await ids(`?tags=${encodeURIComponent('["a,c"]')}`)).toEqual([]);
    expect(await ids(`?tags=${encodeURIComponent('[a,c')}`)).toEqual(['m3']); // tags "[a" and "c"
    // JSON, but not of strings: the tag "[2024]" (none here), not a refused number.
    expect(await ids(`?tags=${encodeURIComponent('[2024]')}`)).toEqual([]);
    expect(await ids('?kind=fact')).toEqual(['m2']);
    const first = await call('GET', '/v1/ns/demo/memories?limit=3');
    expect(first.json.cursor).toEqual(expect.any(String));
    const rest = await call('GET', `/v1/ns/demo/memories?limit=3&cursor=${first.json.cursor}`);
    expect(rest.json).toMatchObject({ items: [{ id: 'm1' }], cursor: null });
  });

  it('filters lists by metadata.key=value params, values read as JSON when they parse', async () => {
    const { call } = await testApp();
    await call('POST', '/v1/ns/demo/memories', [
      { id: 'm1', content: 'alpha', metadata: { source: 'chat', turn: 3, code: '42' } },
      { id: 'm2', content: 'beta', metadata: { source: 'chat', turn: 4 } },
      { id: 'm3', content: 'gamma', metadata: { source: 'mail', turn: 3 } },
    ]);
    const ids = async (query: string) =>
      (await call('GET', `/v1/ns/demo/memories${query}`)).json.items.map((m: { id: string }) => m.id);
    expect(await ids('?metadata.source=chat')).toEqual(['m2', 'm1']);
    expect(await ids('?metadata.source=chat&metadata.turn=3')).toEqual(['m1']);
    expect(await ids('?metadata.turn=%223%22')).toEqual([]);
    expect(await ids('?metadata.code=%2242%22')).toEqual(['m1']);
    expect(await ids('?metadata.code=42')).toEqual([]);
    // Keys named like Object.prototype's are keys: none of these memories holds them.
    for (const key of ['__proto__', 'constructor', 'toString']) {
      expect(await ids(`?metadata.${key}=1`), key).toEqual([]);
      expect(await ids(`?metadata.source=chat&metadata.${key}=1`), key).toEqual([]);
    }
    expect(await ids('?metadata.source=chat&metadata.source=chat')).toEqual(['m2', 'm1']);
    const twice = await call('GET', '/v1/ns/demo/memories?metadata.source=chat&metadata.source=mail');
    expect(twice.status).toBe(400);
    expect(twice.json.error).toMatchObject({ code: 'VALIDATION', field: 'list.metadata.source' });
    const search = await call('POST', '/v1/ns/demo/search', {
      query: 'alpha beta gamma',
      metadata: { turn: 3 },
      explain: true,
    });
    expect(search.json.hits.map((h: { memory: { id: string } }) => h.memory.id).sort()).toEqual(['m1', 'm3']);
    for (const hit of search.json.hits) {
      const parts = Object.values(hit.explain.text as Record<string, number>);
      expect(Math.abs(parts.reduce((a, b) => a + b, 0) - hit.score)).toBeLessThan(1e-9);
    }
  });

  it('refuses bad and unknown list params with the field named', async () => {
    const { call } = await testApp();
    expect((await call('GET', '/v1/ns/demo/memories?limit=abc')).json.error).toMatchObject({
      code: 'VALIDATION',
      field: 'list.limit',
    });
    expect((await call('GET', '/v1/ns/demo/memories?limit=0')).json.error.field).toBe('list.limit');
    // A negative number is read as a number, so the refusal says what is wrong with it.
    expect((await call('GET', '/v1/ns/demo/memories?limit=-1')).json.error.message).toBe(
      'list.limit: expected at least 1, got number -1',
    );
    expect((await call('GET', '/v1/ns/demo/memories?cursor=%25%25')).json.error.field).toBe('list.cursor');
    const typo = await call('GET', '/v1/ns/demo/memories?tag=a');
    expect(typo.status).toBe(400);
    expect(typo.json.error).toMatchObject({ field: 'list.tag' });
    expect(typo.json.error.message).toContain('expected a known query parameter');
    // The metadata filter is listed in the form it takes.
    expect(typo.json.error.message).toMatch(/, metadata\.<key>,/);
    // A plain metadata value beside metadata.<key> parameters, in either order: 400, never a 500.
    for (const query of [
      'metadata=x&metadata.k=1',
      'metadata.k=1&metadata=x',
      'metadata=x&metadata.k=1&tags=a',
    ]) {
      const both = await call('GET', `/v1/ns/demo/memories?${query}`);
      expect(both.status, query).toBe(400);
      expect(both.json.error, query).toMatchObject({ code: 'VALIDATION', field: 'list.metadata' });
      expect((await call('GET', `/v1/ns/demo/count?${query}`)).status, query).toBe(400);
    }
    // The object as one parameter (JSON or not) is told the form a query string takes.
    for (const value of [encodeURIComponent('{"team":"a"}'), 'x']) {
      for (const route of ['memories', 'count']) {
        const plain = await call('GET', `/v1/ns/demo/${route}?metadata=${value}`);
        expect(plain.status, value).toBe(400);
        expect(plain.json.error.field).toBe(route === 'memories' ? 'list.metadata' : 'count.metadata');
        expect(plain.json.error.message).toContain('expected metadata.<key>=<value> parameters, one per key');
      }
    }
  });
});

describe('edge routes: search and graph', () => {
  async function seeded() {
    const ctx = await testApp();
    await ctx.call('POST', '/v1/ns/demo/memories', [
      { id: 'a', content: 'dark roast coffee', embedding: [1, 0] },
      { id: 'b', content: 'green tea', embedding: [0, 1] },
      { id: 'c', content: 'coffee beans', kind: 'fact' },
    ]);
    return ctx;
  }

  it('searches with a body of { query, ...options }', async () => {
    const { call } = await seeded();
    const hits = await call('POST', '/v1/ns/demo/search', { query: 'coffee' });
    expect(hits.status).toBe(200);
    expect(hits.json.hits.map((h: { memory: { id: string } }) => h.memory.id).sort()).toEqual(['a', 'c']);
    expect(hits.json.hits[0].score).toBeGreaterThan(0);
    const filtered = await call('POST', '/v1/ns/demo/search', { query: 'coffee', kind: 'fact', limit: 5 });
    expect(filtered.json.hits.map((h: { memory: { id: string } }) => h.memory.id)).toEqual(['c']);
    const vector = await call('POST', '/v1/ns/demo/search', {
      query: '',
      vector: [0.9, 0.1],
      mode: 'vector',
    });
    expect(vector.json.hits[0].memory.id).toBe('a');
    const bad = await call('POST', '/v1/ns/demo/search', { query: 'x', mode: 'fuzzy' });
    expect(bad.json.error).toMatchObject({ code: 'VALIDATION', field: 'search.mode' });
    expect((await call('POST', '/v1/ns/demo/search', ['x'])).json.error.field).toBe('search');
    expect(
      (await call('POST', '/v1/ns/demo/search', { query: '', vector: [1, 0, 0] })).json.error.field,
    ).toBe('vector');
  });

  it('refuses a boost weight out of range (400) rather than answer a score JSON turns into null', async () => {
    const { call } = await seeded();
    const cases: [unknown, string][] = [
      [{ importance: 1e308 }, 'search.boost.importance'],
      [{ recency: { halfLifeDays: 30, weight: 1e308 } }, 'search.boost.recency.weight'],
      [{ recency: { halfLifeDays: 1e308 } }, 'search.boost.recency.halfLifeDays'],
    ];
    for (const [boost, field] of cases) {
      const res = await call('POST', '/v1/ns/demo/search', { query: 'coffee', boost });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'VALIDATION', field });
      expect(res.json.error.message).toMatch(/expected .*from 0(\.001)? to (100|36500)/);
    }
    const top = await call('POST', '/v1/ns/demo/search', {
      query: 'coffee',
      boost: { recency: { halfLifeDays: 0.001, weight: 100 }, importance: 100 },
    });
    expect(top.status).toBe(200);
    for (const hit of top.json.hits) expect(typeof hit.score).toBe('number');
  });

  it('links (201), lists links, walks neighbors and paths, unlinks (204)', async () => {
    const { call } = await seeded();
    const link = await call('POST', '/v1/ns/demo/links', {
      from: 'a',
      to: 'b',
      type: 'related_to',
      weight: 0.5,
    });
    expect(link.status).toBe(201);
    expect(link.json).toMatchObject({ from: 'a', to: 'b', type: 'related_to', weight: 0.5 });
    await call('POST', '/v1/ns/demo/links', { from: 'b', to: 'c', type: 'related_to' });

    const links = await call('GET', '/v1/ns/demo/memories/b/links?direction=in');
    expect(links.json.items.map((l: { from: string }) => l.from)).toEqual(['a']);
    const near = await call('GET', '/v1/ns/demo/memories/a/neighbors?depth=2&direction=out');
    expect(near.json.items.map((m: { id: string }) => m.id)).toEqual(['b', 'c']);
    const path = await call('GET', '/v1/ns/demo/path?from=a&to=c');
    expect(path.json.path.map((m: { id: string }) => m.id)).toEqual(['a', 'b', 'c']);
    expect((await call('GET', '/v1/ns/demo/path?from=c&to=a')).json).toEqual({ path: null });
    // maxDepth is a number: a path two links long is out of reach at 1.
    expect((await call('GET', '/v1/ns/demo/path?from=a&to=c&maxDepth=1')).json).toEqual({ path: null });
    const within = await call('GET', '/v1/ns/demo/path?from=a&to=c&maxDepth=2');
    expect(within.json.path.map((m: { id: string }) => m.id)).toEqual(['a', 'b', 'c']);

    expect((await call('DELETE', `/v1/ns/demo/links/${link.json.id}`)).status).toBe(204);
    expect((await call('GET', '/v1/ns/demo/memories/b/links?direction=in')).json.items).toEqual([]);
  });

  it('validates graph params and bodies like the SDK', async () => {
    const { call } = await seeded();
    expect(
      (await call('POST', '/v1/ns/demo/links', { from: 'a', to: 'a', type: 'self' })).json.error.field,
    ).toBe('link.to');
    expect(
      (await call('POST', '/v1/ns/demo/links', { from: 'a', to: 'ghost', type: 'r' })).json.error,
    ).toMatchObject({
      code: 'NOT_FOUND',
      field: 'link.to',
    });
    expect((await call('GET', '/v1/ns/demo/memories/a/neighbors?depth=99')).json.error.field).toBe(
      'neighbors.options.depth',
    );
    expect((await call('GET', '/v1/ns/demo/memories/a/links?direction=up')).json.error.field).toBe(
      'links.options.direction',
    );
    expect((await call('GET', '/v1/ns/demo/path?from=a')).json.error.field).toBe('path.to');
    expect((await call('GET', '/v1/ns/demo/path?from=a&to=b&depth=2')).json.error.field).toBe('path.depth');
  });
});

describe('edge routes: replica options', () => {
  it('include=clocks returns records; now= judges TTLs at that instant', async () => {
    const { call } = await testApp();
    const soon = new Date(Date.now() + 60_000).toISOString();
    await call('POST', '/v1/ns/demo/memories', [
      { id: 'x', content: 'short lived', expiresAt: soon },
      { id: 'y', content: 'lasting' },
    ]);
    const records = await call('GET', '/v1/ns/demo/memories?include=clocks&limit=1');
    expect(records.json.items).toEqual([
      {
        memory: expect.objectContaining({ id: 'y' }),
        clocks: expect.objectContaining({ content: expect.any(String) }),
      },
    ]);
    const page2 = await call('GET', '/v1/ns/demo/memories?include=clocks&before=y');
    expect(page2.json.items.map((r: { memory: { id: string } }) => r.memory.id)).toEqual(['x']);
    expect((await call('GET', '/v1/ns/demo/memories?include=clocks&cursor=abc')).json.error.field).toBe(
      'list.cursor',
    );
    expect((await call('GET', '/v1/ns/demo/memories?include=clocks&before=a%20b')).json.error).toMatchObject({
      code: 'VALIDATION',
      field: 'list.before',
    });

    const later = new Date(Date.now() + 120_000).toISOString();
    expect(
      (await call('GET', `/v1/ns/demo/memories?now=${later}`)).json.items.map((m: { id: string }) => m.id),
    ).toEqual(['y']);
    expect((await call('GET', `/v1/ns/demo/memories/x?now=${later}`)).status).toBe(404);
    const listed = await call('GET', `/v1/ns/demo/memories?include=clocks&now=${later}`);
    expect(listed.json.items.map((r: { memory: { id: string } }) => r.memory.id)).toEqual(['y']);
    const search = await call('POST', `/v1/ns/demo/search?include=clocks&now=${later}`, {
      query: 'lived lasting',
    });
    expect(search.json.hits).toEqual([
      { memory: expect.objectContaining({ id: 'y' }), clocks: expect.any(Object), score: expect.any(Number) },
    ]);
    expect((await call('GET', '/v1/ns/demo/memories?now=tomorrow')).json.error.field).toBe('now');
    expect((await call('GET', '/v1/ns/demo/memories?include=everything')).json.error.field).toBe('include');
  });

  it('include=clocks reads as the SDK does: tags match any, links both ways, no page smaller than asked', async () => {
    const { call } = await testApp();
    await call('POST', '/v1/ns/demo/memories', [
      { id: 'a', content: 'a', tags: ['x'] },
      { id: 'b', content: 'b', tags: ['y'] },
      { id: 'c', content: 'c', tags: ['x', 'y'] },
      ...Array.from({ length: 10 }, (_, i) => ({ id: `n${i}`, content: `n${i}` })),
    ]);
    const ids = async (query: string) =>
      (await call('GET', `/v1/ns/demo/memories?include=clocks${query}`)).json.items
        .map((r: { memory: { id: string } }) => r.memory.id)
        .sort();
    expect(await ids('&tags=x,y')).toEqual(['a', 'b', 'c']);
    expect(await ids('&tags=x,y&tagMode=all')).toEqual(['c']);
    expect(await ids('')).toHaveLength(13);
    await call('POST', '/v1/ns/demo/links', { from: 'a', to: 'b', type: 'related_to' });
    await call('POST', '/v1/ns/demo/links', { from: 'b', to: 'c', type: 'related_to' });
    const links = await call('GET', '/v1/ns/demo/memories/b/links?include=clocks');
    expect(
      links.json.items
        .map((r: { link: { from: string; to: string } }) => `${r.link.from}>${r.link.to}`)
        .sort(),
    ).toEqual(['a>b', 'b>c']);
  });

  it('now= judges TTLs on the other reads too: count, path, neighbors, links and context', async () => {
    const { call } = await testApp();
    const soon = new Date(Date.now() + 60_000).toISOString();
    await call('POST', '/v1/ns/demo/memories', [
      { id: 'a', content: 'alpha coffee' },
      { id: 'b', content: 'beta coffee', expiresAt: soon },
      { id: 'c', content: 'gamma coffee' },
    ]);
    await call('POST', '/v1/ns/demo/links', { from: 'a', to: 'b', type: 'related_to' });
    await call('POST', '/v1/ns/demo/links', { from: 'b', to: 'c', type: 'related_to' });
    const later = `now=${encodeURIComponent(new Date(Date.now() + 120_000).toISOString())}`;
    const get = async (path: string) => (await call('GET', `/v1/ns/demo${path}`)).json;
    expect(await get('/count')).toEqual({ count: 3 });
    expect(await get(`/count?${later}`)).toEqual({ count: 2 });
    expect((await get('/path?from=a&to=c')).path).toHaveLength(3);
    expect(await get(`/path?from=a&to=c&${later}`)).toEqual({ path: null });
    expect((await get('/memories/a/neighbors?depth=2')).items).toHaveLength(2);
    expect(await get(`/memories/a/neighbors?depth=2&${later}`)).toEqual({ items: [] });
    expect((await get('/memories/a/links')).items).toHaveLength(1);
    expect(await get(`/memories/a/links?${later}`)).toEqual({ items: [] });
    const context = async (query: string) =>
      (await call('POST', `/v1/ns/demo/context${query}`, { query: 'coffee' })).json.context;
    expect(await context('')).toContain('beta');
    expect(await context(`?${later}`)).not.toContain('beta');
  });

  it('sync serves push, get and pull, each change with its origin', async () => {
    const { call } = await testApp();
    const made = await call('POST', '/v1/ns/demo/memories', { content: 'via api' });
    const sync = await call('POST', '/v1/ns/demo/sync', {
      pull: { after: 0 },
      get: { memories: [made.json.id, 'ghost'] },
    });
    expect(sync.status).toBe(200);
    expect(sync.json.get.memories.map((r: { memory: { id: string } }) => r.memory.id)).toEqual([
      made.json.id,
    ]);
    expect(sync.json.pull).toMatchObject({ cursor: expect.any(Number), hasMore: false });
    expect(sync.json.pull.changes).toEqual([
      expect.objectContaining({ id: made.json.id, entity: 'memory', origin: 'local' }),
    ]);
    expect(sync.json.pull.changes[0].memory.memory.content).toBe('via api');
    const bare = await call('POST', '/v1/ns/demo/sync', { pull: { after: 0, states: false } });
    expect(bare.json.pull.changes).toEqual([
      { seq: sync.json.pull.changes[0].seq, entity: 'memory', id: made.json.id, origin: 'local' },
    ]);
    // A push is replicated (remote) unless the pusher says it was made here (?origin=local).
    const stamp = '0190a1b2c3d4-0000-n1';
    const pushOf = (id: string) => ({
      push: {
        memories: [
          {
            id,
            create: { namespace: 'demo', createdAt: '2024-07-01T00:00:00.000Z' },
            values: { content: id, kind: 'note', tags: [], metadata: {} },
            clocks: { content: stamp, kind: stamp, tags: stamp, metadata: stamp },
          },
        ],
      },
    });
    await call('POST', '/v1/ns/demo/sync', pushOf('replicated'));
    await call('POST', '/v1/ns/demo/sync?origin=local', pushOf('made-here'));
    const pushed = await call('POST', '/v1/ns/demo/sync', {
      pull: { after: sync.json.pull.cursor, states: false },
    });
    expect(pushed.json.pull.changes.map((c: { id: string; origin: string }) => [c.id, c.origin])).toEqual([
      ['replicated', 'remote'],
      ['made-here', 'local'],
    ]);
    expect((await call('POST', '/v1/ns/demo/sync?origin=elsewhere', {})).json.error.field).toBe(
      'sync.origin',
    );
    expect((await call('POST', '/v1/ns/demo/sync', { pull: { after: -1 } })).json.error.code).toBe(
      'VALIDATION',
    );
  });

  it('answers a push with ids only when asked (?answer=ids), the merge being the same', async () => {
    const { call } = await testApp();
    const stamp = '0190a1b2c3d4-0000-n1';
    const push = (id: string) => ({
      memories: [
        {
          id,
          create: { namespace: 'demo', createdAt: '2024-07-01T00:00:00.000Z' },
          values: { content: `text of ${id}`, kind: 'note', tags: [], metadata: {} },
          clocks: { content: stamp, kind: stamp, tags: stamp, metadata: stamp },
        },
        // No create part and not stored: rejected, which the slim answer still says.
        { id: `${id}-orphan`, values: { content: 'x' }, clocks: { content: stamp } },
      ],
      links: [
        {
          id: `${id}-link`,
          create: { namespace: 'demo', from: id, to: 'anchor', createdAt: '2024-07-01T00:00:00.000Z' },
          values: { type: 'related_to', weight: 1, metadata: {} },
          clocks: { type: stamp, weight: stamp, metadata: stamp },
        },
      ],
      tombstones: [{ entity: 'memory', id: `${id}-gone`, namespace: 'demo', clock: stamp }],
    });
    await call('POST', '/v1/ns/demo/memories', { id: 'anchor', content: 'linked to' });
    const full = await call('POST', '/v1/ns/demo/sync', { push: push('a') });
    const slim = await call('POST', '/v1/ns/demo/sync?answer=ids', { push: push('b') });
    expect(full.json.push.memories.map((r: { memory: { id: string } }) => r.memory.id)).toEqual(['a']);
    expect(full.json.push.links.map((r: { link: { id: string } }) => r.link.id)).toEqual(['a-link']);
    expect(slim.status).toBe(200);
    expect(slim.json.push).toEqual({ memories: [], links: [], deleted: ['b-gone'], rejected: ['b-orphan'] });
    expect(full.json.push).toMatchObject({ deleted: ['a-gone'], rejected: ['a-orphan'] });
    const stored = await call('POST', '/v1/ns/demo/sync', { get: { memories: ['a', 'b'] } });
    expect(stored.json.get.memories.map((r: { memory: { content: string } }) => r.memory.content)).toEqual([
      'text of a',
      'text of b',
    ]);
    expect((await call('POST', '/v1/ns/demo/sync?answer=all', {})).json.error.field).toBe('sync.answer');
  });

  it('path with include=clocks answers null when a node is gone by the time its clocks are read', async () => {
    const inner = new InMemoryStore();
    let vanish = false;
    // Deleted between the walk and the clock read: the records read back lack `b`.
    const store = new Proxy(inner, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (key !== 'getMemories') return typeof value === 'function' ? value.bind(target) : value;
        return async (ns: string, ids: string[]) => {
          const records = await target.getMemories(ns, ids);
          return vanish && ids.join() === 'a,b,c' ? records.filter((r) => r.memory.id !== 'b') : records;
        };
      },
    });
    const { call } = await testApp({ store });
    for (const id of ['a', 'b', 'c']) await call('POST', '/v1/ns/demo/memories', { id, content: id });
    await call('POST', '/v1/ns/demo/links', { from: 'a', to: 'b', type: 'related_to' });
    await call('POST', '/v1/ns/demo/links', { from: 'b', to: 'c', type: 'related_to' });
    const whole = await call('GET', '/v1/ns/demo/path?from=a&to=c&include=clocks');
    expect(whole.json.path.map((r: { memory: { id: string } }) => r.memory.id)).toEqual(['a', 'b', 'c']);
    vanish = true;
    expect((await call('GET', '/v1/ns/demo/path?from=a&to=c&include=clocks')).json).toEqual({ path: null });
  });

  it('answers a pull without a limit with pages of PULL_LIMIT_DEFAULT changes', async () => {
    const { call } = await testApp();
    const inputs = Array.from({ length: PULL_LIMIT_DEFAULT + 1 }, (_, i) => ({ content: `m${i}` }));
    expect((await call('POST', '/v1/ns/demo/memories', inputs)).status).toBe(201);
    const first = await call('POST', '/v1/ns/demo/sync', { pull: { after: 0, states: false } });
    expect(first.json.pull.changes).toHaveLength(PULL_LIMIT_DEFAULT);
    expect(first.json.pull.hasMore).toBe(true);
    const rest = await call('POST', '/v1/ns/demo/sync', {
      pull: { after: first.json.pull.cursor, states: false },
    });
    expect(rest.json.pull).toMatchObject({ hasMore: false });
    expect(rest.json.pull.changes).toHaveLength(1);
  });

  it('answers a get with the tombstones of the memories and links it names', async () => {
    const { call } = await testApp();
    const a = (await call('POST', '/v1/ns/demo/memories', { content: 'a' })).json;
    const b = (await call('POST', '/v1/ns/demo/memories', { content: 'b' })).json;
    const link = (await call('POST', '/v1/ns/demo/links', { from: a.id, to: b.id, type: 'related_to' })).json;
    expect((await call('DELETE', `/v1/ns/demo/links/${link.id}`)).status).toBe(204);
    expect((await call('DELETE', `/v1/ns/demo/memories/${b.id}`)).status).toBe(204);
    const res = await call('POST', '/v1/ns/demo/sync', { get: { memories: [a.id, b.id], links: [link.id] } });
    expect(res.json.get.memories.map((r: { memory: { id: string } }) => r.memory.id)).toEqual([a.id]);
    expect(res.json.get.links).toEqual([]);
    const tombstones = res.json.get.tombstones.map((t: { entity: string; id: string }) => [t.entity, t.id]);
    expect(tombstones.sort()).toEqual(
      [
        ['link', link.id],
        ['memory', b.id],
      ].sort(),
    );
  });

  it('refuses a sync push that writes into another namespace', async () => {
    const { call } = await testApp();
    const push = {
      tombstones: [{ entity: 'memory', id: 'x', namespace: 'other', clock: '0190a1b2c3d4-0000-n1' }],
    };
    const res = await call('POST', '/v1/ns/demo/sync', { push });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('FORBIDDEN');
  });

  it('refuses a pushed memory or link created in another namespace, naming its create.namespace, and a tombstone of another, naming its namespace', async () => {
    const { call } = await testApp();
    const stamp = '0190a1b2c3d4-0000-n1';
    const createdAt = '2024-07-01T00:00:00.000Z';
    const memory = {
      id: 'moved',
      create: { namespace: 'other', createdAt },
      values: { content: 'elsewhere', kind: 'note', tags: [], metadata: {} },
      clocks: { content: stamp, kind: stamp, tags: stamp, metadata: stamp },
    };
    const link = {
      id: 'moved-link',
      create: { namespace: 'other', from: 'a', to: 'b', createdAt },
      values: { type: 'related_to', weight: 1, metadata: {} },
      clocks: { type: stamp, weight: stamp, metadata: stamp },
    };
    const asMemory = await call('POST', '/v1/ns/demo/sync', { push: { memories: [memory] } });
    expect(asMemory.status).toBe(403);
    expect(asMemory.json.error).toMatchObject({
      code: 'FORBIDDEN',
      field: 'sync.push.memories.0.create.namespace',
    });
    const asLink = await call('POST', '/v1/ns/demo/sync', { push: { links: [link] } });
    expect(asLink.status).toBe(403);
    expect(asLink.json.error).toMatchObject({
      code: 'FORBIDDEN',
      field: 'sync.push.links.0.create.namespace',
    });
    const feed = await call('POST', '/v1/ns/demo/sync', { pull: { after: 0, states: false } });
    expect(feed.json.pull.changes).toEqual([]);
    await call('POST', '/v1/ns/demo/memories', { id: 'kept', content: 'stays' });
    const tombstone = { entity: 'memory', id: 'kept', namespace: 'other', clock: stamp };
    const asTombstone = await call('POST', '/v1/ns/demo/sync', { push: { tombstones: [tombstone] } });
    expect(asTombstone.status).toBe(403);
    expect(asTombstone.json.error).toMatchObject({
      code: 'FORBIDDEN',
      field: 'sync.push.tombstones.0.namespace',
    });
    expect((await call('GET', '/v1/ns/demo/memories/kept')).json.content).toBe('stays');
  });
});
