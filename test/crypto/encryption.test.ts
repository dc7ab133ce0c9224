import 'fake-indexeddb/auto';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { RemoteStore } from '../../src/backends/remote/index.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { KEY_INFO_META } from '../../src/core/crypto/namespace-key.js';
import { unpackAnswer } from '../../src/core/sync/lone-stamps.js';
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

const NamespaceCipherOf = async (options: { passphrase: string; iterations: number }) =>
  (await import('../../src/core/crypto/cipher.js')).NamespaceCipher.create(options);

/** Words that must never reach the server in clear. */
/** A clock stamp of now (plus `aheadMs`) from a node of the test's choosing: what a raw push carries. */
const stampNow = (node: string, aheadMs = 0) =>
  `${(Date.now() + aheadMs).toString(16).padStart(12, '0')}-0000-${node}`;

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
  // One store (one pool) for every edge of the file, each test in a namespace of its own: a pool per edge
  // held the server's 100 connections by the file's last tests.
  let shared: PostgresStore | undefined;
  return {
    name: 'Postgres',
    store: () => {
      shared ??= new PostgresStore(postgresJs(url, { max: 4, connection: { search_path: schema } }));
      return shared;
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
      await shared?.close();
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/**
 * A fetch to `app` for a device about to rotate its key: the first time it sends the rotation, another
 * device's round (`pushFirst`) runs before it, so that push reaches the edge under the old key just in
 * time. No live stream: the rotating device would pull that push at once, before the rotation.
 */
function rotationWindow(app: { fetch(request: Request): Response | Promise<Response> }) {
  let before: (() => Promise<unknown>) | undefined;
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (new URL(request.url).pathname.endsWith('/events')) return new Response('no', { status: 404 });
    if (before && (await request.clone().text()).includes('"rotate"')) {
      const run = before;
      before = undefined;
      await run();
    }
    return app.fetch(request);
  }) as typeof globalThis.fetch;
  return {
    fetch,
    pushFirst: (run: () => Promise<unknown>) => {
      before = run;
    },
    pushed: () => before === undefined,
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
    /** A fetch through the edge whose /sync answers `edit` rewrites (a hostile or broken edge). */
    // biome-ignore lint/suspicious/noExplicitAny: the test edits the wire JSON freely
    const tampering = (edit: (body: any) => void) =>
      (async (input: RequestInfo | URL, init?: RequestInit) => {
        const response = await app.fetch(new Request(input, init));
        if (!new URL(String(input)).pathname.endsWith('/sync') || response.status !== 200) return response;
        // Records in the object form, whatever form the edge answered in (lone-stamps.ts): edits name fields.
        const body = unpackAnswer(await response.json());
        edit(body);
        return new Response(JSON.stringify(body), { status: 200, headers: response.headers });
      }) as typeof fetch;
    /** A tampering fetch that passes memory `id`'s pulled change (memory and clocks) through `edit`. */
    // biome-ignore lint/suspicious/noExplicitAny: the test edits the wire JSON freely
    const editingPulled = (id: string, edit: (change: any) => void) =>
      tampering((body) => {
        for (const change of body.pull?.changes ?? [])
          if (change.memory?.memory.id === id) edit(change.memory);
      });
    const device = async (store: MemoryStore, encryption?: object, through: typeof fetch = fetchFn) => {
      const mem = await createMemory({
        store,
        namespace,
        sync: { url: 'http://edge.test', token, fetch: through, intervalMs: 0, debounceMs: 60_000 },
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
    /** A memory's sealed content as the edge holds it, and the key id it names (public: no key needed). */
    const sealedContent = async (id: string) => {
      const { content } = (await (await api(`/memories/${id}`)).json()) as { content: string };
      return { content, keyId: content.split('.')[1]! };
    };
    return { backend, namespace, device, api, tampering, editingPulled, sealedContent, app, token };
  }

  /** A device of its own on another edge (an app in this process), opened with `encryption`. */
  async function deviceOn(
    server: { fetch: (request: Request) => Response | Promise<Response> },
    namespace: string,
    token: string,
    encryption: { passphrase: string; iterations?: number },
  ): Promise<Engram> {
    const mem = await createMemory({
      store: new InMemoryStore(),
      namespace,
      sync: {
        url: 'http://other.test',
        token,
        intervalMs: 0,
        fetch: ((i: RequestInfo | URL, init?: RequestInit) =>
          server.fetch(new Request(i, init))) as typeof fetch,
      },
      encryption,
    });
    opened.push(mem);
    return mem;
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
    // Words are looked for outside the sealed values and the tags' blind tokens: their random
    // base64url may spell a short word (`zeta`) by chance, which is not that word in clear.
    const clear = dump.replace(/e1\.[\w-]+\.[\w-]+/g, 'SEALED').replace(/\d\d~[\w-]+/g, 'TOKEN');
    expect(clear).toContain('SEALED');
    for (const word of [SECRETS.content, 'zanzibar', 'lighthouse', 'diagnos', 'lunch', 'unremarkable']) {
      expect(clear).not.toContain(word);
    }
    for (const word of [
      SECRETS.tag,
      'zeta',
      SECRETS.metaKey,
      SECRETS.metaValue,
      SECRETS.linkMeta,
      'nested',
    ]) {
      expect(clear).not.toContain(word);
    }
    for (const x of SECRETS.embedding) {
      // As a number on its own: a short one like 0.25 may well sit inside a random hex id or a
      // packed clock (`#0000.25b6…`), which is not the embedding in clear.
      const digits = String(x).replace(/[.-]/g, (c) => `\\${c}`);
      expect(dump).not.toMatch(new RegExp(`(?<![\\w.])${digits}(?![\\w.])`));
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
    const right = await reopen(PASSPHRASE);
    opened.push(right);
    await expect(reopen('not the passphrase at all')).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'encryption',
    });
    // With sync too, the key is checked as sync starts: refused the same way.
    await expect(device(known.store, fast('not the passphrase at all'))).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'encryption',
    });
    // The store given stays open: memories already open on it still work, and a retry with it opens.
    const held = (await right.list()).items.length;
    expect(held).toBeGreaterThan(0);
    expect((await known.list()).items).toHaveLength(held);
    opened.push(await reopen(PASSPHRASE));
    expect((await opened.at(-1)!.list()).items).toHaveLength(held);
  });

  it('a device without encryption is refused by an encrypted namespace (CONFLICT sync.key.id), keeping no ciphertext', async () => {
    const { backend, device, namespace } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    await seed(first);
    await first.sync();
    const before = await backend.dump(namespace);

    // The replica asks for the namespace's key info with every request (`key: { seals }`, what any device may
    // read) and refuses an answer naming one before keeping anything of it.
    const plain = await device(new InMemoryStore());
    const failure = await plain.sync().catch((e) => e);
    expect(failure).toMatchObject({ code: 'CONFLICT', field: 'sync.key.id' });
    expect(String(failure.message)).toMatch(/end-to-end encrypted.*createMemory\(\{ encryption \}\)/);
    expect(plain.status).toMatchObject({ state: 'error' });
    expect((await plain.list({ history: true })).items).toEqual([]);
    expect(await backend.dump(namespace)).toBe(before);

    // A plaintext namespace is unaffected: the keyless device syncs as before.
    const other = await edge();
    const a = await other.device(new InMemoryStore());
    await a.add({ content: 'plain words' });
    await a.sync();
    const b = await other.device(new InMemoryStore());
    await b.sync();
    expect((await b.list()).items.map((m) => m.content)).toEqual(['plain words']);
  });

  it('altered or moved ciphertext is detected, never shown as garbage: set aside and reported, the rest syncs', async () => {
    const { backend, device } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a, b } = await seed(first);
    await first.sync();
    // Move a's sealed content onto b: valid ciphertext, wrong record.
    await backend.exec(
      `UPDATE engram_memories SET content = (SELECT content FROM engram_memories WHERE id = '${a.id}') WHERE id = '${b.id}'`,
    );
    const second = await device(new InMemoryStore(), fast(PASSPHRASE));
    const rejected: string[] = [];
    second.on('rejected', (change) => rejected.push(change.id));
    await second.sync();
    expect(await second.get(b.id)).toBeNull();
    expect((await second.get(a.id))?.content).toBe(`Patient note: ${SECRETS.content}`);
    expect(rejected).toEqual([b.id]);
    expect(second.status).toMatchObject({ state: 'online', rejected: 1 });
    const [report] = await second.rejected();
    expect(report).toMatchObject({ entity: 'memory', id: b.id, unreadable: true });
    expect(report!.reason).toMatch(/^VALIDATION: .*\/memory\/.*\/content.*altered, moved/);

    // Flip one character of a's ciphertext.
    await backend.exec(
      `UPDATE engram_memories SET content = overlay(content placing (CASE WHEN substr(content, 40, 1) = 'A' THEN 'B' ELSE 'A' END) from 40 for 1) WHERE id = '${a.id}'`,
    );
    const third = await device(new InMemoryStore(), fast(PASSPHRASE));
    await third.sync();
    expect(await third.get(a.id)).toBeNull();
    expect((await third.rejected()).map((r) => r.id).sort()).toEqual([a.id, b.id].sort());

    // The first device writes b again: every device pulls it whole, and it leaves their lists.
    await first.update(b.id, { content: 'lunch, written again' });
    await first.sync();
    await second.sync();
    expect((await second.get(b.id))?.content).toBe('lunch, written again');
    expect(await second.rejected()).toEqual([]);
    expect(second.status.rejected).toBeUndefined();
  });

  it('an old ciphertext pushed again under a newer stamp by a client without the key is never read as current', async () => {
    const { device, namespace, api, sealedContent } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const note = await first.add({ id: 'pin', content: 'PIN is 1111' });
    await first.sync();
    const old = await sealedContent(note.id);
    await first.update(note.id, { content: 'PIN is 2222' });
    await first.sync();
    const replay = await api('/sync', {
      method: 'POST',
      body: JSON.stringify({
        key: { id: old.keyId, seals: 2 },
        push: {
          memories: [
            {
              id: note.id,
              values: { content: old.content },
              clocks: { content: stampNow('attacker', 1000) },
            },
          ],
        },
      }),
    });
    expect(replay.status).toBe(200); // the edge cannot tell: it has no key
    await first.sync();
    const fresh = await device(new InMemoryStore(), fast(PASSPHRASE));
    await fresh.sync();
    expect((await first.get(note.id))?.content).toBe('PIN is 2222');
    expect(await fresh.get(note.id)).toBeNull();
    expect((await fresh.rejected()).map((r) => r.id)).toEqual([note.id]);
    expect((await first.rejected()).map((r) => r.id)).toEqual([note.id]);
    // A full re-sync (as after time offline past the tombstone horizon) keeps the record as it was here:
    // the edge still has it, only not in a form this device can open.
    await first.store.apply(namespace, { meta: { 'sync.resync': true } });
    await first.sync();
    expect((await first.get(note.id))?.content).toBe('PIN is 2222');
  });

  it('a device on the old key after a rotation fails its sync loudly and passes over nothing', async () => {
    const { device } = await edge();
    const rotating = await device(new InMemoryStore(), fast(PASSPHRASE));
    await seed(rotating);
    await rotating.sync();
    const behind = await device(new InMemoryStore(), fast(PASSPHRASE));
    await behind.sync();
    await rotating.rekey(fast('a brand new passphrase'));
    const fresh = await rotating.add({ content: 'written after the rotation' });
    await rotating.sync();
    const cursor = await behind.store.getMeta(behind.namespace, 'sync.cursor');
    await expect(behind.sync()).rejects.toMatchObject({ code: 'VALIDATION', field: 'encryption' });
    // Nothing passed over: no record set aside as unreadable, the cursor where it was.
    expect(await behind.rejected()).toEqual([]);
    expect(await behind.store.getMeta(behind.namespace, 'sync.cursor')).toEqual(cursor);
    expect(await behind.get(fresh.id)).toBeNull();
    expect(behind.status.state).toBe('error');
  });

  it('a pulled value naming another key fails the round (a rotation to follow), never set aside as damaged', async () => {
    const { device, editingPulled } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a } = await seed(first);
    await first.sync();
    // The edge answers with a's content as if sealed under a key this device does not have yet.
    const second = await device(
      new InMemoryStore(),
      fast(PASSPHRASE),
      editingPulled(a.id, (change) => {
        const [prefix, , sealed] = change.memory.content.split('.');
        change.memory.content = `${prefix}.OTHERKEY.${sealed}`;
      }),
    );
    await expect(second.sync()).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(await second.rejected()).toEqual([]);
    expect(await second.store.getMeta(second.namespace, 'sync.cursor')).toBeUndefined();
  });

  it('a device on the old key reopened with the new passphrase reads on, and its offline writes reach the others', async () => {
    const { device, app } = await edge();
    const rotating = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a } = await seed(rotating);
    await rotating.sync();
    const name = `old-key-${Math.random().toString(36).slice(2)}`;
    // Offline for real: no live stream, whose news would start a round that pushes the write below.
    const noStream = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname.endsWith('/events')) return new Response('no', { status: 404 });
      return app.fetch(request);
    }) as typeof fetch;
    const behind = await device(new IndexedDBStore({ name }), fast(PASSPHRASE), noStream);
    await behind.sync();
    const offline = await behind.add({ content: 'written offline before the rotation was known' });
    await rotating.rekey(fast('a brand new passphrase'));
    await expect(behind.sync()).rejects.toMatchObject({ code: 'VALIDATION', field: 'encryption' });
    await behind.close();
    // Its store still knows the old key: the new passphrase opens the edge's key instead.
    const reopened = await device(new IndexedDBStore({ name }), fast('a brand new passphrase'));
    await reopened.sync();
    expect(await reopened.get(a.id)).toEqual(await rotating.get(a.id));
    await rotating.sync();
    expect((await rotating.get(offline.id))?.content).toBe('written offline before the rotation was known');
    await reopened.close();
    // A wrong passphrase is still refused when the store opens, before anything is written.
    await expect(device(new IndexedDBStore({ name }), fast(PASSPHRASE))).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'encryption',
    });
  });

  it('a push under the old key that reaches the edge just before the rotation is re-sealed, not stranded', async () => {
    const { device, app, sealedContent } = await edge();
    const window = rotationWindow(app);
    const rotating = await device(new InMemoryStore(), fast(PASSPHRASE), window.fetch);
    await seed(rotating);
    await rotating.sync();
    const name = `window-${Math.random().toString(36).slice(2)}`;
    const other = await device(new IndexedDBStore({ name }), fast(PASSPHRASE));
    await other.sync();
    const late = await other.add({ content: 'pushed while the rotation was on its way' });
    window.pushFirst(() => other.sync());
    await rotating.rekey(fast('a brand new passphrase'));
    expect(window.pushed()).toBe(true);
    expect((await rotating.get(late.id))?.content).toBe('pushed while the rotation was on its way');
    const { keyId: newKey } = await sealedContent((await rotating.list()).items[0]!.id);
    expect((await sealedContent(late.id)).keyId).toBe(newKey);
    await other.close();
    const reopened = await device(new IndexedDBStore({ name }), fast('a brand new passphrase'));
    await reopened.sync();
    expect((await reopened.get(late.id))?.content).toBe('pushed while the rotation was on its way');
  });

  it('a link pushed under the old key just before the rotation is re-sealed too, not stranded', async () => {
    const { device, app, api, sealedContent } = await edge();
    const window = rotationWindow(app);
    const rotating = await device(new InMemoryStore(), fast(PASSPHRASE), window.fetch);
    const { a, b } = await seed(rotating);
    await rotating.sync();
    const name = `window-link-${Math.random().toString(36).slice(2)}`;
    const other = await device(new IndexedDBStore({ name }), fast(PASSPHRASE));
    await other.sync();
    const late = await other.link(b.id, a.id, 'supports', { metadata: { why: 'linked mid-rotation' } });
    window.pushFirst(() => other.sync());
    // The link's sealed metadata names the old key: the rekey's pull opens it with that key, as a memory's.
    await rotating.rekey(fast('a brand new passphrase'));
    expect(window.pushed()).toBe(true);
    const linkOf = <T extends { id: string }>(links: T[]) => links.find((l) => l.id === late.id);
    expect(linkOf(await rotating.links(b.id))?.metadata).toEqual({ why: 'linked mid-rotation' });
    const onEdge = (await (await api(`/memories/${b.id}/links`)).json()) as {
      items: { id: string; metadata: { 'engram.encrypted': string } }[];
    };
    const sealed = linkOf(onEdge.items)!.metadata['engram.encrypted'];
    expect(sealed.split('.')[1]).toBe((await sealedContent(a.id)).keyId);
    await other.close();
    const reopened = await device(new IndexedDBStore({ name }), fast('a brand new passphrase'));
    await reopened.sync();
    expect(linkOf(await reopened.links(b.id))?.metadata).toEqual({ why: 'linked mid-rotation' });
  });

  it("rekey in a tab that follows another tab's sync says so (it was called not encrypted)", async () => {
    const { device } = await edge();
    // Node has BroadcastChannel but no Web Locks: a lock queue granting each request after the one before.
    let tail = Promise.resolve();
    const locks = {
      request(_name: string, _options: object, callback: () => Promise<void>) {
        const granted = tail.then(callback);
        tail = granted.catch(() => undefined);
        return granted;
      },
    };
    vi.stubGlobal('navigator', { locks });
    try {
      const name = `tabs-${Math.random().toString(36).slice(2)}`;
      const leader = await device(new IndexedDBStore({ name }), fast(PASSPHRASE));
      await leader.add({ content: 'one' });
      await leader.sync();
      const follower = await device(new IndexedDBStore({ name }), fast(PASSPHRASE));
      await expect(follower.rekey(fast('a brand new passphrase'))).rejects.toMatchObject({
        code: 'CONFLICT',
        field: 'rekey',
        message: expect.stringContaining('another tab syncs this namespace'),
      });
      expect(await leader.rekey(fast('a brand new passphrase'))).toEqual({ records: 1 });
      await follower.close();
      await leader.close();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('a device of a release before stamp-bound sealing is turned away from a version 2 namespace (409 sync.key.seals)', async () => {
    const { device, api, sealedContent } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a } = await seed(first);
    await first.sync();
    const { keyId } = await sealedContent(a.id);
    // What such a device sends: its settle (key info), and its pushes naming only the key id; and one
    // that names the sealing it has, an earlier one.
    for (const key of [
      { info: { v: 1, keyId: 'OLDDEVICE', check: 'A'.repeat(40) } },
      { id: keyId },
      { id: keyId, seals: 1 },
    ]) {
      const res = await api('/sync', { method: 'POST', body: JSON.stringify({ key, pull: { after: 0 } }) });
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ error: { code: 'CONFLICT', field: 'sync.key.seals' } });
    }
  });

  it('a record the edge sends without a sealed field (dropped under a newer stamp) is set aside, not emptied', async () => {
    const { device, editingPulled } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a } = await seed(first);
    await first.sync();
    const stamp = stampNow('edge', 1000);
    // A hostile edge answers pulls with a's content and tags removed and their stamps moved forward.
    const second = await device(
      new InMemoryStore(),
      fast(PASSPHRASE),
      editingPulled(a.id, (change) => {
        delete change.memory.content;
        delete change.memory.tags;
        change.clocks.content = stamp;
        change.clocks.tags = stamp;
      }),
    );
    await second.sync();
    expect(await second.get(a.id)).toBeNull();
    const [report] = await second.rejected();
    expect(report).toMatchObject({ entity: 'memory', id: a.id, unreadable: true });
    expect(report!.reason).toMatch(/\/content: expected an encrypted value, got none/);
  });

  it('a re-sync keeps a record the edge still has but that does not open here, as this device had it', async () => {
    const { device, tampering } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a, b } = await seed(first);
    await first.sync();
    const stamp = stampNow('edge', 1000);
    let answers: 'honest' | 'says resync' | 'alters a' = 'honest';
    // Once the device holds a, the edge tells it to re-sync, and its pages then send a without its content.
    const second = await device(
      new InMemoryStore(),
      fast(PASSPHRASE),
      tampering((body) => {
        if (answers === 'says resync' && body.pull) {
          body.resync = { collectedSeq: 1 };
          answers = 'alters a';
          return;
        }
        if (answers !== 'alters a') return;
        for (const change of body.pull?.changes ?? []) {
          if (change.memory?.memory.id !== a.id) continue;
          delete change.memory.memory.content;
          change.memory.clocks.content = stamp;
        }
      }),
    );
    await second.sync();
    expect((await second.get(a.id))?.content).toBe(`Patient note: ${SECRETS.content}`);
    answers = 'says resync';
    await second.sync();
    expect(answers).toBe('alters a');
    expect((await second.get(a.id))?.content).toBe(`Patient note: ${SECRETS.content}`);
    expect((await second.get(b.id))?.content).toBe(b.content);
    expect(await second.rejected()).toEqual([expect.objectContaining({ id: a.id, unreadable: true })]);
  });

  it('a record the edge sends under another namespace name is set aside, not kept under that name', async () => {
    const { device, tampering } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a, b } = await seed(first);
    await first.sync();
    const second = await device(
      new InMemoryStore(),
      fast(PASSPHRASE),
      tampering((body) => {
        for (const change of body.pull?.changes ?? []) {
          if (change.memory?.memory.id === a.id) change.memory.memory.namespace = 'someone-else';
          if (change.link) change.link.link.namespace = 'someone-else';
        }
      }),
    );
    await second.sync();
    expect(await second.get(a.id)).toBeNull();
    expect((await second.get(b.id))?.namespace).toBe(second.namespace);
    const reports = await second.rejected();
    expect(reports.map((r) => r.entity).sort()).toEqual(['link', 'memory']);
    expect(reports[0]!.reason).toMatch(/\/namespace: expected "/);
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
    const elsewhere = await deviceOn(app, namespace, token, { passphrase: PASSPHRASE });
    await elsewhere.sync();
    expect(await elsewhere.get(a.id)).toEqual(await first.get(a.id));
    // A restore carries the key info as well.
    const restored = new InMemoryStore();
    await importJsonl(restored, lines, { mode: 'restore' });
    expect(await restored.getMeta(namespace, KEY_INFO_META)).toEqual(JSON.parse(lines[0]!).info);
  });

  it('export and import through edges over HTTP (RemoteStore) carry the key info too', async () => {
    const { device, namespace, app, token } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a } = await seed(first);
    await first.sync();
    const over = (server: { fetch: (r: Request) => Response | Promise<Response> }) =>
      new RemoteStore({
        url: 'http://edge.test',
        token,
        fetch: (i, init) => server.fetch(new Request(i, init)),
      });
    const lines: string[] = [];
    for await (const line of exportJsonl(over(app), { namespaces: [namespace] })) lines.push(line);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'key', namespace });

    const other = createEdgeApp({ store: new InMemoryStore(), secret: SECRET, logger: false });
    await importJsonl(over(other), lines);
    const capabilities = await other.request(`/v1/ns/${namespace}/capabilities`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await capabilities.json()).toMatchObject({ encrypted: true });
    const elsewhere = await deviceOn(other, namespace, token, fast(PASSPHRASE));
    await elsewhere.sync();
    expect(await elsewhere.get(a.id)).toEqual(await first.get(a.id));
    // A namespace already encrypted with another key keeps it: the import says so.
    const elsewhereKeyed = createEdgeApp({ store: new InMemoryStore(), secret: SECRET, logger: false });
    const settle = { key: { info: (await NamespaceCipherOf(fast(PASSPHRASE))).info, seals: 2 } };
    await elsewhereKeyed.request(`/v1/ns/${namespace}/sync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(settle),
    });
    await expect(importJsonl(over(elsewhereKeyed), lines)).rejects.toMatchObject({
      code: 'CONFLICT',
      field: 'sync.key.info',
    });
  });

  it('only a holder of the key rotates the namespace: a token holder without it is refused (403), nothing changes', async () => {
    const { device, api } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    await seed(first);
    await first.sync();
    const before = await (await api('/capabilities')).json();
    const keyInfo = (await (
      await api('/sync', { method: 'POST', body: JSON.stringify({ key: { seals: 2 } }) })
    ).json()) as {
      key: { info: { keyId: string; v: number; rotation: string } };
    };
    const { info } = keyInfo.key;
    expect(info).toMatchObject({ v: 2, rotation: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const evil = { v: 2, keyId: 'EVILKEY1', check: 'A'.repeat(40), rotation: 'B'.repeat(43) };
    for (const proof of [undefined, 'C'.repeat(59)]) {
      const res = await api('/sync', {
        method: 'POST',
        body: JSON.stringify({
          key: { rotate: { from: info.keyId, to: evil, ...(proof ? { proof } : {}) }, seals: 2 },
        }),
      });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({
        error: { code: 'FORBIDDEN', field: 'sync.key.rotate.proof' },
      });
    }
    const unproven = await api('/sync', {
      method: 'POST',
      body: JSON.stringify({
        key: { rotate: { from: info.keyId, to: { ...evil, rotation: undefined } }, seals: 2 },
      }),
    });
    expect(unproven.status).toBe(400);
    expect(await (await api('/capabilities')).json()).toEqual(before);
    const other = await device(new InMemoryStore(), fast(PASSPHRASE));
    await other.sync();
    expect((await other.list()).items).toHaveLength(2);
  });

  it('key info does not convert a namespace holding plaintext records (a token holder cannot lock its devices out)', async () => {
    const { device, api } = await edge();
    const plain = await device(new InMemoryStore());
    await plain.add({ content: 'plain note' });
    await plain.sync();
    const before = await (await api('/capabilities')).json();
    const evil = { v: 2, keyId: 'EVILKEY1', check: 'A'.repeat(40), rotation: 'B'.repeat(43) };
    const res = await api('/sync', {
      method: 'POST',
      body: JSON.stringify({ key: { info: evil, seals: 2 } }),
    });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: 'CONFLICT', field: 'sync.key.info' } });
    expect(await (await api('/capabilities')).json()).toEqual(before);
    await plain.add({ content: 'another plain note' });
    // Pushed by this round or by one queued behind the device's first (either way before sync() returns).
    await plain.sync();
    expect(plain.status).toMatchObject({ state: 'online', pending: 0 });
    const { items } = (await (await api('/memories')).json()) as { items: unknown[] };
    expect(items).toHaveLength(2);
    const sealed = await device(new InMemoryStore(), fast(PASSPHRASE)).catch((error: unknown) => error);
    const failed =
      sealed instanceof Error ? sealed : await (sealed as Engram).sync().catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'CONFLICT' });
  });

  it('a device keeps its own key info, and refuses key info asking for an extreme number of iterations', async () => {
    const { device, tampering } = await edge();
    // An edge that answers the first settle with the device's key id but its own check value.
    const store = new InMemoryStore();
    const first = await device(
      store,
      fast(PASSPHRASE),
      tampering((body) => {
        if (body.key?.info) body.key.info.check = 'A'.repeat(40);
      }),
    );
    await first.add({ content: 'kept' });
    await first.sync();
    // Opening the store again checks the passphrase against the key info it remembered: its own.
    const reopened = await createMemory({ store, namespace: first.namespace, encryption: fast(PASSPHRASE) });
    expect((await reopened.list()).items.map((m) => m.content)).toEqual(['kept']);

    // Key info from the edge asking for 50 million iterations: refused at once, not derived for minutes.
    const second = await device(
      new InMemoryStore(),
      { passphrase: PASSPHRASE },
      tampering((body) => {
        if (body.key?.info?.kdf) body.key.info.kdf.iterations = 50_000_000;
      }),
    );
    await expect(second.sync()).rejects.toMatchObject({ code: 'VALIDATION', field: 'encryption.iterations' });
  });

  it('a memory whose tags are too long to seal is set aside; the rest of the outbox still syncs', async () => {
    const { device } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const before = await first.add({ content: 'before' });
    const long = await first.add({
      content: 'many long tags',
      tags: Array.from({ length: 64 }, (_, i) => `t${i}-`.padEnd(60, 'z')),
    });
    const after = await first.add({ content: 'after' });
    expect(await first.sync()).toMatchObject({ pushed: 2 });
    expect(first.status.pending).toBe(0);
    const [report] = await first.rejected();
    expect(report).toMatchObject({ entity: 'memory', id: long.id });
    // Named as the edge names a refused value: its place in the push, then the sealed field.
    expect(report!.reason).toMatch(
      /^VALIDATION: sync\.push\.memories\.\d+\.values: [^ ]*\/memory\/[^ ]*\/tags@[^ ]*: these tags are too long to encrypt/,
    );
    const second = await device(new InMemoryStore(), fast(PASSPHRASE));
    await second.sync();
    expect((await second.get(before.id))?.content).toBe('before');
    expect((await second.get(after.id))?.content).toBe('after');
  });

  it('metadata near the 64 KiB limit syncs sealed (its ciphertext is longer than the limit)', async () => {
    const { device } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const metadata = { blob: 'x'.repeat(60 * 1024) };
    const a = await first.add({ content: 'large metadata', metadata });
    const b = await first.add({ content: 'other end' });
    const link = await first.link(a.id, b.id, 'related_to', { metadata });
    await first.sync();
    expect(await first.rejected()).toEqual([]);
    const second = await device(new InMemoryStore(), fast(PASSPHRASE));
    await second.sync();
    expect((await second.get(a.id))?.metadata).toEqual(metadata);
    expect((await second.links(a.id)).find((l) => l.id === link.id)?.metadata).toEqual(metadata);
  });

  it('a record created without its sealed tags or metadata is refused (it would be plaintext nobody can open)', async () => {
    const { device, api, sealedContent } = await edge();
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a } = await seed(first);
    await first.sync();
    const sealed = await sealedContent(a.id);
    const keyId = sealed.keyId;
    const stamp = stampNow('attacker');
    const res = await api('/sync', {
      method: 'POST',
      body: JSON.stringify({
        key: { id: keyId, seals: 2 },
        push: {
          memories: [
            {
              id: 'poison',
              create: { namespace: first.namespace, createdAt: new Date().toISOString() },
              values: { content: sealed.content },
              clocks: { content: stamp },
            },
          ],
        },
      }),
    });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({
      error: { code: 'CONFLICT', field: 'sync.push.memories.0.values.tags' },
    });
  });

  it('a namespace keyed before stamps were bound (key info version 1) still syncs, and rekey moves it to version 2', async () => {
    const { device, api } = await edge();
    // What a device of an earlier release proposed: the same check value, version 1, no rotation hash.
    const { NamespaceCipher } = await import('../../src/core/crypto/cipher.js');
    const made = await NamespaceCipher.create(fast(PASSPHRASE));
    const { rotation: _, ...rest } = made.info;
    const legacy = { ...rest, v: 1 };
    const settled = await api('/sync', { method: 'POST', body: JSON.stringify({ key: { info: legacy } }) });
    expect(((await settled.json()) as { key: { info: unknown } }).key.info).toEqual(legacy);
    const first = await device(new InMemoryStore(), fast(PASSPHRASE));
    const { a } = await seed(first);
    await first.sync();
    const second = await device(new InMemoryStore(), fast(PASSPHRASE));
    await second.sync();
    expect(await second.get(a.id)).toEqual(await first.get(a.id));
    await first.rekey(fast('a brand new passphrase'));
    const info = (
      (await (
        await api('/sync', { method: 'POST', body: JSON.stringify({ key: { seals: 2 } }) })
      ).json()) as {
        key: { info: { v: number } };
      }
    ).key.info;
    expect(info).toMatchObject({ v: 2 });
    const third = await device(new InMemoryStore(), fast('a brand new passphrase'));
    await third.sync();
    expect(await third.get(a.id)).toEqual(await first.get(a.id));
  });

  it('rekey moves the namespace to a new passphrase: everything re-sealed, old passphrase refused, new one reads all', async () => {
    const { backend, device, namespace } = await edge();
    const store = new InMemoryStore();
    const first = await device(store, fast(PASSPHRASE));
    const { a, b } = await seed(first);
    await first.sync();
    const old = await device(new InMemoryStore(), fast(PASSPHRASE));
    await old.sync();

    const result = await first.rekey(fast('a brand new passphrase'));
    expect(result.records).toBe(3);
    // The rekeying device's store knows the new key at once: opened again without the edge, the new
    // passphrase opens it and the old one is refused.
    const offline = await createMemory({ store, namespace, encryption: fast('a brand new passphrase') });
    opened.push(offline);
    expect((await offline.get(a.id))?.content).toBe(`Patient note: ${SECRETS.content}`);
    await expect(createMemory({ store, namespace, encryption: fast(PASSPHRASE) })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'encryption',
    });
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
      // One step past each bound: 8 characters, 1000 to 100 000 000 whole iterations.
      { passphrase: '1234567' },
      { passphrase: 'long enough', iterations: 999 },
      { passphrase: 'long enough', iterations: 100_000_001 },
      { passphrase: 'long enough', iterations: 1000.5 },
    ]) {
      await expect(createMemory({ encryption: encryption as { passphrase: string } })).rejects.toMatchObject({
        code: 'VALIDATION',
        field: expect.stringMatching(/^encryption/),
      });
    }
  });

  it('takes a passphrase and iterations at their lower bounds', async () => {
    const mem = await createMemory({ encryption: { passphrase: '12345678', iterations: 1000 } });
    await mem.add({ content: 'sealed at the bounds' });
    await mem.close();
  });

  it('refuses a key that cannot both encrypt and decrypt, or is no AES-GCM key', async () => {
    // Sealing a push and opening a pull both need the key: one without either fails only at first sync.
    const keys = await Promise.all([
      crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']),
      crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['decrypt']),
      crypto.subtle.generateKey({ name: 'AES-CBC', length: 256 }, false, ['encrypt', 'decrypt']),
    ]);
    for (const key of keys) {
      await expect(createMemory({ encryption: { key } }), key.algorithm.name).rejects.toMatchObject({
        code: 'VALIDATION',
        field: 'encryption',
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
    await expect(
      createMemory({ store: new RemoteStore({ url: 'http://x.test', token: 't' }), encryption: { key } }),
    ).rejects.toMatchObject({ code: 'VALIDATION', field: 'encryption' });
  });
});
