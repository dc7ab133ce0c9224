import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DebouncedSave } from '../../src/backends/sqljs/debounced-save.js';
import { type SqlJsPersistence, SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, EngramError, InMemoryStore, type MemoryStore } from '../../src/index.js';
import { fullWrite } from '../conformance/changes.case.js';
import { testStore } from '../conformance/index.js';
import { expectUsageCounted } from './usage-case.js';

const dir = await mkdtemp(join(tmpdir(), 'engram-sqljs-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

let files = 0;
const newPath = () => join(dir, `db-${++files}.db`);
const paths = new WeakMap<MemoryStore, string>();
function storeAt(path: string): SqlJsStore {
  const store = new SqlJsStore({ persist: path });
  paths.set(store, path);
  return store;
}

testStore({
  name: 'SqlJsStore',
  create: () => storeAt(newPath()),
  reopen: async (store) => {
    await store.close();
    return storeAt(paths.get(store)!);
  },
  capabilities: { persistent: true },
});

const SQL = await initSqlJs();
/** Opens the saved file with sql.js directly, not through the store. */
async function rawRows(path: string, sql: string): Promise<unknown[][]> {
  const db = new SQL.Database(await readFile(path));
  try {
    return db.exec(sql)[0]?.values ?? [];
  } finally {
    db.close();
  }
}

/** Persistence in memory that counts saves and can be told to fail. */
function countingPersistence() {
  const state = { bytes: null as Uint8Array | null, saves: 0, failNext: 0 };
  const persistence: SqlJsPersistence = {
    load: async () => state.bytes,
    save: async (bytes) => {
      if (state.failNext > 0) {
        state.failNext--;
        throw new Error('disk full');
      }
      state.saves++;
      state.bytes = bytes;
    },
  };
  return { state, persistence };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  for (const start = Date.now(); !condition(); await sleep(10)) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
  }
}

describe('SqlJsStore extras', () => {
  it('saves an SQLite file that plain sql.js reads back', async () => {
    const path = newPath();
    const mem = await createMemory({ store: new SqlJsStore({ persist: path }), namespace: 'raw' });
    const [a, b] = await mem.addMany([
      { content: 'Prefers dark roast', tags: ['coffee'] },
      { content: 'Owns a cat' },
    ]);
    await mem.link(a!.id, b!.id, 'related_to');
    await mem.close();
    const rows = await rawRows(
      path,
      "SELECT id, content, tags FROM engram_memories WHERE ns = 'raw' ORDER BY id",
    );
    expect(rows).toEqual([
      [a!.id, 'Prefers dark roast', '["coffee"]'],
      [b!.id, 'Owns a cat', '[]'],
    ]);
    expect(await rawRows(path, 'SELECT from_id, to_id, type FROM engram_links')).toEqual([
      [a!.id, b!.id, 'related_to'],
    ]);
    // The text index: one posting block per term, holding memory a's document number.
    const [[docA]] = (await rawRows(path, `SELECT doc FROM engram_memories WHERE id = '${a!.id}'`)) as [
      [number],
    ];
    const blocks = await rawRows(
      path,
      "SELECT term, grp, hex(data) FROM engram_postings WHERE ns = 'raw' ORDER BY term",
    );
    // Varints: document number, tf 1, length 3 (a is the first memory: number 0).
    expect(docA).toBe(0);
    expect(
      blocks.filter((row) =>
        ['dark', 'prefer', 'roast', '~dark', '~prefers', '~roast'].includes(row[0] as string),
      ),
    ).toEqual(['dark', 'prefer', 'roast', '~dark', '~prefers', '~roast'].map((term) => [term, 0, '0003']));
  });

  it('stores a memory written once with one clock stamp, and per-field clocks once they differ', async () => {
    const path = newPath();
    const store = new SqlJsStore({ persist: path });
    const mem = await createMemory({ store, namespace: 'clocks' });
    const added = await mem.add({ content: 'first words' });
    await mem.close();
    const [[packed, createdMs]] = (await rawRows(path, 'SELECT clocks, created_ms FROM engram_memories')) as [
      [string, number],
    ];
    const [[home]] = (await rawRows(path, "SELECT home FROM engram_namespaces WHERE ns = 'clocks'")) as [
      [string],
    ];
    // The stamp without its wall clock, which is the creation instant's (schema v12), nor its client id,
    // which is the namespace's home client (schema v23): the counter and the part drawn at this opening.
    expect(packed).toMatch(/^#[0-9a-f]{4}\.[0-9a-f]{8}$/);
    const stamp = `${createdMs.toString(16).padStart(12, '0')}-${packed.slice(1, 5)}-${home}${packed.slice(5)}`;
    const again = new SqlJsStore({ persist: path });
    expect(home).toBe(await again.getMeta('clocks', 'clientId'));
    const [record] = await again.getMemories('clocks', [added.id]);
    expect(Object.values(record!.clocks)).toEqual(Object.values(record!.clocks).map(() => stamp));
    expect(Object.keys(record!.clocks).length).toBeGreaterThan(5);
    const mem2 = await createMemory({ store: again, namespace: 'clocks' });
    await mem2.update(added.id, { content: 'second words' });
    await mem2.close();
    const [[object]] = (await rawRows(path, 'SELECT clocks FROM engram_memories')) as [[string]];
    const clocks = JSON.parse(object) as Record<string, string>;
    expect(clocks.kind).toBe(stamp);
    expect(clocks.content).not.toBe(stamp);
  });

  it('debounces saves after writes and saves once more on close', async () => {
    const { state, persistence } = countingPersistence();
    const store = new SqlJsStore({ persist: persistence, saveDelayMs: 200 });
    const mem = await createMemory({ store, namespace: 'debounce' });
    await Promise.all(Array.from({ length: 10 }, (_, i) => mem.add({ content: `note ${i}` })));
    expect(state.saves).toBe(0);
    await until(() => state.saves === 1);
    await sleep(300);
    expect(state.saves).toBe(1);
    await mem.add({ content: 'last words' });
    await mem.close();
    expect(state.saves).toBe(2);
    const db = new SQL.Database(state.bytes!);
    expect(db.exec("SELECT count(*) FROM engram_memories WHERE ns = 'debounce'")[0]!.values).toEqual([[11]]);
    db.close();
  });

  it('saves within saveMaxDelayMs even while writes never pause', async () => {
    const { state, persistence } = countingPersistence();
    const store = new SqlJsStore({ persist: persistence, saveDelayMs: 50, saveMaxDelayMs: 100 });
    const mem = await createMemory({ store, namespace: 'busy' });
    const until = Date.now() + 350;
    while (Date.now() < until) {
      await mem.add({ content: 'tick' });
      await sleep(5);
    }
    expect(state.saves).toBeGreaterThanOrEqual(2);
    await mem.close();
  });

  it('keeps pending writes when close() is called before the debounce fires', async () => {
    const path = newPath();
    const store = new SqlJsStore({ persist: path, saveDelayMs: 60_000 });
    const mem = await createMemory({ store, namespace: 'close' });
    await mem.add({ content: 'saved by close' });
    await mem.close();
    expect(await rawRows(path, "SELECT content FROM engram_memories WHERE ns = 'close'")).toEqual([
      ['saved by close'],
    ]);
  });

  it('reports a failed background save, retries it, and never rejects unhandled', async () => {
    const { state, persistence } = countingPersistence();
    const errors: EngramError[] = [];
    const store = new SqlJsStore({
      persist: persistence,
      saveDelayMs: 5,
      onSaveError: (error) => errors.push(error as EngramError),
    });
    const mem = await createMemory({ store, namespace: 'failing' });
    state.failNext = 1;
    await mem.add({ content: 'survives a failed save' });
    await until(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(EngramError);
    expect(errors[0]!.code).toBe('STORAGE');
    expect(errors[0]!.message).toContain('disk full');
    await mem.close();
    expect(state.saves).toBe(1);
  });

  it('close() rejects with STORAGE when the final save fails', async () => {
    const { state, persistence } = countingPersistence();
    const store = new SqlJsStore({ persist: persistence, saveDelayMs: 60_000 });
    const mem = await createMemory({ store, namespace: 'final' });
    await mem.add({ content: 'x' });
    state.failNext = 1;
    await expect(store.close()).rejects.toMatchObject({ code: 'STORAGE' });
  });

  it('close() while a background save is under way reports that save failing: the write is not lost unsaid', async () => {
    let failFirst!: () => void;
    let saves = 0;
    const persistence: SqlJsPersistence = {
      load: async () => null,
      save: async () => {
        saves++;
        if (saves === 1) {
          await new Promise<void>((resolve) => (failFirst = resolve));
          throw new Error('disk full');
        }
      },
    };
    const flushes = vi.spyOn(DebouncedSave.prototype, 'flush');
    const store = new SqlJsStore({ persist: persistence, saveDelayMs: 5 });
    const mem = await createMemory({ store, namespace: 'under-way' });
    await mem.add({ content: 'saved or reported' });
    await until(() => saves === 1);
    const flushesBefore = flushes.mock.calls.length;
    const closed = mem.close().then(
      () => 'closed',
      (error: unknown) => error,
    );
    // The background save fails only once close() waits for it.
    await until(() => flushes.mock.calls.length > flushesBefore);
    failFirst();
    // Before, the background save's failure was its own to swallow: close() resolved having saved nothing.
    expect(await closed).toMatchObject({ code: 'STORAGE', message: expect.stringContaining('disk full') });
    expect(saves).toBe(1);
    flushes.mockRestore();
  });

  it('a background save that failed and then succeeded leaves nothing for close() to report', async () => {
    const { state, persistence } = countingPersistence();
    const errors: unknown[] = [];
    const store = new SqlJsStore({
      persist: persistence,
      saveDelayMs: 5,
      onSaveError: (e) => errors.push(e),
    });
    const mem = await createMemory({ store, namespace: 'recovered' });
    state.failNext = 1;
    await mem.add({ content: 'first' });
    await until(() => errors.length === 1);
    await mem.add({ content: 'second' });
    await until(() => state.saves === 1);
    await mem.close();
    expect(state.saves).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it('never starts a save while another is under way: the newest copy lands last', async () => {
    const saved: Uint8Array[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const persistence: SqlJsPersistence = {
      load: async () => null,
      save: async (bytes) => {
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        // The first save is slow (a large file on a slow disk); a second one must wait for it.
        if (saved.length === 0 && inFlight === 1) await firstHeld;
        saved.push(bytes);
        inFlight--;
      },
    };
    const store = new SqlJsStore({ persist: persistence, saveDelayMs: 60_000 });
    const mem = await createMemory({ store, namespace: 'overlap' });
    await mem.add({ content: 'older' });
    const first = store.flush();
    await until(() => inFlight === 1);
    await mem.add({ content: 'newer' });
    const second = store.flush();
    // Time for a second save to start, were it allowed to: the real code passes however long this is.
    await sleep(20);
    releaseFirst();
    await Promise.all([first, second]);
    expect(mostInFlight).toBe(1);
    const db = new SQL.Database(saved.at(-1)!);
    const rows = db.exec("SELECT content FROM engram_memories WHERE ns = 'overlap' ORDER BY content");
    expect(rows[0]!.values).toEqual([['newer'], ['older']]);
    db.close();
    await mem.close();
  });

  it('saves what upkeep alone changed: tombstones collected without any other write are gone after close', async () => {
    const { state, persistence } = countingPersistence();
    const writer = await createMemory({
      store: new SqlJsStore({ persist: persistence }),
      namespace: 'upkeep',
    });
    await writer.remove((await writer.add({ content: 'removed, then collected' })).id);
    await writer.close();
    const store = new SqlJsStore({ persist: persistence, saveDelayMs: 60_000 });
    expect(await store.collectTombstones('upkeep', { before: 'f'.repeat(12), limit: 10 })).toBe(1);
    await store.close();
    const db = new SQL.Database(state.bytes!);
    expect(db.exec("SELECT count(*) FROM engram_tombstones WHERE ns = 'upkeep'")[0]!.values).toEqual([[0]]);
    db.close();
  });

  it('collects a tombstone without a feed entry (an upgraded file may hold one) whatever seqAtMost says', async () => {
    const { state, persistence } = countingPersistence();
    const writer = await createMemory({ store: new SqlJsStore({ persist: persistence }), namespace: 'old' });
    await writer.remove((await writer.add({ content: 'deleted before the feed kept it' })).id);
    await writer.close();
    const db = new SQL.Database(state.bytes!);
    db.run('UPDATE engram_tombstones SET seq = NULL, remote = NULL');
    state.bytes = db.export();
    db.close();
    const store = new SqlJsStore({ persist: persistence });
    const options = { before: 'f'.repeat(12), limit: 10, seqAtMost: 0 };
    expect(await store.collectTombstones('old', options)).toBe(1);
    expect((await store.stats('old')).tombstones).toBe(0);
    await store.close();
  });

  it("a delete's cascade enters its links in the feed in link id order, whatever memories they join", async () => {
    const store = new SqlJsStore();
    const mem = await createMemory({ store, namespace: 'cascade' });
    await mem.addMany(['hub', 'a', 'b', 'c'].map((id) => ({ id, content: id })));
    // Link ids increase: the order of the other ends (c, b, a) is not theirs.
    const links = [
      await mem.link('hub', 'c', 'rel'),
      await mem.link('b', 'hub', 'rel'),
      await mem.link('hub', 'a', 'rel'),
    ].map((l) => l.id);
    const [last] = (await store.changes('cascade', 0, 100)).slice(-1);
    await mem.remove('hub');
    const feed = (await store.changes('cascade', last!.seq, 100)).map((c) => c.id);
    expect(feed.filter((id) => id !== 'hub')).toEqual([...links].sort());
    await mem.close();
  });

  it("a deduping add's guard looks only at memories written after its feed position", async () => {
    const store = new SqlJsStore();
    const mem = await createMemory({ store, namespace: 'guard' });
    await mem.add({ content: 'Prefers green tea' });
    const [entry] = await store.changes('guard', 0, 10);
    const guard = { content: 'prefers green tea', now: new Date().toISOString() };
    // Written at the position itself: known when the add checked, so no copy written meanwhile.
    await store.apply('guard', { meta: { checked: 1 }, dedupe: { ...guard, since: entry!.seq } });
    await expect(
      store.apply('guard', { meta: { checked: 2 }, dedupe: { ...guard, since: entry!.seq - 1 } }),
    ).rejects.toMatchObject({ code: 'CONFLICT', field: 'dedupe' });
    await mem.close();
  });

  it('writes through a temporary file and leaves none behind; stale ones from a crash are swept', async () => {
    const path = newPath();
    const stale = `${path}.0b9f3c1e-7d2a-4c55-9e10-3f6a8b2d4c71.engram-tmp`;
    await writeFile(stale, 'half a database');
    // Another database whose name starts with this one's: its temp is not this file's to sweep.
    const sibling = `${path}.old.db.5d0c6e2a-1b3f-4a9d-8c7e-2f4b6a8d0e13.engram-tmp`;
    await writeFile(sibling, 'a save of another database in progress');
    const store = new SqlJsStore({ persist: path, saveDelayMs: 1 });
    const mem = await createMemory({ store, namespace: 'temp' });
    for (let i = 0; i < 5; i++) {
      await mem.add({ content: `n${i}` });
      await store.flush();
    }
    await mem.close();
    const names = (await readdir(dir)).filter((name) => name.startsWith(path.split('/').pop()!));
    expect(names.sort()).toEqual([path.split('/').pop(), sibling.split('/').pop()].sort());
  });

  it('without persist, keeps nothing and says so', async () => {
    const store = new SqlJsStore();
    expect(store.capabilities.persistent).toBe(false);
    const mem = await createMemory({ store, namespace: 'volatile' });
    await mem.add({ content: 'gone at close' });
    expect((await store.export()).byteLength).toBeGreaterThan(0);
    await mem.close();
    await expect(
      store.list('volatile', { tagMode: 'any', now: new Date().toISOString(), limit: 1 }),
    ).rejects.toMatchObject({
      code: 'STORAGE',
    });
  });

  it("latestSeq is 0 for a namespace never written, then its newest feed entry's number", async () => {
    const store = new SqlJsStore();
    const mem = await createMemory({ store, namespace: 'latest' });
    expect(await store.latestSeq('never-written')).toBe(0);
    await mem.add({ content: 'one' });
    await mem.add({ content: 'two' });
    const changes = await store.changes('latest', 0, 10);
    expect(changes).toHaveLength(2);
    expect(await store.latestSeq('latest')).toBe(changes[1]!.seq);
    expect(await store.latestSeq('never-written')).toBe(0);
    await mem.close();
  });

  it('usage counts the memories and the UTF-8 bytes of their content and metadata JSON', async () => {
    await expectUsageCounted(new SqlJsStore());
  });

  it('keeps a memory whose createdAt does not parse under since and until, as the in-memory store does', async () => {
    // The edge refuses such an instant; a store written without that check (or before it) may hold one.
    const t0 = Date.parse('2030-01-01');
    const odd = fullWrite('odd', 'odd', 'stored without an instant', t0);
    odd.create!.createdAt = 'not a date';
    const batch = { memories: [odd, fullWrite('odd', 'dated', 'dated', t0)] };
    const answers = async (store: MemoryStore) => {
      await store.open();
      await store.apply('odd', batch);
      const mem = await createMemory({ store, namespace: 'odd' });
      const since = { since: '2030-06-01T00:00:00.000Z' };
      const until = { until: '2029-06-01T00:00:00.000Z' };
      const listed = async (query: typeof since | typeof until) =>
        (await mem.list(query)).items.map((m) => m.id);
      const out = [await listed(since), await listed(until), await mem.count(since), await mem.count(until)];
      await mem.close();
      return out;
    };
    const expected = [['odd'], ['odd'], 1, 1];
    expect(await answers(new InMemoryStore())).toEqual(expected);
    expect(await answers(new SqlJsStore())).toEqual(expected);
  });

  it('writes a batch of more rows than SQLite binds in one statement', async () => {
    // SQLite refuses a statement of more than 32,766 parameters: 1,600 memory rows of 22 columns hold
    // 35,200, so the batch's insert must be cut into several statements.
    const t0 = Date.parse('2030-01-01');
    const memories = Array.from({ length: 1600 }, (_, i) => fullWrite('wide', `m${i}`, `row ${i}`, t0));
    const store = new SqlJsStore();
    await store.apply('wide', { memories, origin: 'remote' });
    expect((await store.stats('wide')).memories).toBe(1600);
    await store.close();
  });

  it('accepts a pre-initialised sql.js module', async () => {
    const store = new SqlJsStore({ sqlJs: SQL });
    const mem = await createMemory({ store, namespace: 'injected' });
    expect((await mem.add({ content: 'hello' })).content).toBe('hello');
    await mem.close();
  });
});
