import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type PostgresDriver, PostgresStore, pglite, postgresJs } from '../backends/postgres/index.js';

/** Postgres from `DATABASE_URL` when set, else embedded PGlite under the data directory. */
export function openStore(
  databaseUrl: string | undefined,
  dataDir: string,
): { store: PostgresStore; where: string; driver: PostgresDriver } {
  if (databaseUrl) {
    const driver = postgresJs(databaseUrl);
    return {
      driver,
      store: new PostgresStore(driver),
      where: `Postgres at ${withoutCredentials(databaseUrl)}`,
    };
  }
  const dir = join(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const driver = pglite(dir);
  return { driver, store: new PostgresStore(driver), where: `PGlite in ${dir}` };
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
