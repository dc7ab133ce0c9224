import { EngramError } from '../../core/errors.js';
import { nodeFs, nodePath } from './node-modules.js';

/**
 * One writer per database file (Node). sql.js keeps the whole database in memory and saves it whole, so
 * two stores on one file would each overwrite the other's saves and silently lose writes. The first
 * store creates `<file>.lock` exclusively (`wx`), holding its pid; a second store, in this process or
 * another, gets a STORAGE error. A lock left by a process that died (its pid no longer runs) is taken
 * over. Node has no portable advisory file lock (flock is not in `fs`), hence the lock file.
 */
export async function lockFile(path: string): Promise<() => Promise<void>> {
  const fs = await nodeFs();
  const lock = `${path}.lock`;
  const mine = JSON.stringify({ pid: process.pid, token: crypto.randomUUID(), at: new Date().toISOString() });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.writeFile(lock, mine, { flag: 'wx' });
      return async () => {
        // Only our own lock is removed: a stale-lock takeover by another process must not be undone.
        const current = await fs.readFile(lock, 'utf8').catch(() => '');
        if (current === mine) await fs.rm(lock, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        const { dirname } = await nodePath();
        await fs.mkdir(dirname(path), { recursive: true });
        continue;
      }
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(lock);
    if (holder !== undefined && isRunning(holder)) {
      throw new EngramError(
        'STORAGE',
        `sqljs: ${path} is open in ${holder === process.pid ? 'another SqlJsStore of this process' : `process ${holder}`}; one SqlJsStore may write a file at a time (close the other first, or delete ${lock} if that process is gone)`,
      );
    }
    await fs.rm(lock, { force: true });
  }
  throw new EngramError('STORAGE', `sqljs: could not lock ${path}: ${lock} keeps reappearing`);
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
