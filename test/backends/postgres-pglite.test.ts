import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, pglite } from '../../src/backends/postgres/index.js';
import { createMemory } from '../../src/index.js';
import { testStore } from '../conformance/index.js';

// PGlite takes seconds to start: every store in this file shares one instance, and namespaces keep cases apart.
const db = await PGlite.create();
afterAll(() => db.close());

const storeOver = () => new PostgresStore(pglite(db));

describe('PostgresStore on PGlite: migrations', () => {
  it('two stores migrating the fresh database at once both succeed, and a re-run changes nothing', async () => {
    const [a, b] = [storeOver(), storeOver()];
    await Promise.all([a.open(), b.open()]);
    const again = storeOver();
    await again.open();
    const { rows } = await db.query<{ version: number }>(
      'SELECT version FROM engram_schema_version ORDER BY version',
    );
    expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
    await Promise.all([a.close(), b.close(), again.close()]);
    expect(db.closed).toBe(false);
  });
});

describe('PostgresStore on PGlite: extras', () => {
  it('binds id and tag lists as array literals, whatever characters they hold', async () => {
    const mem = await createMemory({ store: storeOver(), namespace: 'literals' });
    const odd = ['a,b', 'quote"d', 'back\\slash', '{braces}', 'NULL', ' spaced '];
    const made = await mem.addMany(odd.map((tag) => ({ content: `tagged ${tag}`, tags: [tag] })));
    for (const [i, tag] of odd.entries()) {
      expect((await mem.list({ tags: [tag] })).items.map((m) => m.id)).toEqual([made[i]!.id]);
    }
    expect((await mem.list({ tags: odd, tagMode: 'any' })).items).toHaveLength(odd.length);
    await mem.close();
  });
});

testStore({
  name: 'PostgresStore (PGlite)',
  create: storeOver,
  reopen: async (store) => {
    await store.close();
    return storeOver();
  },
  capabilities: { persistent: true },
});
