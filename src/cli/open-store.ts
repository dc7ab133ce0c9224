import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type PostgresDriver, PostgresStore, postgresJs } from '../backends/postgres/index.js';
import { lockedPglite } from '../backends/postgres/pglite.js';
import { errorMessage } from '../core/errors.js';

export interface ServedStore {
  store: PostgresStore;
  where: string;
  driver: PostgresDriver;
  /** Closes the store, then frees the PGlite directory for the next server. */
  close(): Promise<void>;
}

/**
 * Postgres from `DATABASE_URL` when set, else embedded PGlite under the data directory, which `pglite()`
 * locks: two servers on one directory would each keep writes the other never sees. The second is refused
 * at once, in the CLI's words, as a second opener of a sqlite: file is.
 */
export async function openStore(databaseUrl: string | undefined, dataDir: string): Promise<ServedStore> {
  if (databaseUrl) {
    const driver = postgresJs(databaseUrl);
    const store = new PostgresStore(driver);
    return {
      driver,
      store,
      where: `Postgres at ${withoutCredentials(databaseUrl)}`,
      close: () => store.close(),
    };
  }
  const dir = join(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  let refused = false;
  const driver = lockedPglite(dir, (_, { pid, thisProcess, lock }) => {
    refused = true;
    return `${dir} is in use by ${thisProcess ? 'another server in this process' : `process ${pid}`} (another engram serve?); one server may use a PGlite directory at a time: stop it, or pick another --data (delete ${lock} only if that process is gone)`;
  });
  const store = new PostgresStore(driver);
  const where = `PGlite in ${dir}`;
  try {
    // The directory's lock is taken by the first query: a second server is refused here, before it listens.
    await store.open();
  } catch (error) {
    await store.close().catch(() => {});
    if (refused) throw error;
    throw new Error(`cannot open the store (${where}): ${errorMessage(error)}`);
  }
  return { driver, store, where, close: () => store.close() };
}

/** A database URL fit for messages and logs: no user, no password, no query. */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}
