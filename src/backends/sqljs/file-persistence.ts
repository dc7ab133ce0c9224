import { EngramError } from '../../core/errors.js';
import { lockFile } from '../file-lock.js';
import { nodeFs, nodePath } from './node-modules.js';
import type { SqlJsPersistence } from './persistence.js';

const TEMP_SUFFIX = '.engram-tmp';
/** What follows `<file>.` in the name of one of its temps (crypto.randomUUID()). */
const OWN_TEMP = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.engram-tmp$/;
/** Why a lock file cannot be created that says nothing of other openers: a read-only directory or disk. */
const NO_PERMISSION = new Set(['EACCES', 'EPERM', 'EROFS']);
/** Links followed at most, as the kernel's own limit (ELOOP beyond). */
const MAX_LINKS = 40;

export interface FilePersistenceOptions {
  /**
   * For an opener that only reads the file. When the lock cannot be created for lack of permission (a
   * read-only directory or file system), the file is read without it: saves are atomic renames, so what
   * is read is some whole saved copy. Every save is refused, locked or not: a write of the caller's makes
   * `close()` fail with a STORAGE error, while what the store does by itself (a namespace's client id, a
   * purge of what expired) stays in memory, so a reader that writes nothing closes cleanly.
   */
  readOnly?: boolean;
}

/**
 * Keeps the database in a file (Node). A save writes a temporary file beside it, flushes it to disk and
 * renames it over the old one: a crash at any point leaves either the old file or the new one, whole.
 * A path that is a symbolic link is followed once, when the store opens: saves replace the file it
 * points to, not the link, and keep that file's mode (and owner, where allowed).
 *
 * @example
 * const store = new SqlJsStore({ persist: filePersistence('./data/memory.db') });
 */
export function filePersistence(path: string, options: FilePersistenceOptions = {}): SqlJsPersistence {
  let resolved: Promise<string> | undefined;
  // The lock comes first when the store opens; a persistence used without it resolves on load.
  const target = () => (resolved ??= followLinks(path));
  return {
    readOnly: options.readOnly === true,
    // sql.js keeps the whole database in memory and saves it whole: two stores on one file would each
    // overwrite the other's saves and silently lose writes.
    lock: async () => {
      const file = await target();
      try {
        return await lockFile(file, {
          label: 'sqljs',
          busy: ({ pid, thisProcess, lock }) =>
            `sqljs: ${path} is open in ${thisProcess ? 'another SqlJsStore of this process' : `process ${pid}`}; one SqlJsStore may write a file at a time (close the other first, or delete ${lock} if that process is gone)`,
        });
      } catch (error) {
        if (!options.readOnly || !NO_PERMISSION.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
        return async () => {};
      }
    },
    async load() {
      const fs = await nodeFs();
      const file = await target();
      // A reader may hold no lock: the temps it would see may be a writer's save under way.
      if (!options.readOnly) await removeStaleTemps(file);
      try {
        return new Uint8Array(await fs.readFile(file));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async save(bytes) {
      if (options.readOnly) {
        throw new EngramError(
          'STORAGE',
          `sqljs: ${path} was opened read-only (filePersistence readOnly: true); it is never saved`,
        );
      }
      const fs = await nodeFs();
      const { dirname } = await nodePath();
      const file = await target();
      await fs.mkdir(dirname(file), { recursive: true });
      const before = await fs.stat(file).catch(() => undefined);
      const temp = `${file}.${crypto.randomUUID()}${TEMP_SUFFIX}`;
      try {
        const handle = await fs.open(temp, 'w');
        try {
          await handle.writeFile(bytes);
          if (before) await keepOwnerAndMode(temp, before);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await fs.rename(temp, file);
      } catch (error) {
        await fs.rm(temp, { force: true });
        throw error;
      }
      await syncDirectory(dirname(file));
    },
  };
}

/**
 * The file a path names once its symbolic links are followed (the path itself when it is none), even a
 * link to a file not made yet. Directories on the way may stay links: a rename inside one is fine.
 */
export async function followLinks(path: string): Promise<string> {
  const fs = await nodeFs();
  const { dirname, resolve } = await nodePath();
  let file = resolve(path);
  for (let hops = 0; hops < MAX_LINKS; hops++) {
    let link: string;
    try {
      link = await fs.readlink(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // EINVAL: not a link; ENOENT: nothing there yet.
      if (code === 'EINVAL' || code === 'ENOENT' || code === 'UNKNOWN') return file;
      throw error;
    }
    file = resolve(dirname(file), link);
  }
  throw new EngramError('STORAGE', `${path}: more than ${MAX_LINKS} symbolic links to follow`);
}

/**
 * Gives a file about to be renamed over another the other's owner (where allowed) and mode: the rename
 * replaces the file, and the new one must be to its readers what the old one was.
 */
export async function keepOwnerAndMode(
  file: string,
  before: { uid: number; gid: number; mode: number },
): Promise<void> {
  const fs = await nodeFs();
  await fs.chown(file, before.uid, before.gid).catch(() => {});
  await fs.chmod(file, before.mode & 0o7777);
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
