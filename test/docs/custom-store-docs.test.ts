import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

// docs/custom-store.md's test file, run as written by this vitest against the built package: its
// `MyStore` here is a persistent store (sql.js over bytes kept per name), so the persistence cases and
// their `create`/`reopen` calls run too.
const root = resolve(import.meta.dirname, '../..');
const dir = join(root, 'test-artifacts/docs/custom-store');
const markdown = readFileSync(join(root, 'docs/custom-store.md'), 'utf8');
const match = /<!-- runnable: conformance -->\n```\w+\n([\s\S]*?)```/.exec(markdown);
if (!match) throw new Error('docs/custom-store.md has no runnable block conformance');

const MY_STORE = `import { SqlJsStore } from 'engram/sqljs';

const saved = new Map();
const open = new Set();

/**
 * A persistent store named like a database: sql.js over bytes kept in this process under its name,
 * which one store at a time may hold open (as a file or a server's database would be).
 */
export class MyStore extends SqlJsStore {
  constructor({ name }) {
    super({
      persist: {
        load: async () => saved.get(name) ?? null,
        save: async (bytes) => void saved.set(name, bytes),
        lock: async () => {
          if (open.has(name)) throw new Error(\`\${name} is already open in another MyStore\`);
          open.add(name);
          return async () => void open.delete(name);
        },
      },
    });
    this.name = name;
  }
}
`;

// npm test builds first; a bare `vitest run` may not have.
if (
  !existsSync(join(root, 'dist/testing/index.js')) ||
  !existsSync(join(root, 'dist/backends/sqljs/index.js'))
)
  await promisify(execFile)('npx', ['tsup'], { cwd: root, timeout: 180_000 });
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'my-store.js'), MY_STORE);
writeFileSync(join(dir, 'my-store.test.ts'), match[1]!);
await import(pathToFileURL(join(dir, 'my-store.test.ts')).href);
