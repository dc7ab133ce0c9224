import initSqlJs from 'sql.js';
import { describe, expect, it } from 'vitest';
import { BLOCK_DOCS } from '../../src/backends/sql/posting-blocks.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, type Engram } from '../../src/index.js';

/**
 * Groups written before schema v21 hold no pairs and no references (paired-words.ts); `maintain()` pairs
 * them (`compactText`), a few per run. A file in that layout is made here from one written today, by
 * splitting every pair into its two rows and every reference into a copy of the row it names: what the
 * code before v21 wrote for the same memories.
 */
const SQL = await initSqlJs();
const WORDS = ['cat', 'jester', 'running', 'plum', 'kiwi', 'tart', 'jam', 'sailing', 'moon', 'river'];
// "swimming" alone stems to "swim": its word row repeats the stem's, so each group holds a reference.
const text = (i: number) =>
  `${WORDS[i % 10]} ${WORDS[(i * 7) % 10]} note ${i} w${i % 613} ${WORDS[(i * 3) % 10]}s${i % 5 ? '' : ' swimming'}`;
const QUERIES = [
  'cat',
  'running',
  'run',
  'jest*',
  'plum tart',
  'w17',
  'sail',
  '"kiwi jam"',
  'moon -river',
  'catt',
];
const ns = 'n';

type Row = [term: string, grp: number, hex: string];

function postingRows(file: Uint8Array): Row[] {
  const db = new SQL.Database(file);
  const rows = db.exec('SELECT term, grp, hex(data) FROM engram_postings ORDER BY ns, term, grp')[0]!
    .values as Row[];
  db.close();
  return rows;
}

/** The file as the code before v21 would have written it: no pair rows, no references. */
function unpaired(file: Uint8Array, exceptReferences = ''): Uint8Array {
  const db = new SQL.Database(file);
  db.run(`INSERT INTO engram_postings (ns, term, grp, data)
    SELECT ns, substr(term, 2), grp, data FROM engram_postings WHERE term >= '=' AND term < '>'
    UNION ALL SELECT ns, '~' || substr(term, 2), grp, data FROM engram_postings WHERE term >= '=' AND term < '>'`);
  db.run("DELETE FROM engram_postings WHERE term >= '=' AND term < '>'");
  db.run(`UPDATE engram_postings AS r SET data = (SELECT s.data FROM engram_postings s
      WHERE s.ns = r.ns AND s.grp = r.grp AND s.term = CAST(substr(r.data, 3) AS TEXT))
    WHERE substr(r.data, 1, 2) = x'8000' ${exceptReferences}`);
  const out = db.export();
  db.close();
  return out;
}

function fileStore(bytes: Uint8Array | null) {
  const saved: { bytes: Uint8Array | null } = { bytes };
  const store = new SqlJsStore({
    persist: {
      load: async () => saved.bytes,
      save: async (bytes) => {
        saved.bytes = bytes;
      },
    },
  });
  return { store, saved };
}

async function answers(mem: Engram) {
  const out: Record<string, [string, number][]> = {};
  for (const query of QUERIES) {
    out[query] = (await mem.search(query, { limit: 20 })).map((h) => [h.memory.id, h.score]);
  }
  return out;
}

/** A file written today: groups 0-2 closed (paired when the bulk add left them), group 3 the newest. */
async function buildFile() {
  const size = 3 * BLOCK_DOCS + 200;
  const first = fileStore(null);
  const mem = await createMemory({ store: first.store, namespace: ns, maintenance: { intervalMs: 0 } });
  for (let i = 0; i < size; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, size - i) }, (_, k) => ({
      id: `m${String(i + k).padStart(6, '0')}`,
      content: text(i + k),
    }));
    await mem.addMany(batch);
  }
  const expected = await answers(mem);
  const written = await first.store.export();
  await mem.close();
  return { written, expected, paired: postingRows(written) };
}

/** Counts the store's reads of one posting group (pairGroup's), inside transactions or not. */
function countGroupReads(store: SqlJsStore): () => number {
  let reads = 0;
  type Reader = { allNow: (sql: string, params: unknown[]) => unknown };
  const executor = (store as unknown as { executor: Reader }).executor;
  const allNow = executor.allNow.bind(executor);
  executor.allNow = (sql, params) => {
    if (sql.includes('AND grp = ?')) reads++;
    return allNow(sql, params);
  };
  return () => reads;
}

const built = buildFile();

describe('SqlJsStore: groups written before pairs, paired by maintenance', () => {
  it('pairs each closed group once, a few per run, with the same answers and the rows a bulk add writes', async () => {
    const { written, expected, paired } = await built;
    const old = unpaired(written);
    expect(postingRows(old).some(([term, , hex]) => term.startsWith('=') || hex.startsWith('8000'))).toBe(
      false,
    );
    const second = fileStore(old);
    const reopened = await createMemory({
      store: second.store,
      namespace: ns,
      maintenance: { intervalMs: 0 },
    });
    expect(await answers(reopened)).toEqual(expected);

    // A limit below 1, or not a number, reads no group and leaves the rest to later calls.
    for (const limit of [-1, 0, Number.NaN]) expect(await second.store.compactText(ns, { limit })).toBe(0);
    // One group per call when asked so, oldest first, then nothing left to pair.
    expect(await second.store.compactText(ns, { limit: 1 })).toBe(1);
    const afterOne = postingRows(await second.store.export());
    expect(new Set(afterOne.filter(([term]) => term.startsWith('=')).map(([, grp]) => grp))).toEqual(
      new Set([0]),
    );
    expect(await answers(reopened)).toEqual(expected);

    // maintain() pairs the rest (4 a run), after which the rows are those the bulk add wrote.
    await reopened.maintain();
    expect(await answers(reopened)).toEqual(expected);
    expect(postingRows(await second.store.export())).toEqual(paired);
    const beforeVacuum = (await second.store.export()).length;
    expect(await second.store.compactText(ns, { limit: 4 })).toBe(0);
    await reopened.close();
    // The save after the run that found nothing left VACUUMs: the file is the compact one.
    expect(postingRows(second.saved.bytes!)).toEqual(paired);
    // 3.49 MB unpaired (with the free pages of the rows split), 2.81 MB as written, 2.70 MB VACUUMed.
    expect(second.saved.bytes!.length).toBeLessThan(beforeVacuum);
    expect(second.saved.bytes!.length).toBeLessThanOrEqual(written.length);
  });

  it('skips, from then on, a closed group with nothing to pair; a namespace without memories has none', async () => {
    const { written } = await built;
    // Group 0 keeps its references but its pairs are split, as edits touching each of its pair words leave
    // it: pairGroup leaves a group holding a reference alone, so there is nothing to do there, ever.
    expect(
      postingRows(written).some(
        ([term, grp, hex]) => grp === 0 && term === '~swimming' && hex.startsWith('8000'),
      ),
    ).toBe(true);
    const old = unpaired(written, 'AND r.grp > 0');
    const { store } = fileStore(old);
    expect(await store.compactText('empty', { limit: 4 })).toBe(0);
    const mem = await createMemory({ store, namespace: ns, maintenance: { intervalMs: 0 } });
    const groupReads = countGroupReads(store);
    expect(await store.compactText(ns, { limit: 4 })).toBe(2);
    expect(groupReads()).toBe(3);
    expect(await store.compactText(ns, { limit: 4 })).toBe(0);
    expect(groupReads()).toBe(3);
    const rows = postingRows(await store.export());
    expect(new Set(rows.filter(([term]) => term.startsWith('=')).map(([, grp]) => grp))).toEqual(
      new Set([1, 2]),
    );
    await mem.close();
  });
});
