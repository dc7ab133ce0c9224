import { describe, expect, it } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, type Engram, InMemoryStore, type MemoryStore } from '../../src/index.js';

const SECRET = 'reset-secret';

/**
 * An edge on `store` whose database can be swapped (`serve`), a writer that wrote three memories and a
 * reader that pulled them, and `join()` for a replica that arrives later.
 */
async function syncedPair(store: MemoryStore) {
  const open: Engram[] = [];
  let app = createEdgeApp({ store, secret: SECRET, logger: false, live: false });
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) =>
    app.fetch(new Request(input, init))) as typeof fetch;
  const token = await mintToken({ secret: SECRET, ns: ['n'] });
  const sync = { url: 'http://edge.test', token, fetch: fetchFn, intervalMs: 0, live: false };
  const join = async () => {
    const mem = await createMemory({ namespace: 'n', sync });
    open.push(mem);
    return mem;
  };
  const writer = await join();
  const reader = await join();
  for (const content of ['one', 'two', 'three']) await writer.add({ content });
  await writer.sync();
  await reader.sync();
  const serve = (next: MemoryStore) => {
    app = createEdgeApp({ store: next, secret: SECRET, logger: false, live: false });
  };
  const close = async () => {
    for (const mem of open) await mem.close();
  };
  return { writer, reader, join, serve, close };
}

/** Six memories written by a replica new to the edge, synced: more changes than the reader had pulled. */
async function writeSix(other: Engram) {
  const written = await other.addMany(['a', 'b', 'c', 'd', 'e', 'f'].map((c) => ({ content: `after ${c}` })));
  await other.sync();
  return written;
}

/** As a restore takes: the numbers the new history hands out are the clock's, later than the lost ones. */
const moments = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('a replica whose cursor is past the end of the server feed', () => {
  it('starts over from the beginning instead of pulling nothing for ever', async () => {
    const { reader, join, serve, close } = await syncedPair(new InMemoryStore());
    expect(await reader.store.getMeta('n', 'sync.cursor')).toBeGreaterThan(0);

    // The server's database is replaced by an empty one (a reset, a restored backup, a fresh --data), and
    // the replica syncs before anyone writes there: the feed ends before its cursor.
    const fresh = new InMemoryStore();
    serve(fresh);
    await reader.sync();
    expect(await reader.store.getMeta('n', 'sync.cursor')).toBe(0);
    const other = await join();
    const after = await other.add({ content: 'written after the reset' });
    await other.sync();

    await reader.sync();
    expect((await reader.get(after.id))?.content).toBe('written after the reset');
    expect(await reader.store.getMeta('n', 'sync.cursor')).toBe(await fresh.latestSeq('n'));
    await close();
  });
});

describe('a server that forgot, then took more writes than the replica had pulled', () => {
  it('reset: the replica still receives every write made after the reset', async () => {
    const { reader, join, serve, close } = await syncedPair(new InMemoryStore());
    await moments();
    serve(new InMemoryStore());
    const after = await writeSix(await join());

    await reader.sync();
    const got = await Promise.all(after.map((m) => reader.get(m.id)));
    expect(got.map((m) => m?.content)).toEqual(after.map((m) => m.content));
    await close();
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
    const { writer, reader, join, serve, close } = await syncedPair(first);
    await first.flush();
    const backup = saved!;
    const lost = await writer.addMany(['four', 'five', 'six'].map((content) => ({ content })));
    await writer.sync();
    await reader.sync();
    expect(await reader.get(lost[2]!.id)).not.toBeNull();
    await first.close();

    await moments();
    const restored = new SqlJsStore({ persist: persistence(() => backup), saveDelayMs: 0 });
    serve(restored);
    expect((await restored.getMemories('n', [lost[0]!.id])).length).toBe(0);
    const after = await writeSix(await join());

    await reader.sync();
    const got = await Promise.all(after.map((m) => reader.get(m.id)));
    expect(got.map((m) => m?.content)).toEqual(after.map((m) => m.content));
    // What the server lost stays with the replica that had it.
    expect((await reader.get(lost[0]!.id))?.content).toBe('four');
    await close();
    await restored.close();
  });
});
