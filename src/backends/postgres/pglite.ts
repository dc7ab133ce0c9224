import type { PGliteInterface, Transaction } from '@electric-sql/pglite';
import { importOptional, importPeer } from '../../core/optional-peer.js';
import type { SqlParam, SqlQueries } from '../sql/executor.js';
import type { PostgresDriver } from './driver.js';

function queriesOf(db: Pick<PGliteInterface, 'query'> | Transaction): SqlQueries {
  return {
    async all<T extends object>(text: string, params: readonly SqlParam[]): Promise<T[]> {
      return (await db.query<T>(text, [...params])).rows;
    },
    async run(text: string, params: readonly SqlParam[]): Promise<void> {
      await db.query(text, [...params]);
    },
  };
}

/**
 * Embedded Postgres (PGlite): in a directory, in memory when none is given, or over a PGlite instance you
 * already have (left open on `close()`). PGlite loads on first use, so importing this costs nothing until then.
 * When `@electric-sql/pglite-pgvector` is installed, the database it creates loads pgvector.
 *
 * @example
 * import { PostgresStore, pglite } from 'engram/edge';
 * const store = new PostgresStore(pglite('./data'));
 */
export function pglite(dirOrInstance?: string | PGliteInterface): PostgresDriver {
  const owned = typeof dirOrInstance !== 'object';
  let instance: Promise<PGliteInterface> | undefined =
    typeof dirOrInstance === 'object' ? Promise.resolve(dirOrInstance) : undefined;
  const db = () => {
    instance ??= Promise.all([
      importPeer('@electric-sql/pglite', () => import('@electric-sql/pglite'), 'pglite()'),
      // pgvector when installed: PostgresStore then ranks vectors with it (docs/embeddings.md).
      importOptional('@electric-sql/pglite-pgvector', () => import('@electric-sql/pglite-pgvector')),
    ]).then(([{ PGlite }, pgvector]) =>
      PGlite.create(dirOrInstance as string, pgvector ? { extensions: { vector: pgvector.vector } } : {}),
    );
    return instance;
  };
  return {
    name: 'pglite',
    persistent: typeof dirOrInstance === 'string' ? !dirOrInstance.startsWith('memory://') : !owned,
    all: async (text, params) => queriesOf(await db()).all(text, params),
    run: async (text, params) => queriesOf(await db()).run(text, params),
    async transaction(fn) {
      return (await db()).transaction((tx) => fn(queriesOf(tx)));
    },
    async listen(channel, onPayload) {
      const stop = await (await db()).listen(channel, onPayload);
      return () => stop();
    },
    async notify(channel, payload) {
      await (await db()).query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      if (owned && instance) await (await instance).close();
    },
  };
}
