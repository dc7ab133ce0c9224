import { describe, expect, it } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, InMemoryStore } from '../../src/index.js';

const SECRET = 'reset-secret';

describe('a replica whose cursor is past the end of the server feed', () => {
  it('starts over from the beginning instead of pulling nothing for ever', async () => {
    let app = createEdgeApp({ store: new InMemoryStore(), secret: SECRET, logger: false, live: false });
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) =>
      app.fetch(new Request(input, init))) as typeof fetch;
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const sync = { url: 'http://edge.test', token, fetch: fetchFn, intervalMs: 0, live: false };
    const writer = await createMemory({ namespace: 'n', sync });
    const reader = await createMemory({ namespace: 'n', sync });
    for (const content of ['one', 'two', 'three']) await writer.add({ content });
    await writer.sync();
    await reader.sync();
    expect(await reader.store.getMeta('n', 'sync.cursor')).toBeGreaterThan(0);

    // The server's database is replaced by an empty one (a reset, a restored backup, a fresh --data), and
    // the replica syncs before anyone writes there: the feed ends before its cursor.
    const fresh = new InMemoryStore();
    app = createEdgeApp({ store: fresh, secret: SECRET, logger: false, live: false });
    await reader.sync();
    expect(await reader.store.getMeta('n', 'sync.cursor')).toBe(0);
    const other = await createMemory({ namespace: 'n', sync });
    const after = await other.add({ content: 'written after the reset' });
    await other.sync();

    await reader.sync();
    expect((await reader.get(after.id))?.content).toBe('written after the reset');
    expect(await reader.store.getMeta('n', 'sync.cursor')).toBe(await fresh.latestSeq('n'));
    for (const mem of [writer, reader, other]) await mem.close();
  });
});

/** As a restore takes: the numbers the new history hands out are the clock's, later than the lost ones. */
const moments = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('a server that forgot, then took more writes than the replica had pulled', () => {
  it('reset: the replica still receives every write made after the reset', async () => {
    let app = createEdgeApp({ store: new InMemoryStore(), secret: SECRET, logger: false, live: false });
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) =>
      app.fetch(new Request(input, init))) as typeof fetch;
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const sync = { url: 'http://edge.test', token, fetch: fetchFn, intervalMs: 0, live: false };
    const writer = await createMemory({ namespace: 'n', sync });
    const reader = await createMemory({ namespace: 'n', sync });
    for (const content of ['one', 'two', 'three']) await writer.add({ content });
    await writer.sync();
    await reader.sync();

    await moments();
    app = createEdgeApp({ store: new InMemoryStore(), secret: SECRET, logger: false, live: false });
    const other = await createMemory({ namespace: 'n', sync });
    const after = await other.addMany(['a', 'b', 'c', 'd', 'e', 'f'].map((c) => ({ content: `after ${c}` })));
    await other.sync();

    await reader.sync();
    const got = await Promise.all(after.map((m) => reader.get(m.id)));
    expect(got.map((m) => m?.content)).toEqual(after.map((m) => m.content));
    for (const mem of [writer, reader, other]) await mem.close();
  });

  it('restored from an older backup of its sql.js file: no write after the restore is skipped', async () => {
    let saved: Uint8Array | null = null;
    const persistence = (from: () => Uint8Array | null) => ({
      load: async () => from(),
      save: async (bytes: Uint8Array) => {
        saved = bytes.slice();
      },
    });
    const first = new SqlJsStore({ persist: persistence(() => null), saveDelayMs: 0 });
    let app = createEdgeApp({ store: first, secret: SECRET, logger: false, live: false });
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) =>
      app.fetch(new Request(input, init))) as typeof fetch;
    const token = await mintToken({ secret: SECRET, ns: ['n'] });
    const sync = { url: 'http://edge.test', token, fetch: fetchFn, intervalMs: 0, live: false };
    const writer = await createMemory({ namespace: 'n', sync });
    const reader = await createMemory({ namespace: 'n', sync });
    for (const content of ['one', 'two', 'three']) await writer.add({ content });
    await writer.sync();
    await first.flush();
    const backup = saved!;
    const lost = await writer.addMany(['four', 'five', 'six'].map((content) => ({ content })));
    await writer.sync();
    await reader.sync();
    expect(await reader.get(lost[2]!.id)).not.toBeNull();
    await first.close();

    await moments();
    const restored = new SqlJsStore({ persist: persistence(() => backup), saveDelayMs: 0 });
    app = createEdgeApp({ store: restored, secret: SECRET, logger: false, live: false });
    expect((await restored.getMemories('n', [lost[0]!.id])).length).toBe(0);
    const other = await createMemory({ namespace: 'n', sync });
    const after = await other.addMany(['a', 'b', 'c', 'd', 'e', 'f'].map((c) => ({ content: `after ${c}` })));
    await other.sync();

    await reader.sync();
    const got = await Promise.all(after.map((m) => reader.get(m.id)));
    expect(got.map((m) => m?.content)).toEqual(after.map((m) => m.content));
    // What the server lost stays with the replica that had it.
    expect((await reader.get(lost[0]!.id))?.content).toBe('four');
    for (const mem of [writer, reader, other]) await mem.close();
    await restored.close();
  });
});
