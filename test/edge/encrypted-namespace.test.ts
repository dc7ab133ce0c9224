import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/core/validate.js';
import { createMemory, type Engram } from '../../src/index.js';
import { testApp } from './helpers.js';

/*
 * What the edge refuses in an end-to-end encrypted namespace (docs/security.md): a push that names the
 * namespace's (public) key id but carries plaintext, and every server-side read that would need the
 * plaintext: search, context, and list or count filters on sealed fields.
 */

type Values = Record<string, unknown> & { content: string; tags: string[]; metadata: object };
/** A push as an encrypted device sends it, enough of it to spoil one field. */
type Push = { memories: Array<{ values: Values }>; links: Array<{ values: Values }> };

const stamp = () => `${Date.now().toString(16).padStart(12, '0')}-0000-probe`;

async function encryptedEdge() {
  const edge = await testApp({ ns: ['e'] });
  const pushes: Array<Record<string, unknown>> = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).includes('/sync') && typeof init?.body === 'string') {
      const body = JSON.parse(init.body);
      if (body.push) pushes.push(body);
    }
    return edge.app.request(input as string, init);
  }) as typeof globalThis.fetch;
  const opened: Engram[] = [];
  const device = async () => {
    const mem = await createMemory({
      namespace: 'e',
      encryption: { passphrase: 'a long passphrase', iterations: 1000 },
      sync: {
        url: 'http://edge.test',
        token: edge.token,
        fetch,
        live: false,
        intervalMs: 0,
        debounceMs: 3_600_000,
      },
    });
    opened.push(mem);
    return mem;
  };
  const first = await device();
  const a = await first.add({
    content: 'hello',
    tags: ['work'],
    metadata: { project: 'apollo' },
    embedding: [0.5, 0.25, 0.125],
  });
  const b = await first.add({ content: 'world' });
  await first.link(a.id, b.id, 'related_to', { metadata: { why: 'because' } });
  await first.sync();
  const keyId = (await edge.call('GET', '/v1/ns/e/capabilities')).json.keyId as string;
  const sealed = pushes.find((p) => (p.push as { links?: unknown[] }).links?.length)!;
  const close = async () => {
    for (const mem of opened) await mem.close();
  };
  return { ...edge, device, first, a, keyId, sealed: sealed as { key: object; push: Push }, close };
}

describe('an end-to-end encrypted namespace on the edge', () => {
  it('refuses a plaintext push that names the key id (409, field named), writes nothing, and devices keep syncing', async () => {
    const { call, store, keyId, first, device, close } = await encryptedEdge();
    const before = await store.changes('e', 0, 100);
    const s = stamp();
    const res = await call('POST', '/v1/ns/e/sync', {
      key: { id: keyId, seals: 2 },
      push: {
        memories: [
          {
            id: 'p1',
            create: { namespace: 'e', createdAt: new Date().toISOString() },
            values: { content: 'PLAINTEXT', kind: 'note', tags: ['plain'], metadata: { k: 'v' } },
            clocks: { content: s, kind: s, tags: s, metadata: s },
          },
        ],
      },
    });
    expect(res.status).toBe(409);
    expect(res.json.error).toMatchObject({ code: 'CONFLICT', field: 'sync.push.memories.0.values.content' });
    expect(res.json.error.message).toMatch(/end-to-end encrypted with key .*nothing was written/);
    expect(await store.changes('e', 0, 100)).toEqual(before);
    expect((await call('GET', '/v1/ns/e/memories/p1')).status).toBe(404);
    // The devices are unharmed: the first pushes again, a new one pulls and reads everything.
    await first.add({ content: 'more' });
    await first.sync();
    const second = await device();
    await second.sync();
    expect((await second.list()).items.map((m) => m.content).sort()).toEqual(['hello', 'more', 'world']);
    await close();
  });

  it('refuses every plaintext write outside sync (409 naming namespace); a delete still passes', async () => {
    const { call, a, close } = await encryptedEdge();
    const before = (await call('GET', `/v1/ns/e/memories/${a.id}`)).json;
    const writes: Array<[string, string, object]> = [
      ['PATCH', `/v1/ns/e/memories/${a.id}`, { tags: ['plain'] }],
      ['POST', `/v1/ns/e/memories/${a.id}/supersede`, { content: 'plain' }],
      ['POST', '/v1/ns/e/links', { from: a.id, to: a.id, type: 'plain' }],
      // Only the sync route itself takes writes, not a path that merely holds "/sync" (a memory so named).
      ['PATCH', '/v1/ns/e/memories/sync', { content: 'plain' }],
    ];
    for (const [method, path, body] of writes) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(409);
      expect(res.json.error).toMatchObject({ code: 'CONFLICT', field: 'namespace' });
      expect(res.json.error.message).toMatch(/cannot accept plaintext writes/);
    }
    expect((await call('GET', `/v1/ns/e/memories/${a.id}`)).json).toEqual(before);
    expect((await call('DELETE', `/v1/ns/e/memories/${a.id}`)).status).toBe(204);
    await close();
  });

  it('takes sealed content near the 64 KiB limit, whose ciphertext is longer than the plain limit', async () => {
    const { call, first, device, close } = await encryptedEdge();
    const long = 'x'.repeat(60 * 1024);
    const made = await first.add({ content: long });
    await first.sync();
    const stored = await call('GET', `/v1/ns/e/memories/${made.id}`);
    expect(stored.status).toBe(200);
    expect(stored.json.content.length).toBeGreaterThan(64 * 1024);
    const second = await device();
    await second.sync();
    expect((await second.get(made.id))?.content).toBe(long);
    await close();
  });

  it('takes every sealed field of a memory at its plaintext limit: 64 KiB of content and of metadata, the longest vector', async () => {
    const { first, device, close } = await encryptedEdge();
    const content = 'x'.repeat(LIMITS.contentBytes);
    const metadata = { blob: 'y'.repeat(LIMITS.metadataBytes - '{"blob":""}'.length) };
    expect(JSON.stringify(metadata)).toHaveLength(LIMITS.metadataBytes);
    const embedding = Array.from({ length: LIMITS.embeddingDims }, (_, i) => i / LIMITS.embeddingDims);
    const made = await first.add({ content, metadata, embedding });
    await first.sync();
    expect(await first.rejected()).toEqual([]);
    const second = await device();
    await second.sync();
    expect(await second.get(made.id)).toMatchObject({ content, metadata, embedding });
    await close();
  });

  const unsealed: Array<[string, (push: Push, keyId: string) => void, string]> = [
    [
      'plaintext content',
      (p) => {
        p.memories[0]!.values.content = 'plain words';
      },
      'memories.0.values.content',
    ],
    [
      'content sealed with another key',
      (p, keyId) => {
        const values = p.memories[0]!.values;
        values.content = values.content.replace(keyId, 'OtherKey');
      },
      'memories.0.values.content',
    ],
    [
      // Naming the key id proves nothing: only the whole sealed shape passes.
      'plaintext content that starts like a sealed value',
      (p, keyId) => {
        p.memories[0]!.values.content = `e1.${keyId}.plain words`;
      },
      'memories.0.values.content',
    ],
    [
      'plaintext link metadata that starts like a sealed value',
      (p, keyId) => {
        p.links[0]!.values.metadata = { 'engram.encrypted': `e1.${keyId}.short` };
      },
      'links.0.values.metadata',
    ],
    [
      'plaintext tags',
      (p) => {
        p.memories[0]!.values.tags = ['work'];
      },
      'memories.0.values.tags',
    ],
    [
      'tag pieces with one missing',
      (p) => {
        p.memories[0]!.values.tags = p.memories[0]!.values.tags.slice(1);
      },
      'memories.0.values.tags',
    ],
    [
      'plaintext metadata',
      (p) => {
        p.memories[0]!.values.metadata = { project: 'apollo' };
      },
      'memories.0.values.metadata',
    ],
    [
      'sealed metadata with a clear key beside it',
      (p) => {
        p.memories[0]!.values.metadata = { ...p.memories[0]!.values.metadata, project: 'apollo' };
      },
      'memories.0.values.metadata',
    ],
    [
      'a plaintext embedding',
      (p) => {
        p.memories[0]!.values.embedding = [3, 1, 2, 3];
      },
      'memories.0.values.embedding',
    ],
    [
      'plaintext link metadata',
      (p) => {
        p.links[0]!.values.metadata = { why: 'because' };
      },
      'links.0.values.metadata',
    ],
  ];
  for (const [what, spoil, field] of unsealed) {
    it(`refuses ${what} under the right key id (409, sync.push.${field})`, async () => {
      const { call, store, keyId, sealed, close } = await encryptedEdge();
      const push = structuredClone(sealed.push);
      push.memories = push.memories.filter((m) => m.values.embedding);
      expect(push.memories).toHaveLength(1);
      // The device's own push, replayed as it was, is accepted (and changes nothing).
      const again = await call('POST', '/v1/ns/e/sync', { key: sealed.key, push });
      expect(again.status).toBe(200);
      const before = await store.changes('e', 0, 100);
      spoil(push, keyId);
      const res = await call('POST', '/v1/ns/e/sync', { key: { id: keyId, seals: 2 }, push });
      expect(res.status).toBe(409);
      expect(res.json.error).toMatchObject({ code: 'CONFLICT', field: `sync.push.${field}` });
      expect(await store.changes('e', 0, 100)).toEqual(before);
      await close();
    });
  }

  it('refuses a push that names no key (a device without encryption) with 409 sync.key.id, writing nothing', async () => {
    const { call, store, sealed, close } = await encryptedEdge();
    const before = await store.changes('e', 0, 100);
    // The device's own sealed push, sent without the key it was sealed with.
    const res = await call('POST', '/v1/ns/e/sync', { push: sealed.push });
    expect(res.status).toBe(409);
    expect(res.json.error).toMatchObject({ code: 'CONFLICT', field: 'sync.key.id' });
    expect(res.json.error.message).toMatch(/open it with createMemory\(\{ encryption \}\)/);
    expect(await store.changes('e', 0, 100)).toEqual(before);
    await close();
  });

  it('refuses count filters on sealed fields like list filters, and says why context is refused', async () => {
    const { call, close } = await encryptedEdge();
    for (const path of [
      '/v1/ns/e/count?tags=work',
      '/v1/ns/e/count?metadata.project=apollo',
      '/v1/ns/e/count?tagMode=all',
      '/v1/ns/e/memories?tags=work',
    ]) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(409);
      expect(res.json.error).toMatchObject({ code: 'CONFLICT', field: 'namespace' });
      expect(res.json.error.message).toMatch(/end-to-end encrypted.*(count|filter) on tags or metadata/);
    }
    expect((await call('GET', '/v1/ns/e/count')).json).toEqual({ count: 2 });
    expect((await call('GET', '/v1/ns/e/count?kind=note')).json).toEqual({ count: 2 });
    const context = await call('POST', '/v1/ns/e/context', { query: 'hello' });
    expect(context.status).toBe(409);
    expect(context.json.error.field).toBe('namespace');
    expect(context.json.error.message).toMatch(
      /cannot build a context from it \(that needs a server-side search\)/,
    );
    expect(context.json.error.message).not.toMatch(/plaintext writes/);
    const search = await call('POST', '/v1/ns/e/search', { query: 'hello' });
    expect(search.status).toBe(409);
    expect(search.json.error.message).toMatch(/the server holds only ciphertext, so it cannot search it;/);
    await close();
  });
});
