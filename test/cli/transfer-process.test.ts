import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBinary, runBinary, seedLines } from './fixtures.js';
import { storeOpened } from './helpers.js';

// The binary in real processes: exit codes, stdin/stdout through OS pipes and files, signals, and a
// stderr that is a pipe (no progress) or a pseudo-terminal (progress).
const dir = mkdtempSync(join(tmpdir(), 'engram-transfer-process-'));
let bin: string;
let reference: string[];
let dump: string;

beforeAll(async () => {
  bin = await buildBinary('transfer');
  reference = await seedLines();
  dump = join(dir, 'reference.jsonl');
  writeFileSync(dump, `${reference.join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('export / import / migrate as processes', () => {
  it('import < file, then export | import through an OS pipe: same lines, nothing on stderr', async () => {
    const first = join(dir, 'first.db');
    const second = join(dir, 'second.db');
    const loaded = spawn(process.execPath, [bin, 'import', '--to', `sqlite:${first}`], {
      stdio: [openSync(dump, 'r'), 'pipe', 'pipe'],
    });
    let loadErr = '';
    loaded.stderr!.on('data', (c) => (loadErr += c));
    expect(await new Promise((done) => loaded.once('close', done))).toBe(0);
    expect(loadErr).toBe('');

    // A shell pipeline: the export's stdout is the import's stdin, as a user would type it.
    const node = process.execPath;
    const piped = spawn(
      'sh',
      [
        '-c',
        `"${node}" "${bin}" export --from "sqlite:${first}" --batch 7 | "${node}" "${bin}" import --to "sqlite:${second}"`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let stdout = '';
    piped.stderr.on('data', (c) => (stderr += c));
    piped.stdout.on('data', (c) => (stdout += c));
    expect(await new Promise((done) => piped.once('close', done))).toBe(0);
    expect(stderr + stdout).toBe('');

    const back = await runBinary(bin, ['export', '--from', `sqlite:${second}`]);
    expect(back.code).toBe(0);
    expect(back.stderr).toBe('');
    expect(back.stdout).toBe(readFileSync(dump, 'utf8'));
  });

  it('exits 2 with one line on stderr and nothing on stdout for a bad store URL', async () => {
    const cases = [
      ['export', '--from', 'mongodb://db'],
      ['import', '--to', 'memory.db'],
      ['migrate', '--from', `jsonl:${dump}`, '--to', 'redis://x'],
      ['migrate', '--from', `jsonl:${dump}`, '--to', 'http://127.0.0.1:9'],
      ['export', '--from', 'postgres://u:pw@127.0.0.1:9/db'],
    ];
    // The processes are independent (none may write anything): started together, checked in order.
    const runs = await Promise.all(cases.map((args) => runBinary(bin, args, { cwd: dir })));
    for (const [i, args] of cases.entries()) {
      const run = runs[i]!;
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(run.stderr).toMatch(new RegExp(`^engram ${args[0]}: `));
    }
    expect(existsSync(join(dir, 'memory.db'))).toBe(false);
  });

  it('stops on SIGINT with exit 130, keeping the batches already written', async () => {
    const target = join(dir, 'interrupted.db');
    const child = spawn(process.execPath, [bin, 'import', '--to', `sqlite:${target}`, '--batch', '10'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    // 45 lines and then an idle pipe: 40 are written in full batches (the fourth as soon as it is full,
    // not when a next line comes), the last 5 wait for more.
    child.stdin.write(`${reference.slice(0, 45).join('\n')}\n`);
    // The data is observable only at close (sql.js saves then); the store's lock file shows it is open.
    // Then the batches take milliseconds: allow seconds, for a loaded machine.
    expect(await storeOpened(target)).toBe(true);
    await new Promise((r) => setTimeout(r, 3000));
    child.kill('SIGINT');
    expect(await new Promise((done) => child.once('close', done))).toBe(130);
    expect(stderr).toMatch(
      /^engram import: interrupted by SIGINT: what was copied is kept; re-run to finish/,
    );
    const back = await runBinary(bin, ['export', '--from', `sqlite:${target}`]);
    expect(back.stdout.split('\n').slice(0, -1)).toEqual(reference.slice(0, 40));
  });

  it('stops on SIGTERM with exit 130 while its reader has stopped reading stdout (a stalled pipe)', async () => {
    const source = join(dir, 'stalled.db');
    const loaded = await runBinary(bin, ['import', '--to', `sqlite:${source}`], {
      input: `${reference.join('\n')}\n`,
    });
    expect(loaded.code, loaded.stderr).toBe(0);
    const child = spawn(process.execPath, [bin, 'export', '--from', `sqlite:${source}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    // The first output read, then no more: the pipe fills (the dump is megabytes) and the export waits.
    await new Promise((started) => child.stdout.once('data', started));
    child.stdout.pause();
    await new Promise((r) => setTimeout(r, 1000));
    child.kill('SIGTERM');
    expect(await new Promise((done) => child.once('exit', done))).toBe(130);
    expect(stderr).toMatch(/^engram export: interrupted by SIGTERM: what was copied is kept/);
    child.stdout.destroy();
  });

  it.skipIf(!hasScript)(
    'draws a progress line when stderr is a terminal, still only data on stdout (skipped without util-linux script)',
    async () => {
      const out = join(dir, 'tty-out.jsonl');
      const command = `${process.execPath} ${bin} migrate --from jsonl:${dump} --to sqlite:${join(dir, 'tty.db')} && ${process.execPath} ${bin} export --from sqlite:${join(dir, 'tty.db')} > ${out}`;
      const terminal = execFileSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8' });
      expect(terminal).toMatch(/migrate {2}█*░* ?\d+% {2}\d+ entries/);
      expect(terminal).toMatch(/engram migrate: 246 entries in [\d.]+ s/);
      expect(terminal).toMatch(/engram export: 246 entries in [\d.]+ s/);
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(dump, 'utf8'));
    },
  );
});
