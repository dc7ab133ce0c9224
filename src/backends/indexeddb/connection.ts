import { openDB } from 'idb';
import { EngramError, storageError } from '../../core/errors.js';
import { LANGUAGE_META, LANGUAGES, loadLanguage } from '../../core/text/index.js';
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
  await loadLanguagesForUpgrade(name);
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
        reject(openError(name, migrationError ?? error));
      },
    );
  });
}

/**
 * An upgrade may index text again (migrate-v7.ts), inside the upgrade transaction, which ends at the first
 * wait for anything but its own requests: so before a database of an older schema opens, the index
 * languages its namespaces recorded are loaded (what the app loads to use them anyway; never the others,
 * which an app offline may not have cached). `indexedDB.databases` tells the version without opening;
 * where it is missing (older browsers), or the version is older, the database is read as it is first.
 */
async function loadLanguagesForUpgrade(name: string): Promise<void> {
  const listed = await indexedDB.databases?.().catch(() => undefined);
  const version = listed?.find((database) => database.name === name)?.version;
  if (listed !== undefined && (version === undefined || version === 0 || version >= SCHEMA_VERSION)) return;
  for (const language of await recordedLanguages(name)) await loadLanguage(language);
}

/**
 * The index languages a database's namespaces recorded (their `language` meta) when its schema is older
 * than SCHEMA_VERSION, read without upgrading it; none when it is current or does not exist, in which case
 * the open is aborted before anything is created.
 */
export function recordedLanguages(name: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name);
    // No such database: opening would create it (version 1, no stores). Aborting leaves nothing behind.
    request.onupgradeneeded = () => request.transaction?.abort();
    request.onerror = (event) => {
      event.preventDefault();
      resolve([]);
    };
    request.onsuccess = () => {
      const db = request.result;
      if (db.version >= SCHEMA_VERSION || !db.objectStoreNames.contains('meta')) {
        db.close();
        resolve([]);
        return;
      }
      const found = new Set<string>();
      const tx = db.transaction('meta', 'readonly');
      const cursor = tx.objectStore('meta').openCursor();
      cursor.onsuccess = () => {
        const row = cursor.result;
        if (!row) return;
        const [, key] = row.key as [string, string];
        if (key === LANGUAGE_META && (LANGUAGES as readonly unknown[]).includes(row.value))
          found.add(row.value);
        row.continue();
      };
      tx.oncomplete = () => {
        db.close();
        resolve([...found]);
      };
      tx.onerror = () => {
        db.close();
        reject(storageError(`IndexedDB "${name}": reading its index languages`, tx.error));
      };
    };
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
