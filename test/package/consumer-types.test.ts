import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

// A TypeScript app's view of the published types (dist/*.d.ts, reached through the package's own
// exports as `engram/...`: the files live in this package, without a package.json of their own), under
// the strictest options apps turn on, with both resolutions apps use.
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const dir = join(root, 'test-artifacts/consumer-types');

const CONSUMER = `import { createMemory, InMemoryStore, type MemoryStore } from 'engram';
import { PostgresStore, pglite } from 'engram/edge';
import { IndexedDBStore } from 'engram/indexeddb';
import { RemoteStore } from 'engram/remote';
import { SqlJsStore } from 'engram/sqljs';

export const stores: MemoryStore[] = [
  new InMemoryStore(),
  new InMemoryStore({ vectors: { index: 'hnsw' } }),
  new IndexedDBStore({ name: 'app' }),
  new IndexedDBStore({ name: 'app', vectors: { index: 'hnsw' } }),
  new SqlJsStore(),
  new RemoteStore({ url: 'https://edge.example', token: 't' }),
  new PostgresStore(pglite('memory://')),
];
export const memories = stores.map((store) => createMemory({ store, namespace: 'user-42' }));
`;

/** The React examples (README.md, docs/reactive.md), typechecked as written. */
const REACT_EXAMPLES = ['README.md', 'docs/reactive.md'].flatMap((doc, d) =>
  [...readFileSync(join(root, doc), 'utf8').matchAll(/```tsx\n([\s\S]*?)```/g)].map((m, i) => ({
    file: `example-${d}-${i}.tsx`,
    source: m[1]!,
  })),
);

function tsconfig(resolution: 'bundler' | 'nodenext'): string {
  const module = resolution === 'bundler' ? 'esnext' : 'nodenext';
  return JSON.stringify({
    compilerOptions: {
      target: 'es2022',
      module,
      moduleResolution: resolution,
      lib: ['es2023', 'dom'],
      types: ['node'],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
      jsx: 'react-jsx',
      noEmit: true,
    },
    files: ['consumer.ts', ...REACT_EXAMPLES.map((example) => example.file)],
  });
}

beforeAll(async () => {
  // npm test builds first; a bare `vitest run` may not have.
  if (!existsSync(join(root, 'dist/index.d.ts'))) await run('npx', ['tsup'], { cwd: root, timeout: 180_000 });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'consumer.ts'), CONSUMER);
  for (const { file, source } of REACT_EXAMPLES) writeFileSync(join(dir, file), source);
}, 200_000);

describe('the published types in a strict TypeScript app', () => {
  it('finds the React examples', () => {
    expect(REACT_EXAMPLES).toHaveLength(2);
  });

  for (const resolution of ['bundler', 'nodenext'] as const) {
    it(`every store is a MemoryStore and the React examples typecheck (moduleResolution ${resolution})`, async () => {
      const config = join(dir, `tsconfig.${resolution}.json`);
      writeFileSync(config, tsconfig(resolution));
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      const result = await run(process.execPath, [tsc, '-p', config, '--pretty', 'false'], { cwd: dir }).then(
        () => '',
        (error: { stdout: string }) => error.stdout,
      );
      expect(result).toBe('');
    }, 60_000);
  }
});
