import { lockFile } from '../file-lock.js';
import { nodeFs, nodePath } from './node-modules.js';
import type { SqlJsPersistence } from './persistence.js';

const TEMP_SUFFIX = '.engram-tmp';
/** What follows `<file>.` in the name of one of its temps (crypto.randomUUID()). */
const OWN_TEMP = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.engram-tmp$/;

/**
 * Keeps the database in a file (Node). A save writes a temporary file beside it, flushes it to disk and
 * renames it over the old one: a crash at any point leaves either the old file or the new one, whole.
 *
 * @example
 * const store = new SqlJsStore({ persist: filePersistence('./data/memory.db') });
 */
export function filePersistence(path: string): SqlJsPersistence {
  return {
    // sql.js keeps the whole database in memory and saves it whole: two stores on one file would each
    // overwrite the other's saves and silently lose writes.
    lock: () =>
      lockFile(path, {
        label: 'sqljs',
        busy: ({ pid, thisProcess, lock }) =>
          `sqljs: ${path} is open in ${thisProcess ? 'another SqlJsStore of this process' : `process ${pid}`}; one SqlJsStore may write a file at a time (close the other first, or delete ${lock} if that process is gone)`,
      }),
    async load() {
      const fs = await nodeFs();
      await removeStaleTemps(path);
      try {
        return new Uint8Array(await fs.readFile(path));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async save(bytes) {
      const fs = await nodeFs();
      const { dirname } = await nodePath();
      await fs.mkdir(dirname(path), { recursive: true });
      const temp = `${path}.${crypto.randomUUID()}${TEMP_SUFFIX}`;
      try {
        const handle = await fs.open(temp, 'w');
        try {
          await handle.writeFile(bytes);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await fs.rename(temp, path);
      } catch (error) {
        await fs.rm(temp, { force: true });
        throw error;
      }
      await syncDirectory(dirname(path));
    },
  };
}

/** Makes the rename itself durable where the platform allows opening a directory (not on Windows). */
async function syncDirectory(directory: string): Promise<void> {
  const fs = await nodeFs();
  const handle = await fs.open(directory, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename has still happened.
  } finally {
    await handle.close();
  }
}

/** Temporary files a crash left behind; they are never the live database. */
async function removeStaleTemps(path: string): Promise<void> {
  const fs = await nodeFs();
  const { basename, dirname, join } = await nodePath();
  const prefix = `${basename(path)}.`;
  const names = await fs.readdir(dirname(path)).catch(() => [] as string[]);
  // Exactly `<file>.<uuid>.engram-tmp`: `notes.db.old.db`'s temps also start with `notes.db.`.
  const stale = names.filter((name) => name.startsWith(prefix) && OWN_TEMP.test(name.slice(prefix.length)));
  await Promise.all(stale.map((name) => fs.rm(join(dirname(path), name), { force: true })));
}
