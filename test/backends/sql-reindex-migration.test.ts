import { describe, expect, it } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory } from '../../src/index.js';
import { downgradeToVersion1 } from './sql-legacy.js';

/**
 * Schema v1 indexed stems only; v2 adds words as written (prefix search). A v1 database must come out
 * of the migration with prefixes working, its counters intact and nothing else touched.
 */
describe('SQL schema v1 -> v2: the text index is rebuilt with words as written', () => {
  it('reindexes an existing database so that whole-word prefixes match', async () => {
    let bytes: Uint8Array | null = null;
    const first = new SqlJsStore({
      persist: {
        load: async () => null,
        save: async (saved) => {
          bytes = saved;
        },
      },
    });
    const mem = await createMemory({ store: first, namespace: 'old' });
    const coffee = await mem.add({ content: 'I drink coffee every morning' });
    await mem.add({ content: 'tea in the evening' });
    await mem.close();
    expect(bytes).not.toBeNull();

    const SQL = await (await import('sql.js')).default();
    const legacy = new SQL.Database(bytes!);
    // Make it a v1 database: stems only, schema version 1.
    downgradeToVersion1(legacy);
    expect(legacy.exec("SELECT count(*) FROM engram_terms WHERE term LIKE '~%'")[0]!.values[0]![0]).toBe(0);
    const legacyBytes = legacy.export();

    const reopened = new SqlJsStore({
      persist: { load: async () => legacyBytes, save: async () => {} },
    });
    const again = await createMemory({ store: reopened, namespace: 'old' });
    expect((await again.search('coffee*')).map((h) => h.memory.id)).toEqual([coffee.id]);
    expect((await again.search('morning*')).map((h) => h.memory.id)).toEqual([coffee.id]);
    expect(await reopened.textStats('old')).toEqual({ docs: 2, tokens: 9 });
    await again.close();
  });
});
