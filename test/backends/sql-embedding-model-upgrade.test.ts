import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import { describe, expect, it } from 'vitest';
import { SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory } from '../../src/index.js';
import { downgradeToVersion1 } from './sql-legacy.js';

describe('SQL schema v3 (embedding_model)', () => {
  it('upgrades a v1 database in place: old rows read back, new embeddings record their model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'engram-v1-'));
    const path = join(dir, 'memory.db');
    const mem = await createMemory({ store: new SqlJsStore({ persist: path }), namespace: 'n' });
    const old = await mem.add({ content: 'written before models were recorded', embedding: [1, 0] });
    await mem.close();

    // Turn the file back into a v1 database with the raw library.
    const SQL = await initSqlJs();
    const raw = new SQL.Database(await readFile(path));
    downgradeToVersion1(raw);
    await writeFile(path, raw.export());
    raw.close();

    const again = await createMemory({ store: new SqlJsStore({ persist: path }), namespace: 'n' });
    expect(await again.get(old.id)).toEqual(old);
    const fresh = await again.add({ content: 'new', embedding: [0, 1], embeddingModel: 'model-z' });
    expect((await again.get(fresh.id))?.embeddingModel).toBe('model-z');
    await again.close();

    const check = new SQL.Database(await readFile(path));
    const [versions] = check.exec('SELECT version FROM engram_schema_version ORDER BY version');
    expect(versions?.values).toEqual([[1], [2], [3], [4], [5]]);
    const [models] = check.exec('SELECT embedding_model FROM engram_memories ORDER BY id');
    expect(models?.values).toEqual([[null], ['model-z']]);
    check.close();
    await rm(dir, { recursive: true, force: true });
  });
});
