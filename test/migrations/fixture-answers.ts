import type { Database } from 'sql.js';
import { expect } from 'vitest';
import {
  createMemory,
  exportEntries,
  InMemoryStore,
  importEntries,
  type Language,
  type MemoryStore,
} from '../../src/index.js';

/** The namespaces of a fixture's dataset, the searches each must answer, and the index language of each. */
export interface FixtureQueries {
  queries: Record<string, string[]>;
  /** Namespaces indexed in another language than English (recorded in the reference first). */
  languages: Record<string, Language>;
}

type Answers = Record<string, Array<{ id: string; score: number }>>;

async function answers(store: MemoryStore, namespace: string, fixture: FixtureQueries): Promise<Answers> {
  const mem = await createMemory({ store, namespace, language: fixture.languages[namespace] });
  const out: Answers = {};
  for (const query of fixture.queries[namespace]!) {
    out[query] = (await mem.search(query)).map((hit) => ({ id: hit.memory.id, score: hit.score }));
  }
  return out;
}

/** What a store of today's code answers once fed the upgraded store's records (languages recorded first). */
async function reference(upgraded: MemoryStore, fixture: FixtureQueries): Promise<MemoryStore> {
  const fresh = new InMemoryStore();
  for (const [namespace, language] of Object.entries(fixture.languages)) {
    await createMemory({ store: fresh, namespace, language });
  }
  await importEntries(fresh, exportEntries(upgraded));
  return fresh;
}

/** The upgraded store answers every query, and counts its text, as a fresh store of today's code does. */
export async function expectAsReference(store: MemoryStore, fixture: FixtureQueries): Promise<void> {
  const fresh = await reference(store, fixture);
  for (const namespace of Object.keys(fixture.queries)) {
    const expected = await answers(fresh, namespace, fixture);
    expect(await answers(store, namespace, fixture), namespace).toEqual(expected);
    expect(await store.textStats!(namespace)).toEqual(await fresh.textStats!(namespace));
  }
}

/** The rows of a statement on a sql.js database (none: []). */
export const rows = (db: Database, sql: string) => db.exec(sql)[0]?.values ?? [];

/** A namespace's posting rows, as (term, group, hex of the bytes), in key order: to compare byte for byte. */
export const postingsOf = (db: Database, ns: string) =>
  rows(db, `SELECT term, grp, hex(data) FROM engram_postings WHERE ns = '${ns}' ORDER BY term, grp`);
