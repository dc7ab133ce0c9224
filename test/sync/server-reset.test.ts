import { describe, expect, it } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { collectTombstones, purgeExpired } from '../../src/core/maintenance.js';
import type { WriteBatch } from '../../src/core/store-contract.js';
import type { SyncRequest } from '../../src/core/sync/protocol.js';
import { createEdgeApp, mintToken } from '../../src/edge/index.js';
import { createMemory, type Engram, InMemoryStore, type MemoryStore } from '../../src/index.js';

const SECRET = 'reset-secret';

/**
 * An edge on `store` whose database can be swapped (`serve`), a writer that wrote three memories and a
 * reader that pulled them, and `join()` for a replica that arrives later.
 */
async function syncedPair(store: MemoryStore, encryption?: { passphrase: string; iterations: number }) {
  const open: Engram[] = [];
  let app = createEdgeApp({ store, secret: SECRET, logger: false, live: false });
  /** Every sync request's body, in order. */
  const requests: SyncRequest[] = [];
  /** While set, every pull request fails as a dropped connection would. */
  const faults = { pull: false };
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (typeof init?.body === 'string' && new URL(String(input)).pathname.endsWith('/sync')) {
      const request: SyncRequest = JSON.parse(init.body);
      if (faults.pull && request.pull) throw new TypeError('fetch failed');
      requests.push(request);
    }
    return app.fetch(new Request(input, init));
  }) as typeof fetch;
  const token = await mintToken({ secret: SECRET, ns: ['n'] });
  const sync = { url: 'http://edge.test', token, fetch: fetchFn, intervalMs: 0, live: false };
  const join = async () => {
    const mem = await createMemory({ namespace: 'n', sync, ...(encryption ? { encryption } : {}) });
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
  return { writer, reader, join, serve, close, requests, faults };
}

/** The ids of memories pushed by the requests from `from` on. */
const pushedIds = (requests: SyncRequest[], from = 0) =>
  requests.slice(from).flatMap((r) => (r.push?.memories ?? []).map((m) => m.id));

/** Six memories written by a replica new to the edge, synced: more changes than the reader had pulled. */
async function writeSix(other: Engram) {
  const written = await other.addMany(['a', 'b', 'c', 'd', 'e', 'f'].map((c) => ({ content: `after ${c}` })));
  await other.sync();
  return written;
}

/**
 * A sql.js server database: `backup()` keeps a copy of its file as saved now, and `restore(copy)` opens
 * a store from that copy, as restoring an older backup does.
 */
function sqlJsFile() {
  let saved: Uint8Array | null = null;
  const persistence = (from: () => Uint8Array | null) => ({
    load: async () => from(),
    save: async (bytes: Uint8Array) => {
      saved = bytes.slice();
    },
  });
  const store = new SqlJsStore({ persist: persistence(() => null), saveDelayMs: 0 });
  return {
    store,
    backup: async () => {
      await store.flush();
      return saved!;
    },
    restore: (copy: Uint8Array) => new SqlJsStore({ persist: persistence(() => copy), saveDelayMs: 0 }),
  };
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

  it('gets in the same round a write made after the reset, when the lost feed had run ahead of the new one', async () => {
    const { reader, join, serve, close } = await syncedPair(new InMemoryStore());
    const fresh = new InMemoryStore();
    serve(fresh);
    const other = await join();
    const after = await other.add({ content: 'written after the reset' });
    await other.sync();
    // The lost history ran ahead of the clock (more changes a millisecond than feed numbers): the reader's
    // cursor is past the new feed's end, though the new feed holds a write it never pulled.
    await reader.store.apply('n', { meta: { 'sync.cursor': (await fresh.latestSeq('n')) + 1000 } });

    await reader.sync();
    expect((await reader.get(after.id))?.content).toBe('written after the reset');
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

  it('restored from an older backup of its sql.js file: no write after the restore is skipped, and what the backup missed comes back', async () => {
    const file = sqlJsFile();
    const first = file.store;
    const { writer, reader, join, serve, close } = await syncedPair(first);
    const backup = await file.backup();
    const lost = await writer.addMany(['four', 'five', 'six'].map((content) => ({ content })));
    await writer.update(lost[0]!.id, { content: 'four, edited' });
    await writer.sync();
    await reader.sync();
    expect(await reader.get(lost[2]!.id)).not.toBeNull();
    await writer.close();
    await first.close();

    await moments();
    const restored = file.restore(backup);
    serve(restored);
    expect((await restored.getMemories('n', [lost[0]!.id])).length).toBe(0);
    const after = await writeSix(await join());

    await reader.sync();
    const got = await Promise.all(after.map((m) => reader.get(m.id)));
    expect(got.map((m) => m?.content)).toEqual(after.map((m) => m.content));
    // What the server lost the replica that had it gives back, with its stamps: a newcomer reads it.
    const back = await restored.getMemories(
      'n',
      lost.map((m) => m.id),
    );
    expect(back.map((r) => r.memory.content).sort()).toEqual(['five', 'four, edited', 'six']);
    const newcomer = await join();
    await newcomer.sync();
    expect((await newcomer.get(lost[0]!.id))?.content).toBe('four, edited');
    expect((await newcomer.list({ limit: 20 })).items.length).toBe(12);
    await close();
    await restored.close();
  });
});

describe('a replica heals a server that forgot what it had pulled', () => {
  it('reset: the replicas push back what they hold, and a newcomer gets it all', async () => {
    const { writer, reader, join, serve, close, requests } = await syncedPair(new InMemoryStore());
    const before = (await reader.list({ limit: 10 })).items;
    await moments();
    const fresh = new InMemoryStore();
    serve(fresh);
    const after = await writeSix(await join());

    const from = requests.length;
    await reader.sync();
    // The reader held the three the server lost: everything it holds went back, once.
    expect(pushedIds(requests, from).sort()).toEqual(
      [...before.map((m) => m.id), ...after.map((m) => m.id)].sort(),
    );
    expect(await reader.store.getMeta('n', 'sync.repushSeq')).toBeNull();
    const held = await fresh.getMemories(
      'n',
      before.map((m) => m.id),
    );
    expect(held.map((r) => r.memory.content).sort()).toEqual(['one', 'three', 'two']);

    // The writer finds the server holding what it pulled again: nothing is pushed twice.
    const fromWriter = requests.length;
    await writer.sync();
    expect(pushedIds(requests, fromWriter)).toEqual([]);
    const newcomer = await join();
    await newcomer.sync();
    expect((await newcomer.list({ limit: 20 })).items.length).toBe(9);
    await close();
  });

  it('an edit and a delete the server lost come back too', async () => {
    const file = sqlJsFile();
    const first = file.store;
    const { writer, reader, join, serve, close } = await syncedPair(first);
    const backup = await file.backup();
    const [one, two] = (await reader.list({ limit: 2 })).items;
    await writer.update(one!.id, { content: 'edited, then lost' });
    await writer.remove(two!.id);
    await writer.sync();
    await reader.sync();
    await writer.close();
    await first.close();

    await moments();
    const restored = file.restore(backup);
    serve(restored);
    expect((await restored.getMemories('n', [two!.id])).length).toBe(1);
    await writeSix(await join());
    await reader.sync();

    expect((await restored.getMemories('n', [one!.id]))[0]?.memory.content).toBe('edited, then lost');
    expect(await restored.getMemories('n', [two!.id])).toEqual([]);
    expect((await restored.getTombstones('n', [two!.id])).map((t) => t.id)).toEqual([two!.id]);
    await close();
    await restored.close();
  });
});

describe('a server that forgot nothing is never sent everything again', () => {
  const DAY = 24 * 60 * 60 * 1000;

  it('the witness is the last memory pulled; deleting it, its tombstone collected, sends nothing back', async () => {
    const server = new InMemoryStore();
    const { writer, reader, close, requests } = await syncedPair(server);
    const last = (await writer.list({ limit: 10 })).items.find((m) => m.content === 'three')!;
    expect(await reader.store.getMeta('n', 'sync.witness')).toMatchObject({ id: last.id });

    await writer.remove(last.id);
    await writer.sync();
    // The server answers the witness with its tombstone: held, nothing to send back.
    const beforeDelete = requests.length;
    await reader.sync();
    expect(await reader.get(last.id)).toBeNull();
    expect(pushedIds(requests, beforeDelete)).toEqual([]);
    // The horizon passes: the server keeps no trace of the memory the reader pulled last.
    expect(await collectTombstones(server, 'n', { nowMs: Date.now() + 2 * DAY, horizonMs: DAY })).toBe(1);
    expect(await server.getTombstones('n', [last.id])).toEqual([]);

    const from = requests.length;
    await reader.add({ content: 'the reader writes' });
    await reader.sync();
    expect(pushedIds(requests, from)).toHaveLength(1);
    await close();
  });

  it('a witness given an expiry and purged on the server sends nothing back', async () => {
    const server = new InMemoryStore();
    const { writer, reader, close, requests } = await syncedPair(server);
    const soon = new Date(Date.now() + 200).toISOString();
    const expiring = await writer.add({ content: 'kept a moment' });
    await writer.sync();
    await reader.sync();
    expect(await reader.store.getMeta('n', 'sync.witness')).toMatchObject({ id: expiring.id });
    await writer.update(expiring.id, { expiresAt: soon });
    await writer.sync();
    await reader.sync();
    expect(await purgeExpired(server, 'n', new Date(Date.now() + DAY).toISOString())).toBe(1);

    const from = requests.length;
    await reader.sync();
    expect(pushedIds(requests, from)).toEqual([]);
    await close();
  });

  it('a memory that arrives with an expiry never witnesses: an older one stays the witness', async () => {
    const { writer, reader, close } = await syncedPair(new InMemoryStore());
    const witness = await reader.store.getMeta('n', 'sync.witness');
    await writer.add({ content: 'kept a day', expiresAt: new Date(Date.now() + DAY).toISOString() });
    await writer.sync();
    await reader.sync();
    expect(await reader.store.getMeta('n', 'sync.witness')).toEqual(witness);
    await close();
  });
});

describe('writes the server took but whose pull never came back', () => {
  it('come back after a restore that lost them: the last memory pushed witnesses too', async () => {
    const file = sqlJsFile();
    const first = file.store;
    const { reader, join, serve, close, faults } = await syncedPair(first);
    const backup = await file.backup();
    const mine = await reader.add({ content: 'pushed, never pulled back' });
    faults.pull = true;
    await expect(reader.sync()).rejects.toThrow();
    faults.pull = false;
    expect((await first.getMemories('n', [mine.id])).length).toBe(1);
    expect(await reader.store.getMeta('n', 'sync.witness')).toMatchObject({ id: mine.id });
    await first.close();

    await moments();
    const restored = file.restore(backup);
    serve(restored);
    await writeSix(await join());
    await reader.sync();
    expect((await restored.getMemories('n', [mine.id]))[0]?.memory.content).toBe('pushed, never pulled back');
    await close();
    await restored.close();
  });
});

describe('a round that pushes before it pulls', () => {
  it('asks for the witness it started with, not the write it just pushed', async () => {
    const file = sqlJsFile();
    const first = file.store;
    const { reader, join, serve, close } = await syncedPair(first);
    const backup = await file.backup();
    const lost = await reader.add({ content: 'synced, then lost with the server' });
    await reader.sync();
    await first.close();

    await moments();
    const restored = file.restore(backup);
    serve(restored);
    await writeSix(await join());
    // The next round pushes this first: the edge takes it, and would vouch for it if asked.
    await reader.add({ content: 'written after the restore' });
    await reader.sync();
    expect((await restored.getMemories('n', [lost.id]))[0]?.memory.content).toBe(
      'synced, then lost with the server',
    );
    await close();
    await restored.close();
  });
});

describe('a full re-sync picks its witness too', () => {
  it('the last memory of the whole feed, written with the cursor', async () => {
    const { writer, reader, close, requests } = await syncedPair(new InMemoryStore());
    const last = (await writer.list({ limit: 10 })).items.find((m) => m.content === 'three')!;
    await reader.store.apply('n', { meta: { 'sync.witness': null, 'sync.resync': true } });
    const from = requests.length;
    await reader.sync();
    expect(await reader.store.getMeta('n', 'sync.resync')).toBeNull();
    // The re-sync pulled the whole feed from 0; the round's pull goes on from where it ended.
    const pulls = requests.slice(from).flatMap((r) => (r.pull ? [r.pull.after] : []));
    expect(pulls).toEqual([0, expect.any(Number)]);
    expect(pulls[1]).toBeGreaterThan(0);
    expect(await reader.store.getMeta('n', 'sync.witness')).toMatchObject({ id: last.id });
    await close();
  });
});

/**
 * Makes `store` fail the applies `picked` chooses, as a lost connection would, until the returned
 * switch's `failing` is set to false.
 */
function failingApplies(store: InMemoryStore, picked: (batch: WriteBatch) => boolean) {
  const original = store.apply.bind(store);
  const applies = { failing: true };
  store.apply = (async (namespace, batch) => {
    if (applies.failing && picked(batch)) throw new TypeError('fetch failed');
    return original(namespace, batch);
  }) as typeof store.apply;
  return applies;
}

describe('healing goes on where it stopped', () => {
  it('a push back cut off by the network is taken up by the next round', async () => {
    const { reader, join, serve, close } = await syncedPair(new InMemoryStore());
    const held = (await reader.list({ limit: 10 })).items.map((m) => m.id);
    await moments();
    const fresh = new InMemoryStore();
    serve(fresh);
    await writeSix(await join());

    const applies = failingApplies(fresh, (batch) => (batch.memories?.length ?? 0) > 0);
    await expect(reader.sync()).rejects.toThrow();
    expect(await reader.store.getMeta('n', 'sync.repushSeq')).toBe(0);
    expect(await fresh.getMemories('n', held)).toEqual([]);

    applies.failing = false;
    await reader.sync();
    expect((await fresh.getMemories('n', held)).length).toBe(3);
    expect(await reader.store.getMeta('n', 'sync.repushSeq')).toBeNull();
    await close();
  });
});

describe('a push back of several pages', () => {
  it('cut off after its first page goes on from the second, not from nothing', async () => {
    const { writer, reader, serve, close } = await syncedPair(new InMemoryStore());
    // 4,000 memories fill one page of the push back; a link written after them is its second page.
    for (let i = 0; i < 3997; i += 1000) {
      const count = Math.min(1000, 3997 - i);
      await writer.addMany(Array.from({ length: count }, (_, k) => ({ content: `more ${i + k}` })));
    }
    const [a, b] = (await writer.list({ limit: 2 })).items;
    const link = await writer.link(a!.id, b!.id, 'related_to');
    await writer.sync();
    await reader.sync();
    await moments();
    const fresh = new InMemoryStore();
    serve(fresh);

    const applies = failingApplies(fresh, (batch) => (batch.links?.length ?? 0) > 0);
    await expect(reader.sync()).rejects.toThrow();
    // The first page went back, the witness (the last memory pulled) with it: only the mark says the
    // link is still owed, and the next round must not take the server for one that forgot nothing.
    expect((await fresh.getMemories('n', [a!.id, b!.id])).length).toBe(2);
    expect(await reader.store.getMeta('n', 'sync.repushSeq')).toBeGreaterThan(0);

    applies.failing = false;
    await reader.sync();
    expect((await fresh.getLinks('n', [link.id])).map((r) => r.link.id)).toEqual([link.id]);
    expect(await reader.store.getMeta('n', 'sync.repushSeq')).toBeNull();
    await close();
  }, 60_000);
});

describe('an encrypted namespace heals the same way', () => {
  it('the sealed records the server lost go back sealed, and another device opens them', async () => {
    const fresh = new InMemoryStore();
    const { reader, join, serve, close, requests } = await syncedPair(new InMemoryStore(), {
      passphrase: 'correct horse battery staple',
      iterations: 2000,
    });
    const held = (await reader.list({ limit: 10 })).items;
    // The witness comes back sealed and is compared by its stamps: held, nothing is sent back.
    const from = requests.length;
    await reader.sync();
    expect(requests.slice(from).some((r) => r.get)).toBe(true);
    expect(pushedIds(requests, from)).toEqual([]);
    await moments();
    serve(fresh);
    await writeSix(await join());
    await reader.sync();

    const stored = await fresh.getMemories(
      'n',
      held.map((m) => m.id),
    );
    expect(stored).toHaveLength(3);
    for (const record of stored) expect(record.memory.content).not.toMatch(/^(one|two|three)$/);
    const newcomer = await join();
    await newcomer.sync();
    expect((await newcomer.list({ limit: 20 })).items.map((m) => m.content).sort()).toEqual(
      [...held.map((m) => m.content), ...['a', 'b', 'c', 'd', 'e', 'f'].map((c) => `after ${c}`)].sort(),
    );
    await close();
  });
});
