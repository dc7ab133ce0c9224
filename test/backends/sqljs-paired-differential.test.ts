import initSqlJs from 'sql.js';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../bench/corpus.mjs';
import { BLOCK_DOCS } from '../../src/backends/sql/posting-blocks.js';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory, type Engram, InMemoryStore } from '../../src/index.js';

const SQL = await initSqlJs();

// Words that are their own stems, their other forms, and forms whose stem no bare word shares: the
// rows schema v21 pairs (`=note`) and turns into references (`~jumping` → `jump`), and rows it must not.
const WORDS = [
  ...['note', 'notes', 'cat', 'cats', 'alpha', 'walk', 'walked', 'jumping', 'running', 'sleepy'],
  ...['garden', 'gardening', 'coffee', 'morning', 'mornings', 'river', 'quietly', 'station', 'lamp'],
  ...Array.from({ length: 40 }, (_, i) => `w${i}`),
];

describe('sql.js with paired and referring posting rows answers as the in-memory store', () => {
  it('through bulk adds over three groups, edits, deletes and searches of every kind', async () => {
    const random = mulberry32(16);
    const pick = () => WORDS[Math.floor(WORDS.length * random() ** 2)]!;
    const text = () => Array.from({ length: 4 + Math.floor(random() * 9) }, pick).join(' ');
    const typo = (word: string) => (word.length > 4 ? word[0]! + word[2]! + word[1]! + word.slice(3) : word);
    const query = (): string => {
      const word = pick();
      switch (Math.floor(random() * 6)) {
        case 0:
          return `${word.slice(0, 2 + Math.floor(random() * 3))}*`;
        case 1:
          return typo(word);
        case 2:
          return `"${pick()} ${pick()}"`;
        case 3:
          return `${word} -${pick()}`;
        case 4:
          return `${word} ${pick()}*`;
        default:
          return `${word} ${pick()}`;
      }
    };
    const stores = { memory: new InMemoryStore(), sqljs: new SqlJsStore({ sqlJs: SQL }) };
    const mems: Record<keyof typeof stores, Engram> = {
      memory: await createMemory({ store: stores.memory, namespace: 'ns' }),
      sqljs: await createMemory({ store: stores.sqljs, namespace: 'ns' }),
    };
    let next = 0;
    const ids: string[] = [];
    const compare = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const q = query();
        const [expected, actual] = await Promise.all(
          [mems.memory, mems.sqljs].map(async (mem) =>
            (await mem.search(q, { limit: 20 })).map((h) => [h.memory.id, h.score]),
          ),
        );
        expect(actual, q).toEqual(expected);
      }
    };
    for (let step = 0; step < 16; step++) {
      const batch = Array.from({ length: 400 + Math.floor(random() * 500) }, () => ({
        id: `m${String(next++).padStart(5, '0')}`,
        content: text(),
      }));
      ids.push(...batch.map((m) => m.id));
      for (const mem of Object.values(mems)) await mem.addMany(batch);
      if (step % 3 === 2) {
        // An edit and a delete in a group already left (paired), and one in the newest.
        const old = ids[Math.floor(random() * Math.min(ids.length, 4096))]!;
        const gone = ids.splice(Math.floor(random() * ids.length), 1)[0]!;
        const content = text();
        for (const mem of Object.values(mems)) {
          await mem.update(old, { content });
          await mem.remove(gone);
        }
      }
      await compare(step % 4 === 3 ? 25 : 4);
    }
    expect(next).toBeGreaterThan(2 * 4096);
    // The file holds both kinds of rows, so the comparisons above read them.
    const db = new SQL.Database(await stores.sqljs.export());
    const count = (where: string) =>
      db.exec(`SELECT count(*) FROM engram_postings WHERE ${where}`)[0]!.values[0]![0] as number;
    expect(count("term LIKE '=%'")).toBeGreaterThan(10);
    expect(count("substr(data, 1, 2) = x'8000'")).toBeGreaterThan(0);
    // A pair stands for two rows that are not also there; a reference names a stem row that is.
    const twin = (term: string) =>
      `EXISTS (SELECT 1 FROM engram_postings t WHERE t.ns = engram_postings.ns AND t.grp = engram_postings.grp AND t.term = ${term})`;
    expect(
      count(
        `term LIKE '=%' AND (${twin('substr(engram_postings.term, 2)')} OR ${twin("'~' || substr(engram_postings.term, 2)")})`,
      ),
    ).toBe(0);
    expect(
      count(`substr(data, 1, 2) = x'8000' AND NOT ${twin('CAST(substr(engram_postings.data, 3) AS TEXT)')}`),
    ).toBe(0);
    db.close();
    for (const mem of Object.values(mems)) await mem.close();
  }, 180_000);

  it('pairs a word row only with a stem row of the same bytes, not one its bytes merely begin with', async () => {
    // "news" as written stems to "new"; the stem "news" is that of "newsed". Only the first memory holds
    // "newsed", so the stem row "news" is the first posting of the word row "~news", byte for byte.
    const batch = Array.from({ length: BLOCK_DOCS + 10 }, (_, i) => ({
      id: `m${String(i).padStart(5, '0')}`,
      content: i === 0 ? 'newsed news' : `news w${i % 40}`,
    }));
    const memory = await createMemory({ store: new InMemoryStore(), namespace: 'ns' });
    const sqljs = await createMemory({ store: new SqlJsStore({ sqlJs: SQL }), namespace: 'ns' });
    for (const mem of [memory, sqljs]) {
      for (let start = 0; start < batch.length; start += 1000)
        await mem.addMany(batch.slice(start, start + 1000));
    }
    for (const q of ['news*', 'newsed', 'news w7']) {
      const [expected, actual] = await Promise.all(
        [memory, sqljs].map(async (mem) =>
          (await mem.search(q, { limit: 20 })).map((h) => [h.memory.id, h.score]),
        ),
      );
      expect(actual, q).toEqual(expected);
    }
    await Promise.all([memory.close(), sqljs.close()]);
  }, 120_000);
});
