import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '../..');

/**
 * One of our entries (`entry`, from the repository root) as an app on another release of one of its peers
 * loads it: bundled with `peer` resolved to `alias` (that release, installed under an npm alias) and left
 * external with the other packages named, then imported. Each alias writes its own file under
 * `test-artifacts/<alias>/`, so files building at once never share one.
 */
export async function bundledAgainst<T>(
  entry: string,
  peer: string,
  alias: string,
  external: readonly string[] = [],
): Promise<T> {
  const out = join(root, 'test-artifacts', alias, basename(entry).replace(/\.ts$/, '.mjs'));
  await build({
    entryPoints: [join(root, entry)],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    alias: { [peer]: alias },
    external: [alias, ...external],
    logLevel: 'error',
  });
  return import(pathToFileURL(out).href);
}
