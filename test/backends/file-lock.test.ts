import * as fs from 'node:fs/promises';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { lockFile } from '../../src/backends/file-lock.js';

// The lock reads the file system through node:fs/promises: a test steps in between two of its reads.
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, readFile: vi.fn(actual.readFile) };
});

const dir = await mkdtemp(join(tmpdir(), 'engram-file-lock-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
});

const options = { label: 'test', busy: ({ pid }: { pid: number }) => `held by ${pid}` };
/** A pid no process has (above the kernel's limit). */
const DEAD = 99_999_999;

describe('lockFile', () => {
  it('a lock whose holder cannot be signalled (EPERM: another user’s live process) is held, not taken over', async () => {
    const path = join(dir, 'other-user.db');
    const held = JSON.stringify({ pid: DEAD, token: 'another user' });
    await writeFile(`${path}.lock`, held);
    const kill = process.kill.bind(process);
    vi.spyOn(process, 'kill').mockImplementation((pid, signal) => {
      if (pid === DEAD) throw Object.assign(new Error('operation not permitted'), { code: 'EPERM' });
      return kill(pid, signal);
    });
    await expect(lockFile(path, options)).rejects.toMatchObject({
      code: 'STORAGE',
      message: `held by ${DEAD}`,
    });
    expect(await readFile(`${path}.lock`, 'utf8')).toBe(held);
  });

  it('a stale lock another opener took over meanwhile is left to it: the takeover reads the lock again', async () => {
    const path = join(dir, 'raced.db');
    const stale = JSON.stringify({ pid: DEAD, token: 'dead holder' });
    // The other opener, a live process (pid 1 always runs): it took the stale lock over just after we read it.
    const theirs = JSON.stringify({ pid: 1, token: 'took it over first' });
    await writeFile(`${path}.lock`, stale);
    const read = vi.mocked(fs.readFile);
    const actual = read.getMockImplementation()!;
    let reads = 0;
    read.mockImplementation(async (...args: Parameters<typeof fs.readFile>) => {
      const text = await actual(...args);
      if (args[0] === `${path}.lock` && ++reads === 1) await writeFile(`${path}.lock`, theirs);
      return text;
    });
    await expect(lockFile(path, options)).rejects.toMatchObject({ code: 'STORAGE', message: 'held by 1' });
    expect(await readFile(`${path}.lock`, 'utf8')).toBe(theirs);
    read.mockImplementation(actual);
  });

  it('a live taker’s guard, moved aside for a dead one’s that it replaced meanwhile, is put back', async () => {
    const path = join(dir, 'guard-raced.db');
    const guard = `${path}.lock.takeover`;
    await writeFile(`${path}.lock`, JSON.stringify({ pid: DEAD, token: 'dead holder' }));
    await writeFile(guard, JSON.stringify({ pid: DEAD, token: 'dead taker' }));
    // Just after we read the dead taker's guard, a live one (pid 1) replaces it, as if it moved it aside first.
    const live = JSON.stringify({ pid: 1, token: 'live taker' });
    const read = vi.mocked(fs.readFile);
    const actual = read.getMockImplementation()!;
    let guardReads = 0;
    let lockReads = 0;
    let guardOnRetry: string | undefined;
    read.mockImplementation(async (...args: Parameters<typeof fs.readFile>) => {
      if (args[0] === `${path}.lock` && ++lockReads === 2) {
        // Our next look at the lock: what guard is there now? Then the live taker is done: the lock is its.
        guardOnRetry = await readFile(guard, 'utf8').catch(() => undefined);
        await writeFile(`${path}.lock`, JSON.stringify({ pid: 1, token: 'taken over' }));
      }
      const text = await actual(...args);
      if (args[0] === guard && ++guardReads === 1) await writeFile(guard, live);
      return text;
    });
    await expect(lockFile(path, options)).rejects.toMatchObject({ code: 'STORAGE', message: 'held by 1' });
    expect(guardOnRetry).toBe(live);
    read.mockImplementation(actual);
  });
});
