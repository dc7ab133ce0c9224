import 'fake-indexeddb/auto';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { makeCorpus, mulberry32 } from '../bench/corpus.mjs';
import { IndexedDBStore } from '../src/backends/indexeddb/index.js';
import { PostgresStore, pglite, postgresJs } from '../src/backends/postgres/index.js';
import { SqlJsStore } from '../src/backends/sqljs/index.js';
import { createMemory, type Engram, InMemoryStore, type MemoryStore } from '../src/index.js';

const SIZE = 10_000;
const { items, queries, words } = makeCorpus(SIZE, 7);
const withIds = items.map((item, i) => ({
  ...item,
  id: `m-${String(i).padStart(5, '0')}`,
  metadata: { source: i % 3 === 0 ? 'chat' : 'email', turn: i % 5 },
}));

type Options = Parameters<Engram['search']>[1];
/** A vocabulary word of six letters or more with its second and third letters swapped: a typo to correct. */
const long = words.filter((w) => w.length >= 6);
const misspelt = (w: string) => w[0]! + w[2]! + w[1]! + w.slice(3);
/** Plain terms from the shared query set plus every operator: prefixes, phrases, exclusions, filters. */
const cases: Array<[string, Options]> = [
  ...queries.slice(0, 30).map((q) => [q, {}] as [string, Options]),
  [`${words[60]!.slice(0, 3)}*`, {}],
  [`${words[70]!.slice(0, 4)}* ${words[80]}`, {}],
  [`${words[50]!}*`, {}],
  [`"${items[3]!.content.split(' ').slice(2, 4).join(' ')}"`, {}],
  [`${words[90]} -${words[91]}`, {}],
  [queries[40]!, { kind: 'fact' }],
  [queries[41]!, { tags: ['work', 'home'], tagMode: 'all' }],
  [queries[42]!, { limit: 25 }],
  // Questions, stop words, match, metadata and explain.
  [`What did the user say about ${words[20]} and "${words[21]} ${words[22]}"?`, {}],
  [`what's ${words[23]}'s - "${words[24]}`, { explain: true }],
  ['what did they do', {}],
  [`${words[25]} ${words[26]}`, { match: 'all' }],
  [queries[43]!, { metadata: { source: 'chat' } }],
  [`${words[27]}* ${words[28]}`, { metadata: { turn: 2 }, explain: true }],
  // Typos: a word no memory holds is looked up one edit away (a second read of the index).
  [`${misspelt(long[5]!)} ${words[29]}`, { explain: true }],
  [`when did she mention ${misspelt(long[9]!)} and ${misspelt(long[12]!)}?`, {}],
  // An irregular verb: its other forms ("went", "gone") are fetched as alternatives of its clause.
  [`where did they go with ${words[30]} and ${words[31]}?`, { explain: true }],
];

async function load(mem: Engram): Promise<Engram> {
  for (let i = 0; i < withIds.length; i += 1000) await mem.addMany(withIds.slice(i, i + 1000));
  return mem;
}

/**
 * Opens and fills every store at once, side by side (the server's share of the Postgres fill overlaps the
 * in-process stores' work); the record keeps the order memory (the reference), IndexedDB, sql.js, PGlite,
 * then real Postgres where the machine has one (CI sets DATABASE_URL; PGlite stands in otherwise), in
 * `schema`, which the caller creates.
 */
async function openEveryStore(
  open: (store: MemoryStore) => Promise<Engram>,
  pg: PGlite,
  label: string,
  schema: string,
): Promise<Record<string, Engram>> {
  const url = process.env.DATABASE_URL;
  const openers: Record<string, () => Promise<Engram>> = {
    memory: () => open(new InMemoryStore()),
    indexeddb: () => open(new IndexedDBStore({ name: `${label}-${Date.now()}` })),
    sqljs: () => open(new SqlJsStore()),
    pglite: () => open(new PostgresStore(pglite(pg))),
  };
  if (url) {
    openers.postgres = () =>
      open(new PostgresStore(postgresJs(url, { max: 2, connection: { search_path: schema } })));
  }
  const names = Object.keys(openers);
  const mems = await Promise.all(names.map((name) => openers[name]!()));
  return Object.fromEntries(names.map((name, i) => [name, mems[i]!]));
}

const hits = async (mem: Engram, query: string, options: Options) =>
  (await mem.search(query, options)).map((h) => [h.memory.id, h.score, h.explain]);

describe(`search parity on a generated ${SIZE / 1000}K corpus`, () => {
  it('memory, IndexedDB, sql.js, PGlite and Postgres return the same results, scores and explanations', async () => {
    const pg = await PGlite.create();
    const url = process.env.DATABASE_URL;
    const schema = `parity_${process.pid}_${Date.now()}`;
    const admin = url ? postgres(url, { max: 1, onnotice: () => {} }) : null;
    if (admin) await admin.unsafe(`CREATE SCHEMA ${schema}`);
    const open = (store: MemoryStore) => createMemory({ store, namespace: 'parity' }).then(load);
    const stores = await openEveryStore(open, pg, 'parity', schema);
    let compared = 0;
    for (const [query, options] of cases) {
      const reference = await hits(stores.memory!, query, options);
      expect(reference.length, `"${query}" should match something`).toBeGreaterThan(0);
      if (options?.explain) expect(reference.every(([, , explain]) => explain !== undefined)).toBe(true);
      for (const name of Object.keys(stores).filter((n) => n !== 'memory')) {
        expect(await hits(stores[name]!, query, options), `${name} vs memory for "${query}"`).toEqual(
          reference,
        );
        compared++;
      }
    }
    const listIds = async (mem: Engram) => {
      const first = await mem.list({ metadata: { source: 'chat', turn: 3 }, limit: 20 });
      const next = await mem.list({ metadata: { source: 'chat', turn: 3 }, limit: 20, cursor: first.cursor });
      return [...first.items, ...next.items].map((m) => m.id);
    };
    const listed = await listIds(stores.memory!);
    expect(listed).toHaveLength(40);
    for (const name of Object.keys(stores).filter((n) => n !== 'memory')) {
      expect(await listIds(stores[name]!), `${name} list by metadata`).toEqual(listed);
    }
    expect(compared).toBe(cases.length * (Object.keys(stores).length - 1));
    // Maintenance, text compaction included (sql.js pairs older groups; Postgres, which reads no pair
    // keys, must never pair), changes no store's answers.
    for (const mem of Object.values(stores)) await mem.maintain();
    for (const [query, options] of cases) {
      const reference = await hits(stores.memory!, query, options);
      for (const name of Object.keys(stores).filter((n) => n !== 'memory')) {
        expect(await hits(stores[name]!, query, options), `${name} after maintain() for "${query}"`).toEqual(
          reference,
        );
      }
    }
    for (const mem of Object.values(stores)) await mem.close();
    await pg.close();
    if (admin) {
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  }, 600_000);

  it('returns the same results and scores for a German namespace on every store', async () => {
    // Inflected forms, umlauts, ß and stop words, so stemming, folding and stop handling all count.
    const vocabulary = [
      'Häuser',
      'Haus',
      'Hauses',
      'Gärten',
      'Garten',
      'Bücher',
      'Buch',
      'Straße',
      'Straßen',
      'laufen',
      'läuft',
      'Kinder',
      'Kindern',
      'Fahrrad',
      'Fahrräder',
      'schön',
      'schöner',
      'Wetter',
      'regnet',
      'Arbeit',
      'arbeiten',
      'Köln',
      'München',
      'Frühling',
      'Café',
      '我的猫',
      '猫很可爱',
      '東京都',
      'der',
      'die',
      'das',
      'und',
      'ist',
      'nicht',
      'mit',
      'für',
      'auf',
      'ein',
      'eine',
    ];
    const random = mulberry32(11);
    const pick = () => vocabulary[Math.floor(random() * vocabulary.length)]!;
    const german = Array.from({ length: 2000 }, (_, i) => ({
      id: `g-${String(i).padStart(5, '0')}`,
      content: Array.from({ length: 4 + Math.floor(random() * 10) }, pick).join(' '),
      tags: [i % 2 ? 'a' : 'b'],
    }));
    // Thai runs, written without spaces: a prefix typed as a run is read where the index holds a word.
    const thai = ['ไปโรงพยาบาล', 'ซื้อคอมพิวเตอร์', 'ฉันชอบกาแฟ', 'ยาวมาก', 'คอมเครื่องนี้', 'เมื่อวาน', 'Haus'];
    const pickThai = () => thai[Math.floor(random() * thai.length)]!;
    for (let i = 0; i < 60; i++) {
      german.push({
        id: `t-${String(i).padStart(5, '0')}`,
        content: Array.from({ length: 2 + Math.floor(random() * 4) }, pickThai).join(i % 3 ? '' : ' '),
        tags: ['a'],
      });
    }
    const pg = await PGlite.create();
    const open = async (store: MemoryStore) => {
      const mem = await createMemory({ store, namespace: 'parity-de', language: 'german' });
      for (let i = 0; i < german.length; i += 500) await mem.addMany(german.slice(i, i + 500));
      return mem;
    };
    const url = process.env.DATABASE_URL;
    const schema = `parity_de_${process.pid}_${Date.now()}`;
    const admin = url ? postgres(url, { max: 1, onnotice: () => {} }) : null;
    if (admin) await admin.unsafe(`CREATE SCHEMA ${schema}`);
    const stores = await openEveryStore(open, pg, 'parity-de', schema);
    const germanCases: Array<[string, Options]> = [
      ['Haus', {}],
      ['Gärten Fahrrad', { explain: true }],
      ['häus*', {}],
      ['Was ist mit dem Wetter in Köln?', {}],
      ['der die das', {}],
      ['"schöner Frühling"', {}],
      ['Straße -Kinder', { tags: ['a'] }],
      ['laufen Arbeit', { match: 'all' }],
      // Typed without its accent: the German stemmer keeps "café" whole and cuts "cafe" to "caf", so the
      // word is looked up as written (typos.ts).
      ['cafe Wetter', { explain: true }],
      // One CJK character: a prefix of word keys, run ends included.
      ['猫', { explain: true }],
      ['京 Haus', {}],
      ['คอมพิว*', {}],
      ['โรงพยา*', { explain: true }],
      ['ฉันชอบกาแ* Haus', { match: 'all' }],
    ];
    for (const [query, options] of germanCases) {
      const reference = await hits(stores.memory!, query, options);
      expect(reference.length, `"${query}" should match something`).toBeGreaterThan(0);
      for (const name of Object.keys(stores).filter((n) => n !== 'memory')) {
        expect(await hits(stores[name]!, query, options), `${name} vs memory for "${query}"`).toEqual(
          reference,
        );
      }
    }
    const unaccented = await stores.memory!.search('cafe Wetter', { explain: true });
    expect(unaccented.some((hit) => hit.explain?.text?.['cafe~'] !== undefined)).toBe(true);
    for (const mem of Object.values(stores)) await mem.close();
    await pg.close();
    if (admin) {
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  }, 600_000);
});
