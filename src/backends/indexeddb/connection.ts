import { openDB } from 'idb';
import { EngramError, storageError } from '../../core/errors.js';
import { loadLanguage } from '../../core/text/index.js';
import { LanguagesToLoad } from './rebuild-changed-text.js';
import type { EngramDatabase, EngramSchema } from './schema.js';
import { SCHEMA_VERSION, upgradeSchema } from './upgrade.js';

interface ConnectOptions {
  /** How long to wait while an older connection (another tab) blocks the upgrade before failing. */
  blockedTimeoutMs: number;
  /** Our connection was closed for another's upgrade or delete, or by the browser. */
  onLost: () => void;
  /** This open created the database (it did not exist before). */
  onCreated?: () => void;
}

/**
 * Opens (creating or upgrading) the database. When another tab still holds an older version open,
 * the upgrade waits for it; rather than hang, this fails with a STORAGE error after `blockedTimeoutMs`.
 * When a newer version or a delete is requested elsewhere, this connection steps aside by closing.
 */
export async function connect(name: string, options: ConnectOptions): Promise<EngramDatabase> {
  if (typeof indexedDB === 'undefined') {
    const hint = 'in Node, import "fake-indexeddb/auto" first, or use another store';
    throw new EngramError('STORAGE', `IndexedDB is not available in this environment; ${hint}`);
  }
  try {
    return await open(name, options);
  } catch (error) {
    // A sandboxed iframe or an opaque origin refuses IndexedDB by throwing a SecurityError from `open`.
    if (!(error instanceof LanguagesToLoad)) throw storageError(`IndexedDB open "${name}"`, error);
    // An upgrade that indexes text again cannot wait for an import inside its transaction (rebuild-changed-text.ts):
    // it stopped, changing nothing, and names the index languages it lacks; loaded, it runs again.
    for (const language of error.languages) await loadLanguage(language);
    return open(name, options).catch((again: unknown) => {
      throw again instanceof LanguagesToLoad
        ? openError(name, again)
        : storageError(`IndexedDB open "${name}"`, again);
    });
  }
}

function open(name: string, options: ConnectOptions): Promise<EngramDatabase> {
  return new Promise((resolve, reject) => {
    let db: EngramDatabase | undefined;
    let migrationError: unknown;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let gaveUp = false;
    const giveUp = (currentVersion: number) => {
      gaveUp = true;
      const holder = `another connection (another tab?) still has version ${currentVersion} open`;
      reject(
        new EngramError(
          'STORAGE',
          `IndexedDB "${name}": cannot upgrade to schema version ${SCHEMA_VERSION}: ${holder}; close it and retry`,
        ),
      );
    };
    openDB<EngramSchema>(name, SCHEMA_VERSION, {
      upgrade(database, oldVersion, _newVersion, tx) {
        if (oldVersion === 0) options.onCreated?.();
        upgradeSchema(database, oldVersion, tx).catch((error: unknown) => {
          migrationError = error;
          // The open's own rejection reports it; the transaction's `done` would be an unhandled one.
          tx.done.catch(() => {});
          tx.abort();
        });
      },
      blocked(currentVersion) {
        timer ??= setTimeout(() => giveUp(currentVersion), options.blockedTimeoutMs);
      },
      blocking() {
        db?.close();
        options.onLost();
      },
      terminated: options.onLost,
    }).then(
      (opened) => {
        clearTimeout(timer);
        // Opened after we gave up (the blocker left late): nobody holds this connection, so let it go.
        if (gaveUp) {
          opened.close();
          return;
        }
        db = opened;
        resolve(opened);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(
          migrationError instanceof LanguagesToLoad
            ? migrationError
            : openError(name, migrationError ?? error),
        );
      },
    );
  });
}

function openError(name: string, cause: unknown): EngramError {
  if (cause instanceof DOMException && cause.name === 'VersionError') {
    const why = `the database is newer than schema version ${SCHEMA_VERSION}, written by a newer release of Engram`;
    return new EngramError('STORAGE', `IndexedDB "${name}": ${why}; load that release (reload the page)`, {
      cause,
    });
  }
  return storageError(`IndexedDB open "${name}"`, cause);
}
