import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * A script for a child Node process that uses the SqlJsStore from source: bundles `createMemory` and
 * `SqlJsStore` into `dir/engram.mjs` (sql.js stays external), writes `source` beside it as `name`, and
 * returns the script's path. The source imports them from './engram.mjs'.
 */
export async function sqlJsChildScript(dir: string, name: string, source: string): Promise<string> {
  await build({
    stdin: {
      contents: `export { createMemory } from './src/index.ts';
        export { SqlJsStore } from './src/backends/sqljs/index.ts';`,
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['sql.js'],
    outfile: join(dir, 'engram.mjs'),
    logLevel: 'silent',
  });
  const script = join(dir, name);
  await writeFile(script, source);
  return script;
}
