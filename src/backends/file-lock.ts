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
 * One opener per file or directory (Node): `<path>.lock` is created exclusively (`wx`), holding its pid;
 * a second opener, in this process or another, gets a STORAGE error. A lock left by a process that died
 * (its pid no longer runs, or is this process, which does not hold it: a restarted container reuses
 * pids) is taken over. Node has no portable advisory file lock (flock is not in `fs`), hence the file.
 */
export async function lockFile(path: string, options: FileLockOptions): Promise<() => Promise<void>> {
  const fs = await nodeFs();
  const { dirname, resolve } = await nodePath();
  const lock = `${path}.lock`;
  const key = resolve(lock);
  const mine = JSON.stringify({ pid: process.pid, token: crypto.randomUUID(), at: new Date().toISOString() });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.writeFile(lock, mine, { flag: 'wx' });
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
    const holder = await readHolder(lock);
    const thisProcess = holder === process.pid;
    const alive = thisProcess ? heldLocks().has(key) : holder !== undefined && isRunning(holder);
    if (alive) throw new EngramError('STORAGE', options.busy({ pid: holder!, thisProcess, lock }));
    await fs.rm(lock, { force: true });
  }
  throw new EngramError('STORAGE', `${options.label}: could not lock ${path}: ${lock} keeps reappearing`);
}

async function readHolder(lock: string): Promise<number | undefined> {
  const fs = await nodeFs();
  const text = await fs.readFile(lock, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const pid = (JSON.parse(text) as { pid?: unknown }).pid;
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    // A lock file cut short by a crash while it was written holds no pid: it is stale.
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
