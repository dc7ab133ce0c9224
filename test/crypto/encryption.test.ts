import 'fake-indexeddb/auto';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createEdgeApp, mintToken, PostgresStore, pglite, postgresJs } from '../../src/edge/index.js';
import {
  createMemory,
  type Engram,
  exportJsonl,
  InMemoryStore,
  importJsonl,
  type MemoryStore,
} from '../../src/index.js';

/*
 * End-to-end encryption against the real edge on PGlite and, when DATABASE_URL is set, on the real
 * Postgres server. The server's tables are read directly, never through the code under test.
 */

const SECRET = 'e2e-test-secret-0123456789abcdef0123';
const PASSPHRASE = 'correct horse battery staple';
const ITERATIONS = 2000; // the default is 600 000; tests keep the KDF fast
const fast = (passphrase: string) => ({ passphrase, iterations: ITERATIONS });

/** Words that must never reach the server in clear. */
const SECRETS = {
  content: 'zanzibar-lighthouse diagnosis',
  tag: 'oncology-visit',
  metaKey: 'physician',
  metaValue: 'dr-quintessa-marlowe',
  linkMeta: 'confidential-referral',
  embedding: [0.123456789, -0.987654321, 0.5550555, 0.25],
};

interface Backend {
  name: string;
  store: () => MemoryStore;
  /** Every row of every Engram table for the namespace, as text. */
  dump(namespace: string): Promise<string>;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

const TABLES = [
  'engram_memories',
  'engram_postings',
  'engram_pending',
  'engram_links',
  'engram_tombstones',
  'engram_meta',
  'engram_namespaces',
];
const asText = (rows: unknown[]) =>
  JSON.stringify(rows, (_, v) =>
    v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? String(v) : v,
  );

async function pgliteBackend(): Promise<Backend> {
  const db = await PGlite.create();
  return {
    name: 'PGlite',
    store: () => new PostgresStore(pglite(db)),
    async dump(namespace) {
      const parts = [];
      for (const t of TABLES)
        parts.push(asText((await db.query(`SELECT * FROM ${t} WHERE ns = $1`, [namespace])).rows));
      return parts.join('\n');
    },
    exec: async (sql) => void (await db.exec(sql)),
    close: () => db.close(),
  };
}

async function postgresBackend(url: string): Promise<Backend> {
  const admin = postgres(url, { onnotice: () => {}, max: 2 });
  const schema = `engram_e2e_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  const stores: PostgresStore[] = [];
  return {
    name: 'Postgres',
    store: () => {
      const store = new PostgresStore(postgresJs(url, { max: 4, connection: { search_path: schema } }));
      stores.push(store);
      return store;
    },
    async dump(namespace) {
      const parts = [];
      for (const t of TABLES) {
        parts.push(asText(await admin.unsafe(`SELECT * FROM ${schema}.${t} WHERE ns = $1`, [namespace])));
      }
      return parts.join('\n');
    },
    exec: async (sql) => void (await admin.unsafe(`SET search_path TO ${schema}; ${sql}`)),
    async close() {
      for (const s of stores) await s.close();
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

const backends: Array<[string, () => Promise<Backend>]> = [['PGlite', pgliteBackend]];
if (process.env.DATABASE_URL) backends.push(['Postgres', () => postgresBackend(process.env.DATABASE_URL!)]);

describe.each(backends)('end-to-end encryption through the edge on %s', (_name, make) => {
  const ready = make();
  const opened: Engram[] = [];
  afterAll(async () => {
    for (const m of opened) await m.close().catch(() => undefined);
    await (await ready).close();
  });

  let counter = 0;
  async function edge() {
    const backend = await ready;
    const app = createEdgeApp({ store: backend.store(), secret: SECRET, logger: false });
    const namespace = `e2e-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
    const token = await mintToken({ secret: SECRET, ns: namespace, ttl: '1h' });
    const fetchFn = ((input: RequestInfo | URL, init?: RequestInit) =>
      app.fetch(new Request(input, init))) as typeof fetch;
    const device = async (store: MemoryStore, encryption?: object) => {
      const mem = await createMemory({
        store,
        namespace,
        sync: { url: 'http://edge.test', token, fetch: fetchFn, intervalMs: 0, debounceMs: 60_000 },
        ...(encryption ? { encryption: encryption as { passphrase: string } } : {}),
      });
      opened.push(mem);
      return mem;
    };
    const api = (path: string, init: RequestInit = {}) =>
      app.request(`/v1/ns/${namespace}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
    return { backend, namespace, device, api };
  }

  async function seed(mem: Engram) {
    const a = await mem.add({
      content: `Patient note: ${SECRETS.content}`,
      kind: 'fact',
      tags: [SECRETS.tag, 'zeta', 'alpha'],
      metadata: { [SECRETS.metaKey]: SECRETS.metaValue, nested: { list: [1, 'two'] } },
      embedding: SECRETS.embedding,
    });
    const b = await mem.add({ content: 'A second, unremarkable memory about lunch', tags: [] });
    await mem.link(a.id, b.id, 'related_to', { metadata: { why: SECRETS.linkMeta } });
    return { a, b };
  }

  it('the server tables never hold any field in clear, and the edge indexes no text for the namespace', async () => {
    const { backend, device, namespace } = await edge();
    const mem = await device(new InMemoryStore(), fast(PASSPHRASE));
    await seed(mem);
    expect(await mem.sync()).toMatchObject({ pushed: 3 });
    const dump = await backend.dump(namespace);
    expect(dump).toContain(namespace);
    for (const word of [SECRETS.content, 'zanzibar', 'lighthouse', 'diagnos', 'lunch', 'unremarkable']) {
      expect(dump).not.toContain(word);
    }
    for (const word of [
      SECRETS.tag,
      'zeta',
      SECRETS.metaKey,
      SECRETS.metaValue,
      SECRETS.linkMeta,
      'nested',
    ]) {
      expect(dump).not.toContain(word);
    }
    for (const x of SECRETS.embedding) {
      expect(dump).not.toContain(String(x));
      expect(dump).not.toContain(Buffer.from(new Float64Array([x]).buffer).toString('hex'));
    }
    // Postgres keeps no unit copy of a sealed embedding (it would be derived from the ciphertext).
    expect(dump).not.toMatch(/"embedding_unit":\[/);
    expect(dump).not.toContain(PASSPHRASE);
    expect(dump).toContain('related_to'); // link types stay in clear (docs/security.md)
    expect(dump).toContain('PBKDF2-SHA256');
    expect(dump.split('\n')[TABLES.indexOf('engram_postings')]).toBe('[]');
    expect(dump.split('\n')[TABLES.indexOf('engram_pending')]).toBe('[]');
  });

  it('a second device with the same passphrase (sql.js, then IndexedDB) reads and searches everything', async () => {
    const { device } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a, b } = await seed(first);
    await first.sync();
    let written = 3;
    for (const store of [new SqlJsStore(), new IndexedDBStore({ name: `e2e-${Math.random()}` })]) {
      const other = await device(store, { passphrase: PASSPHRASE });
      expect(await other.sync()).toMatchObject({ pulled: written++ });
      expect(await other.get(a.id)).toEqual(await first.get(a.id));
      expect(await other.get(b.id)).toEqual(await first.get(b.id));
      expect((await other.get(a.id))?.tags).toEqual([SECRETS.tag, 'zeta', 'alpha']);
      expect((await other.search('zanzibar lighthouse')).map((h) => h.memory.id)).toEqual([a.id]);
      const [hit] = await other.search('', { mode: 'vector', vector: SECRETS.embedding, limit: 1 });
      expect(hit?.memory.id).toBe(a.id);
      expect((await other.links(a.id)).map((l) => l.metadata)).toEqual([{ why: SECRETS.linkMeta }]);
      // and its own writes travel back sealed
      const reply = await other.add({ content: `reply from ${store.kind}` });
      await other.sync();
      await first.sync();
      expect((await first.get(reply.id))?.content).toBe(`reply from ${store.kind}`);
    }
  });

  it('a wrong passphrase is a clear error, sends nothing, and damages nothing', async () => {
    const { backend, device, namespace } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    await seed(first);
    await first.sync();
    const before = await backend.dump(namespace);

    const wrong = await device(new InMemoryStore(), { passphrase: 'not the passphrase at all' });
    await wrong.add({ content: 'written under the wrong key' });
    const failure = await wrong.sync().catch((e) => e);
    expect(failure).toMatchObject({ code: 'VALIDATION', field: 'encryption' });
    expect(String(failure.message)).toMatch(/wrong key or passphrase/);
    expect(wrong.status).toMatchObject({ state: 'error', pending: 1 });
    expect(await backend.dump(namespace)).toBe(before);

    // a local store that already knows the key checks the passphrase at once, even without sync
    const known = await device(new InMemoryStore(), fast(PASSPHRASE));
    await known.sync();
    const reopen = (passphrase: string) =>
      createMemory({ store: known.store, namespace: known.namespace, encryption: { passphrase } });
    opened.push(await reopen(PASSPHRASE));
    await expect(reopen('not the passphrase at all')).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'encryption',
    });
  });

  it('altered or moved ciphertext is detected, never shown as garbage', async () => {
    const { backend, device } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a, b } = await seed(first);
    await first.sync();
    // Move a's sealed content onto b: valid ciphertext, wrong record.
    await backend.exec(
      `UPDATE engram_memories SET content = (SELECT content FROM engram_memories WHERE id = '${a.id}') WHERE id = '${b.id}'`,
    );
    const second = await device(new InMemoryStore(), fast(PASSPHRASE));
    const moved = await second.sync().catch((e) => e);
    expect(moved).toMatchObject({ code: 'VALIDATION' });
    expect(String(moved.message)).toMatch(/altered, moved/);
    expect(await second.get(b.id)).toBeNull();

    // Flip one character of a's ciphertext.
    await backend.exec(
      `UPDATE engram_memories SET content = overlay(content placing (CASE WHEN substr(content, 40, 1) = 'A' THEN 'B' ELSE 'A' END) from 40 for 1) WHERE id = '${a.id}'`,
    );
    const third = await device(new InMemoryStore(), fast(PASSPHRASE));
    await expect(third.sync()).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(await third.get(a.id)).toBeNull();
  });

  it('refuses plaintext: sync pushes, REST writes, search and sealed filters, declared by capabilities', async () => {
    const { device, api } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    await seed(first);
    await first.sync();

    const plain = await device(new InMemoryStore());
    await plain.add({ content: 'plaintext that must not land' });
    await expect(plain.sync()).rejects.toMatchObject({ code: 'CONFLICT', field: 'sync.key.id' });

    const caps = await api('/capabilities');
    expect(await caps.json()).toMatchObject({ encrypted: true, search: false, plaintextWrites: false });
    for (const [path, init] of [
      ['/search', { method: 'POST', body: JSON.stringify({ query: 'zanzibar' }) }],
      ['/memories', { method: 'POST', body: JSON.stringify({ content: 'plain' }) }],
      ['/memories?tags=a', {}],
    ] as const) {
      const res = await api(path, init);
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({
        error: { code: 'CONFLICT', message: expect.stringMatching(/end-to-end encrypted/) },
      });
    }
    const list = await api('/memories');
    expect(list.status).toBe(200);
    const items = ((await list.json()) as { items: Array<{ content: string }> }).items;
    expect(items).toHaveLength(2);
    for (const m of items) expect(m.content).toMatch(/^e1\./);
  });

  it('export keeps ciphertext and the key info; the import on another edge opens with the passphrase', async () => {
    const { backend, device, namespace } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a } = await seed(first);
    await first.sync();
    const lines: string[] = [];
    for await (const line of exportJsonl(backend.store(), { namespaces: [namespace] })) lines.push(line);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      type: 'key',
      namespace,
      info: { kdf: { iterations: ITERATIONS } },
    });
    expect(lines.join('\n')).not.toContain('zanzibar');

    const target = new InMemoryStore();
    await importJsonl(target, lines);
    const app = createEdgeApp({ store: target, secret: SECRET, logger: false });
    const token = await mintToken({ secret: SECRET, ns: namespace, ttl: '1h' });
    const elsewhere = await createMemory({
      store: new InMemoryStore(),
      namespace,
      sync: {
        url: 'http://other.test',
        token,
        intervalMs: 0,
        fetch: ((i: RequestInfo | URL, init?: RequestInit) =>
          app.fetch(new Request(i, init))) as typeof fetch,
      },
      encryption: { passphrase: PASSPHRASE },
    });
    opened.push(elsewhere);
    await elsewhere.sync();
    expect(await elsewhere.get(a.id)).toEqual(await first.get(a.id));
  });

  it('rekey moves the namespace to a new passphrase: everything re-sealed, old passphrase refused, new one reads all', async () => {
    const { backend, device, namespace } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a, b } = await seed(first);
    await first.sync();
    const old = await device(new InMemoryStore(), fast(PASSPHRASE));
    await old.sync();

    const result = await first.rekey(fast('a brand new passphrase'));
    expect(result.records).toBe(3);
    const dump = await backend.dump(namespace);
    const keyIds = new Set([...dump.matchAll(/e1\.([A-Za-z0-9_-]+)\./g)].map((m) => m[1]));
    expect([...keyIds], dump).toHaveLength(1);

    await old.add({ content: 'written by a device that still has the old key' });
    await expect(old.sync()).rejects.toMatchObject({ code: 'VALIDATION', field: 'encryption' });
    expect(await backend.dump(namespace)).not.toContain('still has the old key');

    const fresh = await device(new InMemoryStore(), fast('a brand new passphrase'));
    await fresh.sync();
    expect(await fresh.get(a.id)).toEqual(await first.get(a.id));
    expect(await fresh.get(b.id)).toEqual(await first.get(b.id));
  });
});

describe('encryption options', () => {
  it('bad options are VALIDATION errors naming the field', async () => {
    for (const encryption of [
      {},
      { passphrase: 'short' },
      { passphrase: 42 },
      { key: 'nope' },
      { passphrase: 'long enough', iterations: 5 },
    ]) {
      await expect(createMemory({ encryption: encryption as { passphrase: string } })).rejects.toMatchObject({
        code: 'VALIDATION',
        field: expect.stringMatching(/^encryption/),
      });
    }
  });

  it('a CryptoKey works as well as a passphrase, and a RemoteStore cannot be encrypted', async () => {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]);
    const mem = await createMemory({ encryption: { key } });
    await mem.close();
    const { RemoteStore } = await import('../../src/backends/remote/index.js');
    await expect(
      createMemory({ store: new RemoteStore({ url: 'http://x.test', token: 't' }), encryption: { key } }),
    ).rejects.toMatchObject({ code: 'VALIDATION', field: 'encryption' });
  });
});
