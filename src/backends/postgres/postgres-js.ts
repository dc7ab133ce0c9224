import type postgres from 'postgres';
import { validationError, withoutUserinfo } from '../../core/errors.js';
import { importPeer } from '../../core/optional-peer.js';
import type { SqlParam, SqlQueries } from '../sql/executor.js';
import type { PostgresDriver } from './driver.js';

type Connection = postgres.Sql | postgres.TransactionSql;

/** Longer statement texts (rare: a list spelt out in VALUES) run unnamed, so no connection keeps many. */
const MAX_PREPARED_TEXT = 4096;
const PREPARED = { prepare: true } as const;
const UNNAMED = {} as const;

/**
 * Statements with parameters run as named prepared statements, kept per connection: unnamed, postgres.js
 * first asks the server to describe each one (a round trip) before running it, and the server parses and
 * plans it again every time. Our texts are few (lists travel as one array parameter, rows as one JSON
 * one). A client made with `prepare: false` (behind a transaction-mode pooler) keeps that setting.
 */
function optionsFor(text: string, params: readonly SqlParam[]) {
  return params.length > 0 && text.length <= MAX_PREPARED_TEXT ? PREPARED : UNNAMED;
}

function queriesOf(sql: Connection): SqlQueries {
  return {
    async all<T extends object>(text: string, params: readonly SqlParam[]): Promise<T[]> {
      const rows = await sql.unsafe(text, [...params], optionsFor(text, params));
      return Array.from(rows) as unknown as T[];
    },
    async run(text: string, params: readonly SqlParam[]): Promise<void> {
      await sql.unsafe(text, [...params], optionsFor(text, params));
    },
  };
}

/**
 * Postgres through postgres.js, from a connection URL or a `sql` client you already have. Works in Node
 * and in Cloudflare Workers (nodejs_compat). `close()` ends the pool only when this driver created it
 * from a URL; a client you pass in stays yours. In a Worker, do not close: the runtime ends the socket
 * with the request.
 *
 * @example
 * import { PostgresStore, postgresJs } from 'engram/edge';
 * const store = new PostgresStore(postgresJs(process.env.DATABASE_URL!));
 */
export function postgresJs(
  urlOrSql: string | postgres.Sql,
  options: postgres.Options<Record<string, postgres.PostgresType>> = {},
): PostgresDriver {
  checkConnection(urlOrSql);
  const owned = typeof urlOrSql === 'string';
  // postgres is an optional peer dependency: loaded on first use, so importing engram/edge costs nothing.
  let client: Promise<postgres.Sql> | undefined = owned ? undefined : Promise.resolve(urlOrSql);
  const sql = () => {
    client ??= importPeer('postgres', () => import('postgres'), 'postgresJs()').then(({ default: connect }) =>
      connect(urlOrSql as string, { onnotice: () => {}, ...options }),
    );
    return client;
  };
  return {
    all: async (text, params) => queriesOf(await sql()).all(text, params),
    run: async (text, params) => queriesOf(await sql()).run(text, params),
    persistent: true,
    async transaction<T>(fn: (tx: SqlQueries) => Promise<T>): Promise<T> {
      return (await (await sql()).begin((tx) => fn(queriesOf(tx)))) as T;
    },
    async listen(channel, onPayload) {
      // postgres.js keeps one extra connection for all of a client's LISTENs and re-listens after a reconnect.
      const { unlisten } = await (await sql()).listen(channel, onPayload);
      return unlisten;
    },
    async notify(channel, payload) {
      await (await sql()).notify(channel, payload);
    },
    async close() {
      if (owned && client) await (await client).end();
    },
  };
}

/** A URL or a postgres.js client, checked now: anything else would fail at the first query, as STORAGE. */
export function checkConnection(urlOrSql: unknown): void {
  if (typeof urlOrSql === 'function' && typeof (urlOrSql as { begin?: unknown }).begin === 'function') return;
  if (typeof urlOrSql === 'string' && /^postgres(ql)?:\/\//i.test(urlOrSql)) return;
  throw validationError(
    'postgresJs.url',
    'a postgres:// (or postgresql://) URL, or a postgres.js client',
    typeof urlOrSql === 'string' ? JSON.stringify(withoutUserinfo(urlOrSql)) : typeof urlOrSql,
  );
}
