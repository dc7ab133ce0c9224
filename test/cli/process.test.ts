import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Each case starts a server process on PGlite (~3.5 s idle, several times that on a loaded machine):
// 14 s measured for the longest in CI, too close to the default 30 s.
vi.setConfig({ testTimeout: 120_000 });

// The real entry point in a real process: shebang, exit codes, stdout discipline and signals.
const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'test-artifacts/cli/main.mjs');
const data = mkdtempSync(join(tmpdir(), 'engram-process-'));

beforeAll(async () => {
  await build({
    entryPoints: [join(root, 'src/cli/main.ts')],
    outfile: bin,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
  });
});
afterAll(() => rmSync(data, { recursive: true, force: true }));

function waitFor(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk) => {
      text += chunk;
      const match = pattern.exec(text);
      if (match) resolve(match[0]);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before ${pattern}`)));
  });
}

describe('the engram binary', () => {
  it('token writes exactly the token and a newline to stdout, a short-secret warning only to stderr', () => {
    const stdout = execFileSync(
      process.execPath,
      [bin, 'token', '--secret', 'process-secret-0123456789abcdef0', '--ns', 'a'],
      { encoding: 'utf8' },
    );
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const short = spawnSync(process.execPath, [bin, 'token', '--secret', 's', '--ns', 'a'], {
      encoding: 'utf8',
    });
    expect(short.status).toBe(0);
    expect(short.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(short.stderr).toMatch(
      /^engram: warning: the secret is 1 character long; [^\n]+ can be guessed [^\n]+\n$/,
    );
  });

  it('exits 2 on a bad flag with one line on stderr', () => {
    const result = runBinary(['token', '--nope']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serve stops on ${signal} with exit 0 after closing the store`, async () => {
      const child = spawn(
        process.execPath,
        [bin, 'serve', '--port', '0', '--data', data, '--secret', 'process-secret'],
        {
          env: { ...process.env, DATABASE_URL: '', ENGRAM_SECRET: '' },
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const url = (await waitFor(child, /http:\/\/127\.0\.0\.1:\d+/)).trim();
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      child.kill(signal);
      expect(await exited).toBe(0);
      expect(stderr).toContain('engram: stopped');
    });
  }

  it("a second serve on the same --data is refused while the first runs; a dead one's lock is taken over", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-process-lock-'));
    const children: ChildProcess[] = [];
    const serve = () => {
      const child = spawn(
        process.execPath,
        [bin, 'serve', '--port', '0', '--data', dir, '--secret', 's', '--no-demo'],
        { env: { ...process.env, DATABASE_URL: '', ENGRAM_SECRET: '' } },
      );
      children.push(child);
      return child;
    };
    const exitOf = (child: ChildProcess) =>
      new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      const first = serve();
      const url = (await waitFor(first, /http:\/\/127\.0\.0\.1:\d+/)).trim();

      const second = serve();
      let stderr = '';
      second.stderr!.on('data', (chunk) => (stderr += chunk));
      let stdout = '';
      second.stdout!.on('data', (chunk) => (stdout += chunk));
      expect(await exitOf(second)).toBe(1);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          new RegExp(
            `^engram serve: \\S+pglite is in use by process ${first.pid} \\(another engram serve\\?\\)`,
          ),
        ),
      ]);
      // The first one was not disturbed.
      expect((await fetch(`${url}/health`)).status).toBe(200);

      // Killed without a chance to clean up: its lock stays behind, and the next serve takes it over.
      const killed = exitOf(first);
      first.kill('SIGKILL');
      await killed;
      expect(JSON.parse(readFileSync(join(dir, 'pglite.lock'), 'utf8'))).toMatchObject({ pid: first.pid });
      const third = serve();
      await waitFor(third, /http:\/\/127\.0\.0\.1:\d+/);
      expect(JSON.parse(readFileSync(join(dir, 'pglite.lock'), 'utf8'))).toMatchObject({ pid: third.pid });
      const stopped = exitOf(third);
      third.kill('SIGTERM');
      expect(await stopped).toBe(0);
      expect(existsSync(join(dir, 'pglite.lock'))).toBe(false);
    } finally {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function runBinary(args: string[]) {
  try {
    const stdout = execFileSync(process.execPath, [bin, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { status: 0, stdout, stderr: '' };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { status: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}
