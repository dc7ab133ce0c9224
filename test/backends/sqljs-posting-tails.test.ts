import initSqlJs from 'sql.js';
import { describe, expect, it } from 'vitest';
import { BLOCK_DOCS } from '../../src/backends/sql/posting-blocks.js';
import type { PostingTails } from '../../src/backends/sql/posting-tails.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, type Engram } from '../../src/index.js';

/** The same store without the cache of the newest posting rows: every batch reads them back. */
class UncachedStore extends SqlJsStore {
  protected override postingTails(): PostingTails | undefined {
    return undefined;
  }
}

const SQL = await initSqlJs();
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'kappa', 'lambda', 'sigma', 'omega', 'zeta', 'theta'];
// Terms of every batch, of one document, and (`w…`) of a document every 911: rows a batch may not touch.
const text = (i: number) =>
  `${WORDS[i % 10]} ${WORDS[(i * 7) % 10]} note ${i} w${i % 911} ${WORDS[(i * 3) % 10]}s`;

type Row = [ns: string, term: string, grp: number, hex: string];

/**
 * Every posting row of a file, a paired row (paired-words.ts) as the two rows it stands for and a
 * reference as the bytes of the row it names.
 */
function rowsOf(file: Uint8Array): Row[] {
  const db = new SQL.Database(file);
  const stored = db.exec('SELECT ns, term, grp, hex(data) FROM engram_postings')[0]!.values as Row[];
  db.close();
  const byKey = new Map(stored.map(([ns, term, grp, hex]) => [`${ns} ${term} ${grp}`, hex]));
  const rows = stored.map(([ns, term, grp, hex]): Row => {
    if (!hex.startsWith('8000')) return [ns, term, grp, hex];
    const stem = Buffer.from(hex.slice(4), 'hex').toString('utf8');
    return [ns, term, grp, byKey.get(`${ns} ${stem} ${grp}`)!];
  });
  const out = rows.flatMap(([ns, term, grp, hex]): Row[] =>
    term.startsWith('=')
      ? [
          [ns, term.slice(1), grp, hex],
          [ns, `~${term.slice(1)}`, grp, hex],
        ]
      : [[ns, term, grp, hex]],
  );
  const key = ([ns, term, grp]: Row) => `${ns}\u0000${term}\u0000${String(grp).padStart(9, '0')}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

/** Every posting row, read back with sql.js itself from the exported file. */
async function postingRows(store: SqlJsStore): Promise<Row[]> {
  return rowsOf(await store.export());
}

/** The references of a file (paired-words.ts), as `word@group>stem`. */
function referenceRows(file: Uint8Array): string[] {
  const db = new SQL.Database(file);
  const rows = db.exec(
    "SELECT term || '@' || grp || '>' || CAST(substr(data, 3) AS TEXT) FROM engram_postings WHERE substr(data, 1, 2) = x'8000' ORDER BY 1",
  )[0];
  db.close();
  return (rows?.values.flat() ?? []) as string[];
}

/** The paired rows of a file, as `term@group`. */
function pairedRows(file: Uint8Array): string[] {
  const db = new SQL.Database(file);
  const rows = db.exec("SELECT term || '@' || grp FROM engram_postings WHERE term LIKE '=%' ORDER BY 1")[0];
  db.close();
  return (rows?.values.flat() ?? []) as string[];
}

async function open(store: SqlJsStore, namespace = 'ns'): Promise<Engram> {
  return createMemory({ store, namespace });
}

describe('sql.js: bulk adds append to the newest posting rows without reading them back', () => {
  it('writes the same rows as reading them back, across groups, edits, deletes and namespaces', async () => {
    const cached = new SqlJsStore({ sqlJs: SQL });
    const uncached = new UncachedStore({ sqlJs: SQL });
    for (const store of [cached, uncached]) {
      const mem = await open(store);
      const other = await open(store, 'other');
      const ids: string[] = [];
      // Batches of 700 cross the first group boundary; an edit and a delete come between two of them.
      for (let start = 0; start < BLOCK_DOCS + 1500; start += 700) {
        const batch = Array.from({ length: 700 }, (_, i) => ({ content: text(start + i) }));
        ids.push(...(await mem.addMany(batch)).map((m) => m.id));
        await other.add({ content: text(start) });
        if (start === 1400) {
          await mem.update(ids[5]!, { content: 'rewritten alpha words' });
          await mem.remove(ids[6]!);
        }
      }
    }
    expect(await postingRows(cached)).toEqual(await postingRows(uncached));
    const search = async (store: SqlJsStore) =>
      (await (await open(store)).search('alpha gamma', { limit: 20 })).map((h) => [h.memory.id, h.score]);
    // Ids differ between the two stores (fresh ones), so compare the shape of the ranking.
    expect((await search(cached)).map(([, score]) => score)).toEqual(
      (await search(uncached)).map(([, score]) => score),
    );
    await cached.close();
    await uncached.close();
  }, 120_000);

  it('holds the rows of groups it leaves until an edit, a delete, a search or compaction reads them', async () => {
    const cached = new SqlJsStore({ sqlJs: SQL });
    const uncached = new UncachedStore({ sqlJs: SQL });
    const written: string[] = [];
    for (const store of [cached, uncached]) {
      const mem = await open(store);
      const other = await open(store, 'other');
      if (store === cached) {
        const executor = (store as unknown as { executor: { runNow: (sql: string, p: unknown[]) => void } })
          .executor;
        const runNow = executor.runNow.bind(executor);
        executor.runNow = (sql, params) => {
          if (sql.startsWith('INSERT INTO engram_postings')) written.push(`${params[1]}@${params[2]}`);
          runNow(sql, params);
        };
      }
      const ids: string[] = [];
      // Two groups left, in both namespaces, and their rows held: nothing written yet.
      for (let start = 0; start < 2 * BLOCK_DOCS + 500; start += 1000) {
        const batch = Array.from({ length: 1000 }, (_, i) => ({ content: text(start + i) }));
        ids.push(...(await mem.addMany(batch)).map((m) => m.id));
        await other.addMany(batch.slice(0, 400));
      }
      if (store === cached) expect(written).toEqual([]);
      // The edit and the delete read rows of the held groups 0 and 1 (the namespace's are written first).
      await mem.update(ids[5]!, { content: 'rewritten alpha words' });
      await mem.remove(ids[BLOCK_DOCS + 6]!);
      await store.compactText('other', { limit: 10 });
      await mem.addMany([{ content: 'after the edit alpha' }]);
    }
    expect(written.length).toBeGreaterThan(0);
    expect(await postingRows(cached)).toEqual(await postingRows(uncached));
    const scores = async (store: SqlJsStore) =>
      (await (await open(store)).search('alpha w7', { limit: 50 })).map((h) => h.score);
    expect(await scores(cached)).toEqual(await scores(uncached));
    await cached.close();
    await uncached.close();
  }, 120_000);

  it("the store's postings and docPostings read the rows a bulk add left pending", async () => {
    const cached = new SqlJsStore({ sqlJs: SQL });
    const uncached = new UncachedStore({ sqlJs: SQL });
    for (const store of [cached, uncached]) {
      await (await open(store)).addMany(
        Array.from({ length: 30 }, (_, i) => ({ id: `m${i}`, content: text(i) })),
      );
    }
    const postings = (store: SqlJsStore) => store.postings('ns', ['alpha'], ['~note']);
    expect((await postings(cached)).length).toBeGreaterThan(30);
    expect(await postings(cached)).toEqual(await postings(uncached));
    await cached.close();
    await uncached.close();
  });

  it('forgets what a rolled-back batch wrote and keeps what earlier batches left pending', async () => {
    const cached = new SqlJsStore({ sqlJs: SQL });
    const uncached = new UncachedStore({ sqlJs: SQL });
    const first = Array.from({ length: 50 }, (_, i) => ({ content: text(i) }));
    // Longer than the next batch: rows it appended to would keep its last documents if remembered.
    const failed = Array.from({ length: 80 }, (_, i) => ({ content: `failed ${text(i + 50)}` }));
    const second = Array.from({ length: 20 }, (_, i) => ({ content: text(i + 100) }));
    const mem = await open(cached);
    await mem.addMany(first);
    // The memory rows are written after the postings: failing there rolls the postings back too.
    const executor = (cached as unknown as { executor: { runNow: (sql: string, p: unknown[]) => void } })
      .executor;
    const runNow = executor.runNow.bind(executor);
    executor.runNow = (sql, params) => {
      if (sql.startsWith('INSERT INTO engram_memories')) throw new Error('disk full');
      runNow(sql, params);
    };
    await expect(mem.addMany(failed)).rejects.toThrow(/disk full/);
    executor.runNow = runNow;
    await mem.addMany(second);
    const reference = await open(uncached);
    await reference.addMany(first);
    await reference.addMany(second);
    expect(await postingRows(cached)).toEqual(await postingRows(uncached));
    expect(await mem.search('failed', { limit: 5 })).toEqual([]);
    await cached.close();
    await uncached.close();
  });

  it('a rolled-back batch leaves pending the rows it appended to that earlier batches left pending', async () => {
    const store = new SqlJsStore({ sqlJs: SQL });
    const mem = await open(store);
    const [kept] = await mem.addMany([{ content: 'alpha bravo' }]);
    const executor = (store as unknown as { executor: { runNow: (sql: string, p: unknown[]) => void } })
      .executor;
    const runNow = executor.runNow.bind(executor);
    executor.runNow = (sql, params) => {
      if (sql.startsWith('INSERT INTO engram_memories')) throw new Error('disk full');
      runNow(sql, params);
    };
    // It appends to alpha's pending row, then rolls back: the row is still the first batch's, unwritten.
    await expect(mem.addMany([{ content: 'alpha charlie' }])).rejects.toThrow(/disk full/);
    executor.runNow = runNow;
    expect((await mem.search('alpha')).map((hit) => hit.memory.id)).toEqual([kept!.id]);
    expect(await mem.search('charlie')).toEqual([]);
    await store.close();
  });

  it("writes the newest group's rows once: when a search reads postings, not per batch", async () => {
    const store = new SqlJsStore({ sqlJs: SQL });
    const mem = await open(store);
    const written: string[] = [];
    const executor = (store as unknown as { executor: { runNow: (sql: string, p: unknown[]) => void } })
      .executor;
    const runNow = executor.runNow.bind(executor);
    executor.runNow = (sql, params) => {
      if (sql.startsWith('INSERT INTO engram_postings')) {
        for (let i = 1; i < params.length; i += 4) written.push(`${params[i]}@${params[i + 1]}`);
      }
      runNow(sql, params);
    };
    for (let start = 0; start < 900; start += 300) {
      await mem.addMany(Array.from({ length: 300 }, (_, i) => ({ content: text(start + i) })));
    }
    // Three batches in group 0, none of its rows written yet: they wait in the store.
    expect(written).toEqual([]);
    const hits = await mem.search('alpha', { limit: 1000 });
    expect(hits).toHaveLength(90);
    // The search wrote each pending row once, and a second search has nothing left to write.
    expect(written.filter((row) => row === 'alpha@0')).toEqual(['alpha@0']);
    expect(new Set(written).size).toBe(written.length);
    const count = written.length;
    await mem.search('beta', { limit: 10 });
    expect(written).toHaveLength(count);
    await store.close();
  });

  it('a batch that reaches the next group writes the rows it leaves; a save writes the rest', async () => {
    const saved: Uint8Array[] = [];
    const persist = {
      load: async () => saved.at(-1) ?? null,
      save: async (bytes: Uint8Array) => void saved.push(bytes),
    };
    const cached = new SqlJsStore({ sqlJs: SQL, persist, saveDelayMs: 60_000, saveMaxDelayMs: 60_000 });
    const uncached = new UncachedStore({ sqlJs: SQL });
    for (const store of [cached, uncached]) {
      const mem = await open(store);
      for (let start = 0; start < BLOCK_DOCS + 900; start += 1000) {
        await mem.addMany(Array.from({ length: 1000 }, (_, i) => ({ content: text(start + i) })));
      }
    }
    await cached.flush();
    expect(rowsOf(saved.at(-1)!)).toEqual(await postingRows(uncached));
    // The group left is paired where its word and stem rows agree ("note", "w12"; not "alpha", which
    // shares its stem with "alphas"), the newest group not at all.
    const pairs = pairedRows(saved.at(-1)!);
    expect(pairs).toContain('=note@0');
    expect(pairs).toContain('=w12@0');
    expect(pairs).not.toContain('=alpha@0');
    expect(pairs.filter((pair) => !pair.endsWith('@0'))).toEqual([]);
    // A store without the cache pairs a group it leaves from the rows it reads back: the same rows.
    expect(pairedRows(await uncached.export())).toEqual(pairs);
    await cached.close();
    await uncached.close();
    // Reopened from the file: searches answer as before.
    const reopened = await open(new SqlJsStore({ sqlJs: SQL, persist }));
    expect(await reopened.search('alpha', { limit: 1000 })).toHaveLength(500);
    await reopened.close();
  }, 120_000);

  it('pairs the rows of a group left after a search wrote some; an edit or a delete splits the pairs it touches', async () => {
    const cached = new SqlJsStore({ sqlJs: SQL });
    const uncached = new UncachedStore({ sqlJs: SQL });
    // "jumping" alone of its stem's words: its word row holds the bytes of the stem "jump"'s row.
    const item = (i: number) => ({
      id: `m${String(i).padStart(5, '0')}`,
      content: `${text(i)}${i % 3 === 0 ? ' jumping' : ''}`,
    });
    const queries = [
      ...['note', 'not*', 'w12', 'w1*', 'nite', '"note 17"', 'alpha -note', 'fresh*', 'gamma w12'],
      ...['jump', 'jumping', 'jum*', 'jumpin*', 'jumpimg', '"w12 jumping"', 'j*'],
    ];
    const answers = async (mem: Engram) =>
      Promise.all(
        queries.map(async (q) => (await mem.search(q, { limit: 30 })).map((h) => [h.memory.id, h.score])),
      );
    const mems: Engram[] = [];
    for (const store of [cached, uncached]) {
      const mem = await open(store);
      mems.push(mem);
      for (let start = 0; start < 3000; start += 1000) {
        await mem.addMany(Array.from({ length: 1000 }, (_, i) => item(start + i)));
      }
      // The search writes group 0's rows so far: pairing it later must take those rows out.
      await mem.search('note');
      for (let start = 3000; start < BLOCK_DOCS + 800; start += 1000) {
        await mem.addMany(Array.from({ length: 1000 }, (_, i) => item(start + i)));
      }
    }
    const paired = pairedRows(await cached.export());
    expect(referenceRows(await cached.export())).toEqual(['~jumping@0>jump']);
    expect(referenceRows(await uncached.export())).toEqual(['~jumping@0>jump']);
    expect(paired).toContain('=note@0');
    expect(paired).toContain('=w12@0');
    expect(paired).toContain('=w500@0');
    expect(await postingRows(cached)).toEqual(await postingRows(uncached));
    expect(await answers(mems[0]!)).toEqual(await answers(mems[1]!));
    for (const mem of mems) {
      // Memory 12 holds "note" and "w12"; memory 923 "w12" too (923 % 911), and "jumping".
      await mem.update('m00012', { content: 'fresh words about gamma' });
      await mem.remove('m00923');
      await mem.add({ id: 'm99999', content: 'note w12 fresh' });
    }
    const after = pairedRows(await cached.export());
    expect(after).not.toContain('=note@0');
    expect(after).not.toContain('=w12@0');
    expect(after).toContain('=w500@0');
    // The delete rewrote both rows of "jumping" (they hold the same documents): no reference is left.
    expect(referenceRows(await cached.export())).toEqual([]);
    expect(await postingRows(cached)).toEqual(await postingRows(uncached));
    expect(await answers(mems[0]!)).toEqual(await answers(mems[1]!));
    expect((await mems[0]!.search('w12', { limit: 30 })).map((h) => h.memory.id)).not.toContain('m00923');
    await cached.close();
    await uncached.close();
  }, 120_000);

  it('a reference whose stem row is gone is a corrupt index: a STORAGE error, never postings', async () => {
    const store = new SqlJsStore({ sqlJs: SQL });
    const mem = await open(store);
    const ids: string[] = [];
    for (let start = 0; start < BLOCK_DOCS + 100; start += 1000) {
      const count = Math.min(1000, BLOCK_DOCS + 100 - start);
      const batch = Array.from({ length: count }, (_, i) => ({ content: `${text(start + i)} jumping` }));
      ids.push(...(await mem.addMany(batch)).map((m) => m.id));
    }
    const db = new SQL.Database(await store.export());
    await store.close();
    expect(
      db.exec("SELECT count(*) FROM engram_postings WHERE term = '~jumping' AND grp = 0")[0]!.values,
    ).toEqual([[1]]);
    db.run("DELETE FROM engram_postings WHERE term = 'jump' AND grp = 0");
    const file = db.export();
    db.close();
    const reopened = await open(
      new SqlJsStore({ sqlJs: SQL, persist: { load: async () => file, save: async () => {} } }),
    );
    const corrupt = {
      code: 'STORAGE',
      message: expect.stringMatching(/corrupt text index.*"~jumping" in group 0.*"jump"/),
    };
    await expect(reopened.search('jum*')).rejects.toMatchObject(corrupt);
    // A delete reads the row to rewrite it: the same error, and the memory stays.
    await expect(reopened.remove(ids[3]!)).rejects.toMatchObject(corrupt);
    expect(await reopened.get(ids[3]!)).not.toBeNull();
    await reopened.close();
  }, 120_000);

  it.each([
    ['written the rows it left (over the held limit)', 0],
    ['held the rows it left', undefined],
  ])(
    'forgets a rolled-back batch that had left its group and %s',
    async (_, heldBytes) => {
      const cached = new SqlJsStore({ sqlJs: SQL });
      // 0: every group a bulk add leaves is written at once instead of held with the next ones.
      if (heldBytes !== undefined)
        (cached as unknown as { tails: { heldBytes: number } }).tails.heldBytes = heldBytes;
      const uncached = new UncachedStore({ sqlJs: SQL });
      const batch = (from: number, count: number, prefix = '') =>
        Array.from({ length: count }, (_, i) => ({ content: `${prefix}${text(from + i)}` }));
      // Group 0 up to 3300, then a batch that crosses into group 1 and fails after writing group 0's rows.
      const before = [batch(0, 300), batch(300, 1000), batch(1300, 1000), batch(2300, 1000)];
      const failed = batch(3300, 1000, 'failed ');
      const after = [batch(3300, 1000), batch(4300, 50)];
      const mem = await open(cached);
      for (const items of before) await mem.addMany(items);
      const executor = (cached as unknown as { executor: { runNow: (sql: string, p: unknown[]) => void } })
        .executor;
      const runNow = executor.runNow.bind(executor);
      const written: string[] = [];
      executor.runNow = (sql, params) => {
        if (sql.startsWith('INSERT INTO engram_postings')) written.push(`${params[1]}@${params[2]}`);
        if (sql.startsWith('INSERT INTO engram_memories')) throw new Error('disk full');
        runNow(sql, params);
      };
      await expect(mem.addMany(failed)).rejects.toThrow(/disk full/);
      executor.runNow = runNow;
      // The failed batch did write group 0's rows (then rolled back), or held them: the case under test.
      if (heldBytes === 0) expect(written.length).toBeGreaterThan(0);
      else expect(written).toEqual([]);
      for (const items of after) await mem.addMany(items);
      const reference = await open(uncached);
      for (const items of [...before, ...after]) await reference.addMany(items);
      expect(await postingRows(cached)).toEqual(await postingRows(uncached));
      expect(await mem.search('failed', { limit: 5 })).toEqual([]);
      const scores = async (m: Engram) => (await m.search('alpha w7', { limit: 50 })).map((h) => h.score);
      expect(await scores(mem)).toEqual(await scores(reference));
      await cached.close();
      await uncached.close();
    },
    120_000,
  );
});
