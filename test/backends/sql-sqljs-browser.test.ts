import 'fake-indexeddb/auto';
import { join } from 'node:path';
import { build } from 'esbuild';
import { openDB } from 'idb';
import initSqlJs from 'sql.js';
import { describe, expect, it } from 'vitest';
import { indexedDbPersistence, SqlJsStore } from '../../src/backends/sqljs/index.js';
import { createMemory } from '../../src/index.js';

const ROOT = join(import.meta.dirname, '../..');

describe('SqlJsStore in the browser', () => {
  it('bundles engram/sqljs for the browser without any Node module', async () => {
    const result = await build({
      entryPoints: [join(ROOT, 'src/backends/sqljs/index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      splitting: true,
      outdir: join(ROOT, 'dist-browser-check'),
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((path) => path.startsWith('node:'))).toEqual([]);
    const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports);
    expect(imports.filter((i) => i.external)).toEqual([]);
    // sql.js is split into its own chunk, loaded only when a store opens without an injected module.
    expect(inputs.some((path) => path.includes('sql-wasm-browser.js'))).toBe(true);
    expect(imports.some((i) => i.kind === 'dynamic-import' && i.path.includes('sql-wasm-browser'))).toBe(
      true,
    );
  });

  it('keeps the database in IndexedDB across reopen, readable there by plain sql.js', async () => {
    const persist = indexedDbPersistence('engram-test', 'db-1');
    const mem = await createMemory({ store: new SqlJsStore({ persist }), namespace: 'browser' });
    const added = await mem.add({ content: 'Saved in IndexedDB', tags: ['idb'] });
    await mem.close();

    const again = await createMemory({ store: new SqlJsStore({ persist }), namespace: 'browser' });
    expect(await again.get(added.id)).toEqual(added);
    expect((await again.search('indexeddb')).map((hit) => hit.memory.id)).toEqual([added.id]);
    await again.close();

    const idb = await openDB('engram-test');
    const bytes = (await idb.get('files', 'db-1')) as Uint8Array;
    idb.close();
    const SQL = await initSqlJs();
    const db = new SQL.Database(bytes);
    expect(db.exec('SELECT content FROM engram_memories')[0]!.values).toEqual([['Saved in IndexedDB']]);
    db.close();
  });
});
