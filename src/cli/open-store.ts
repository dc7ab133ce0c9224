import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lockFile } from '../backends/file-lock.js';
import { type PostgresDriver, PostgresStore, pglite, postgresJs } from '../backends/postgres/index.js';

export interface ServedStore {
  store: PostgresStore;
  where: string;
  driver: PostgresDriver;
  /** Closes the store, then frees the PGlite directory for the next server. */
  close(): Promise<void>;
}

/**
 * Postgres from `DATABASE_URL` when set, else embedded PGlite under the data directory, locked: PGlite
 * is one process's database, and two servers on one directory would each keep writes the other never
 * sees and overwrite them on close. The second is refused, as a second opener of a sqlite: file is.
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
  const unlock = await lockFile(dir, {
    label: 'engram serve',
    busy: ({ pid, thisProcess, lock }) =>
      `${dir} is in use by ${thisProcess ? 'another server in this process' : `process ${pid}`} (another engram serve?); one server may use a PGlite directory at a time: stop it, or pick another --data (delete ${lock} only if that process is gone)`,
  });
  const driver = pglite(dir);
  const store = new PostgresStore(driver);
  return {
    driver,
    store,
    where: `PGlite in ${dir}`,
    async close() {
      try {
        await store.close();
      } finally {
        await unlock();
      }
    },
  };
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
