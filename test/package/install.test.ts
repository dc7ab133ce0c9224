import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as a user installs it: `npm pack`, unpacked into a project's node_modules next to its
 * runtime dependencies only (no optional peers), as `npm install engram` in a browser app leaves it.
 */
const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
// A budget that catches an engine or a large library turning into a hard dependency (each is tens of MiB):
// 8.01 MiB at session 5's end (the package 1.1 MiB, its six dependencies the rest), 8.50 MiB at session 31's
// (the package's own code grew), so 9 MiB leaves room for code, not for another dependency of that kind.
const MAX_INSTALL_BYTES = 9 * 1024 * 1024;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

let app: string;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/index.js'))) await run('npm', ['run', 'build'], { cwd: ROOT });
  app = mkdtempSync(join(tmpdir(), 'engram-install-'));
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', app], {
    cwd: ROOT,
  });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  const target = join(app, 'node_modules/engram');
  mkdirSync(target, { recursive: true });
  await run('tar', ['-xzf', join(app, filename), '-C', target, '--strip-components=1']);
  for (const dep of Object.keys(pkg.dependencies)) {
    mkdirSync(join(app, 'node_modules', dep, '..'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(app, 'node_modules', dep), 'dir');
  }
  writeFileSync(join(app, 'package.json'), '{"name":"app","private":true,"type":"module"}');
}, 120_000);

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

function node(script: string) {
  return run(process.execPath, ['--input-type=module', '-e', script], { cwd: app });
}

/** The unpacked package and its runtime dependencies, as `npm install engram` leaves them. */
function installBytes(): number {
  return (
    bytes(join(app, 'node_modules/engram')) +
    Object.keys(pkg.dependencies).reduce((sum, dep) => sum + bytes(join(ROOT, 'node_modules', dep)), 0)
  );
}

function bytes(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + bytes(join(path, name)), 0);
}

describe('the installed package', () => {
  it('ships dist with types for every export, and no engine as a hard dependency', () => {
    const installed = JSON.parse(readFileSync(join(app, 'node_modules/engram/package.json'), 'utf8'));
    for (const entry of Object.values(installed.exports) as ({ types: string; import: string } | string)[]) {
      if (typeof entry === 'string') continue;
      expect(existsSync(join(app, 'node_modules/engram', entry.import)), entry.import).toBe(true);
      expect(existsSync(join(app, 'node_modules/engram', entry.types)), entry.types).toBe(true);
    }
    for (const engine of [
      'sql.js',
      '@electric-sql/pglite',
      'postgres',
      '@hono/node-server',
      '@modelcontextprotocol/sdk',
      'zod',
    ]) {
      expect(Object.keys(installed.dependencies)).not.toContain(engine);
      expect(installed.peerDependenciesMeta[engine]).toEqual({ optional: true });
    }
  });

  it('accepts every zod the MCP SDK accepts: zod only builds its tool schemas, so an app on zod 3 installs it', () => {
    const sdk = JSON.parse(
      readFileSync(join(ROOT, 'node_modules/@modelcontextprotocol/sdk/package.json'), 'utf8'),
    ) as { peerDependencies: Record<string, string> };
    expect(pkg.peerDependencies.zod).toBe(sdk.peerDependencies.zod);
  });

  it(`is at most ${MAX_INSTALL_BYTES / 2 ** 20} MiB with its dependencies (what a browser app downloads)`, () => {
    expect(installBytes()).toBeLessThanOrEqual(MAX_INSTALL_BYTES);
  });

  it('is the size README.md gives, within 15 %', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const stated = /installs none of them \(about (\d+) MB\s+in all\)/.exec(readme)?.[1];
    expect(stated, 'README.md says how much a browser app installs').toBeDefined();
    const measured = installBytes();
    expect(Math.abs(Number(stated) * 1e6 - measured) / measured).toBeLessThan(0.15);
  });

  it('runs without any engine installed', async () => {
    const { stdout } = await node(`
      import { createMemory } from 'engram';
      import { IndexedDBStore } from 'engram/indexeddb';
      import { RemoteStore } from 'engram/remote';
      const mem = await createMemory({ namespace: 'app' });
      await mem.add({ content: 'Prefers dark roast coffee' });
      const hits = await mem.search('coffee');
      console.log(typeof IndexedDBStore, typeof RemoteStore, hits[0].memory.content);`);
    expect(stdout.trim()).toBe('function function Prefers dark roast coffee');
  });

  it('a missing engine is an EngramError naming the package to install', async () => {
    const { stdout } = await node(`
      import { SqlJsStore } from 'engram/sqljs';
      import { PostgresStore, pglite, postgresJs } from 'engram/edge';
      for (const store of [new SqlJsStore(), new PostgresStore(pglite()), new PostgresStore(postgresJs('postgres://x@127.0.0.1/db'))]) {
        try { await store.open(); console.log('opened'); } catch (e) { console.log(e.name, e.code, e.message); }
      }`);
    expect(stdout.trim().split('\n')).toEqual([
      'EngramError STORAGE SqlJsStore needs the package "sql.js", which is not installed: run `npm install sql.js`',
      'EngramError STORAGE pglite() needs the package "@electric-sql/pglite", which is not installed: run `npm install @electric-sql/pglite`',
      'EngramError STORAGE postgresJs() needs the package "postgres", which is not installed: run `npm install postgres`',
    ]);
  });

  it('`engram serve` without its engines says which packages to install, and exits 2', async () => {
    const bin = join(app, 'node_modules/engram/dist/cli/main.js');
    const failure = await run(process.execPath, [bin, 'serve', '--port', '0', '--data', join(app, 'data')], {
      cwd: app,
      env: { ...process.env, DATABASE_URL: '' },
    }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr.trim()).toBe(
      'engram serve: needs "@hono/node-server" and "@electric-sql/pglite", not installed here: run `npm install @hono/node-server @electric-sql/pglite`',
    );
  });

  it('`engram mcp` without the MCP SDK and zod says which packages to install, and exits 2', async () => {
    const bin = join(app, 'node_modules/engram/dist/cli/main.js');
    const failure = await run(process.execPath, [bin, 'mcp', '--store', 'sqlite:./m.db'], { cwd: app }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr.trim()).toBe(
      'engram mcp: needs "@modelcontextprotocol/sdk" and "zod", not installed here: run `npm install @modelcontextprotocol/sdk zod`',
    );
  });
});
