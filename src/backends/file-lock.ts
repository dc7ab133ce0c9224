import { EngramError } from '../core/errors.js';
import { nodeFs, nodePath } from './sqljs/node-modules.js';

/** The live process that holds a lock, for the caller's message. */
export interface LockHolder {
  pid: number;
  /** Held by another opener in this very process. */
  thisProcess: boolean;
  /** The lock file's path. */
  lock: string;
}

export interface FileLockOptions {
  /** Starts the other messages, e.g. `sqljs`. */
  label: string;
  /** What to say when a live process holds the lock. */
  busy(holder: LockHolder): string;
}

/** Locks this process holds, shared by every copy of this module loaded in it. */
function heldLocks(): Set<string> {
  const registry = globalThis as Record<symbol, Set<string> | undefined>;
  const key = Symbol.for('engram.fileLocks');
  registry[key] ??= new Set();
  return registry[key];
}

/**
 * One opener per file or directory (Node): `<path>.lock` holds the opener's pid; a second opener, in this
 * process or another, gets a STORAGE error. A lock left by a process that died (its pid no longer runs,
 * or is this process, which does not hold it: a restarted container reuses pids) is taken over. Node has
 * no portable advisory file lock (flock is not in `fs`), hence the file, made race-free by two rules: the
 * lock appears whole (written aside, then hard-linked into place, which fails if it exists), and a stale
 * one is removed only under a takeover guard, after reading it again (see `takeOver`).
 */
export async function lockFile(path: string, options: FileLockOptions): Promise<() => Promise<void>> {
  const fs = await nodeFs();
  const { dirname, resolve } = await nodePath();
  const lock = `${path}.lock`;
  const key = resolve(lock);
  const mine = JSON.stringify({ pid: process.pid, token: crypto.randomUUID(), at: new Date().toISOString() });
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await createWhole(lock, mine);
      heldLocks().add(key);
      return async () => {
        heldLocks().delete(key);
        // Only our own lock is removed: a stale-lock takeover by another process must not be undone.
        const current = await fs.readFile(lock, 'utf8').catch(() => '');
        if (current === mine) await fs.rm(lock, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        await fs.mkdir(dirname(path), { recursive: true });
        continue;
      }
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const text = await fs.readFile(lock, 'utf8').catch(() => undefined);
    if (text === undefined) continue; // released meanwhile: try again
    const holder = holderOf(text);
    if (holds(holder, key))
      throw new EngramError(
        'STORAGE',
        options.busy({ pid: holder!, thisProcess: holder === process.pid, lock }),
      );
    await takeOver(lock, text);
  }
  throw new EngramError('STORAGE', `${options.label}: could not lock ${path}: ${lock} keeps reappearing`);
}

/** Creates `lock` holding `text`, never visible half-written; EEXIST when it exists. */
async function createWhole(lock: string, text: string): Promise<void> {
  const fs = await nodeFs();
  const aside = `${lock}.${crypto.randomUUID()}.new`;
  await fs.writeFile(aside, text, { flag: 'wx' });
  try {
    await fs.link(aside, lock);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOENT') throw error;
    // A file system without hard links: an exclusive create, visible for a moment before it is written.
    await fs.writeFile(lock, text, { flag: 'wx' });
  } finally {
    await fs.rm(aside, { force: true });
  }
}

/**
 * Removes the stale lock whose content is `stale`, under a takeover guard (`<lock>.takeover`, made like a
 * lock) so that only one opener takes a lock over at a time: under it the lock is read again and removed
 * only if it is still the stale one (no one else removes a lock: its owner is gone, and takers need the
 * guard). An opener that finds the guard held waits a moment and looks again; a guard left by a taker that
 * died is moved aside, and put back if what was moved is not what was judged dead.
 */
async function takeOver(lock: string, stale: string): Promise<void> {
  const fs = await nodeFs();
  const { resolve } = await nodePath();
  const guard = `${lock}.takeover`;
  const key = resolve(guard);
  const mine = JSON.stringify({ pid: process.pid, token: crypto.randomUUID() });
  try {
    await createWhole(guard, mine);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const text = await fs.readFile(guard, 'utf8').catch(() => undefined);
    const taker = text === undefined ? undefined : holderOf(text);
    if (text === undefined || holds(taker, key)) {
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
      return;
    }
    await moveAsideIf(guard, text);
    return;
  }
  heldLocks().add(key);
  try {
    const current = await fs.readFile(lock, 'utf8').catch(() => undefined);
    if (current === stale) await fs.rm(lock, { force: true });
  } finally {
    heldLocks().delete(key);
    const current = await fs.readFile(guard, 'utf8').catch(() => undefined);
    if (current === mine) await fs.rm(guard, { force: true });
  }
}

/** Removes `path` if it still holds `expected`: renamed aside (one renamer wins), put back if it did not. */
async function moveAsideIf(path: string, expected: string): Promise<void> {
  const fs = await nodeFs();
  const aside = `${path}.${crypto.randomUUID()}.stale`;
  try {
    await fs.rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await fs.readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== expected) await fs.link(aside, path).catch(() => {});
  await fs.rm(aside, { force: true });
}

function holderOf(text: string): number | undefined {
  try {
    const pid = (JSON.parse(text) as { pid?: unknown }).pid;
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    // A lock cut short by a crash (written by a release before locks were linked whole) is stale.
    return undefined;
  }
}

/**
 * Whether the process named on a lock or guard (`key`, resolved) still holds it: another process while it
 * runs; this process only while it holds `key` itself, since a pid on a file it does not hold was left by
 * a process that died (a restarted container reuses pids).
 */
function holds(pid: number | undefined, key: string): boolean {
  if (pid === undefined) return false;
  return pid === process.pid ? heldLocks().has(key) : isRunning(pid);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
