import 'fake-indexeddb/auto';
import { deleteDB, openDB } from 'idb';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { IndexedDBStore } from '../../src/backends/indexeddb/index.js';
import { SCHEMA_VERSION } from '../../src/backends/indexeddb/upgrade.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, EngramError, InMemoryStore } from '../../src/index.js';
import { indexText } from '../../src/store/index.js';
import { fillVersion1, openVersion1 } from './indexeddb-v1-fixture.js';

let databases = 0;
const freshName = () => `engram-upgrade-${process.pid}-${Date.now()}-${++databases}`;
const NOW = '2031-01-01T00:00:00.000Z';
const STORES = [
  'feedBlocks',
  'links',
  'memories',
  'meta',
  'stats',
  'textShards',
  'textTables',
  'tombstones',
  'vectors',
];

/** 'done', or 'blocked' as soon as our store failed to step aside (instead of hanging the test). */
function unlessBlocked(request: (blocked: () => void) => Promise<unknown>): Promise<'done' | 'blocked'> {
  return new Promise((resolve, reject) => {
    request(() => resolve('blocked')).then(() => resolve('done'), reject);
  });
}

describe('IndexedDBStore schema versions', () => {
  it('upgrades a version 1 database in place and reads every row back', async () => {
    const name = freshName();
    const raw = await openVersion1(name);
    const rows = await fillVersion1(raw, 'ns');
    raw.close();

    const store = new IndexedDBStore({ name });
    // No automatic maintenance: the v1 tombstone is older than the horizon at NOW, and this test reads it back.
    const mem = await createMemory({
      store,
      namespace: 'ns',
      now: () => Date.parse(NOW),
      maintenance: { intervalMs: 0 },
    });
    expect(await mem.get('m1')).toEqual(rows.memories[0]);
    expect((await store.getMemories('ns', ['m2', 'm3'])).map((r) => r.memory)).toEqual(
      rows.memories.slice(1),
    );
    expect((await mem.list({ tags: ['bird'] })).items.map((m) => m.id)).toEqual(['m3', 'm1']);
    expect((await mem.list({ kind: 'fact' })).items.map((m) => m.id)).toEqual(['m2']);
    const tokens = rows.memories.reduce((sum, m) => sum + indexText(m.content).length, 0);
    expect(await store.textStats('ns')).toEqual({ docs: 3, tokens });
    expect((await mem.search('penguin')).map((h) => h.memory.id).sort()).toEqual(['m1', 'm3']);
    expect((await mem.search('run')).map((h) => h.memory.id)).toEqual(['m2']);
    expect(await store.vectors('ns', null, 10)).toEqual([{ id: 'm1', embedding: [0.5, -0.25, 1] }]);
    expect((await mem.links('m1')).map((l) => l.id)).toEqual(['l1']);
    expect(await store.getTombstones('ns', ['gone'])).toEqual([rows.tombstone]);
    expect((await store.changes('ns', 0, 10)).map((c) => c.id)).toEqual(['m1', 'm2', 'm3', 'l1', 'gone']);
    expect(await store.getMeta('ns', 'clientId')).toBe('v1-client');

    const fourth = await mem.add({ content: 'a fourth penguin' });
    expect((await store.textStats('ns')).docs).toBe(4);
    const [entry, ...more] = await store.changes('ns', 5, 10);
    expect([entry?.id, more.length]).toEqual([fourth.id, 0]);
    expect(entry!.seq).toBeGreaterThan(5);
    await mem.close();

    const check = await openDB(name);
    expect(check.version).toBe(SCHEMA_VERSION);
    expect([...check.objectStoreNames].sort()).toEqual(STORES);
    expect(check.transaction('memories').store.keyPath).toBeNull(); // v5: keyed out of line
    const row = await check.get('memories', 'ns\u0000m1');
    expect(row.memory.embedding).toBeUndefined();
    expect(row).toMatchObject({
      hasVector: true,
      kindKey: 'ns\u0000note',
      tagKeys: ['ns\u0000bird', 'ns\u0000cold'],
      group: 0,
      seq: 1,
    });
    expect(Array.from(await check.get('vectors', ['ns', 'm1']))).toEqual([0.5, -0.25, 1]);
    expect(await check.getAllKeysFromIndex('memories', 'tags', 'ns\u0000bird')).toEqual([
      'ns\u0000m1',
      'ns\u0000m3',
    ]);
    expect(await check.get('tombstones', ['ns', 'gone'])).toMatchObject({ seq: 5, origin: 'remote' });
    expect((await check.get('textTables', ['ns', 0, 0])).ids.split(' ')).toEqual([
      'm1',
      'm2',
      'm3',
      expect.any(String),
    ]);
    check.close();
  });

  it('numbers a version 1 record that lacks its change entry after every entry of its namespace', async () => {
    const name = freshName();
    const raw = await openVersion1(name);
    await fillVersion1(raw, 'ns');
    await raw.delete('changes', ['ns', 2]); // m2's
    raw.close();

    const store = new IndexedDBStore({ name });
    const changes = await store.changes('ns', 0, 10);
    expect(changes.map((c) => [c.seq, c.id])).toEqual([
      [1, 'm1'],
      [3, 'm3'],
      [4, 'l1'],
      [5, 'gone'],
      [6, 'm2'],
    ]);
    await store.close();
  });

  it('creates a new database by running every step', async () => {
    const name = freshName();
    await new IndexedDBStore({ name }).open();
    const check = await openDB(name);
    expect(check.version).toBe(SCHEMA_VERSION);
    expect([...check.objectStoreNames].sort()).toEqual(STORES);
    expect([...check.transaction('memories').store.indexNames].sort()).toEqual(['kind', 'tags']);
    check.close();
  });
});

describe('IndexedDBStore and other connections', () => {
  it('fails with STORAGE, not a hang, while another tab holds an older version open', async () => {
    const name = freshName();
    const blocker = await openVersion1(name);
    await fillVersion1(blocker, 'ns');
    const store = new IndexedDBStore({ name, blockedTimeoutMs: 50 });
    const error = await store.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngramError);
    expect(error).toMatchObject({ code: 'STORAGE' });
    expect((error as Error).message).toMatch(/another connection .*version 1 open/);
    blocker.close();
    await store.open();
    expect((await store.getMemories('ns', ['m1']))[0]?.memory.embedding).toEqual([0.5, -0.25, 1]);
    await store.close();
    // The open given up on went through once the blocker left: closed at once, it holds nothing open.
    expect(await unlessBlocked((blocked) => deleteDB(name, { blocked }))).toBe('done');
  });

  it('waits ten seconds for a blocker unless told otherwise', async () => {
    const name = freshName();
    const blocker = await openVersion1(name);
    // fake-indexeddb schedules with setImmediate, which stays real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const store = new IndexedDBStore({ name });
    let outcome: unknown;
    store.open().then(
      () => (outcome = 'opened'),
      (error: unknown) => (outcome = error),
    );
    while (vi.getTimerCount() === 0) await new Promise((resolve) => setImmediate(resolve));
    await vi.advanceTimersByTimeAsync(9_999);
    expect(outcome).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(outcome).toMatchObject({ code: 'STORAGE' });
    blocker.close();
    await store.close();
  });

  it('waits out a blocker that closes in time', async () => {
    const name = freshName();
    const blocker = await openVersion1(name);
    const store = new IndexedDBStore({ name, blockedTimeoutMs: 5_000 });
    const opening = store.open();
    setTimeout(() => blocker.close(), 20);
    await expect(opening).resolves.toBeUndefined();
    await store.close();
  });

  it("closes for another connection's delete and reopens lazily on next use", async () => {
    const name = freshName();
    const store = new IndexedDBStore({ name });
    const mem = await createMemory({ store, namespace: 'ns' });
    await mem.add({ content: 'soon deleted' });
    expect(await unlessBlocked((blocked) => deleteDB(name, { blocked }))).toBe('done');
    expect((await mem.list()).items).toEqual([]);
    await mem.add({ content: 'after the delete' });
    expect((await mem.list()).items.map((m) => m.content)).toEqual(['after the delete']);
    await mem.close();
  });

  it('steps aside for a newer version and then reports it clearly', async () => {
    const name = freshName();
    const store = new IndexedDBStore({ name });
    await store.open();
    const opened = (blocked: () => void) =>
      openDB(name, SCHEMA_VERSION + 1, { upgrade: () => undefined, blocked }).then((newer) => newer.close());
    expect(await unlessBlocked(opened)).toBe('done');
    const error = await store.getMeta('ns', 'x').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'STORAGE',
      message: expect.stringMatching(new RegExp(`newer than schema version ${SCHEMA_VERSION}`)),
    });
    await store.close();
  });
});

describe('IndexedDBStore upgraded by a newer release in another tab', () => {
  it('the syncing tab gives the sync lock up, keeping its error, so a tab of that release can sync', async () => {
    // Node has no Web Locks: one lock at a time per name, in request order, as the browser grants them.
    const held = new Map<string, Promise<void>>();
    const granted: string[] = [];
    const locks = {
      request(lock: string, _options: unknown, callback: () => Promise<void>) {
        const run = (held.get(lock) ?? Promise.resolve()).then(() => {
          granted.push(lock);
          return callback();
        });
        held.set(
          lock,
          run.catch(() => undefined),
        );
        return run;
      },
    };
    vi.stubGlobal('navigator', { locks });
    const secret = 'newer-release-secret';
    const app = createEdgeApp({ store: new InMemoryStore(), secret, logger: false });
    const name = freshName();
    try {
      const mem = await createMemory({
        store: new IndexedDBStore({ name }),
        namespace: 'ns',
        sync: {
          url: 'http://edge.test',
          token: await mintToken({ secret, ns: ['ns'] }),
          fetch: async (input, init) => app.fetch(new Request(input, init)),
          live: false,
          intervalMs: 0,
        },
      });
      await mem.sync();
      expect(granted).toHaveLength(1);
      const newer = (blocked: () => void) =>
        openDB(name, SCHEMA_VERSION + 1, { upgrade: () => undefined, blocked }).then((db) => db.close());
      expect(await unlessBlocked(newer)).toBe('done');
      await expect(mem.sync()).rejects.toMatchObject({ code: 'STORAGE' });
      // The next tab in the lock's queue (here a stand-in for the newer release's) is granted the lock.
      const next = await Promise.race([
        locks.request(granted[0]!, {}, async () => {}).then(() => 'granted'),
        new Promise((resolve) => setTimeout(() => resolve('still held'), 1000)),
      ]);
      expect(next).toBe('granted');
      expect(mem.status).toMatchObject({ state: 'error', error: expect.stringMatching(/newer release/) });
      await mem.close();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('IndexedDBStore where the browser refuses IndexedDB', () => {
  it('a SecurityError from open (a sandboxed iframe) is a STORAGE error, not a raw DOMException', async () => {
    const open = vi.spyOn(indexedDB, 'open').mockImplementation(() => {
      throw new DOMException(
        "Failed to execute 'open' on 'IDBFactory': access to the Indexed Database API is denied in this context.",
        'SecurityError',
      );
    });
    try {
      const error = await createMemory({ store: new IndexedDBStore({ name: freshName() }) }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(EngramError);
      expect(error).toMatchObject({
        code: 'STORAGE',
        message: expect.stringMatching(/^IndexedDB open ".*" failed: .*denied in this context/),
      });
    } finally {
      open.mockRestore();
    }
  });
});
