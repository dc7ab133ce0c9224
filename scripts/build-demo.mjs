// Bundles the demo notebook (src/demo) for the browser into dist/demo, where `engram serve` finds it.
// Usage: node scripts/build-demo.mjs [outdir]   (part of `npm run build`, after tsup)
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src/demo');
const outdir = resolve(root, process.argv[2] ?? 'dist/demo');

await mkdir(outdir, { recursive: true });
const bundle = (entry, outfile) =>
  build({
    entryPoints: [join(source, entry)],
    outfile: join(outdir, outfile),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
await Promise.all([bundle('main.ts', 'app.js'), bundle('sw.ts', 'sw.js')]);
await Promise.all(
  ['index.html', 'style.css'].map((file) => copyFile(join(source, file), join(outdir, file))),
);
