import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { PULL_LIMIT_MAX } from '../../src/core/sync/protocol.js';
import { LIMITS } from '../../src/core/validate.js';
import { createMemory, InMemoryStore } from '../../src/index.js';
import { testApp } from './helpers.js';

const db = await PGlite.create();
afterAll(() => db.close());

const now = () => `${Date.now().toString(16).padStart(12, '0')}-0000-client`;

const stores = [
  ['PGlite', () => new PostgresStore(pglite(db))],
  ['memory', () => new InMemoryStore()],
] as const;

describe.each(stores)('strict sync input (%s)', (_name, makeStore) => {
  const cases: Array<[string, () => unknown, string]> = [
    ['a cursor beyond any bigint', () => ({ pull: { after: 1e20 } }), 'sync.pull.after'],
    // A cursor is a change's number: a fraction names no change and would be bound to a bigint column.
    ['a fractional cursor', () => ({ pull: { after: 1.5 } }), 'sync.pull.after'],
    [
      'a cursor one past the largest safe integer',
      () => ({ pull: { after: Number.MAX_SAFE_INTEGER + 1 } }),
      'sync.pull.after',
    ],
    ['push as an array', () => ({ push: [] }), 'sync.push'],
    ['get as an array', () => ({ get: [] }), 'sync.get'],
    ['pull as an array', () => ({ pull: [] }), 'sync.pull'],
    ['a body that is an array', () => [], 'sync'],
    ['a pull limit of 0', () => ({ pull: { after: 0, limit: 0 } }), 'sync.pull.limit'],
    ['a fractional pull limit', () => ({ pull: { after: 0, limit: 2.5 } }), 'sync.pull.limit'],
    [
      'a pull asking for states with no boolean',
      () => ({ pull: { after: 0, states: 'yes' } }),
      'sync.pull.states',
    ],
    [
      'a duplicate check of empty content',
      () => ({ push: { dedupe: { content: '', since: 0, now: new Date().toISOString() } } }),
      'sync.push.dedupe.content',
    ],
    ['a client id longer than 64 characters', () => ({ clientId: 'c'.repeat(65) }), 'sync.clientId'],
    ['a key asking for more than 1000 seals', () => ({ key: { seals: 1001 } }), 'sync.key.seals'],
    [
      'a pull limit past PULL_LIMIT_MAX',
      () => ({ pull: { after: 0, limit: PULL_LIMIT_MAX + 1 } }),
      'sync.pull.limit',
    ],
    [
      'a get of more ids than a batch',
      () => ({ get: { memories: Array.from({ length: LIMITS.batch + 1 }, (_, i) => `id${i}`) } }),
      'sync.get.memories',
    ],
    [
      'a push of more tombstones than a batch',
      () => ({
        push: {
          tombstones: Array.from({ length: LIMITS.batch + 1 }, (_, i) => ({
            entity: 'memory',
            id: `gone${i}`,
            namespace: 'demo',
            clock: now(),
          })),
        },
      }),
      'sync.push.tombstones',
    ],
    [
      'a plaintext embedding of 5000 integers (the sealed form is only for sealed pushes)',
      () => ({
        push: {
          memories: [
            {
              id: 'wide',
              create: { namespace: 'demo', createdAt: new Date().toISOString() },
              values: { content: 'x', embedding: [15000, ...Array.from({ length: 4999 }, (_, i) => i % 7)] },
              clocks: { content: now(), embedding: now() },
            },
          ],
        },
      }),
      'sync.push.memories.0.values.embedding',
    ],
    [
      'values as an array',
      () => ({ push: { memories: [{ id: 'a', values: [], clocks: {} }] } }),
      'sync.push.memories.0.values',
    ],
    [
      'a create without content',
      () => ({
        push: {
          memories: [
            {
              id: 'empty',
              create: { namespace: 'demo', createdAt: new Date().toISOString() },
              values: {},
              clocks: {},
            },
          ],
        },
      }),
      'sync.push.memories.0.values.content',
    ],
    ...(['content', 'kind', 'tags', 'metadata'] as const).map(
      (field) =>
        [
          `a stamp for ${field} without its value`,
          () => ({ push: { memories: [{ id: 'm', values: {}, clocks: { [field]: now() } }] } }),
          `sync.push.memories.0.values.${field}`,
        ] as [string, () => unknown, string],
    ),
    ...(['type', 'metadata'] as const).map(
      (field) =>
        [
          `a link stamp for ${field} without its value`,
          () => ({ push: { links: [{ id: 'l', values: {}, clocks: { [field]: now() } }] } }),
          `sync.push.links.0.values.${field}`,
        ] as [string, () => unknown, string],
    ),
    // Merging compares stamps as strings: one that is no HLC would win or lose by its spelling alone.
    [
      'a stamp that is no HLC',
      () => ({
        push: { memories: [{ id: 'm', values: { content: 'x' }, clocks: { content: '2026-12-06' } }] },
      }),
      'sync.push.memories.0.clocks.content',
    ],
    [
      'a tombstone clock that is no HLC',
      () => ({ push: { tombstones: [{ entity: 'memory', id: 'm', namespace: 'demo', clock: 'zzz' }] } }),
      'sync.push.tombstones.0.clock',
    ],
    [
      'an unchanged check whose clock is no HLC',
      () => ({ push: { unchanged: [{ id: 'm', field: 'content', clock: 'zzz' }] } }),
      'sync.push.unchanged.0.clock',
    ],
    [
      'a tombstone of neither a memory nor a link',
      () => ({ push: { tombstones: [{ entity: 'note', id: 'm', namespace: 'demo', clock: now() }] } }),
      'sync.push.tombstones.0.entity',
    ],
    [
      'a value without its stamp',
      () => ({ push: { memories: [{ id: 'm', values: { content: 'replaced?' }, clocks: {} }] } }),
      'sync.push.memories.0.clocks.content',
    ],
    [
      'an optional value without its stamp',
      () => ({
        push: { memories: [{ id: 'm', values: { kind: 'note', importance: 0.5 }, clocks: { kind: now() } }] },
      }),
      'sync.push.memories.0.clocks.importance',
    ],
    [
      'a link value without its stamp',
      () => ({ push: { links: [{ id: 'l', values: { type: 'rel', weight: 2 }, clocks: { type: now() } }] } }),
      'sync.push.links.0.clocks.weight',
    ],
    [
      'a stamp for a field memories do not have',
      () => ({ push: { memories: [{ id: 'm', values: {}, clocks: { colour: now() } }] } }),
      'sync.push.memories.0.clocks.colour',
    ],
    [
      'a link stamp for a memory field',
      () => ({ push: { links: [{ id: 'l', values: {}, clocks: { content: now() } }] } }),
      'sync.push.links.0.clocks.content',
    ],
    [
      'plaintext content shaped like a sealed value, past the plain limit (no key id named)',
      () => ({
        push: {
          memories: [
            { id: 'm', values: { content: `e1.${'A'.repeat(70_000)}` }, clocks: { content: now() } },
          ],
        },
      }),
      'sync.push.memories.0.values.content',
    ],
    [
      'an unchanged check of a link field on a memory',
      () => ({ push: { unchanged: [{ id: 'm', field: 'type', clock: null }] } }),
      'sync.push.unchanged.0.field',
    ],
    [
      'an unchanged check of a memory field on a link',
      () => ({ push: { unchanged: [{ id: 'l', entity: 'link', field: 'content', clock: null }] } }),
      'sync.push.unchanged.0.field',
    ],
    [
      'a lone surrogate in pushed content',
      () => ({
        push: { memories: [{ id: 'm', values: { content: 'u \ud800' }, clocks: { content: now() } }] },
      }),
      'sync.push.memories.0.values.content',
    ],
  ];
  for (const [what, body, field] of cases) {
    it(`refuses ${what} with 400 VALIDATION naming ${field}`, async () => {
      const { call } = await testApp({ store: makeStore() });
      await call('POST', '/v1/ns/demo/memories', { id: 'm', content: 'existing' });
      const res = await call('POST', '/v1/ns/demo/sync', body());
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'VALIDATION', field });
      expect((await call('GET', '/v1/ns/demo/memories/m')).json.content).toBe('existing');
    });
  }

  it('takes a request exactly at its limits: a batch of ids and of tombstones, the longest pull and client id', async () => {
    // The documented limits (docs/api.md), written out: a test reading LIMITS would move with them.
    const batch = 1000;
    const { call } = await testApp({ store: makeStore() });
    const res = await call('POST', '/v1/ns/demo/sync', {
      clientId: 'c'.repeat(64),
      get: { memories: Array.from({ length: batch }, (_, i) => `id${i}`) },
      push: {
        tombstones: Array.from({ length: batch }, (_, i) => ({
          entity: 'memory',
          id: `gone${i}`,
          namespace: 'demo',
          clock: now(),
        })),
      },
      pull: { after: 0, limit: 1000 },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.pull.changes).toHaveLength(batch);
    // The largest cursor a pull may name: past every change, so nothing comes.
    const last = await call('POST', '/v1/ns/demo/sync', { pull: { after: Number.MAX_SAFE_INTEGER } });
    expect(last.status, JSON.stringify(last.json)).toBe(200);
    expect(last.json.pull.changes).toEqual([]);
  });

  it('says what a malformed body is: null as null, an array as an array', async () => {
    const { call } = await testApp({ store: makeStore() });
    await call('POST', '/v1/ns/demo/memories', { id: 'm', content: 'existing' });
    const refusals: Array<[string, string, string, string, RegExp]> = [
      ['POST', '/v1/ns/demo/sync', 'null', 'sync', /^sync: expected an object, got null$/],
      ['POST', '/v1/ns/demo/sync', '{"push":null}', 'sync.push', /got null$/],
      ['POST', '/v1/ns/demo/sync', '{"push":{"memories":[null]}}', 'sync.push.memories.0', /got null$/],
      ['POST', '/v1/ns/demo/sync', '{"push":{"tombstones":[7]}}', 'sync.push.tombstones.0', /got a number$/],
      ['POST', '/v1/ns/demo/sync', '{"key":[]}', 'sync.key', /got an array$/],
      [
        'POST',
        '/v1/ns/demo/sync',
        '{"push":{"memories":[{"id":"m","values":{},"clocks":[]}]}}',
        'sync.push.memories.0.clocks',
        /got an array$/,
      ],
      [
        'POST',
        '/v1/ns/demo/sync',
        '{"push":{"links":[{"id":"l","create":[],"values":{},"clocks":{}}]}}',
        'sync.push.links.0.create',
        /got an array$/,
      ],
      // A field that takes a plain or a sealed form is told what its plain form expects.
      [
        'POST',
        '/v1/ns/demo/sync',
        '{"push":{"memories":[{"id":"m","values":{"content":" "},"clocks":{"content":"0190a0b0c0d0-0000-node"}}]}}',
        'sync.push.memories.0.values.content',
        /: expected non-empty content, got " "$/,
      ],
      ['PATCH', '/v1/ns/demo/memories/m', '[]', 'update.patch', /expected an object.*, got an array$/],
      ['PATCH', '/v1/ns/demo/memories/m', 'null', 'update.patch', /got null$/],
      ['POST', '/v1/ns/demo/links', '[]', 'link', /expected an object.*, got an array$/],
      ['POST', '/v1/ns/demo/memories/m/supersede', '[]', 'supersede.input', /got an array$/],
      ['POST', '/v1/ns/demo/search', '"coffee"', 'search', /got a string$/],
    ];
    for (const [method, path, body, field, message] of refusals) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path} ${body}`).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'VALIDATION', field });
      expect(res.json.error.message).toMatch(message);
    }
    expect((await call('GET', '/v1/ns/demo/memories/m')).json).toMatchObject({ content: 'existing' });
  });

  it("takes a field's initial value without a stamp, as a record stored without that stamp sends it", async () => {
    const { call } = await testApp({ store: makeStore() });
    const added = await call('POST', '/v1/ns/demo/memories', {
      id: 'unstamped',
      content: 'existing',
      tags: ['t'],
    });
    expect(added.status).toBe(201);
    const res = await call('POST', '/v1/ns/demo/sync', {
      push: {
        memories: [
          {
            id: 'unstamped',
            values: { kind: 'note', tags: [], metadata: {}, importance: 1 },
            // A second ahead, so it wins over the add's stamp from the same millisecond.
            clocks: { importance: `${(Date.now() + 1000).toString(16).padStart(12, '0')}-0000-client` },
          },
        ],
      },
    });
    expect(res.status).toBe(200);
    // The unstamped values change nothing; the stamped one is merged.
    expect((await call('GET', '/v1/ns/demo/memories/unstamped')).json).toMatchObject({
      content: 'existing',
      tags: ['t'],
      importance: 1,
    });
  });

  it('refuses lone surrogates on every writing route the same way, never storing U+FFFD; a query reads one as U+FFFD', async () => {
    const { call } = await testApp({ store: makeStore() });
    const add = await call('POST', '/v1/ns/demo/memories', '{"content":"u \\ud800"}');
    expect(add.status).toBe(400);
    expect(add.json.error).toMatchObject({ code: 'VALIDATION', field: 'add.content' });
    await call('POST', '/v1/ns/demo/memories', { id: 'm', content: 'fine' });
    const patch = await call('PATCH', '/v1/ns/demo/memories/m', '{"tags":["\\udc00x"]}');
    expect(patch.json.error.field).toBe('update.patch.tags.0');
    const meta = await call('PATCH', '/v1/ns/demo/memories/m', '{"metadata":{"k":"\\ud800"}}');
    expect(meta.json.error.field).toBe('update.patch.metadata');
    // A query stores nothing: a message cut inside an emoji by its sender is searched with U+FFFD there.
    const search = await call('POST', '/v1/ns/demo/search', '{"query":"\\ud800"}');
    expect(search.status).toBe(200);
    expect(search.json.hits).toEqual([]);
    // (The PGlite database is shared by the file's tests: this memory's word is its own.)
    await call('POST', '/v1/ns/demo/memories', { id: 'cut-query', content: 'quokkas' });
    const cut = await call('POST', '/v1/ns/demo/search', '{"query":"quokkas \\ud83d"}');
    expect(cut.json.hits.map((h: { memory: { id: string } }) => h.memory.id)).toEqual(['cut-query']);
    // A well-formed pair (an emoji) is fine and comes back exactly.
    const emoji = await call('POST', '/v1/ns/demo/memories', '{"content":"coffee \\ud83d\\ude00"}');
    expect((await call('GET', `/v1/ns/demo/memories/${emoji.json.id}`)).json.content).toBe('coffee 😀');
  });
});

describe('createMemory sync options', () => {
  it('names a missing token as missing, not as an unknown field', async () => {
    await expect(createMemory({ sync: { url: 'http://edge.test' } as never })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'sync.token',
      message: expect.stringMatching(/sync\.token: required/),
    });
  });

  it('is not online before a round has succeeded', async () => {
    const mem = await createMemory({
      sync: {
        url: 'http://edge.test',
        token: 'abc',
        intervalMs: 0,
        fetch: (() => new Promise(() => {})) as unknown as typeof fetch,
      },
    });
    expect(mem.status.state).not.toBe('online');
    await mem.close();
    const refused = await createMemory({
      sync: {
        url: 'http://edge.test',
        token: 'abc',
        intervalMs: 0,
        fetch: (async () =>
          new Response('{"error":{"code":"UNAUTHORIZED","message":"bad token"}}', {
            status: 401,
          })) as typeof fetch,
      },
    });
    await expect(refused.sync()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(refused.status.state).toBe('error');
    await refused.close();
  });
});
